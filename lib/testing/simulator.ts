/**
 * `GatewaySimulator`: a strict local fake of Discord's Gateway v10 and of the REST routes a
 * gateway client needs, on one loopback port, for offline tests, demos and benchmarks.
 */
import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import { WebSocketServer } from 'ws';
import { GatewayOpcodes, type APIGatewayBotInfo } from 'discord-api-types/v10';
import { closeCodePolicy } from '../../types/close-codes.js';
import type { DispatchName, DispatchPayloads } from '../../types/dispatch.js';
import { SimulatorCore } from './simulator/core.js';
import type {
  SimulatorConnectionInfo,
  SimulatorEvents,
  SimulatorFrame,
  SimulatorSessionInfo,
  SimulatorTarget,
} from './simulator/events.js';
import { SimulatorFixtures } from './simulator/fixtures.js';
import type { SimulatedGuild } from './simulator/guilds.js';
import { API_PREFIX, handleHttp } from './simulator/http.js';
import type { SessionStartLimitSnapshot } from './simulator/limits.js';
import { resolveOptions, type GatewaySimulatorOptions } from './simulator/options.js';

/**
 * Options of {@link GatewaySimulator.waitFor} and {@link GatewaySimulator.waitForFrame}.
 *
 * @category Testing
 */
export interface WaitOptions {
  /** Milliseconds before the promise rejects (global `setTimeout`, so fake timers apply). Default 5000. */
  timeout?: number;
  /** Rejects the wait when aborted. */
  signal?: AbortSignal;
}

/** Frames `blast` sends before yielding to let sockets drain. */
const BLAST_BATCH = 1024;
/** Backlog (bytes or queued frames) per connection above which `blast` waits. */
const BLAST_HIGH_WATER = 4 * 1024 * 1024;
const MAX_WS_PAYLOAD = 1024 * 1024;

/**
 * A local fake Discord gateway: `GET /api/v10/gateway[/bot]` and a WebSocket speaking Gateway v10
 * strictly (close codes, limits, resume replay, member chunks, zlib-stream / zstd-stream), with
 * fault injection and a frame log for assertions. Events: see {@link SimulatorEvents}.
 *
 * Where Discord's documentation leaves a choice open, the simulator is strict and predictable:
 * - Query: `v` other than `10` closes with 4012; `encoding` other than `json`, or an unknown
 *   `compress`, closes with 4002. Client frames may be text or binary (both read as UTF-8 JSON).
 * - Before identify/resume only ops 1, 2 and 6 are allowed; anything else (unknown ops too) closes
 *   with 4003, as does any request after `invalidateSession(false)`.
 * - Identify is checked in this order: payload shape (4001), token (4004), shard (4010), intents
 *   (4013, then 4014), guilds on the shard (4011), the order of `max_concurrency` groups (op 9
 *   `false` for shard `s` before shard `s - maxConcurrency` of the same count has ever identified;
 *   with option `identifyOrder`, off by default), the `max_concurrency` bucket (op 9 `false`), then the daily
 *   budget. An op 9 creates no session and spends nothing: the connection may identify again.
 * - A heartbeat `d` past the last sent seq closes with 4007. No heartbeat for 1.5 intervals closes
 *   with 4009 and ends the session. Identify `compress: true` is accepted; payloads are never
 *   compressed.
 * - Request Guild Members: `presences: true` without GUILD_PRESENCES is treated as false; `query: ""`
 *   without GUILD_MEMBERS closes with 4001; prefix queries and `user_ids` return at most 100
 *   members; guilds not on the session's shard get no answer (also for ops 4, 31 and 43).
 * - Op 4 answers only for a voice channel of the guild; VOICE_STATE_UPDATE needs GUILD_VOICE_STATES.
 * - Sessions identified without MESSAGE_CONTENT get MESSAGE_CREATE and MESSAGE_UPDATE with
 *   `content: ""`, `embeds`, `attachments` and `components` empty and no `poll`, unless the message
 *   is a DM (no `guild_id`), was written by the bot (`author.id`) or mentions it (`mentions`);
 *   AUTO_MODERATION_ACTION_EXECUTION gets `content` and `matched_content` as `""`. Each session gets
 *   its own form (a copy; the caller's object is never changed), also when a resume replays it.
 *   Nested messages (`referenced_message`, `message_snapshots`) are sent as given.
 * - A resume of a session still attached elsewhere closes the old connection with 4000; a resume
 *   from further back than `replayBufferSize` dispatches gets op 9 `false`.
 *
 * @example
 * ```ts
 * import { GatewaySimulator } from 'disgate/testing';
 *
 * const sim = await GatewaySimulator.create({ shards: 2, guilds: [{ members: 2500 }, {}] });
 * const bot = new Client({ token: 'test-token', intents: 513, apiURL: sim.apiURL });
 * await bot.connect();
 * sim.dispatch('MESSAGE_CREATE', message);   // routed by guild_id like Discord
 * sim.dropSocket(0);                          // shard 0 loses its TCP connection; it must resume
 * await sim.waitFor('resume');
 * await sim.close();
 * ```
 *
 * @category Testing
 */
