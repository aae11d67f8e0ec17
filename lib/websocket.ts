import { randomFillSync } from 'node:crypto';
import net, { type Socket } from 'node:net';
import tls from 'node:tls';
import { WebSocketHandshake } from './websocket-handshake.js';

/**
 * What a {@link GatewayWebSocket} reports to its owner. Methods, not callbacks: the owner is
 * one object per connection, so the socket needs no closures of its own.
 */
export interface WebSocketListener {
  /** One complete text message. */
  text(text: string): void;
  /** One complete binary message: a view of the read buffer, valid only during this call. */
  binary(data: Buffer): void;
  /** The connection ended; called exactly once, whatever ended it (1006: no close frame). */
  closed(code: number, reason: string): void;
}

/** How long a close handshake may take before the socket is destroyed. */
export const CLOSE_TIMEOUT_MS = 5000;

const CONNECTING = 0;
const OPEN = 1;
/** Our close frame is out; frames are still read until the server's close arrives. */
const CLOSING = 2;
/** Nothing more is read or written; the TCP socket may still be winding down. */
const CLOSED = 3;

const OP_CONTINUATION = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

/** Close reasons are limited so that code + reason fit a control frame (125 bytes). */
const MAX_REASON_BYTES = 123;
/**
 * A carry buffer larger than this is let go by the first small read (under this size) that
 * leaves nothing carried: a burst of large frames, read in large chunks, reuses one buffer,
 * while a quiet connection gives it back at its next small message (a heartbeat ACK at most
 * one interval later) and then keeps at most this much.
 */
const KEEP_CARRY_BYTES = 16 * 1024;
const EMPTY = Buffer.alloc(0);

/**
 * Every connection reads into this one buffer (Node's `onread`) instead of a new buffer per
 * read. It is safe to share: Node reads only from the event loop, and a read is handled to its
 * end (anything kept is copied) before the next read of any socket starts. TLS reads inside a
 * write only for an empty write, and every frame has a header.
 */
const READ_BUFFER_BYTES = 256 * 1024;
let readBuffer: Buffer | undefined;

/** Mask keys come from one pool refilled by a single call, not a crypto call per frame. */
const maskPool = Buffer.allocUnsafeSlow(4096);
let maskOffset = maskPool.length;

/** Back-reference from a socket to its owner, so its listeners can be shared functions. */
const OWNER = Symbol('disgate.websocket');
interface Owned {
  [OWNER]?: GatewayWebSocket;
}

function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

