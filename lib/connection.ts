import WebSocket from 'ws';
import { createDecompressor, type Compression, type Decompressor, MAX_MESSAGE_BYTES } from './compression.js';
import { GatewayProtocolError } from './errors.js';
import type { GatewayFrame } from '../types/payloads.js';

/** What a connection reports to its owner. */
export interface ConnectionListener {
  /** A decoded gateway frame. */
  frame(frame: GatewayFrame): void;
  /** A frame that could not be decoded; the connection stays open unless `fatal`. */
  protocolError(error: GatewayProtocolError, fatal: boolean): void;
  /** The socket closed (code 1006 when it dropped without a close frame). */
  closed(code: number, reason: string): void;
}

/**
 * One WebSocket to the gateway: transport and codec, nothing else. Session policy (heartbeats,
 * resume, close codes) lives in `Session`; a new `GatewayConnection` (and a new decompression
 * context) is made for every reconnect.
 */
export class GatewayConnection {
  private readonly socket: WebSocket;
  private readonly decompressor: Decompressor;
  private done = false;

  constructor(url: string, compression: Compression, private readonly listener: ConnectionListener) {
    this.decompressor = createDecompressor(compression);
    this.socket = new WebSocket(url, {
      perMessageDeflate: false,
      maxPayload: MAX_MESSAGE_BYTES,
      // JSON.parse rejects broken text anyway; ws's UTF-8 scan would be a second pass per frame.
      skipUTF8Validation: true,
      handshakeTimeout: 30_000,
    });
    this.socket.on('message', this.onMessage);
    this.socket.on('close', (code: number, reason: Buffer) => this.finish(code, reason.toString()));
    // Connection failures surface as 'close' right after; without a listener ws would throw.
    this.socket.on('error', () => {});
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

  private readonly onMessage = (data: Buffer, isBinary: boolean): void => {
    if (this.done) return;
    let text: string | null;
    try {
      text = isBinary ? this.decompressor.push(data) : data.toString('utf8');
    } catch (err) {
      this.listener.protocolError(err instanceof GatewayProtocolError ? err : new GatewayProtocolError(String(err)), true);
      return;
    }
    if (text === null) return;
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      this.listener.protocolError(new GatewayProtocolError(`Undecodable frame from the gateway (${text.length} chars)`), true);
      return;
    }
    if (typeof frame !== 'object' || frame === null || typeof (frame as GatewayFrame).op !== 'number') {
      this.listener.protocolError(new GatewayProtocolError('Gateway frame without a numeric "op"'), false);
      return;
    }
    this.listener.frame(frame as GatewayFrame);
  };

  private finish(code: number, reason: string): void {
    if (this.done) return;
    this.done = true;
    this.decompressor.close();
    this.listener.closed(code, reason);
  }
}
