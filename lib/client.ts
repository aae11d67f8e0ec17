import { EventEmitter } from 'node:events';
import { release } from 'node:os';
import { Session, defaultConnectionLimiter, type SessionCloseEvent } from './session.js';
import { MemoryRateLimiter } from './ratelimit/memory.js';
import type { RateLimiter } from './ratelimit/types.js';
import type { SessionStore } from './store/types.js';
import { COMPRESSIONS, HAS_ZSTD, type Compression } from './compression.js';
import { Identify } from './events/identify.js';
import { SessionStartBudget } from './session-start-budget.js';
import { IdentifyLine } from './identify-line.js';
import { MemberChunkCollector, type GuildMembersResult } from './members.js';
import { MemberListCooldown } from './member-list-cooldown.js';
import { RequestGuildMembers } from './events/request-guild-members.js';
import { getJSON } from './http.js';
import { ReshardSeam } from './sharding/reshard-seam.js';
import { shardForGuild } from './sharding/shard-for-guild.js';
import { FatalCloseError, InvalidOptionError, SessionClosedError, redactToken } from './errors.js';
import { ALL_INTENTS, intentNames, INTENT_NAMES } from '../types/intents.js';
import { CONTENT_INTENT_DISPATCHES, DISPATCH_INTENTS, type DispatchName, type DispatchPayloads } from '../types/dispatch.js';
import type { APIGatewayBotInfo, GatewayPresenceUpdateData } from '../types/payloads.js';
import { GatewayCloseCodes, GatewayIntentBits } from 'discord-api-types/v10';

/** A dispatch handler: the typed payload and the session (shard) it arrived on. */
export type DispatchHandler<E extends DispatchName> = (payload: DispatchPayloads[E], session: Session) => void | Promise<void>;

/** Receives every dispatch, e.g. to forward it elsewhere. */
export type AnyDispatchListener = (event: DispatchName, payload: unknown, session: Session) => void;

/**
 * A slice of a bot's shards, for running one bot over several processes or machines.
 *
 * @category Sharding
 */
export interface ShardSlice {
  /** The shard ids this process runs. */
  ids: number[];
  /** The bot's total shard count (`num_shards` in every Identify). */
  total: number;
}

/**
 * Which shards `bot.connect()` runs: a total (all of them), or a slice of a total.
 *
 * @category Sharding
 */
export type ShardsOption = number | ShardSlice;

/** Identify `properties`: the operating system and the library's name. */
export interface IdentifyProperties {
  /** Operating system, e.g. `linux`. */
  os: string;
  /** Library name. */
  browser: string;
  /** Library name. */
  device: string;
}

/** Options of {@link Client}. */
export interface ClientOptions {
  /** The bot token (without the `Bot ` prefix). */
  token: string;
  /** Gateway intents, e.g. `GatewayIntentBits.Guilds | GatewayIntentBits.GuildMembers`. */
  intents: number;
  /** REST base for `GET /gateway/bot`; default `https://discord.com/api/v10`. */
  apiURL?: string;
  /** Gateway URL; default the `url` from `GET /gateway/bot`. */
  gatewayURL?: string;
  /** Transport compression; default `'zstd-stream'` (or `'zlib-stream'` on a Node without zstd). */
  compression?: Compression;
  /** Shards `connect()` starts; default the count recommended by `GET /gateway/bot`. */
  shards?: ShardsOption;
  /** Identify `large_threshold`, 50–250. */
  largeThreshold?: number;
  /** Presence sent in Identify. */
  presence?: GatewayPresenceUpdateData;
  /** Holds the app-wide buckets (identify per `shard_id % max_concurrency`); default `MemoryRateLimiter`. */
  rateLimiter?: RateLimiter;
  /**
   * Holds the per-connection buckets of the sessions `connect()` and `reshard()` create;
   * default the process's shared `MemoryRateLimiter` (bucket ids are unique per connection).
   */
  sessionRateLimiter?: RateLimiter;
  /** Default session store of this bot's sessions, so a restarted process resumes. */
  store?: SessionStore;
  /** Reconnect after recoverable closes; default `true`. */
  autoReconnect?: boolean;
  /** Consecutive failed connection attempts before a session gives up; default unlimited. */
  maxReconnectAttempts?: number;
  /**
   * On close 4011 (sharding required), fetch the new recommended shard count, start the new
   * set, move over once all are READY and close the old set. Default `false`: the session ends
   * with a `FatalCloseError`. Needs a full shard set (not a `{ ids, total }` slice).
   */
  autoReshard?: boolean;
  /** Identify `properties`; default `{ os: process.platform, browser: 'disgate', device: 'disgate' }`. */
  properties?: IdentifyProperties;
}