function truncateReason(reason: string): Buffer {
  const bytes = Buffer.from(reason);
  if (bytes.length <= MAX_REASON_BYTES) return bytes;
  // Cut at a character boundary: continuation bytes are 10xxxxxx.
  let end = MAX_REASON_BYTES;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

/**
 * A client WebSocket (RFC 6455) for one gateway connection, written for that use only: no
 * extensions, no subprotocols, text sends, and a frame reader that hands each message to its
 * listener without copying it when the frame lies within one read. A frame split across reads
 * is assembled in one buffer that is reused for the next (it grows to the largest frame; one
 * over 16 KB is let go by the next small read that ends on a frame boundary).
 *
 * @internal Used by `GatewayConnection`; not part of the public API.
 */
export class GatewayWebSocket {
  private state = CONNECTING;
  /** The opening handshake until its answer is read. */
  private handshake: WebSocketHandshake | undefined;
  private socket: Socket | undefined;
  private reported = false;
  /** Why the socket failed, for the 1006 report. */
  private failure = '';
  /** The code of the close frame we sent (0: none). */
  private closeCode = 0;
  private closeReason = '';
  private closeTimer: NodeJS.Timeout | undefined;

  /** Holds the start of a frame that did not fit in one read. */
  private carry: Buffer = EMPTY;
  private carryLength = 0;
  /** Total length of the frame in `carry`, 0 while its header is incomplete. */
  private carryFrame = 0;

  /** The message being assembled from fragments (opcode 0: none). */
  private fragments: Buffer = EMPTY;
  private fragmentsLength = 0;
  private fragmentsOpcode = 0;

  /** Fields of the last parsed frame header. */
  private opcode = 0;
  private fin = false;
  private headerLength = 0;

  /**
   * Starts the opening handshake; the outcome arrives through `listener` (a failure as
   * `closed(1006, reason)`, never as a throw).
   *
   * @param url - `ws://` or `wss://` URL (path and query are sent as given)
   * @param listener - receives the messages and the end of the connection
   * @param maxPayload - largest message accepted; a larger one closes with 1009
   */
  constructor(url: string, private readonly listener: WebSocketListener, private readonly maxPayload: number) {
    try {
      this.socket = this.connect(new URL(url));
    } catch (err) {
      // Reported later: the owner is still being constructed.
      this.state = CLOSED;
      process.nextTick(reportLater, this, `Cannot connect to ${JSON.stringify(url)}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Whether frames can be written now. */
  get open(): boolean {
    return this.state === OPEN;
  }

  /**
   * Writes one masked text frame.
   *
   * @returns resolves once the socket has written it; rejects when the socket is not open or fails
   */
  send(text: string): Promise<void> {
    const socket = this.socket;
    if (this.state !== OPEN || socket === undefined) return Promise.reject(new Error('WebSocket is not open'));
    const frame = encodeFrame(0x80 | OP_TEXT, text);
    return new Promise((resolve, reject) => {
      socket.write(frame, (err) => (err ? reject(err) : resolve()));
    });
  }

  /**
   * Starts the closing handshake with `code`. The connection ends when the server answers or
   * after {@link CLOSE_TIMEOUT_MS}; `closed` then reports `code` and `reason`. Before the
   * handshake completes, the attempt is aborted and reported at once.
   */
  close(code: number, reason = ''): void {
    if (this.state === CONNECTING) {
      this.state = CLOSED;
      this.socket?.destroy();
      this.report(code, reason);
      return;
    }
    if (this.state !== OPEN) return;
    this.state = CLOSING;
    this.closeCode = code;
    this.closeReason = reason;
    this.writeClose(code, reason);
    this.armCloseTimer();
  }

  /** Destroys the connection at once; `closed` reports 1006. */
  terminate(): void {
    this.state = CLOSED;
    this.socket?.destroy();
    this.report(1006, '');
  }

  /** Opens the TCP (or TLS) connection and writes the upgrade request on it. */
  private connect(url: URL): Socket {
    const secure = url.protocol === 'wss:' || url.protocol === 'https:';
    if (!secure && url.protocol !== 'ws:' && url.protocol !== 'http:') throw new Error(`unsupported protocol ${url.protocol}`);
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
    readBuffer ??= Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
    const onread: net.OnReadOpts = { buffer: readBuffer, callback: onSocketRead };
    // tls.connect takes `onread` too (documented there), though its typings omit it.
    const socket = secure
      ? tls.connect({ host, port, servername: net.isIP(host) === 0 ? host : undefined, onread } as tls.ConnectionOptions)
      : net.connect({ host, port, onread });
    (socket as Owned)[OWNER] = this;
    socket.setNoDelay(true);
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
    this.handshake = new WebSocketHandshake();
    socket.write(this.handshake.request(url));
    return socket;
  }

  /**
   * Takes one read of the socket, `buf[0..length)`: the handshake's answer first, then frames.
   *
   * @internal
   */
  received(buf: Buffer, length: number): void {
    if (this.state === OPEN || this.state === CLOSING) {
      this.read(buf, 0, length);
      return;
    }
    if (this.state !== CONNECTING) return;
    const outcome = this.handshake!.read(buf, 0, length);
    if (outcome === -1) return;
    this.handshake = undefined;
    if (typeof outcome === 'string') {
      this.state = CLOSED;
      this.socket!.destroy();
      this.report(1006, outcome);
      return;
    }
    this.state = OPEN;
    if (outcome < length) this.read(buf, outcome, length);
  }

  /** @internal */
  socketFailed(message: string): void {
    if (this.failure === '') this.failure = message;
  }

  /** @internal */
  socketClosed(): void {
    if (this.state === CONNECTING && this.failure === '') this.failure = 'Connection closed during the handshake';
    this.state = CLOSED;
    if (this.closeTimer !== undefined) clearTimeout(this.closeTimer);
    this.closeTimer = undefined;
    this.carry = EMPTY;
    this.fragments = EMPTY;
    if (this.closeCode !== 0) this.report(this.closeCode, this.closeReason);
    else this.report(1006, this.failure);
  }

  /** @internal */
  closeTimedOut(): void {
    this.closeTimer = undefined;
    this.socket?.destroy();
  }

  /** @internal */
  report(code: number, reason: string): void {
    if (this.reported) return;
    this.reported = true;
    this.listener.closed(code, reason);
  }

  /**
   * Parses `chunk[offset..end)`: first the rest of a frame carried over from earlier reads,
   * then every frame that lies wholly in this read (handled in place), then carries the
   * incomplete tail.
   */
  private read(chunk: Buffer, offset: number, end: number): void {
    if (this.carryLength > 0) {
      offset = this.completeCarried(chunk, offset, end);
      if (offset < 0) return;
    }
    while (offset < end && this.state !== CLOSED) {
      const total = this.parseHeader(chunk, offset, end);
      if (total < 0) return;
      if (total === 0 || end - offset < total) {
        this.startCarry(chunk, offset, end, total);
        return;
      }
      this.handleFrame(chunk, offset + this.headerLength, offset + total);
      offset += total;
    }
    if (this.carry.length > KEEP_CARRY_BYTES && end < KEEP_CARRY_BYTES) this.carry = EMPTY;
  }

  /**
   * Adds the start of `chunk[offset..end)` to the carried frame; when it completes, handles it.
   *
   * @returns where the rest of `chunk` starts, or -1 when it took all (or the connection ended)
   */
  private completeCarried(chunk: Buffer, offset: number, end: number): number {
    let total = this.carryFrame;
    let taken = 0;
    if (total === 0) {
      // Header still incomplete: a server header is at most 10 bytes, the carry has room for them.
      taken = Math.min(end - offset, 10 - this.carryLength);
      chunk.copy(this.carry, this.carryLength, offset, offset + taken);
      total = this.parseHeader(this.carry, 0, this.carryLength + taken);
      if (total < 0) return -1;
      if (total === 0) {
        this.carryLength += taken;
        return -1;
      }
      // The header is complete; of the bytes copied, only those before the frame's end are its own.
      taken = Math.min(taken, total - this.carryLength);
      this.carryLength += taken;
      this.carryFrame = total;
      if (this.carry.length < total) this.growCarry(total);
    }
    const take = Math.min(end - offset - taken, total - this.carryLength);
    chunk.copy(this.carry, this.carryLength, offset + taken, offset + taken + take);
    this.carryLength += take;
    taken += take;
    if (this.carryLength < total) return -1;
    this.carryLength = 0;
    this.carryFrame = 0;
    this.handleFrame(this.carry, this.headerLength, total);
    return this.state === CLOSED ? -1 : offset + taken;
  }

  /** Keeps the incomplete frame at `chunk[offset..end)` for the next read. */
  private startCarry(chunk: Buffer, offset: number, end: number, total: number): void {
    const need = Math.max(total, 10);
    if (this.carry.length < need) this.carry = Buffer.allocUnsafeSlow(need);
    chunk.copy(this.carry, 0, offset, end);
    this.carryLength = end - offset;
    this.carryFrame = total;
  }

  private growCarry(size: number): void {
    const grown = Buffer.allocUnsafeSlow(size);
    this.carry.copy(grown, 0, 0, this.carryLength);
    this.carry = grown;
  }

  /**
   * Parses the frame header at `buf[offset..end)` into `opcode`, `fin` and `headerLength`.
   *
   * @returns the frame's total length, 0 when the header is incomplete, -1 after failing the connection
   */
  private parseHeader(buf: Buffer, offset: number, end: number): number {
    if (end - offset < 2) return 0;
    const b0 = buf[offset];
    const b1 = buf[offset + 1];
    const opcode = b0 & 0x0f;
    if ((b0 & 0x70) !== 0) return this.fail(1002, 'RSV bits set without a negotiated extension');
    if ((b1 & 0x80) !== 0) return this.fail(1002, 'Masked frame from the server');
    let length = b1 & 0x7f;
    if (opcode >= OP_CLOSE) {
      if (opcode > OP_PONG) return this.fail(1002, `Unknown opcode ${opcode}`);
      if ((b0 & 0x80) === 0) return this.fail(1002, 'Fragmented control frame');
      if (length > 125) return this.fail(1002, 'Control frame payload over 125 bytes');
    } else if (opcode > OP_BINARY) {
      return this.fail(1002, `Unknown opcode ${opcode}`);
    } else if ((opcode === OP_CONTINUATION) !== (this.fragmentsOpcode !== 0)) {
      return this.fail(1002, opcode === OP_CONTINUATION ? 'Continuation frame without a message to continue' : 'New message inside a fragmented message');
    }
    let headerLength = 2;
    if (length === 126) {
      if (end - offset < 4) return 0;
      length = buf.readUInt16BE(offset + 2);
      headerLength = 4;
    } else if (length === 127) {
      if (end - offset < 10) return 0;
      const high = buf.readUInt32BE(offset + 2);
      // Anything past 2^53 is beyond any maxPayload; the exact figure does not matter.
      length = high > 0x1fffff ? Number.MAX_SAFE_INTEGER : high * 2 ** 32 + buf.readUInt32BE(offset + 6);
      headerLength = 10;
    }
    if (opcode < OP_CLOSE && this.fragmentsLength + length > this.maxPayload) {
      return this.fail(1009, `Message over ${this.maxPayload} bytes`);
    }
    this.opcode = opcode;
    this.fin = (b0 & 0x80) !== 0;
    this.headerLength = headerLength;
    return headerLength + length;
  }

  /** Handles the frame whose header was parsed last; its payload is `buf[start..end)`. */
  private handleFrame(buf: Buffer, start: number, end: number): void {
    const opcode = this.opcode;
    if (opcode === OP_TEXT || opcode === OP_BINARY) {
      if (this.fin) this.deliver(opcode, buf, start, end);
      else {
        this.fragmentsOpcode = opcode;
        this.appendFragment(buf, start, end);
      }
    } else if (opcode === OP_CONTINUATION) {
      this.appendFragment(buf, start, end);
      if (this.fin) {
        const message = this.fragments;
        const length = this.fragmentsLength;
        const messageOpcode = this.fragmentsOpcode;
        // Fragmented messages are rare on the gateway: their buffer is not kept.
        this.fragments = EMPTY;
        this.fragmentsLength = 0;
        this.fragmentsOpcode = 0;
        this.deliver(messageOpcode, message, 0, length);
      }
    } else if (opcode === OP_PING) {
      if (this.state === OPEN || this.state === CLOSING) this.socket?.write(encodeFrame(0x80 | OP_PONG, buf.subarray(start, end)));
    } else if (opcode === OP_CLOSE) {
      this.closeFrame(buf, start, end);
    }
  }

  private deliver(opcode: number, buf: Buffer, start: number, end: number): void {
    if (opcode === OP_TEXT) this.listener.text(buf.toString('utf8', start, end));
    else this.listener.binary(start === 0 && end === buf.length ? buf : buf.subarray(start, end));
  }

  private appendFragment(buf: Buffer, start: number, end: number): void {
    const length = this.fragmentsLength + end - start;
    if (this.fragments.length < length) {
      const grown = Buffer.allocUnsafeSlow(Math.min(Math.max(length, this.fragments.length * 2), this.maxPayload));
      this.fragments.copy(grown, 0, 0, this.fragmentsLength);
      this.fragments = grown;
    }
    buf.copy(this.fragments, this.fragmentsLength, start, end);
    this.fragmentsLength = length;
  }

  private closeFrame(buf: Buffer, start: number, end: number): void {
    let code = 1005;
    let reason = '';
    if (end - start === 1) {
      this.fail(1002, 'Close frame with a 1-byte payload');
      return;
    }
    if (end - start >= 2) {
      code = buf.readUInt16BE(start);
      if (!isValidCloseCode(code)) {
        this.fail(1002, `Invalid close code ${code}`);
        return;
      }
      reason = buf.toString('utf8', start + 2, end);
    }
    const weStarted = this.state === CLOSING;
    this.state = CLOSED;
    // The server closes the TCP connection after the handshake; the timer covers one that does not.
    if (!weStarted) {
      this.writeClose(code === 1005 ? 0 : code, '');
      this.armCloseTimer();
    }
    this.socket?.end();
    if (weStarted) this.report(this.closeCode, this.closeReason);
    else this.report(code, reason);
  }

  /** Fails the connection: close frame with `code` (when none was sent), TCP closed, `code` reported. @returns -1 */
  private fail(code: number, reason: string): number {
    const socket = this.socket;
    if (this.state === OPEN) this.writeClose(code, '');
    this.state = CLOSED;
    socket?.destroySoon();
    this.report(code, reason);
    return -1;
  }

  /** Writes a close frame (code 0: without a body). */
  private writeClose(code: number, reason: string): void {
    const socket = this.socket;
    if (socket === undefined || !socket.writable) return;
    let payload = EMPTY;
    if (code !== 0) {
      const text = truncateReason(reason);
      payload = Buffer.allocUnsafe(2 + text.length);
      payload.writeUInt16BE(code, 0);
      text.copy(payload, 2);
    }
    socket.write(encodeFrame(0x80 | OP_CLOSE, payload));
  }

  private armCloseTimer(): void {
    if (this.closeTimer !== undefined) return;
    this.closeTimer = setTimeout(closeTimedOut, CLOSE_TIMEOUT_MS, this);
    this.closeTimer.unref();
  }
}

/** One masked frame (header, mask key, payload) in a single buffer. */
function encodeFrame(first: number, payload: string | Buffer): Buffer {
  const length = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  const headerLength = length < 126 ? 2 : length < 0x10000 ? 4 : 10;
  const start = headerLength + 4;
  const frame = Buffer.allocUnsafe(start + length);
  frame[0] = first;
  if (headerLength === 2) frame[1] = 0x80 | length;
  else if (headerLength === 4) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  if (maskOffset === maskPool.length) {
    randomFillSync(maskPool);
    maskOffset = 0;
  }
  const m0 = maskPool[maskOffset];
  const m1 = maskPool[maskOffset + 1];
  const m2 = maskPool[maskOffset + 2];
  const m3 = maskPool[maskOffset + 3];
  maskOffset += 4;
  frame[headerLength] = m0;
  frame[headerLength + 1] = m1;
  frame[headerLength + 2] = m2;
  frame[headerLength + 3] = m3;
  if (typeof payload === 'string') frame.write(payload, start, 'utf8');
  else payload.copy(frame, start);
  const end = start + length;
  let i = start;
  for (; i + 3 < end; i += 4) {
    frame[i] ^= m0;
    frame[i + 1] ^= m1;
    frame[i + 2] ^= m2;
    frame[i + 3] ^= m3;
  }
  for (let k = 0; i < end; i++, k++) frame[i] ^= maskPool[maskOffset - 4 + k];
  return frame;
}

function owner(emitter: object): GatewayWebSocket {
  return (emitter as Owned)[OWNER]!;
}

/** Node calls `onread`'s callback as a method of the socket, so `this` finds the owner. */
function onSocketRead(this: Socket, length: number): boolean {
  owner(this).received(readBuffer!, length);
  return true;
}

function onSocketError(this: Socket, err: Error): void {
  owner(this).socketFailed(err.message);
}

function onSocketClose(this: Socket): void {
  owner(this).socketClosed();
}

function closeTimedOut(ws: GatewayWebSocket): void {
  ws.closeTimedOut();
}

function reportLater(ws: GatewayWebSocket, reason: string): void {
  ws.report(1006, reason);
}