export class GatewaySimulator extends EventEmitter<SimulatorEvents> {
  /** Payload factories matching this simulator's guilds (e.g. `fixtures.message({ content })`). */
  readonly fixtures: SimulatorFixtures;
  private readonly core: SimulatorCore;
  private server: Server | null = null;
  private wss: WebSocketServer | null = null;
  private listeningPort: number | null = null;
  private readonly cancelWaits = new Set<(error: Error) => void>();

  /**
   * @param options - see {@link GatewaySimulatorOptions}; every field is optional
   * @throws InvalidOptionError when an option is out of range
   */
  constructor(options: GatewaySimulatorOptions = {}) {
    super();
    this.core = new SimulatorCore(resolveOptions(options), this);
    this.fixtures = new SimulatorFixtures(this.core.guilds, this.core.user);
  }

  /**
   * Creates and starts a simulator.
   *
   * @param options - see {@link GatewaySimulatorOptions}; every field is optional
   *
   * @throws InvalidOptionError when an option is out of range; the listen error when the port is taken
   */
  static async create(options: GatewaySimulatorOptions = {}): Promise<GatewaySimulator> {
    const sim = new GatewaySimulator(options);
    await sim.start();
    return sim;
  }

  /**
   * Listens on 127.0.0.1 (`port` option, 0 = a free port).
   *
   * @throws Error when already started, or the listen error
   */
  async start(): Promise<void> {
    if (this.server) throw new Error('GatewaySimulator already started');
    const ctx = {
      get gatewayURL(): string {
        return core.url;
      },
      validToken: (token: string) => this.core.validToken(token),
      gatewayBot: (): APIGatewayBotInfo => this.gatewayBot(),
    };
    const core = this.core;
    const server = createServer((req, res) => handleHttp(ctx, req, res));
    const wss = new WebSocketServer({ server, maxPayload: MAX_WS_PAYLOAD, perMessageDeflate: false });
    wss.on('connection', (ws, req) => this.core.accept(ws, req));
    this.server = server;
    this.wss = wss;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.core.options.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    this.listeningPort = typeof address === 'object' && address !== null ? address.port : this.core.options.port;
    this.core.url = `ws://127.0.0.1:${this.listeningPort}`;
  }

  /** Terminates every socket, stops listening, rejects pending waits. Safe to call twice. */
  async close(): Promise<void> {
    for (const cancel of [...this.cancelWaits]) cancel(new Error('GatewaySimulator closed'));
    const sockets = this.core.shutdown();
    const server = this.server;
    this.wss?.close();
    this.wss = null;
    this.server = null;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await sockets;
  }

  /** Same as {@link close}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---- addresses -------------------------------------------------------------------------------

  private requireStarted(): number {
    if (this.listeningPort === null) throw new Error('GatewaySimulator is not started: call start() first');
    return this.listeningPort;
  }

  /** The port listened on. @throws Error before `start()` */
  get port(): number {
    return this.requireStarted();
  }

  /** Gateway URL, `ws://127.0.0.1:<port>` (also what `/gateway` returns). @throws Error before `start()` */
  get url(): string {
    this.requireStarted();
    return this.core.url;
  }

