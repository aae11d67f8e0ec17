import { GatewayConnection } from './connection.js';
import { Heartbeater, heartbeatReserve } from './heartbeat.js';
import { Backoff } from './backoff.js';
import { SendLog } from './send-log.js';
import { SendQueue } from './send-queue.js';
import { sleep } from './sleep.js';
import { MemoryRateLimiter } from './ratelimit/memory.js';
import type { BucketRule, RateLimiter } from './ratelimit/types.js';
import type { SessionStore } from './store/types.js';
import type { SendEvent, SendOptions } from './events/send-event.js';
import { encodeFrame } from './events/frame.js';
import { Resume } from './events/resume.js';
import { Heartbeat } from './events/heartbeat.js';
import {
  DisgateError, FatalCloseError, HTTPError, InvalidOptionError, ValidationError, GatewayProtocolError, ReconnectLimitError, SessionClosedError, redactToken,
} from './errors.js';
import { closeCodePolicy, GatewayCloseCodes, RESUMABLE_CLIENT_CLOSE } from '../types/close-codes.js';
import { GatewayOpcodes } from '../types/opcodes.js';
import type { GatewayFrame, GatewayReadyDispatchData, SessionInfo } from '../types/payloads.js';
import type { Client } from './client.js';

/** Where a session is in its lifecycle (design §5). */
export type SessionStatus = 'idle' | 'connecting' | 'identifying' | 'resuming' | 'ready' | 'reconnecting' | 'closed';

/** Options of {@link Session}. */
export interface SessionOptions {
  /** `[shard_id, num_shards]`; default `[0, 1]`. */
  shard?: [number, number];
  /** Holds this session's per-connection bucket; default a `MemoryRateLimiter` shared by the process's sessions. */
  rateLimiter?: RateLimiter;
  /** Saves `{ session_id, seq, resume_gateway_url }`; default the bot's `store`, if any. */
  store?: SessionStore;
  /**
   * The connection's frame budget, heartbeats included: Discord's 120 per 60 s by default.
   * Change it only for a gateway (or proxy) that announces other limits: above Discord's, the
   * connection is closed with 4008. The session counts each window 1/60 longer (61 s for
   * Discord's 60 s), since the gateway counts frames when they arrive.
   */
  frameLimit?: FrameLimit;
}

/** A budget of `frames` per `windowMs` on one connection. */
export interface FrameLimit {
  /** Frames per window. */
  frames: number;
  /** The sliding window, in ms. */
  windowMs: number;
}

/** The per-connection send budget as {@link Session.getRateLimitStatus} reports it. */
export interface RateLimitStatus {
  /** Frames that may still be sent in the current 60 s window (heartbeats included). */
  remainingEvents: number;
  /** Frames sent in the last 60 s on this connection. */
  currentEventCount: number;
  /** Epoch ms when the oldest frame of the window leaves it (0 = nothing sent). */
  resetTime: number;
}

/** Reported through the client's `close` event each time a connection ends. */
export interface SessionCloseEvent {
  /** The shard id. */
  shard: number;
  /** The close code (1006 for a dropped connection, 4900 when disgate closed to resume). */
  code: number;
  /** The close reason, token-redacted. */
  reason: string;
  /** Whether disgate will connect again. */
  reconnect: boolean;
  /** Whether the next connection resumes (`false`: a new session is identified). */
  resumable: boolean;
}

/** Why disgate closes a connection itself, and what happens next. */
interface CloseIntent {
  newSession: boolean;
  /** Wait before reconnecting, in ms; `undefined` = reconnect at once (or back off after a failed attempt). */
  delay?: number;
}

/** Per-connection budget of the gateway (protocol §4.1). */
const DISCORD_FRAME_LIMIT: FrameLimit = { frames: 120, windowMs: 60_000 };
/**
 * The gateway counts frames as they arrive, the session as it writes them: a burst still
 * draining through the socket arrives later than it was counted, and a frame written exactly
 * one window after it could make the 121st arrival in the gateway's window (4008). Windows are
 * therefore counted this much longer: 1 s of Discord's 60 s.
 */
