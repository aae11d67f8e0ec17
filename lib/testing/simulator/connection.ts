/**
 * One WebSocket connection to the simulator: its compression context, send-rate window, timers,
 * and the ordered way it sends, closes and drops.
 */
import { WebSocket } from 'ws';
import type { FrameEncoder, SimulatorCompression } from './encoders.js';
import { SlidingWindow } from './limits.js';
import type { SessionSink, SimulatedSession } from './session.js';

/** Frames a client may send per connection in any 60 s (protocol §4.1); every frame counts. */
export const CLIENT_FRAME_LIMIT = 120;
/** The window of {@link CLIENT_FRAME_LIMIT}. */
export const CLIENT_FRAME_WINDOW_MS = 60_000;

/** Server side of one gateway connection. */
export class SimulatorConnection implements SessionSink {
  /** Attached session, or null before identify/resume and after the session left. */
  session: SimulatedSession | null = null;
  /** Id of the last session this connection carried (kept for the close event). */
  lastSessionId: string | null = null;
  /** True when the session was attached by a resume. */
  resumed = false;
  /** Set once the simulator decided to end the connection: input is ignored, output dropped. */
  closing = false;
  /** The code the simulator closed with (1006 for a drop), reported instead of the client's echo. */
  serverCode: number | null = null;
  serverReason = '';
  /** Client frames in the last minute. */
  readonly inbound = new SlidingWindow(CLIENT_FRAME_LIMIT, CLIENT_FRAME_WINDOW_MS);
  /** Resolves when the socket has closed. */
  readonly closed: Promise<void>;
  private heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param ws - the accepted socket
   * @param id - connection id
   * @param path - request path
   * @param compress - transport compression in use
   * @param encoder - the connection's own compression context
   * @param openedAt - epoch ms of the upgrade
   */
  constructor(
    private readonly ws: WebSocket,
    readonly id: number,
    readonly path: string,
    readonly compress: SimulatorCompression,
    private readonly encoder: FrameEncoder,
    readonly openedAt: number,
  ) {
    this.closed = new Promise((resolve) => ws.once('close', () => resolve()));
  }

  /** Shard id of the attached session. */
  get shard(): number | null {
    return this.session ? this.session.shard[0] : null;
  }

  /** Whether frames sent now can still reach the client. */
  get open(): boolean {
    return !this.closing && this.ws.readyState === WebSocket.OPEN;
  }

  /** Frames queued in the compressor plus bytes not yet handed to the kernel (backpressure). */
  get backlog(): number {
    return this.encoder.pending + this.ws.bufferedAmount;
  }

  private readonly deliver = (body: string | Buffer): void => {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(body);
  };

  /** Queues a gateway frame (compressed if the connection asked for it). */
  send(text: string): void {
    if (!this.closing) this.encoder.encode(text, this.deliver);
  }

  /** Sends bytes exactly as given, uncompressed, after every frame queued before. */
  sendRaw(data: string | Buffer): void {
    if (!this.closing) this.encoder.whenIdle(() => this.deliver(data));
  }

  /** Closes with a close frame after every queued frame went out. */
  close(code: number, reason: string): void {
    if (this.closing) return;
    this.closing = true;
    this.serverCode = code;
    this.serverReason = reason;
    this.clearTimers();
    this.encoder.whenIdle(() => {
      if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, reason);
    });
  }

  /** Destroys the TCP socket without a close frame, after every queued frame was handed to it. */
  drop(): void {
    if (this.closing) return;
    this.closing = true;
    this.serverCode = 1006;
    this.serverReason = 'socket dropped by the simulator';
    this.clearTimers();
    this.encoder.whenIdle(() => this.ws.terminate());
  }

  /** Ends the socket at once (simulator shutdown). */
  terminate(): void {
    if (this.serverCode === null) {
      this.serverCode = 1006;
      this.serverReason = 'simulator closed';
    }
    this.closing = true;
    this.clearTimers();
    this.encoder.close();
    this.ws.terminate();
  }

  /** (Re)starts the heartbeat deadline: `onMissed` runs unless `rearm` is called within `ms`. */
  armHeartbeat(ms: number, onMissed: () => void): void {
    if (this.heartbeatTimer !== undefined) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = setTimeout(onMissed, ms);
  }

  /** Starts the close-after-op-7 timer unless one is running. */
  armReconnect(ms: number, onExpired: () => void): void {
    if (this.reconnectTimer === undefined) this.reconnectTimer = setTimeout(onExpired, ms);
  }

  private clearTimers(): void {
    if (this.heartbeatTimer !== undefined) clearTimeout(this.heartbeatTimer);
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.heartbeatTimer = undefined;
    this.reconnectTimer = undefined;
  }

  /** Releases timers and the compression context once the socket has closed. */
  dispose(): void {
    this.closing = true;
    this.clearTimers();
    this.encoder.close();
  }
}