  /** REST base, `http://127.0.0.1:<port>/api/v10`. @throws Error before `start()` */
  get apiURL(): string {
    return `http://127.0.0.1:${this.requireStarted()}${API_PREFIX}`;
  }

  /** `resume_gateway_url` sent in READY: `ws://127.0.0.1:<port>/resume`. @throws Error before `start()` */
  get resumeURL(): string {
    this.requireStarted();
    return this.core.resumeURL;
  }

  // ---- observation -----------------------------------------------------------------------------

  /** The guild fixtures, resolved (voice channel `status` / `voiceStartTime` may be changed). */
  get guilds(): readonly SimulatedGuild[] {
    return this.core.guilds;
  }

  /** Every frame since start or the last {@link clearFrames} (empty with `recordFrames: false`). */
  get frames(): readonly SimulatorFrame[] {
    return this.core.frames;
  }

  /** Empties the frame log. */
  clearFrames(): void {
    this.core.frames.length = 0;
  }

  /** Number of open connections. */
  get connections(): number {
    let open = 0;
    for (const conn of this.core.connections.values()) if (!conn.closing) open++;
    return open;
  }

  /** Snapshots of the open connections. */
  listConnections(): SimulatorConnectionInfo[] {
    return [...this.core.connections.values()]
      .filter((c) => !c.closing)
      .map((c) => ({
        id: c.id,
        path: c.path,
        compress: c.compress,
        shard: c.shard,
        sessionId: c.session?.id ?? null,
        resumed: c.resumed,
        openedAt: c.openedAt,
      }));
  }

  /** Snapshots of every session that is connected or still resumable. */
  get sessions(): SimulatorSessionInfo[] {
    return this.core.liveSessions().map((s) => ({
      id: s.id,
      shard: s.shard,
      intents: s.intents,
      seq: s.seq,
      connection: s.attached?.id ?? null,
      resumableUntil: s.attached ? null : s.resumableUntil,
      presence: s.presence,
      voiceStates: Object.fromEntries(s.voiceStates),
      guilds: this.core.guildsForShard(s.shard).map((g) => g.id),
    }));
  }

  /** The daily identify budget as `/gateway/bot` reports it now. */
  get sessionStartLimit(): SessionStartLimitSnapshot {
    return this.core.startBudget.snapshot(Date.now(), this.core.options.maxConcurrency);
  }

  /** True once the budget ran out and the tokens were "reset" (every token is refused from then on). */
  get tokenRevoked(): boolean {
    return this.core.tokensRevoked;
  }

  private gatewayBot(): APIGatewayBotInfo {
    return { url: this.core.url, shards: this.core.options.shards, session_start_limit: this.sessionStartLimit };
  }

  // ---- dispatches ------------------------------------------------------------------------------

  /**
   * Pushes a dispatch with the next sequence number of each receiving session; detached sessions
   * buffer it for replay. Without `target` it is routed like Discord: by `d.guild_id` to the shard
   * holding the guild, else to shard 0. Sessions whose intents do not cover `t` skip it; sessions
   * without MESSAGE_CONTENT get message content withheld (see the class notes), `d` itself is not
   * changed.
   *
   * @param t - the dispatch name
   * @param d - its payload
   * @param target - the receiving connections; default: routed like Discord
   *
   * @returns the number of sessions that received or buffered it
   */
  dispatch<T extends DispatchName>(t: T, d: DispatchPayloads[T], target?: SimulatorTarget): number;
  /**
   * Pushes a dispatch of any name (e.g. one newer than `discord-api-types`).
   *
   * @param t - the dispatch name
   * @param d - its payload
   * @param target - the receiving connections; default: routed like Discord
   */
  dispatch(t: string, d: unknown, target?: SimulatorTarget): number;
  dispatch(t: string, d: unknown, target?: SimulatorTarget): number {
    const sessions = this.core.sessionsFor(d, target).filter((s) => this.core.deliverable(s, t));
    if (sessions.length === 0) return 0;
    const views = this.core.views(t, d);
    for (const session of sessions) this.core.sendDispatch(session, views);
    return sessions.length;
  }