const WINDOW_MARGIN_FRACTION = 1 / 60;
/**
 * How long one attempt may take from opening the socket to Hello. Discord says Hello at once;
 * a peer that accepts the connection and then stays silent is retried with backoff.
 */
const HELLO_TIMEOUT_MS = 30_000;
/**
 * Consecutive attempts on `resume_gateway_url` that may fail before the session gives up on
 * resuming and identifies on the gateway URL (protocol §1.11: "if you cannot resume").
 */
const MAX_RESUME_ATTEMPTS = 3;

let connectionCounter = 0;
let sharedLimiter: MemoryRateLimiter | undefined;

/**
 * The limiter sessions use when given none: one per process. Bucket ids are unique per
 * connection, so sharing it costs nothing in correctness and saves a limiter per session.
 */
export function defaultConnectionLimiter(): MemoryRateLimiter {
  sharedLimiter ??= new MemoryRateLimiter();
  return sharedLimiter;
}
/** Distinguishes this process's per-connection buckets from other processes' in a shared limiter. */
const PROCESS_TAG = Math.random().toString(36).slice(2, 8);

/**
 * One gateway connection for one shard, kept alive through everything Discord does: heartbeats
 * and zombie detection, op 7, op 9, close codes, dropped sockets and resumes, with no dispatch
 * lost or repeated. Frames sent through it go out in order through its per-connection bucket.
 *
 * @example
 * ```ts
 * const session = new Session({ shard: [0, 1] });
 * await session.connect(bot);  // resolves once READY
 * console.log(session.status, session.latency);
 * await session.disconnect();
 * ```
 */
export class Session {
  /** `[shard_id, num_shards]`. */
  readonly shard: [number, number];
  /** Holds the per-connection bucket (`gateway:<shard>:...`, 120 frames per 60 s less the heartbeat reserve). */
  readonly rateLimiter: RateLimiter;
  /** Where the resume state is saved, if anywhere. */
  readonly store: SessionStore | undefined;
  /** Discord's `session_id`, once READY. */
  id: string | undefined;
  /** Last sequence number received. */
  seq: number | null = null;
  /** `resume_gateway_url` from READY. */
  resumeURL: string | undefined;
  /** Lifecycle state. */
  status: SessionStatus = 'idle';

  #bot: Client | undefined;
  #store: SessionStore | undefined;
  /** A reshard's new session leaves the store key alone until the swap (see {@link adoptStoreKey}). */
  #storeDeferred = false;
  #conn: GatewayConnection | undefined;
  #heartbeater: Heartbeater | undefined;
  #connAbort: AbortController | undefined;
  /** Aborts the wait for an identify turn (before the socket opens) when the session ends. */
  #turnAbort: AbortController | undefined;
  #helloTimer: ReturnType<typeof setTimeout> | undefined;
  #bucket: BucketRule | undefined;
  #reachedReady = false;
  /** What the current attempt does, and how many resume attempts failed in a row. */
  #attempt: 'identify' | 'resume' = 'identify';
  #failedResumes = 0;
  #closeIntent: CloseIntent | undefined;
  #cancelReconnect: (() => void) | undefined;
  #latency = -1;
  readonly #frameLimit: FrameLimit;
  readonly #sendLog: SendLog;
  readonly #backoff = new Backoff();
  /** Made on the first user frame: many shards never send one. */
  #queue: SendQueue | undefined;
  #readyWaiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  #connectWaiter: { resolve: () => void; reject: (err: Error) => void } | undefined;

  /**
   * @param options - the shard, and where its per-connection bucket and resume state live
   * @throws {@link InvalidOptionError} when `shard` is not `[id, count]` with `0 <= id < count`,
   *   or `frameLimit` is not a positive budget
   */
  constructor(options: SessionOptions = {}) {
    const shard = options.shard ?? [0, 1];
    validateShard(shard);
    this.shard = [shard[0], shard[1]];
    this.rateLimiter = options.rateLimiter ?? defaultConnectionLimiter();
    this.store = options.store;
    const limit = options.frameLimit ?? DISCORD_FRAME_LIMIT;
    if (!Number.isSafeInteger(limit.frames) || limit.frames < 1 || !(limit.windowMs > 0) || !Number.isFinite(limit.windowMs)) {
      throw new InvalidOptionError('frameLimit', '{ frames, windowMs } with a positive integer and a positive finite number of ms');
    }
    this.#frameLimit = { frames: limit.frames, windowMs: limit.windowMs * (1 + WINDOW_MARGIN_FRACTION) };
    this.#sendLog = new SendLog(limit.frames, this.#frameLimit.windowMs);
  }