/** Events of {@link Client} (`bot.on(name, listener)`). */
export interface ClientEvents {
  /** A handler threw, the gateway misbehaved, or a session ended with an error. */
  error: [error: Error, session: Session | undefined];
  /** A configuration problem worth fixing (e.g. a handler for an event the intents never deliver). */
  warn: [message: string];
  /** Lifecycle detail, for logs. Never contains the token. */
  debug: [message: string];
  /** A session became READY (`how = 'ready'`) or resumed (`'resumed'`). */
  ready: [session: Session, how: 'ready' | 'resumed'];
  /** Resharding after close 4011 finished: the bot now runs `total` shards. */
  resharded: [total: number];
  /** A connection closed; `event.reconnect` tells whether disgate will reconnect. */
  close: [event: SessionCloseEvent, session: Session];
  /** `connect()` progress: shards READY so far, of the total it starts. */
  progress: [ready: number, total: number];
}

/** What `max_concurrency` is assumed to be when `GET /gateway/bot` cannot be reached. */
const FALLBACK_MAX_CONCURRENCY = 1;
const DAY_MS = 86_400_000;
/**
 * Spacing of identifies per bucket key: Discord's 5 s window plus a margin, because Discord
 * measures arrivals and a few ms of network jitter would otherwise land two identifies inside
 * one window (answered with op 9).
 *
 * @category Rate limiting
 */
export const IDENTIFY_INTERVAL_MS = 5000 + 250;

/**
 * Longest a shard holds the head of its key's identify line before the next one opens its
 * socket anyway: a Hello timeout (30 s) and one identify window. Normally it leaves within one
 * window, once its identify slot is granted.
 */
const MAX_IDENTIFY_TURN_MS = 30_000 + IDENTIFY_INTERVAL_MS;

/** Least time between two refetches of `/gateway/bot` caused by failed connections, ms. */
const GATEWAY_REFETCH_MS = 30_000;

/**
 * A bot: its token, intents and options, its dispatch handlers, its sessions, and the
 * app-wide rate limits (identify buckets, daily session starts) its sessions share.
 *
 * @example
 * ```ts
 * const bot = new Client({ token: process.env.DISCORD_TOKEN!, intents: GatewayIntentBits.Guilds });
 * bot.handle('GUILD_CREATE', (guild, session) => console.log(guild.name, 'on shard', session.shard[0]));
 * await bot.connect();
 * ```
 */
export class Client extends EventEmitter<ClientEvents> {
  /** Gateway intents. */
  readonly intents: number;
  /** REST base URL. */
  readonly apiURL: string;
  /** Transport compression of every session. */
  readonly compression: Compression;
  /** Identify `large_threshold`, if set. */
  readonly largeThreshold: number | undefined;
  /** Presence sent in Identify, if set. */
  presence: GatewayPresenceUpdateData | undefined;
  /** App-wide buckets: `identify:<key>`. */
  readonly rateLimiter: RateLimiter;
  /** Default store of this bot's sessions. */
  readonly store: SessionStore | undefined;
  /** Per-connection buckets of the sessions this bot creates. */
  readonly sessionRateLimiter: RateLimiter;
  /** Whether sessions reconnect after recoverable closes. */
  readonly autoReconnect: boolean;
  /** Consecutive failed attempts a session tolerates. */
  readonly maxReconnectAttempts: number;
  /** Sessions by shard id. */
  readonly sessions = new Map<number, Session>();
  /** The shards option; after resharding, the new total. */
  shards: ShardsOption | undefined;
  /** Whether close 4011 starts resharding. */
  readonly autoReshard: boolean;

  readonly #token: string;
  readonly #gatewayURLOption: string | undefined;
  readonly #properties: IdentifyProperties;
  readonly #handlers = new Map<string, Array<(payload: unknown, session: Session) => void | Promise<void>>>();
  #anyListeners: AnyDispatchListener[] = [];
  readonly #warned = new Set<string>();
  #gatewayInfo: Promise<APIGatewayBotInfo> | undefined;
  #gatewayInfoAt = 0;
  /** When `GET /gateway/bot` last failed for `#maxConcurrency` (epoch ms; 0 never). */
  #gatewayInfoFailedAt = 0;
  readonly #budget: SessionStartBudget;
  /**
   * Per session of a start, what it waits for before it opens a socket to identify: the group
   * before its own. Keyed by session, not shard id: during a reshard an old-set and a new-set
   * session share each shard id, and neither may wait for, or open, the other's gate.
   */
  readonly #identifyGates = new Map<Session, Promise<void>>();
  /** Per session of a start, what opens its group's share of the next group's gate. */
  readonly #gateOpeners = new Map<Session, () => void>();
  /**
   * @internal When each guild may get its next whole-list member request (1 per 30 s, protocol §4.3).
   */
  readonly memberListCooldown = new MemberListCooldown();
  /** Per bucket key, this process's shards waiting to open a socket and identify. */
  readonly #identifyLines = new Map<number, IdentifyLine>();
  /** A reshard in progress: its new sessions connect, but are not yet in `sessions`. */
  #seam: ReshardSeam | undefined;
  #resharding: Promise<void> | undefined;
  /** The new set of a reshard until its swap: `close()` ends it too. */
  #starting: readonly Session[] | undefined;
  /** How many times `close()` was called: a reshard that sees it change is abandoned. */
  #closes = 0;
  /** Wakes whoever waits for a session to become ready or end (a reshard before its swap). */
  #sessionChanged: (() => void)[] = [];
  readonly #members = new MemberChunkCollector();