  /**
   * Sends the same dispatch `count` times per receiving session (routing as {@link dispatch}),
   * serializing it once (twice when some sessions lack MESSAGE_CONTENT), logging no frames, and pausing between batches while sockets are
   * backed up, so benchmarks can push millions of events in bounded memory.
   *
   * @param t - the dispatch name
   * @param d - its payload, serialized once
   * @param count - dispatches per receiving session
   * @param target - the receiving connections; default: routed like Discord
   *
   * @returns the number of frames sent or buffered
   */
  async blast(t: string, d: unknown, count: number, target?: SimulatorTarget): Promise<number> {
    const sessions = this.core.sessionsFor(d, target).filter((s) => this.core.deliverable(s, t));
    const views = this.core.views(t, d);
    let sent = 0;
    for (let done = 0; done < count; ) {
      const batch = Math.min(BLAST_BATCH, count - done);
      for (const session of sessions) {
        for (let i = 0; i < batch; i++) this.core.sendDispatch(session, views, false);
        sent += batch;
      }
      done += batch;
      while (this.backedUp(sessions.map((s) => s.attached?.id))) {
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    return sent;
  }

  private backedUp(ids: readonly (number | undefined)[]): boolean {
    return ids.some((id) => {
      const conn = id === undefined ? undefined : this.core.connections.get(id);
      return conn !== undefined && !conn.closing && conn.backlog > BLAST_HIGH_WATER;
    });
  }

  // ---- fault injection -------------------------------------------------------------------------

  /**
   * Stops (or resumes) answering heartbeats with op 11, so clients see a zombie connection.
   * Without `target` it applies to every connection, new ones included; `pauseAcks(false)`
   * without target lifts every pause.
   *
   * @param paused - `true` stops answering heartbeats, `false` answers again
   * @param target - the connections; default every one, new ones included
   */
  pauseAcks(paused: boolean, target?: SimulatorTarget): void {
    const p = this.core.ackPause;
    if (target === undefined) {
      p.all = paused;
      if (!paused) {
        p.shards.clear();
        p.connections.clear();
      }
      return;
    }
    const t = typeof target === 'number' ? { shard: target } : target;
    const toggle = <V>(set: Set<V>, value: V): void => void (paused ? set.add(value) : set.delete(value));
    if (t.shard !== undefined) toggle(p.shards, t.shard);
    if (t.connection !== undefined) toggle(p.connections, t.connection);
    if (t.session !== undefined) for (const c of this.core.connectionsFor({ session: t.session })) toggle(p.connections, c.id);
  }

  /**
   * Sends op 7 Reconnect; the simulator closes with 4000 after `reconnectCloseDelay` if the client
   * has not closed first. The session stays resumable.
   *
   * @param target - the connections; default every open one
   *
   * @returns the number of connections told
   */
  reconnect(target?: SimulatorTarget): number {
    const conns = this.core.connectionsFor(target);
    for (const conn of conns) this.core.requestReconnect(conn);
    return conns.length;
  }

  /**
   * The next `count` connections get op 7 before (instead of) Hello (protocol §1.4).
   *
   * @param count - how many of the next connections (default 1)
   */
  reconnectBeforeHello(count = 1): void {
    this.core.reconnectBeforeHello += count;
  }

  /**
   * Sends op 9 Invalid Session. With `resumable: false` the session is gone at once (a resume gets
   * op 9 again); with `true` it stays resumable. The socket stays open: the client must close it.
   *
   * @param resumable - the `d` of op 9
   * @param target - the connections; default every open one
   *
   * @returns the number of connections told
   */
  invalidateSession(resumable: boolean, target?: SimulatorTarget): number {
    const conns = this.core.connectionsFor(target);
    for (const conn of conns) {
      this.core.sendOp(conn, GatewayOpcodes.InvalidSession, resumable);
      if (!resumable) this.core.detach(conn, true);
    }
    return conns.length;
  }

  /**
   * Closes with `code`. The session survives (resumable for `resumeTimeout`) unless the code
   * means "new session" in disgate's close-code table (4003, 4004, 4007, 4009-4014).
   *
   * @param code - the close code
   * @param target - the connections; default every open one
   * @param reason - the close reason; default the code's description
   *
   * @returns the number of connections closed
   */
  closeWith(code: number, target?: SimulatorTarget, reason: string = closeCodePolicy(code).description): number {
    const conns = this.core.connectionsFor(target);
    for (const conn of conns) this.core.close(conn, code, reason);
    return conns.length;
  }

  /**
   * Destroys the TCP socket without a close frame (the client sees 1006); the session stays
   * resumable. Frames queued before may or may not arrive, as in a real drop.
   *
   * @param target - the connections; default every open one
   *
   * @returns the number of sockets dropped
   */
  dropSocket(target?: SimulatorTarget): number {
    const conns = this.core.connectionsFor(target);
    for (const conn of conns) this.core.drop(conn);
    return conns.length;
  }

  /**
   * Sends a server op 1: the client must heartbeat at once.
   *
   * @param target - the connections; default every open one
   *
   * @returns the number of connections asked
   */
  requestHeartbeat(target?: SimulatorTarget): number {
    const conns = this.core.connectionsFor(target);
    for (const conn of conns) this.core.sendOp(conn, GatewayOpcodes.Heartbeat, null);
    return conns.length;
  }

  /**
   * Sends bytes as they are, uncompressed even on compressed connections (strings as text
   * messages, Buffers as binary): malformed JSON, unknown opcodes, corrupt compressed data.
   *
   * @param data - a string (text message) or bytes (binary message)
   * @param target - the connections; default every open one
   *
   * @returns the number of connections written to
   */
  sendRaw(data: string | Buffer, target?: SimulatorTarget): number {
    const conns = this.core.connectionsFor(target);
    for (const conn of conns) {
      if (this.core.observing) {
        const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
        this.core.record({ direction: 'out', connection: conn.id, shard: conn.shard, op: null, d: data, at: Date.now(), size });
      }
      conn.sendRaw(data);
    }
    return conns.length;
  }

  // ---- waiting ---------------------------------------------------------------------------------

  /**
   * Resolves with the next event `event` (that passes `filter`). Only events after the call count.
   *
   * @param event - the simulator event to wait for
   * @param options - `filter` on the event, `timeout` (ms, default 5000), `signal`
   *
   * @throws Error (rejection) on timeout, abort or `close()`
   * @example
   * ```ts
   * const { sessionId } = await sim.waitFor('identify', { filter: (e) => e.shard[0] === 1 });
   * ```
   */
  waitFor<K extends keyof SimulatorEvents>(
    event: K,
    options: WaitOptions & { filter?: (value: SimulatorEvents[K][0]) => boolean } = {},
  ): Promise<SimulatorEvents[K][0]> {
    const timeout = options.timeout ?? 5000;
    // TypeScript cannot resolve the typed listener signature for a generic K; the untyped view of
    // the same emitter takes the listener, which is correctly typed for K by construction.
    const emitter: EventEmitter = this;
    return new Promise<SimulatorEvents[K][0]>((resolve, reject) => {
      const listener = (value: SimulatorEvents[K][0]): void => {
        if (options.filter && !options.filter(value)) return;
        finish();
        resolve(value);
      };
      const cancel = (error: Error): void => {
        finish();
        reject(error);
      };
      const onAbort = (): void => cancel(new Error(`Aborted waiting for "${event}"`));
      const timer = setTimeout(() => cancel(new Error(`Timed out after ${timeout} ms waiting for "${event}"`)), timeout);
      const finish = (): void => {
        clearTimeout(timer);
        this.cancelWaits.delete(cancel);
        options.signal?.removeEventListener('abort', onAbort);
        emitter.off(event, listener);
      };
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.cancelWaits.add(cancel);
      emitter.on(event, listener);
    });
  }

  /**
   * Resolves with the next frame (in or out) matching `predicate`. Only frames after the call count.
   *
   * @param predicate - which frame to wait for
   * @param options - `timeout` (ms, default 5000), `signal`
   *
   * @throws Error (rejection) on timeout, abort or `close()`
   * @example
   * ```ts
   * const ready = await sim.waitForFrame((f) => f.t === 'READY');
   * ```
   */
  waitForFrame(predicate: (frame: SimulatorFrame) => boolean, options: WaitOptions = {}): Promise<SimulatorFrame> {
    return this.waitFor('frame', { ...options, filter: predicate });
  }
}
