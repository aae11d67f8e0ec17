/**
 * The simulator's gateway state and wire handling: connections, sessions, the frame log, how
 * frames come in (limits, decoding, routing to an op handler) and go out (dispatch sequencing,
 * replay buffering, intent filtering). Op-specific behaviour lives in `handlers.ts`.
 */
import type { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { RawData, WebSocket } from 'ws';
import { GatewayCloseCodes, GatewayOpcodes, type APIUser } from 'discord-api-types/v10';
import { closeCodePolicy } from '../../../types/close-codes.js';
import { DISPATCH_INTENTS } from '../../../types/dispatch.js';
import { MAX_SEND_FRAME_BYTES } from '../../../types/opcodes.js';
import { SimulatorConnection } from './connection.js';
import { createEncoder, isSimulatorCompression } from './encoders.js';
import type { SimulatorEvents, SimulatorFrame, SimulatorTarget } from './events.js';
import { buildGuilds, shardForGuild, type SimulatedGuild } from './guilds.js';
import { HANDLERS } from './handlers.js';
import { Cooldowns, SessionStartBudget } from './limits.js';
import { ContentViews } from './message-content.js';
import { DAY_MS, type ResolvedSimulatorOptions } from './options.js';
import { SimulatedSession } from './session.js';
import { VALIDATORS, isObject } from './validate.js';

/** Identify concurrency window (protocol §4.2). */
const IDENTIFY_WINDOW_MS = 5000;
/** Whole-member-list requests per guild (protocol §4.3). */
const MEMBER_LIST_WINDOW_MS = 30_000;
/** WebSocket close reasons are limited to 123 bytes. */
const MAX_REASON_BYTES = 123;

const INTENTS_BY_EVENT: Readonly<Record<string, number | undefined>> = DISPATCH_INTENTS;

function truncateReason(reason: string): string {
  if (Buffer.byteLength(reason) <= MAX_REASON_BYTES) return reason;
  return Buffer.from(reason).subarray(0, MAX_REASON_BYTES - 3).toString('utf8').replace(/\uFFFD$/, '') + '...';
}

function rawBytes(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** Gateway state shared by the simulator facade and the op handlers. */
export class SimulatorCore {
  readonly guilds: readonly SimulatedGuild[];
  readonly connections = new Map<number, SimulatorConnection>();
  readonly sessions = new Map<string, SimulatedSession>();
  readonly frames: SimulatorFrame[] = [];
  readonly identifyGate = new Cooldowns(IDENTIFY_WINDOW_MS);
  readonly memberListGate = new Cooldowns(MEMBER_LIST_WINDOW_MS);
  readonly startBudget: SessionStartBudget;
  /** Shards (`shardKey(id, count)`) that have identified successfully at least once. */
  readonly startedShards = new Set<string>();
  /** Set when the session-start budget ran out: every token is refused from then on. */
  tokensRevoked = false;
  /** Connections still to receive op 7 instead of Hello. */
  reconnectBeforeHello = 0;
  /** ACK pauses: everything, by shard, by connection. */
  readonly ackPause = { all: false, shards: new Set<number>(), connections: new Set<number>() };
  /** Base WebSocket URL, set once the server listens. */
  url = '';
  private nextConnectionId = 1;

  constructor(
    readonly options: ResolvedSimulatorOptions,
    readonly events: EventEmitter<SimulatorEvents>,
  ) {
    this.guilds = buildGuilds(options.guilds, options.user);
    const limit = options.sessionStartLimit;
    this.startBudget = new SessionStartBudget(limit.total, limit.remaining, limit.resetAfter, DAY_MS, Date.now());
  }

  get user(): APIUser {
    return this.options.user;
  }

  /** The URL READY hands out for resuming; its path tells tests the client used it. */
  get resumeURL(): string {
    return `${this.url}/resume`;
  }

  /** Whether `token` is one of the application's (unrevoked) tokens. */
  validToken(token: string): boolean {
    return !this.tokensRevoked && this.options.tokens.has(token);
  }

  /** Guilds whose events go to shard `[id, count]`. */
  guildsForShard(shard: readonly [number, number]): SimulatedGuild[] {
    return this.guilds.filter((g) => shardForGuild(g.id, shard[1]) === shard[0]);
  }

  // ---- frame log -------------------------------------------------------------------------------

  /** Whether frames must be built at all: logging is on or someone listens. */
  get observing(): boolean {
    return this.options.recordFrames || this.events.listenerCount('frame') > 0;
  }

  /** Logs and announces a frame; callers check {@link observing} first to skip building it. */
  record(frame: SimulatorFrame): void {
    if (this.options.recordFrames) this.frames.push(frame);
    this.events.emit('frame', frame);
  }

  // ---- connections -----------------------------------------------------------------------------

  /** Takes a new WebSocket: checks the query (protocol §1.2), then sends Hello (or op 7). */
  accept(ws: WebSocket, req: IncomingMessage): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const compress = url.searchParams.get('compress') ?? 'none';
    const conn = new SimulatorConnection(
      ws,
      this.nextConnectionId++,
      url.pathname,
      isSimulatorCompression(compress) ? compress : 'none',
      createEncoder(isSimulatorCompression(compress) ? compress : 'none'),
      Date.now(),
    );
    this.connections.set(conn.id, conn);
    ws.on('message', (data) => this.receive(conn, data));
    ws.on('close', (code, reason) => this.onClosed(conn, code, reason.toString()));
    // A socket error is followed by 'close'; handling it here keeps it from being thrown.
    ws.on('error', () => {});
    this.events.emit('connection', { connection: conn.id, path: conn.path, compress: conn.compress });

    const encoding = url.searchParams.get('encoding') ?? 'json';
    if (url.searchParams.get('v') !== '10') {
      this.close(conn, GatewayCloseCodes.InvalidAPIVersion, 'Invalid API version: only v=10 is served');
    } else if (encoding !== 'json') {
      this.close(conn, GatewayCloseCodes.DecodeError, `encoding=${encoding} is not supported by the simulator (json only)`);
    } else if (!isSimulatorCompression(compress)) {
      this.close(conn, GatewayCloseCodes.DecodeError, `Unknown compress=${compress}`);
    } else if (this.reconnectBeforeHello > 0) {
      this.reconnectBeforeHello--;
      this.requestReconnect(conn);
    } else {
      this.sendOp(conn, GatewayOpcodes.Hello, { heartbeat_interval: this.options.heartbeatInterval });
      this.armHeartbeat(conn);
    }
  }

  /** (Re)starts the missed-heartbeat deadline when heartbeats are enforced. */
  armHeartbeat(conn: SimulatorConnection): void {
    if (!this.options.enforceHeartbeat) return;
    conn.armHeartbeat(this.options.heartbeatInterval * 1.5, () =>
      this.close(conn, GatewayCloseCodes.SessionTimedOut, 'Session timed out: no heartbeat received in time'),
    );
  }

  private receive(conn: SimulatorConnection, data: RawData): void {
    if (conn.closing) return;
    const now = Date.now();
    const bytes = rawBytes(data);
    if (!conn.inbound.hit(now)) {
      this.recordRaw(conn, bytes, now);
      this.close(conn, GatewayCloseCodes.RateLimited, 'You are being rate limited: over 120 frames in 60 s');
      return;
    }
    if (bytes.length > MAX_SEND_FRAME_BYTES) {
      this.recordRaw(conn, bytes, now);
      this.close(conn, GatewayCloseCodes.DecodeError, `Payload of ${bytes.length} bytes exceeds ${MAX_SEND_FRAME_BYTES}`);
      return;
    }
    let payload: unknown;
    try {
      payload = JSON.parse(bytes.toString('utf8'));
    } catch {
      this.recordRaw(conn, bytes, now);
      this.close(conn, GatewayCloseCodes.DecodeError, 'Error while decoding payload: invalid JSON');
      return;
    }
    if (!isObject(payload)) {
      this.recordRaw(conn, bytes, now);
      this.close(conn, GatewayCloseCodes.DecodeError, 'Error while decoding payload: not a JSON object');
      return;
    }
    const op = payload['op'];
    const d = payload['d'];
    if (this.observing) {
      const opNumber = typeof op === 'number' ? op : null;
      this.record({ direction: 'in', connection: conn.id, shard: conn.shard, op: opNumber, d, at: now, size: bytes.length });
    }
    const handler = typeof op === 'number' ? HANDLERS[op] : undefined;
    // Without a session only heartbeat, identify and resume are allowed, unknown opcodes included.
    if (!conn.session && (!handler || handler.needsSession)) {
      this.close(conn, GatewayCloseCodes.NotAuthenticated, `Not authenticated: op ${JSON.stringify(op) ?? 'undefined'} before identify`);
      return;
    }
    if (typeof op !== 'number' || !handler) {
      this.close(conn, GatewayCloseCodes.UnknownOpcode, `Unknown opcode ${JSON.stringify(op) ?? 'undefined'}`);
      return;
    }
    const problem = VALIDATORS[op]?.(d) ?? null;
    if (problem) {
      this.close(conn, GatewayCloseCodes.UnknownOpcode, `Invalid payload for op ${op}: ${problem}`);
      return;
    }
    handler.handle(this, conn, d);
  }

  private recordRaw(conn: SimulatorConnection, bytes: Buffer, at: number): void {
    if (this.observing) {
      this.record({ direction: 'in', connection: conn.id, shard: conn.shard, op: null, d: bytes.toString('utf8'), at, size: bytes.length });
    }
  }

  private onClosed(conn: SimulatorConnection, code: number, reason: string): void {
    this.connections.delete(conn.id);
    const byServer = conn.serverCode !== null;
    const session = conn.session;
    // Only a client's 1000/1001 ends its session (protocol §1.11); server closes detached it already.
    if (session) this.detach(conn, code === 1000 || code === 1001);
    conn.dispose();
    const sessionId = conn.lastSessionId;
    this.events.emit('close', {
      connection: conn.id,
      code: conn.serverCode ?? code,
      reason: byServer ? conn.serverReason : reason,
      initiator: byServer ? 'server' : 'client',
      sessionId,
      resumable: sessionId !== null && this.liveSession(sessionId) !== undefined,
    });
  }

  /**
   * Closes a connection with a close frame. Its session leaves the connection at once (later
   * dispatches are buffered for a resume) and is invalidated when the code demands a new session.
   */
  close(conn: SimulatorConnection, code: number, reason: string): void {
    if (conn.closing) return;
    if (conn.session) this.detach(conn, closeCodePolicy(code).newSession);
    conn.close(code, truncateReason(reason));
  }

  /** Destroys a connection's socket without a close frame; its session stays resumable. */
  drop(conn: SimulatorConnection): void {
    if (conn.closing) return;
    if (conn.session) this.detach(conn, false);
    conn.drop();
  }

  /** Sends op 7 and closes with 4000 if the client has not gone within `reconnectCloseDelay`. */
  requestReconnect(conn: SimulatorConnection): void {
    this.sendOp(conn, GatewayOpcodes.Reconnect, null);
    const delay = this.options.reconnectCloseDelay;
    if (delay > 0) conn.armReconnect(delay, () => this.close(conn, GatewayCloseCodes.UnknownError, 'Reconnect requested'));
  }

  /** Whether ACKs to this connection are paused. */
  acksPaused(conn: SimulatorConnection): boolean {
    const p = this.ackPause;
    return p.all || p.connections.has(conn.id) || (conn.shard !== null && p.shards.has(conn.shard));
  }

  // ---- sessions --------------------------------------------------------------------------------

  /** The session if it exists and can still be used; expired ones are forgotten. */
  liveSession(id: string): SimulatedSession | undefined {
    const session = this.sessions.get(id);
    if (session?.expired(Date.now())) {
      this.sessions.delete(id);
      return undefined;
    }
    return session;
  }

  /** Every session that is attached or still resumable. */
  liveSessions(): SimulatedSession[] {
    const now = Date.now();
    const out: SimulatedSession[] = [];
    for (const [id, s] of this.sessions) {
      if (s.expired(now)) this.sessions.delete(id);
      else out.push(s);
    }
    return out;
  }

  /** Binds a session to a connection. */
  attach(session: SimulatedSession, conn: SimulatorConnection): void {
    session.attached = conn;
    conn.session = session;
    conn.lastSessionId = session.id;
  }

  /** Unbinds a connection's session; `invalidate` ends the session, otherwise it waits for a resume. */
  detach(conn: SimulatorConnection, invalidate: boolean): void {
    const session = conn.session;
    if (!session) return;
    conn.session = null;
    if (session.attached === conn) session.attached = null;
    if (invalidate) this.sessions.delete(session.id);
    else session.resumableUntil = Date.now() + this.options.resumeTimeout;
  }

  // ---- sending ---------------------------------------------------------------------------------

  /** Sends a non-dispatch frame. */
  sendOp(conn: SimulatorConnection, op: number, d: unknown): void {
    const json = JSON.stringify({ op, d: d ?? null, s: null, t: null });
    if (this.observing) {
      this.record({ direction: 'out', connection: conn.id, shard: conn.shard, op, d: d ?? null, at: Date.now(), size: Buffer.byteLength(json) });
    }
    conn.send(json);
  }

  /** Whether a session's intents let it receive dispatch `t` (protocol §6). */
  deliverable(session: SimulatedSession, t: string): boolean {
    const needs = INTENTS_BY_EVENT[t];
    return needs === undefined || (session.intents & needs) !== 0;
  }

  /**
   * The forms of dispatch `t` that sessions with and without MESSAGE_CONTENT receive; build it once
   * per dispatch and pass it to {@link sendDispatch} for every receiving session.
   */
  views(t: string, d: unknown): ContentViews {
    return new ContentViews(t, d, this.user.id);
  }

  /**
   * Sequences a dispatch for one session: the next `s`, into the replay buffer, and out on the
   * attached connection if there is one. The payload is the form the session's intents allow
   * (MESSAGE_CONTENT, protocol §6); `views` serializes each form once, so a dispatch to many
   * sessions costs one `JSON.stringify` per form.
   */
  sendDispatch(session: SimulatedSession, views: ContentViews, observe = this.observing): void {
    const { d, dJson } = views.for(session.intents);
    const s = ++session.seq;
    const json = `{"op":0,"t":${views.tJson},"s":${s},"d":${dJson}}`;
    const t = views.t;
    // The replay buffer keeps the session's own form, so a resume replays exactly what was withheld.
    session.remember({ s, t, d, json });
    const conn = session.attached;
    if (!conn) return;
    conn.send(json);
    if (observe) {
      this.record({ direction: 'out', connection: conn.id, shard: session.shard[0], op: 0, t, s, d, at: Date.now(), size: Buffer.byteLength(json) });
    }
  }

  /** Sends a dispatch to one session if its intents allow it. */
  dispatch(session: SimulatedSession, t: string, d: unknown): void {
    if (this.deliverable(session, t)) this.sendDispatch(session, this.views(t, d));
  }

  /** Re-sends buffered frames to the connection a session resumed on. */
  replay(conn: SimulatorConnection, entries: readonly { s: number; t: string; d: unknown; json: string }[]): void {
    const observing = this.observing;
    for (const e of entries) {
      conn.send(e.json);
      if (observing) {
        this.record({ direction: 'out', connection: conn.id, shard: conn.shard, op: 0, t: e.t, s: e.s, d: e.d, at: Date.now(), size: Buffer.byteLength(e.json) });
      }
    }
  }

  // ---- targets ---------------------------------------------------------------------------------

  /** Open connections a fault-injection call applies to. */
  connectionsFor(target?: SimulatorTarget): SimulatorConnection[] {
    const out: SimulatorConnection[] = [];
    const t = typeof target === 'number' ? { shard: target } : target;
    for (const conn of this.connections.values()) {
      if (conn.closing) continue;
      if (t?.shard !== undefined && conn.shard !== t.shard) continue;
      if (t?.connection !== undefined && conn.id !== t.connection) continue;
      if (t?.session !== undefined && conn.session?.id !== t.session) continue;
      out.push(conn);
    }
    return out;
  }

  /**
   * Sessions a simulated dispatch goes to. Without a target it is routed as Discord does: by
   * `d.guild_id` to the shard holding the guild, otherwise to shard 0 (protocol §7).
   */
  sessionsFor(d: unknown, target?: SimulatorTarget): SimulatedSession[] {
    const live = this.liveSessions();
    if (target === undefined) {
      const guildId = isObject(d) && typeof d['guild_id'] === 'string' ? d['guild_id'] : null;
      if (guildId === null || !/^\d+$/.test(guildId)) return live.filter((s) => s.shard[0] === 0);
      const timestamp = BigInt(guildId) >> 22n;
      return live.filter((s) => Number(timestamp % BigInt(s.shard[1])) === s.shard[0]);
    }
    const t = typeof target === 'number' ? { shard: target } : target;
    return live.filter(
      (s) =>
        (t.shard === undefined || s.shard[0] === t.shard) &&
        (t.connection === undefined || s.attached?.id === t.connection) &&
        (t.session === undefined || s.id === t.session),
    );
  }

  /**
   * Ends every connection at once and forgets every timer (simulator shutdown). Resolves once
   * every socket has closed, so that no socket's own cleanup runs later, e.g. under the fake
   * timers of the next test.
   */
  shutdown(): Promise<void> {
    const closing = [...this.connections.values()].map((conn) => conn.closed);
    for (const conn of this.connections.values()) conn.terminate();
    return Promise.all(closing).then(() => undefined);
  }
}
