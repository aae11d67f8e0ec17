import WebSocket from 'ws';
import { createDecompressor, type Compression, type Decompressor, MAX_MESSAGE_BYTES } from './compression.js';
import { GatewayProtocolError } from './errors.js';
import type { GatewayFrame } from '../types/payloads.js';

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
 * The socket of one connection, knowing its connection: the socket's listeners are then
 * shared module-level functions instead of closures made for every connection.
 */
class GatewaySocket extends WebSocket {
  connection: GatewayConnection | undefined;
}

function onSocketMessage(this: WebSocket, data: Buffer, isBinary: boolean): void {
  (this as GatewaySocket).connection!.receive(data, isBinary);
}

function onSocketClose(this: WebSocket, code: number, reason: Buffer): void {
  (this as GatewaySocket).connection!.finish(code, reason.toString());
}

/** Connection failures surface as 'close' right after; without a listener ws would throw. */
function ignore(): void {}

/**
 * One WebSocket to the gateway: transport and codec, nothing else. Session policy (heartbeats,
 * resume, close codes) lives in `Session`; a new `GatewayConnection` (and a new decompression
 * context) is made for every reconnect.
 */
export class GatewayConnection {
  private readonly socket: GatewaySocket;
  private readonly decompressor: Decompressor;
  private done = false;

  /**
   * Opens the socket. It has no handshake timeout of its own: the owner bounds the whole
   * attempt, from TCP connect to Hello (a handshake timer would stay on every socket for life).
   */
  constructor(url: string, compression: Compression, private readonly listener: ConnectionListener) {
    this.decompressor = createDecompressor(compression);
    this.socket = new GatewaySocket(url, {
      perMessageDeflate: false,
      maxPayload: MAX_MESSAGE_BYTES,
      // JSON.parse rejects broken text anyway; ws's UTF-8 scan would be a second pass per frame.
      skipUTF8Validation: true,
    });
    this.socket.connection = this;
    this.socket.on('message', onSocketMessage);
    this.socket.on('close', onSocketClose);
    this.socket.on('error', ignore);
  }

  /** Whether frames can be written now. */
  get open(): boolean {
    return !this.done && this.socket.readyState === WebSocket.OPEN;
  }

  /** Writes one text frame; resolves once it is handed to the socket. */
  send(text: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.send(text, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Closes with `code`; the `closed` callback fires with it. */
  close(code: number, reason = ''): void {
    if (this.done) return;
    const state = this.socket.readyState;
    if (state === WebSocket.OPEN || state === WebSocket.CONNECTING) {
      this.socket.close(code, reason);
      // A peer that never answers the close handshake must not hold the session hostage.
      const timer = setTimeout(() => this.socket.terminate(), 5000);
      timer.unref?.();
      this.socket.once('close', () => clearTimeout(timer));
    }
    // Report our own code at once: the policy depends on why *we* closed, not on the echo.
    this.finish(code, reason);
  }

  /** Drops the TCP connection without a close frame. */
  terminate(): void {
    this.socket.terminate();
    this.finish(1006, 'terminated');
  }

  /** One WebSocket message: decoded, parsed and handed to the listener. */
  receive(data: Buffer, isBinary: boolean): void {
    if (this.done) return;
    let text: string | null;
    try {
      text = isBinary ? this.decompressor.push(data) : data.toString('utf8');
    } catch (err) {
      this.listener.connectionError(this, err instanceof GatewayProtocolError ? err : new GatewayProtocolError(String(err)), true);
      return;
    }
    if (text === null) return;
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

  /** Reports the end of the connection, once. */
  finish(code: number, reason: string): void {
    if (this.done) return;
    this.done = true;
    this.decompressor.close();
    this.listener.connectionClosed(this, code, reason);
  }
}
