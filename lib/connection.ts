import { createDecompressor, type Compression, type Decompressor, MAX_MESSAGE_BYTES } from './compression.js';
import { GatewayProtocolError } from './errors.js';
import type { GatewayFrame } from '../types/payloads.js';
import { GatewayWebSocket, type WebSocketListener } from './websocket.js';

/**
 * What a connection reports to its owner. Each call names the connection, so one owner can
 * outlive many connections and ignore the reports of those it has replaced.
 */
export interface ConnectionListener {
  /** A decoded gateway frame. */
  connectionFrame(conn: GatewayConnection, frame: GatewayFrame): void;
  /** A frame that could not be decoded; the connection stays open unless `fatal`. */
  connectionError(conn: GatewayConnection, error: GatewayProtocolError, fatal: boolean): void;
  /** The socket closed (code 1006 when it dropped without a close frame). */
  connectionClosed(conn: GatewayConnection, code: number, reason: string): void;
}

/**
 * One WebSocket to the gateway: transport and codec, nothing else. Session policy (heartbeats,
 * resume, close codes) lives in `Session`; a new `GatewayConnection` (and a new decompression
 * context) is made for every reconnect.
 */
export class GatewayConnection implements WebSocketListener {
  private readonly socket: GatewayWebSocket;
  private readonly decompressor: Decompressor;
  /** zlib-stream keeps the frames of an unfinished message; they must outlive the read buffer. */
  private readonly keepsPartial: boolean;
  private done = false;

  /**
   * Opens the socket. It has no handshake timeout of its own: the owner bounds the whole
   * attempt, from TCP connect to Hello (a handshake timer would stay on every socket for life).
   */
  constructor(url: string, compression: Compression, private readonly listener: ConnectionListener) {
    this.decompressor = createDecompressor(compression);
    this.keepsPartial = compression === 'zlib-stream';
    this.socket = new GatewayWebSocket(url, this, MAX_MESSAGE_BYTES);
  }

  /** Whether frames can be written now. */
  get open(): boolean {
    return !this.done && this.socket.open;
  }

  /** Writes one text frame; resolves once it is handed to the socket. */
  send(text: string): Promise<void> {
    return this.socket.send(text);
  }

  /** Closes with `code`; the `closed` callback fires with it. */
  close(code: number, reason = ''): void {
    if (this.done) return;
    // The socket ends the close handshake itself (5 s at most for a peer that never answers).
    this.socket.close(code, reason);
    // Report our own code at once: the policy depends on why *we* closed, not on the echo.
    this.finish(code, reason);
  }

  /** Drops the TCP connection without a close frame. */
  terminate(): void {
    this.finish(1006, 'terminated');
    this.socket.terminate();
  }

  /**
   * A text message from the socket.
   *
   * @internal Called by the socket.
   */
  text(text: string): void {
    if (!this.done) this.parse(text);
  }

  /**
   * A binary (compressed) message from the socket; `data` is valid only during the call.
   *
   * @internal Called by the socket.
   */
  binary(data: Buffer): void {
    if (this.done) return;
    if (this.keepsPartial && !endsWithFlush(data)) data = Buffer.from(data);
    let text: string | null;
    try {
      text = this.decompressor.push(data);
    } catch (err) {
      this.listener.connectionError(this, err instanceof GatewayProtocolError ? err : new GatewayProtocolError(String(err)), true);
      return;
    }
    if (text !== null) this.parse(text);
  }

  /**
   * The socket ended.
   *
   * @internal Called by the socket.
   */
  closed(code: number, reason: string): void {
    this.finish(code, reason);
  }

  /** Reports the end of the connection, once. */
  private finish(code: number, reason: string): void {
    if (this.done) return;
    this.done = true;
    this.decompressor.close();
    this.listener.connectionClosed(this, code, reason);
  }

  private parse(text: string): void {
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      this.listener.connectionError(this, new GatewayProtocolError(`Undecodable frame from the gateway (${text.length} chars)`), true);
      return;
    }
    if (typeof frame !== 'object' || frame === null || typeof (frame as GatewayFrame).op !== 'number') {
      this.listener.connectionError(this, new GatewayProtocolError('Gateway frame without a numeric "op"'), false);
      return;
    }
    this.listener.connectionFrame(this, frame as GatewayFrame);
  }
}

/** Whether a zlib-stream message ends a gateway message (the `00 00 ff ff` flush suffix). */
function endsWithFlush(data: Buffer): boolean {
  const n = data.length;
  return n >= 4 && data[n - 4] === 0 && data[n - 3] === 0 && data[n - 2] === 0xff && data[n - 1] === 0xff;
}