  /**
   * @param options - token, intents and the rest of {@link ClientOptions}
   * @throws {@link InvalidOptionError} (a `TypeError`) naming the option when one is invalid
   */
  constructor(options: ClientOptions) {
    super();
    const o = options as Partial<ClientOptions> | undefined;
    if (!o || typeof o !== 'object') throw new InvalidOptionError('options', 'an object with token and intents');
    if (typeof o.token !== 'string' || o.token.trim() === '') throw new InvalidOptionError('token', 'a non-empty string');
    if (!Number.isSafeInteger(o.intents) || o.intents! < 0) throw new InvalidOptionError('intents', 'a non-negative integer bitfield');
    if ((o.intents! & ~ALL_INTENTS) !== 0) throw new InvalidOptionError('intents', `made of defined intent bits (mask ${ALL_INTENTS})`);
    if (o.compression !== undefined && !COMPRESSIONS.includes(o.compression)) {
      throw new InvalidOptionError('compression', `one of ${COMPRESSIONS.map((c) => `'${c}'`).join(', ')}`);
    }
    if (o.compression === 'zstd-stream' && !HAS_ZSTD) throw new InvalidOptionError('compression', "'zlib-stream' or 'none' on a Node.js without zstd (22.15+ has it)");
    if (o.largeThreshold !== undefined && !(Number.isInteger(o.largeThreshold) && o.largeThreshold >= 50 && o.largeThreshold <= 250)) {
      throw new InvalidOptionError('largeThreshold', 'an integer from 50 to 250');
    }
    if (o.maxReconnectAttempts !== undefined && !(o.maxReconnectAttempts === Infinity || (Number.isInteger(o.maxReconnectAttempts) && o.maxReconnectAttempts >= 0))) {
      throw new InvalidOptionError('maxReconnectAttempts', 'a non-negative integer or Infinity');
    }
    for (const key of ['apiURL', 'gatewayURL'] as const) {
      const value = o[key];
      if (value !== undefined && !URL.canParse(value)) throw new InvalidOptionError(key, 'an absolute URL');
    }
    if (o.shards !== undefined) validateShards(o.shards);
    this.#token = o.token;
    this.intents = o.intents!;
    this.apiURL = (o.apiURL ?? 'https://discord.com/api/v10').replace(/\/+$/, '');
    this.#gatewayURLOption = o.gatewayURL;
    this.compression = o.compression ?? (HAS_ZSTD ? 'zstd-stream' : 'zlib-stream');
    this.largeThreshold = o.largeThreshold;
    this.presence = o.presence;
    this.rateLimiter = o.rateLimiter ?? new MemoryRateLimiter();
    this.store = o.store;
    this.sessionRateLimiter = o.sessionRateLimiter ?? defaultConnectionLimiter();
    this.autoReconnect = o.autoReconnect ?? true;
    this.maxReconnectAttempts = o.maxReconnectAttempts ?? Infinity;
    this.shards = o.shards;
    this.autoReshard = o.autoReshard ?? false;
    // A built-in handler, so the dispatch path pays nothing for it.
    this.#handlers.set('RATE_LIMITED', [(d) => this.memberListCooldown.limited(d as DispatchPayloads['RATE_LIMITED'])]);
    this.#properties = o.properties ?? { os: process.platform, browser: 'disgate', device: 'disgate' };
    this.#budget = new SessionStartBudget({
      refresh: () => this.getGatewayBot({ fresh: true }).then((info) => info.session_start_limit),
      warn: (message) => this.#warn(message),
    });
  }

  /** The bot token. Kept in a private field so it never shows in `console.log(bot)`. */
  get token(): string {
    return this.#token;
  }

  /**
   * Registers a handler for one dispatch event. Handlers run in arrival order; one that throws
   * (or rejects) is reported on the `error` event and never stops the session. Warns once
   * when the bot's intents can never deliver the event.
   *
   * @param event - Discord's dispatch name, e.g. `'MESSAGE_CREATE'`
   * @param handler - called with the typed payload and the session it arrived on
   * @returns a function that removes the handler
   * @example
   * ```ts
   * const off = bot.handle('MESSAGE_CREATE', (message) => console.log(message.content));
   * off();
   * ```
   */
  handle<E extends DispatchName>(event: E, handler: DispatchHandler<E>): () => void {
    this.#checkIntentsFor(event);
    const h = handler as (payload: unknown, session: Session) => void | Promise<void>;
    // Copy on write: delivery iterates the current array even if a handler unsubscribes.
    this.#handlers.set(event, [...(this.#handlers.get(event) ?? []), h]);
    return () => {
      const list = (this.#handlers.get(event) ?? []).filter((x) => x !== h);
      if (list.length) this.#handlers.set(event, list);
      else this.#handlers.delete(event);
    };
  }

  /**
   * Registers a listener for every dispatch (forwarders, logging, metrics).
   *
   * @param listener - called with the event name, its raw payload and the session
   * @returns a function that removes the listener
   */
  handleAny(listener: AnyDispatchListener): () => void {
    this.#anyListeners = [...this.#anyListeners, listener];
    return () => { this.#anyListeners = this.#anyListeners.filter((l) => l !== listener); };
  }

  /**
   * The session that receives a guild's events: `(guild_id >> 22) % num_shards`.
   *
   * @param guildId - the guild's snowflake
   * @returns the session, or undefined when this process does not run that shard
   * @example
   * ```ts
   * bot.sessionForGuild('81384788765712384')?.shard; // [k, total]
   * ```
   */
  sessionForGuild(guildId: string): Session | undefined {
    const total = this.#shardTotal();
    if (total === undefined) return undefined;
    return this.sessions.get(shardForGuild(guildId, total));
  }

  /**
   * Fetches `GET /gateway/bot` (URL, recommended shards, session start limit). The answer is
   * cached for the next connection attempts; `fresh` fetches again.
   *
   * @param options - `fresh: true` ignores the cached answer
   * @throws {@link HTTPError} when Discord answers with an error status
   */
  getGatewayBot(options: { fresh?: boolean } = {}): Promise<APIGatewayBotInfo> {
    if (!this.#gatewayInfo || options.fresh) {
      const pending = this.#fetchGatewayBot();
      this.#gatewayInfo = pending;
      this.#gatewayInfoAt = Date.now();
      pending.then((info) => this.#budget.update(info.session_start_limit), () => {
        if (this.#gatewayInfo === pending) this.#gatewayInfo = undefined;
      });
    }
    return this.#gatewayInfo;
  }

  /**
   * @internal
   * Sessions wait here before opening a socket to identify: until every shard of the group
   * before this one (in `bot.connect()` order) has its identify slot, then for their turn in
   * their bucket key's line, then until the daily budget has a session start left (taken by the
   * Identify itself). A socket opened earlier would idle, heartbeating before Identify, for as
   * long as these take (hours when the daily budget is spent).
   *
   * @param session - the session about to open a socket
   * @param signal - aborts the wait (the session was closed)
   */
  async identifyTurn(session: Session, signal?: AbortSignal): Promise<void> {
    await this.#passGroupGate(session, signal);
    await this.#lineFor(session.shard[0], await this.#maxConcurrency()).enter(session, signal);
    await this.#budget.available(signal);
  }

  async #passGroupGate(session: Session, signal: AbortSignal | undefined): Promise<void> {
    const gate = this.#identifyGates.get(session);
    if (!gate) return;
    try {
      await abortable(gate, signal);
    } finally {
      // Passed, or the session closed while it waited: either way this start's gate is spent.
      if (this.#identifyGates.get(session) === gate) this.#identifyGates.delete(session);
    }
  }

  #lineFor(shardId: number, maxConcurrency: number): IdentifyLine {
    const key = shardId % maxConcurrency;
    let line = this.#identifyLines.get(key);
    if (!line) {
      line = new IdentifyLine(MAX_IDENTIFY_TURN_MS);
      this.#identifyLines.set(key, line);
    }
    return line;
  }

  /** Lets the next session of this one's line go: this one has its slot, failed, or ended. */
  #leaveLine(session: Session): void {
    for (const line of this.#identifyLines.values()) line.leave(session);
  }

  /**
   * @internal
   * Waits for this shard's turn to identify: the daily session-start budget, then the
   * `identify:<shard_id % max_concurrency>` bucket (1 per 5 s). `Identify.sendEvent` calls it,
   * with its session, whose group gate and turn in its identify line then end.
   */
  async acquireIdentify(shardId: number, signal?: AbortSignal, session?: Session): Promise<void> {
    const maxConcurrency = await this.#maxConcurrency();
    if (session) await this.#passGroupGate(session, signal);
    await this.#budget.take(signal);
    // The same budget as a bucket of the shared limiter: processes sharing a RedisRateLimiter
    // together never start more than `total` sessions in 24 h.
    const total = this.#budget.total;
    if (total !== undefined) await this.rateLimiter.acquire({ id: 'session-start', limit: total, interval: DAY_MS }, { signal });
    await this.rateLimiter.acquire({ id: `identify:${shardId % maxConcurrency}`, limit: 1, interval: IDENTIFY_INTERVAL_MS }, { signal });
    if (session) {
      this.#seam?.identifying(session);
      this.#openGate(session);
      this.#leaveLine(session);
    }
  }

  /**
   * Starts every shard this bot runs (the `shards` option, or the count `GET /gateway/bot`
   * recommends), bucket by bucket, and resolves once all are READY. Progress is reported on the
   * `progress` event.
   *
   * @throws the first session's connection error (e.g. {@link FatalCloseError})
   */
  async connect(): Promise<void> {
    const { ids, total } = await this.#plannedShards();
    const maxConcurrency = await this.#maxConcurrency();
    const sessions = ids.map((id) => this.sessions.get(id) ?? new Session({ shard: [id, total], rateLimiter: this.sessionRateLimiter }));
    this.#planIdentifyOrder(sessions, maxConcurrency);
    let ready = 0;
    this.emit('progress', 0, ids.length);
    try {
      await Promise.all(sessions.map(async (session) => {
        try {
          if (session.status !== 'ready') await session.connect(this);
        } finally {
          this.#openGate(session);
        }
        this.emit('progress', ++ready, ids.length);
      }));
    } catch (err) {
      if (!this.#isShardingRequired(err)) throw err;
      await this.reshard();
    }
  }

  #isShardingRequired(err: unknown): boolean {
    return this.autoReshard && err instanceof FatalCloseError && err.code === GatewayCloseCodes.ShardingRequired;
  }

  /**
   * Closes every session and forgets them.
   *
   * @param code - close code; 1000 (the default) or 1001 invalidate the sessions on Discord's
   * side, any other code leaves them resumable (with a store, by another process)
   */
  async close(code = 1000): Promise<void> {
    // A reshard in progress is abandoned: its sessions would otherwise take over after the close.
    this.#closes++;
    this.#notifySessionChanged();
    for (const session of this.#starting ?? []) void session.retire('the client was closed');
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(sessions.map((s) => s.disconnect(code)));
    await this.store?.flush();
  }

  /**
   * Requests guild members and collects every `GUILD_MEMBERS_CHUNK` of the answer (matched by
   * nonce; one is generated when the request has none). Sent on the guild's session unless
   * `session` is given.
   *
   * @param request - the Request Guild Members event
   * @param options - the session to send on, a signal that abandons the request, and how long
   * to wait for a chunk (default {@link MEMBER_REQUEST_TIMEOUT_MS}, 2 minutes; `Infinity` waits for ever)
   * @throws {@link RateLimitedError} when Discord answers `RATE_LIMITED` (see `retry_after`)
   * @throws {@link MemberRequestTimeoutError} when no chunk arrives for `timeout` ms (Discord does
   * not answer for a guild the session does not hold, or one that is unavailable)
   * @throws {@link MissingIntentError} when the intents do not allow the request (nothing sent)
   * @throws {@link SessionClosedError} when the session closes before the answer is complete
   * @example
   * ```ts
   * const { members } = await bot.requestGuildMembers(
   *   new RequestGuildMembers({ guild_id: '81384788765712384', query: '', limit: 0 }));
   * ```
   */
  requestGuildMembers(request: RequestGuildMembers, options: { session?: Session; signal?: AbortSignal; timeout?: number } = {}): Promise<GuildMembersResult> {
    const guildId = request.guild_id;
    let session = options.session ?? this.sessionForGuild(guildId);
    if (!session) return Promise.reject(new SessionClosedError(0, `no session of this bot receives guild ${guildId}`));
    const { signal, timeout } = options;
    const first = session;
    const send = async (event: RequestGuildMembers): Promise<void> => {
      for (;;) {
        try {
          // Matchable from the moment its frame is handed over: Discord's answer (a RATE_LIMITED
          // without a nonce names only the guild) can be read before the write completes.
          await event.sendEvent(this, session!, { signal, onWrite: () => this.#members.markSent(event.nonce!) });
          return;
        } catch (err) {
          // A reshard replaced the guild's session before the request went out: it goes out on the new one.
          const next = options.session === undefined && err instanceof SessionClosedError ? this.sessionForGuild(guildId) : undefined;
          if (next === undefined || next === session || next.status === 'closed' || !this.#members.moved(event.nonce!, next)) throw err;
          session = next;
        }
      }
    };
    return this.#members.request(request, send, { signal, timeout, shardId: first.shard[0], session: first });
  }

  /** @internal Builds the Identify for one shard from the bot's options. */
  identifyFor(shard: [number, number]): Identify {
    return new Identify({
      token: this.#token,
      properties: this.#properties,
      intents: this.intents,
      shard,
      ...(this.largeThreshold !== undefined && { large_threshold: this.largeThreshold }),
      ...(this.presence !== undefined && { presence: this.presence }),
    });
  }

  /** @internal The URL new sessions connect to (resumes use their `resume_gateway_url`). */
  async resolveGatewayURL(): Promise<string> {
    if (this.#gatewayURLOption) return this.#gatewayURLOption;
    return (await this.getGatewayBot()).url;
  }

  /**
   * @internal
   * A new session failed to connect. The shards of the next group no longer wait for it (it
   * had its turn; a shard that cannot connect must not hold up the rest of the bot), and the
   * cached `/gateway/bot` answer is fetched again for the next attempt (protocol §1.1), at most
   * once per 30 s however many shards fail together, so an outage never turns into a flood of
   * REST calls.
   *
   * @param session - the session whose attempt failed
   */
  identifyAttemptFailed(session: Session): void {
    this.#openGate(session);
    this.#leaveLine(session);
    if (this.#gatewayURLOption || !this.#gatewayInfo) return;
    const now = Date.now();
    if (now - this.#gatewayInfoAt < GATEWAY_REFETCH_MS) return;
    this.#gatewayInfo = undefined;
  }

  /** @internal Hands one dispatch to its handlers; the hottest path of the library. */
  deliver(event: string, payload: unknown, session: Session): void {
    const seam = this.#seam;
    if (seam !== undefined) {
      if (seam.finished) this.#seam = undefined;
      else if (!seam.route(event, payload, session)) return;
    }
    this.#dispatch(event, payload, session);
  }

  #dispatch(event: string, payload: unknown, session: Session): void {
    if (this.#members.size !== 0) this.#routeToMembers(event, payload);
    const any = this.#anyListeners;
    for (let i = 0; i < any.length; i++) {
      try {
        any[i]!(event as DispatchName, payload, session);
      } catch (err) {
        this.reportError(err, session);
      }
    }
    const handlers = this.#handlers.get(event);
    if (handlers === undefined) return;
    for (let i = 0; i < handlers.length; i++) {
      try {
        const result = handlers[i]!(payload, session);
        if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
          (result as Promise<void>).then(undefined, (err: unknown) => this.reportError(err, session));
        }
      } catch (err) {
        this.reportError(err, session);
      }
    }
  }

  /** @internal Routes an error to the `error` event, or to a process warning when nobody listens. */
  reportError(err: unknown, session?: Session): void {
    const error = err instanceof Error ? err : new Error(String(err));
    if (this.listenerCount('error') > 0) this.emit('error', error, session);
    else process.emitWarning(redactToken(`disgate: ${error.name}: ${error.message}`, this.#token), { code: 'DISGATE_ERROR' });
  }

  /** @internal */
  debug(message: string): void {
    if (this.listenerCount('debug') > 0) this.emit('debug', redactToken(message, this.#token));
  }

  /**
   * Replaces the running shard set with `total` shards (default: the count `GET /gateway/bot`
   * recommends now): starts the new set beside the old one, swaps once every new session is
   * READY at the same moment, then closes the old set. Until the swap the old set delivers and
   * the new set's copies are dropped (an event the old set misses goes out from the new set
   * after at most 10 s), so handlers see each event once, in each guild's
   * order. `close()` abandons a reshard in progress.
   *
   * @param total - the new shard count; default the count `GET /gateway/bot` recommends
   * @throws the first new session's connection error, or `SessionClosedError` when a new session
   * ends before the swap or `close()` is called; the old set keeps running then (unless closed)
   */
  reshard(total?: number): Promise<void> {
    this.#resharding ??= this.#reshard(total).finally(() => { this.#resharding = undefined; });
    return this.#resharding;
  }

  async #reshard(total?: number): Promise<void> {
    if (this.shards !== undefined && typeof this.shards !== 'number') {
      throw new InvalidOptionError('shards', 'a total (not a { ids, total } slice) to reshard automatically');
    }
    const closes = this.#closes;
    const count = total ?? (await this.getGatewayBot({ fresh: true })).shards;
    if (this.#closes !== closes) throw new SessionClosedError(0, 'the client was closed during the reshard');
    this.debug(`resharding to ${count} shards`);
    const fresh = range(count).map((id) => new Session({ shard: [id, count], rateLimiter: this.sessionRateLimiter }));
    const previous = this.#seam;
    const seam = new ReshardSeam(fresh, this.sessions, (event, payload, session) => this.#dispatch(event, payload, session), {}, previous);
    this.#seam = seam;
    this.#starting = fresh;
    try {
      const maxConcurrency = await this.#maxConcurrency();
      let connected = false;
      let failure: { error: unknown } | undefined;
      if (this.#closes === closes) {
        this.#planIdentifyOrder(fresh, maxConcurrency);
        void Promise.all(fresh.map(async (session) => {
          try {
            await session.connect(this);
          } finally {
            this.#openGate(session);
          }
        })).then(() => { connected = true; }, (error: unknown) => { failure = { error }; }).finally(() => this.#notifySessionChanged());
      }
      // Swap only with every new session READY at the same moment: one that lost its session
      // since would leave its guilds without one. One that ended, or a close(), ends the reshard
      // at once, without waiting for the rest of the set to identify.
      for (;;) {
        if (this.#closes !== closes) throw new SessionClosedError(0, 'the client was closed during the reshard');
        if (failure) throw failure.error;
        const ended = fresh.find((s) => s.status === 'closed');
        if (ended) throw new SessionClosedError(ended.shard[0], 'a session of the new set ended before the swap');
        if (connected && fresh.every((s) => s.status === 'ready')) break;
        await new Promise<void>((resolve) => this.#sessionChanged.push(resolve));
      }
    } catch (err) {
      seam.abandon();
      this.#seam = previous?.finished === false ? previous : undefined;
      // retire() leaves the store alone: its keys hold the old set's sessions, which keep running.
      await Promise.all(fresh.map((s) => s.retire('the reshard was abandoned')));
      throw err;
    } finally {
      this.#starting = undefined;
    }
    const old = [...this.sessions.values()];
    this.sessions.clear();
    for (const session of fresh) this.sessions.set(session.shard[0], session);
    this.shards = count;
    for (const session of fresh) session.adoptStoreKey();
    // In one turn: the old set stops delivering; the seam then drops only the new set's late copies.
    // A shard id the new set does not have keeps no saved session: nothing may resume it.
    const retired = old.map((s) => s.retire('replaced by a reshard', s.shard[0] >= count));
    seam.swap();
    await Promise.all(retired);
    this.emit('resharded', count);
  }

  /**
   * @internal Called by `Session.connect`: registers the session unless it belongs to a reshard.
   * @returns whether the session may resume what the store saved under its shard id (a reshard's
   * sessions may not: the key holds the running set's session)
   */
  attachSession(session: Session): boolean {
    if (this.#seam?.isStarting(session)) return false;
    this.sessions.set(session.shard[0], session);
    return true;
  }

  /** @internal Called when a session ends for good, with the reason. */
  sessionEnded(session: Session, error: Error): void {
    this.#leaveLine(session);
    this.#seam?.oldEnded(session);
    this.#notifySessionChanged();
    // Requests not yet written fail (or move to the guild's new session) through their sends.
    this.#members.cancelSent(error instanceof SessionClosedError ? error : new SessionClosedError(session.shard[0], error.message), session);
    if (this.#isShardingRequired(error)) this.#reshardFor(session);
  }

  /**
   * Reshards because `session` of the running set ended with 4011. A reshard already running
   * serves it; if that one fails (its own sessions' trouble, reported by whoever started it),
   * the shard still has no session, so another one starts, with the count Discord recommends.
   */
  #reshardFor(session: Session): void {
    const closes = this.#closes;
    const start = (): void => {
      // A reshard the user ended with close() is no error.
      this.reshard().catch((err: unknown) => { if (this.#closes === closes) this.reportError(err, session); });
    };
    const running = this.#resharding;
    if (running === undefined) return start();
    running.then(undefined, () => {
      if (this.#closes === closes && this.sessions.get(session.shard[0]) === session) start();
    });
  }

  /** @internal Called when a session drops its resume state: the next connection identifies. */
  sessionForgotten(session: Session): void {
    this.#seam?.lost(session);
  }

  /** @internal */
  sessionReady(session: Session, how: 'ready' | 'resumed'): void {
    if (how === 'ready' && this.#members.size !== 0) {
      this.#members.cancelSent(new SessionClosedError(session.shard[0], 'a new session replaced the one the request was sent on'), session);
    }
    this.emit('ready', session, how);
    this.#notifySessionChanged();
  }

  #notifySessionChanged(): void {
    if (this.#sessionChanged.length === 0) return;
    for (const wake of this.#sessionChanged.splice(0)) wake();
  }

  /** @internal */
  sessionClosed(event: SessionCloseEvent, session: Session): void {
    this.debug(`[shard ${event.shard}] closed ${event.code} ${event.reason}; reconnect=${event.reconnect} resumable=${event.resumable}`);
    // Discord sends a session that must identify again nothing until it has.
    if (!event.resumable) this.#seam?.lost(session);
    this.emit('close', event, session);
  }

  #routeToMembers(event: string, payload: unknown): void {
    if (event === 'GUILD_MEMBERS_CHUNK') this.#members.onChunk(payload as DispatchPayloads['GUILD_MEMBERS_CHUNK']);
    else if (event === 'RATE_LIMITED') this.#members.onRateLimited(payload as DispatchPayloads['RATE_LIMITED']);
  }

  #warn(message: string): void {
    if (this.#warned.has(message)) return;
    this.#warned.add(message);
    if (this.listenerCount('warn') > 0) this.emit('warn', message);
    else process.emitWarning(`disgate: ${message}`, { code: 'DISGATE_WARNING' });
  }

  #checkIntentsFor(event: DispatchName): void {
    const needs = DISPATCH_INTENTS[event];
    if (needs !== undefined && (this.intents & needs) === 0) {
      this.#warn(`handle('${event}'): the bot's intents never deliver this event; it needs ${intentNames(needs).join(' or ')}`);
    }
    if (CONTENT_INTENT_DISPATCHES.has(event) && (this.intents & GatewayIntentBits.MessageContent) === 0) {
      this.#warn(`handle('${event}'): without ${INTENT_NAMES[GatewayIntentBits.MessageContent]}, message content, embeds, attachments, components and polls arrive empty (except DMs, mentions and the bot's own messages)`);
    }
  }

  #fetchGatewayBot(): Promise<APIGatewayBotInfo> {
    return getJSON<APIGatewayBotInfo>(`${this.apiURL}/gateway/bot`, {
      Authorization: `Bot ${this.#token}`,
      'User-Agent': `DiscordBot (https://www.npmjs.com/package/disgate, 0.1.0) Node.js/${process.version} ${release()}`,
    });
  }

  async #maxConcurrency(): Promise<number> {
    // During an API outage every shard asks; one failed fetch answers them all for a while.
    if (Date.now() - this.#gatewayInfoFailedAt < GATEWAY_REFETCH_MS) return FALLBACK_MAX_CONCURRENCY;
    try {
      return (await this.getGatewayBot()).session_start_limit.max_concurrency;
    } catch (err) {
      this.#gatewayInfoFailedAt = Date.now();
      this.debug(`GET /gateway/bot failed (${(err as Error).message}); assuming max_concurrency ${FALLBACK_MAX_CONCURRENCY}`);
      return FALLBACK_MAX_CONCURRENCY;
    }
  }

  async #plannedShards(): Promise<{ ids: number[]; total: number }> {
    const option = this.shards;
    if (typeof option === 'number') return { ids: range(option), total: option };
    if (option) return { ids: [...option.ids], total: option.total };
    const total = (await this.getGatewayBot()).shards;
    return { ids: range(total), total };
  }

  #shardTotal(): number | undefined {
    const option = this.shards;
    if (typeof option === 'number') return option;
    if (option) return option.total;
    const first = this.sessions.values().next();
    return first.done ? undefined : first.value.shard[1];
  }

  /**
   * Buckets start in order (protocol §4.2: with max_concurrency 16, shards 0–15 first, then
   * 16–31): each shard of a group opens its socket only once every shard of the group before
   * it has its identify slot, has failed an attempt or has given up: no slow socket lets a later
   * group overtake, and no shard that cannot connect holds up the rest of the bot.
   */
  #planIdentifyOrder(sessions: readonly Session[], maxConcurrency: number): void {
    const groups = new Map<number, Session[]>();
    for (const session of [...sessions].sort((a, b) => a.shard[0] - b.shard[0])) {
      const group = Math.floor(session.shard[0] / maxConcurrency);
      const members = groups.get(group);
      if (members) members.push(session);
      else groups.set(group, [session]);
    }
    let previous: Promise<void> | undefined;
    for (const members of groups.values()) {
      const opened: Promise<void>[] = [];
      for (const session of members) {
        if (previous) this.#identifyGates.set(session, previous);
        opened.push(new Promise<void>((resolve) => this.#gateOpeners.set(session, resolve)));
      }
      previous = Promise.all(opened).then(() => {});
    }
  }

  #openGate(session: Session): void {
    const open = this.#gateOpeners.get(session);
    if (!open) return;
    this.#gateOpeners.delete(session);
    open();
  }
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function validateShards(shards: ShardsOption): void {
  if (typeof shards === 'number') {
    if (!Number.isInteger(shards) || shards < 1) throw new InvalidOptionError('shards', 'a positive integer or { ids, total }');
    return;
  }
  const ok = typeof shards === 'object' && shards !== null && Number.isInteger(shards.total) && shards.total >= 1
    && Array.isArray(shards.ids) && shards.ids.length > 0
    && shards.ids.every((id) => Number.isInteger(id) && id >= 0 && id < shards.total)
    && new Set(shards.ids).size === shards.ids.length;
  if (!ok) throw new InvalidOptionError('shards', '{ ids, total } with distinct integer ids 0 <= id < total');
}

function abortable(promise: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return promise;
  signal.throwIfAborted();
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(() => { signal.removeEventListener('abort', onAbort); resolve(); });
  });
}