  /** Round trip of the last acknowledged heartbeat, in ms (`-1` before the first ACK). */
  get latency(): number {
    return this.#heartbeater?.latency ?? this.#latency;
  }

  /** The bucket rule of the current connection, once Hello arrived. */
  get connectionBucket(): BucketRule | undefined {
    return this.#bucket;
  }

  /** Frames sent on the current connection within the last 60 s, heartbeats included. */
  getRateLimitStatus(): RateLimitStatus {
    const now = Date.now();
    const count = this.#sendLog.count(now);
    return { remainingEvents: this.#frameLimit.frames - count, currentEventCount: count, resetTime: this.#sendLog.resetTime(now) };
  }

  /**
   * Connects to the gateway and resolves once the session is READY (or RESUMED, when the store
   * held a resumable session). Failed attempts are retried with backoff.
   *
   * @param bot - the bot whose token, intents, handlers and identify buckets this session uses
   * @throws {@link FatalCloseError} when the gateway closes with 4004 or 4010–4014
   * @throws {@link ReconnectLimitError} after `maxReconnectAttempts` failed attempts
   * @throws {@link SessionClosedError} when `disconnect()` is called first
   */
  async connect(bot: Client): Promise<void> {
    if (this.status !== 'idle' && this.status !== 'closed') throw new DisgateError(`Shard ${this.shard[0]} is already ${this.status}`);
    this.#bot = bot;
    this.#store = this.store ?? bot.store;
    // A session starting beside a running set (a reshard) would find that set's session under its key.
    const mayRestore = bot.attachSession(this);
    this.#storeDeferred = !mayRestore;
    this.status = 'connecting';
    this.#backoff.reset();
    const done = new Promise<void>((resolve, reject) => { this.#connectWaiter = { resolve, reject }; });
    if (this.#store && !this.id && mayRestore) {
      try {
        const saved = await this.#store.get(this.shard[0]);
        if (saved) this.#restore(saved);
      } catch (err) {
        bot.reportError(asError(err), this);
      }
    }
    void this.#open();
    return done;
  }

  /**
   * Closes the connection and ends the session. With 1000 or 1001 (the default is 1000) Discord
   * invalidates the session; any other code leaves it resumable, and the store keeps it, so
   * another process can resume it.
   *
   * @param code - the close code (default 1000)
   */
  async disconnect(code = 1000): Promise<void> {
    if (this.status === 'closed' || this.status === 'idle') return;
    const invalidates = code === 1000 || code === 1001;
    this.#end(new SessionClosedError(this.shard[0], 'disconnect() was called'), code);
    if (!this.#store) return;
    try {
      if (invalidates) await this.#store.delete(this.shard[0]);
      else await this.#store.flush();
    } catch (err) {
      this.#bot?.reportError(asError(err), this);
    }
  }

  /**
   * Ends a session replaced by a reshard, or one of a reshard abandoned: closes with 1000
   * (Discord frees it) but leaves the store alone, since the other session of the same shard id
   * saves under that key.
   *
   * @param reason - why, for the `SessionClosedError` it ends with
   * @param dropStoreKey - also delete its store key (a reshard to fewer shards has no session for it)
   * @internal
   */
  async retire(reason = 'replaced by a reshard', dropStoreKey = false): Promise<void> {
    if (this.status === 'closed' || this.status === 'idle') return;
    this.#end(new SessionClosedError(this.shard[0], reason), 1000);
    if (!dropStoreKey || !this.#store) return;
    try {
      await this.#store.delete(this.shard[0]);
    } catch (err) {
      this.#bot?.reportError(asError(err), this);
    }
  }

  /**
   * Writes one send event. Heartbeats go out at once; Identify and Resume through the
   * connection's bucket; everything else waits its turn in order, across reconnects, until
   * the session is READY and the bucket has room.
   *
   * @internal Called by {@link SendEvent.sendEvent}; use that instead.
   */
  transmit(event: SendEvent, options?: SendOptions): Promise<void> {
    if (this.status === 'closed' || this.status === 'idle') return Promise.reject(new SessionClosedError(this.shard[0], `the session is ${this.status}`));
    let text: string;
    try {
      text = encodeFrame(event);
      options?.signal?.throwIfAborted();
    } catch (err) {
      return Promise.reject(err);
    }
    switch (event.op) {
      case GatewayOpcodes.Heartbeat:
        this.#writeHeartbeat(text, options?.onWrite);
        return Promise.resolve();
      case GatewayOpcodes.Identify:
      case GatewayOpcodes.Resume:
        return this.#sendHandshake(text, options?.signal, options?.onWrite);
      default:
        this.#queue ??= new SendQueue((text, signal, onWrite) => this.#sendInOrder(text, signal, onWrite));
        return this.#queue.push(text, options?.signal, options?.onWrite);
    }
  }

  #restore(saved: SessionInfo): void {
    if (saved.shard && (saved.shard[0] !== this.shard[0] || saved.shard[1] !== this.shard[1])) {
      this.#bot?.debug(`[shard ${this.shard[0]}] the saved session was identified as shard [${saved.shard.join(', ')}], not [${this.shard.join(', ')}]: identifying`);
      return;
    }
    this.id = saved.session_id;
    this.seq = saved.seq;
    this.resumeURL = saved.resume_gateway_url;
  }

  get #closed(): boolean {
    return this.status === 'closed';
  }

  get #resumable(): boolean {
    return this.id !== undefined && this.seq !== null && this.resumeURL !== undefined;
  }

  async #open(): Promise<void> {
    const bot = this.#bot!;
    this.#cancelReconnect = undefined;
    if (this.#closed) return;
    this.status = 'connecting';
    this.#reachedReady = false;
    this.#attempt = this.#resumable ? 'resume' : 'identify';
    // A shard waits for the groups before it, and for a daily session start, without a socket:
    // an open socket would idle (and heartbeat), for minutes or hours, before it may identify.
    if (this.#attempt === 'identify') {
      this.#turnAbort = new AbortController();
      try {
        await bot.identifyTurn(this, this.#turnAbort.signal);
      } catch (err) {
        if (!this.#closed) bot.reportError(asError(err), this);
      }
      this.#turnAbort = undefined;
    }
    if (this.#closed) return;
    let base: string;
    try {
      base = this.#attempt === 'resume' ? this.resumeURL! : await bot.resolveGatewayURL();
    } catch (err) {
      if (err instanceof HTTPError && err.status === 401) {
        // Discord refuses the token itself: retrying would only repeat it (like close 4004).
        this.#end(new FatalCloseError(GatewayCloseCodes.AuthenticationFailed, 'Authentication failed (GET /gateway/bot answered 401)', this.shard[0]));
        return;
      }
      bot.reportError(asError(err), this);
      this.#reconnect(true);
      return;
    }
    if (this.#closed) return;
    let url: URL;
    try {
      url = new URL(base);
    } catch {
      bot.reportError(new GatewayProtocolError(`Unusable gateway URL ${JSON.stringify(base)}`), this);
      if (this.#attempt === 'resume') this.#forget();
      this.#reconnect(true);
      return;
    }
    // The same query on every connection, resumes included (protocol §1.8); Discord's URLs carry none of their own.
    url.search = bot.compression === 'none' ? 'v=10&encoding=json' : `v=10&encoding=json&compress=${bot.compression}`;
    this.#connAbort = new AbortController();
    const conn = new GatewayConnection(url.toString(), bot.compression, this);
    this.#conn = conn;
    this.#helloTimer = setTimeout(() => {
      this.#helloTimer = undefined;
      if (this.#conn === conn) this.#closeAndReconnect(`no Hello within ${HELLO_TIMEOUT_MS / 1000} s`, { newSession: false });
    }, HELLO_TIMEOUT_MS);
    bot.debug(`[shard ${this.shard[0]}] connecting to ${url.host} (${this.#resumable ? 'resume' : 'identify'})`);
  }

  /**
   * A frame from one of this session's connections; those of a replaced connection are ignored.
   *
   * @internal Called by the connection.
   */
  connectionFrame(conn: GatewayConnection, frame: GatewayFrame): void {
    if (this.#conn === conn) this.#onFrame(frame);
  }

  /**
   * An undecodable frame: reported, and the connection replaced when the stream is unusable.
   *
   * @internal Called by the connection.
   */
  connectionError(conn: GatewayConnection, error: GatewayProtocolError, fatal: boolean): void {
    if (this.#conn !== conn) return;
    this.#bot!.reportError(new GatewayProtocolError(redactToken(error.message, this.#bot!.token)), this);
    if (fatal) this.#closeAndReconnect('protocol error', { newSession: false });
  }

  /**
   * The current connection ended: the close-code policy decides what comes next.
   *
   * @internal Called by the connection.
   */
  connectionClosed(conn: GatewayConnection, code: number, reason: string): void {
    if (this.#conn === conn) this.#onClosed(code, redactToken(reason, this.#bot!.token));
  }

  /**
   * Writes op 1 with the last sequence number.
   *
   * @internal Called by the heartbeater.
   */
  sendHeartbeat(): void {
    void new Heartbeat(this.seq).sendEvent(this.#bot!, this).catch(() => {});
    // Refresh the saved state even on a quiet shard, so a store's expiry never drops a live session.
    this.#save();
  }

  /**
   * No ACK between two beats: the connection is a zombie and is replaced (resuming).
   *
   * @internal Called by the heartbeater.
   */
  heartbeatMissed(): void {
    this.#closeAndReconnect('zombie connection: no heartbeat ACK', { newSession: false });
  }

  #onFrame(frame: GatewayFrame): void {
    switch (frame.op) {
      case GatewayOpcodes.Dispatch:
        this.#onDispatch(frame);
        return;
      case GatewayOpcodes.HeartbeatAck:
        this.#heartbeater?.ack();
        return;
      case GatewayOpcodes.Heartbeat:
        this.#onHeartbeatRequest();
        return;
      case GatewayOpcodes.Hello:
        this.#onHello(frame.d);
        return;
      case GatewayOpcodes.Reconnect:
        this.#closeAndReconnect('gateway requested reconnect (op 7)', { newSession: false });
        return;
      case GatewayOpcodes.InvalidSession:
        this.#onInvalidSession(frame.d === true);
        return;
      default:
        this.#bot!.reportError(new GatewayProtocolError(`Unknown opcode ${frame.op} from the gateway`), this);
    }
  }

  /**
   * A server may ask for a beat at any time. The answer (which restarts the schedule) must
   * leave room for the scheduled beats still due within the window, so that the connection
   * never exceeds 120 frames a minute: a 121st frame would cost the connection (close 4008).
   */
  #onHeartbeatRequest(): void {
    const heartbeater = this.#heartbeater;
    if (!heartbeater) return;
    const now = Date.now();
    if (this.#sendLog.fits(now, now + heartbeater.interval, heartbeater.interval)) heartbeater.beatNow();
    else this.#bot!.debug(`[shard ${this.shard[0]}] heartbeat request not answered: the 60 s budget is spent`);
  }

  /** Ms until a user frame fits beside the heartbeats due within the window (0: now). */
  #budgetWait(): number {
    const heartbeater = this.#heartbeater;
    const now = Date.now();
    if (!heartbeater || this.#sendLog.fits(now, heartbeater.nextBeatAt, heartbeater.interval)) return 0;
    return Math.max(1, this.#sendLog.resetTime(now) - now);
  }

  #onHello(d: unknown): void {
    const interval = (d as { heartbeat_interval?: unknown } | null | undefined)?.heartbeat_interval;
    if (typeof interval !== 'number' || !(interval > 0)) {
      this.#bot!.reportError(new GatewayProtocolError('Hello without a positive heartbeat_interval'), this);
      this.#closeAndReconnect('bad hello', { newSession: false });
      return;
    }
    if (this.#heartbeater) {
      // A second Hello would make us identify twice on one connection (close 4005).
      this.#bot!.reportError(new GatewayProtocolError('Second Hello on one connection; ignored'), this);
      return;
    }
    clearTimeout(this.#helloTimer);
    this.#helloTimer = undefined;
    this.#heartbeater = new Heartbeater(interval, this);
    this.#bucket = {
      id: `gateway:${this.shard[0]}:${PROCESS_TAG}:${++connectionCounter}`,
      // An interval so short that beats alone fill the window still leaves one unit: the send log decides.
      limit: Math.max(1, this.#frameLimit.frames - heartbeatReserve(interval, this.#frameLimit.windowMs)),
      interval: this.#frameLimit.windowMs,
    };
    this.#sendLog.clear();
    this.#heartbeater.start();
    void this.#handshake();
  }

  async #handshake(): Promise<void> {
    const bot = this.#bot!;
    const signal = this.#connAbort!.signal;
    const heartbeater = this.#heartbeater;
    try {
      if (this.#resumable) {
        this.status = 'resuming';
        await new Resume({ token: bot.token, session_id: this.id!, seq: this.seq! }).sendEvent(bot, this, { signal });
      } else {
        this.status = 'identifying';
        // A new session numbers its events from 1 again; an old seq would discard its READY.
        this.seq = null;
        await bot.identifyFor(this.shard).sendEvent(bot, this, { signal });
      }
      if (!signal.aborted) heartbeater?.release();
    } catch (err) {
      if (signal.aborted) return;
      bot.reportError(asError(err), this);
      // A resume state that does not even validate (e.g. from a corrupt store) cannot be retried.
      this.#closeAndReconnect('handshake failed', { newSession: err instanceof ValidationError });
    }
  }

  #onDispatch(frame: GatewayFrame): void {
    const { s, t } = frame;
    if (typeof t !== 'string' || (frame.d === undefined && t !== 'RESUMED')) {
      // Not taking its seq means a resume would replay the real event, if there was one.
      this.#bot!.reportError(new GatewayProtocolError(`Dispatch without ${typeof t !== 'string' ? 't' : 'd'} (seq ${s})`), this);
      return;
    }
    if (typeof s === 'number') {
      if (this.seq === null || s > this.seq) {
        this.seq = s;
        this.#save();
      } else if (t !== 'RESUMED' && t !== 'READY') {
        // A resume replays from our seq; anything at or below it was delivered already.
        return;
      }
    }
    if (t === 'READY') this.#onReady(frame.d as GatewayReadyDispatchData);
    else if (t === 'RESUMED') this.#onResumed();
    this.#bot!.deliver(t, frame.d, this);
  }

  #onReady(d: GatewayReadyDispatchData): void {
    this.id = d.session_id;
    this.resumeURL = d.resume_gateway_url;
    this.#save();
    this.#becomeReady('ready');
  }

  #onResumed(): void {
    this.#becomeReady('resumed');
  }

  #becomeReady(how: 'ready' | 'resumed'): void {
    this.status = 'ready';
    this.#reachedReady = true;
    this.#failedResumes = 0;
    this.#backoff.reset();
    const bot = this.#bot!;
    bot.debug(`[shard ${this.shard[0]}] ${how}`);
    bot.sessionReady(this, how);
    const waiter = this.#connectWaiter;
    this.#connectWaiter = undefined;
    waiter?.resolve();
    for (const w of this.#readyWaiters.splice(0)) w.resolve();
  }

  #onInvalidSession(resumable: boolean): void {
    if (resumable) {
      this.#closeAndReconnect('invalid session (resumable)', { newSession: false });
      return;
    }
    // Legacy-but-safe advice (protocol §1.10): wait 1–5 s before identifying again.
    this.#closeAndReconnect('invalid session', { newSession: true, delay: 1000 + Math.floor(Math.random() * 4000) });
  }

  #closeAndReconnect(reason: string, intent: CloseIntent): void {
    const conn = this.#conn;
    if (!conn) return;
    this.#closeIntent = intent;
    this.#bot!.debug(`[shard ${this.shard[0]}] closing: ${reason}`);
    conn.close(RESUMABLE_CLIENT_CLOSE, reason.slice(0, 100));
  }

  #teardownConnection(): void {
    clearTimeout(this.#helloTimer);
    this.#helloTimer = undefined;
    this.#heartbeater?.stop();
    if (this.#heartbeater) this.#latency = this.#heartbeater.latency;
    this.#heartbeater = undefined;
    this.#connAbort?.abort(new SessionClosedError(this.shard[0], 'the connection closed'));
    this.#connAbort = undefined;
    this.#conn = undefined;
  }

  #onClosed(code: number, reason: string): void {
    const bot = this.#bot!;
    this.#teardownConnection();
    if (this.status === 'closed') return;
    const intent = this.#closeIntent;
    this.#closeIntent = undefined;
    const policy = closeCodePolicy(code);
    const fatal = !intent && !policy.reconnect;
    const newSession = intent ? intent.newSession : policy.newSession;
    const reconnect = !fatal && bot.autoReconnect;
    // Resumable only with a session to resume: a connection lost before READY identifies again.
    bot.sessionClosed({ shard: this.shard[0], code, reason, reconnect, resumable: reconnect && !newSession && this.#resumable }, this);
    if (newSession) this.#forget();
    if (fatal) {
      this.#end(new FatalCloseError(code, policy.description, this.shard[0]));
      return;
    }
    if (!reconnect) {
      this.#end(new SessionClosedError(this.shard[0], `connection closed with ${code} and autoReconnect is off`));
      return;
    }
    this.#reconnect(!this.#reachedReady, intent?.delay);
  }

  /**
   * Schedules the next connection: at once after a healthy connection ended, with backoff after
   * an attempt that never reached READY/RESUMED, and never sooner than `minDelay`.
   */
  #reconnect(failed: boolean, minDelay = 0): void {
    const bot = this.#bot!;
    let delay = minDelay;
    if (failed && this.#attempt === 'resume' && this.#resumable && ++this.#failedResumes >= MAX_RESUME_ATTEMPTS) {
      bot.debug(`[shard ${this.shard[0]}] ${this.#failedResumes} resume attempts failed; identifying on the gateway URL`);
      this.#forget();
    }
    if (failed && this.#attempt === 'identify') bot.identifyAttemptFailed(this);
    if (failed) {
      if (this.#backoff.attempts >= bot.maxReconnectAttempts) {
        this.#end(new ReconnectLimitError(this.#backoff.attempts, this.shard[0]));
        return;
      }
      delay = Math.max(delay, this.#backoff.next());
    }
    this.status = 'reconnecting';
    bot.debug(`[shard ${this.shard[0]}] reconnecting in ${delay} ms`);
    // An immediate reconnect needs no timer; only a real wait takes one.
    if (delay <= 0) {
      const immediate = setImmediate(() => void this.#open());
      this.#cancelReconnect = () => clearImmediate(immediate);
    } else {
      const timer = setTimeout(() => void this.#open(), delay);
      this.#cancelReconnect = () => clearTimeout(timer);
    }
  }

  /** Drops the resume state: the next connection identifies. */
  #forget(): void {
    this.id = undefined;
    this.seq = null;
    this.resumeURL = undefined;
    this.#bot?.sessionForgotten(this);
    if (this.#store && !this.#storeDeferred) this.#store.delete(this.shard[0]).catch((err: unknown) => this.#bot?.reportError(asError(err), this));
  }

  /**
   * A reshard's session takes over its shard id's store key at the swap; until then the key
   * holds the running set's session, which a crash would resume.
   *
   * @internal
   */
  adoptStoreKey(): void {
    this.#storeDeferred = false;
    this.#save();
  }

  #save(): void {
    const store = this.#store;
    if (!store || this.#storeDeferred || this.id === undefined || this.seq === null || this.resumeURL === undefined) return;
    store.set(this.shard[0], { session_id: this.id, seq: this.seq, resume_gateway_url: this.resumeURL, shard: this.shard })
      .catch((err: unknown) => this.#bot?.reportError(asError(err), this));
  }

  #end(error: Error, closeCode?: number): void {
    if (this.status === 'closed') return;
    this.status = 'closed';
    this.#turnAbort?.abort(new SessionClosedError(this.shard[0]));
    this.#cancelReconnect?.();
    this.#cancelReconnect = undefined;
    const conn = this.#conn;
    this.#teardownConnection();
    if (conn && closeCode !== undefined) conn.close(closeCode, 'disconnect');
    const closed = error instanceof SessionClosedError ? error : new SessionClosedError(this.shard[0], error.message);
    for (const w of this.#readyWaiters.splice(0)) w.reject(closed);
    const waiter = this.#connectWaiter;
    this.#connectWaiter = undefined;
    if (waiter) waiter.reject(error);
    else if (!(error instanceof SessionClosedError)) this.#bot?.reportError(error, this);
    this.#bot?.sessionEnded(this, error);
    if (this.#store && closeCode === undefined) this.#store.flush().catch(() => {});
  }

  #untilReady(signal: AbortSignal | undefined): Promise<void> {
    if (this.status === 'ready') return Promise.resolve();
    if (this.status === 'closed') return Promise.reject(new SessionClosedError(this.shard[0]));
    return new Promise<void>((resolve, reject) => {
      const waiter = { resolve: () => { signal?.removeEventListener('abort', onAbort); resolve(); }, reject };
      const onAbort = (): void => {
        this.#readyWaiters = this.#readyWaiters.filter((w) => w !== waiter);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#readyWaiters.push(waiter);
    });
  }

  async #sendInOrder(text: string, signal: AbortSignal | undefined, onWrite: (() => void) | undefined): Promise<void> {
    for (;;) {
      if (this.status !== 'ready') await this.#untilReady(signal);
      signal?.throwIfAborted();
      const conn = this.#conn;
      const bucket = this.#bucket;
      const connAbort = this.#connAbort;
      if (!conn || !bucket || !connAbort) throw new DisgateError(`Shard ${this.shard[0]}: ready without a connection`);
      // A wait on this connection's bucket ends with the connection: the next one has a fresh bucket.
      const waitSignal = signal ? AbortSignal.any([signal, connAbort.signal]) : connAbort.signal;
      try {
        await this.rateLimiter.acquire(bucket, { signal: waitSignal });
        // Heartbeats the server asked for are not in the bucket; the send log knows them all.
        for (let wait = this.#budgetWait(); wait > 0; wait = this.#budgetWait()) await sleep(wait, waitSignal);
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        if (this.#closed) throw new SessionClosedError(this.shard[0]);
        if (connAbort.signal.aborted) continue;
        throw err;
      }
      // Aborted while the unit was granted: the caller was told no, so nothing may go out.
      if (signal?.aborted) throw signal.reason;
      if (this.status === 'ready' && this.#conn === conn && conn.open) return this.#write(conn, text, onWrite);
      if (this.#closed) throw new SessionClosedError(this.shard[0]);
    }
  }

  async #sendHandshake(text: string, signal: AbortSignal | undefined, onWrite: (() => void) | undefined): Promise<void> {
    const conn = this.#conn;
    const bucket = this.#bucket;
    if (!conn || !bucket) throw new DisgateError(`Shard ${this.shard[0]}: no connection awaiting a handshake`);
    await this.rateLimiter.acquire(bucket, { signal });
    if (this.#conn !== conn || !conn.open) throw new DisgateError(`Shard ${this.shard[0]}: connection closed before the handshake`);
    return this.#write(conn, text, onWrite);
  }

  #writeHeartbeat(text: string, onWrite: (() => void) | undefined): void {
    const conn = this.#conn;
    if (!conn?.open) return;
    void this.#write(conn, text, onWrite).catch(() => {});
  }

  /**
   * Hands a frame to the socket. `onWrite` runs first: the gateway's answer can be read before
   * the write's promise settles, and whoever waits for that answer must expect it by then.
   */
  #write(conn: GatewayConnection, text: string, onWrite?: () => void): Promise<void> {
    this.#sendLog.record(Date.now());
    onWrite?.();
    return conn.send(text);
  }
}

function validateShard(shard: unknown): asserts shard is [number, number] {
  const ok = Array.isArray(shard) && shard.length === 2 && Number.isInteger(shard[0]) && Number.isInteger(shard[1])
    && shard[0] >= 0 && shard[1] >= 1 && shard[0] < shard[1];
  if (!ok) throw new InvalidOptionError('shard', '[shard_id, num_shards] with integers 0 <= shard_id < num_shards');
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
