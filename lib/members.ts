/**
 * Collects the `GUILD_MEMBERS_CHUNK` replies of Request Guild Members (op 8) by nonce: the
 * machinery behind `bot.requestGuildMembers`. Pure bookkeeping: it sends nothing and reads no
 * socket; the client feeds it dispatches and hands it a way to send.
 */
import { randomBytes } from 'node:crypto';
import { GatewayOpcodes } from 'discord-api-types/v10';
import type {
  APIGuildMember,
  GatewayGuildMembersChunkDispatchData,
  GatewayGuildMembersChunkPresence,
  GatewayRateLimitedDispatchData,
  Snowflake,
} from 'discord-api-types/v10';
import { GatewayProtocolError, InvalidOptionError, MemberRequestTimeoutError, RateLimitedError, ValidationError } from './errors.js';
import { RequestGuildMembers } from './events/request-guild-members.js';
import type { Session } from './session.js';

/**
 * Everything one Request Guild Members brought back, chunks joined in `chunk_index` order.
 *
 * @category Client and Session
 */
export interface GuildMembersResult {
  /** The members found. */
  members: APIGuildMember[];
  /** Their presences (only with `presences: true` and the GUILD_PRESENCES intent). */
  presences: GatewayGuildMembersChunkPresence[];
  /**
   * Requested `user_ids` that are not members. Discord may send these back as JSON numbers
   * (protocol §8.4); they are turned into strings here.
   */
  not_found: Snowflake[];
}

/**
 * Options of {@link MemberChunkCollector.collect}.
 *
 * @category Client and Session
 */
export interface CollectOptions {
  /** Aborting forgets the request and rejects its result with the signal's reason. */
  signal?: AbortSignal;
  /** The shard the request goes out on, so {@link MemberChunkCollector.cancelAll} can target one shard. */
  shardId?: number;
  /**
   * The session the request goes out on: {@link MemberChunkCollector.cancelAll} and
   * {@link MemberChunkCollector.cancelSent} given that session then cancel it, and given
   * another session of the same shard id (a reshard's) they do not.
   */
  session?: Session;
  /**
   * Milliseconds to wait for a chunk, counted from when {@link MemberChunkCollector.request}
   * has sent the request (`bot.requestGuildMembers`: handed it to the socket) and again from each chunk (with `collect` alone, from the first chunk); then the result rejects with {@link MemberRequestTimeoutError}. Default
   * {@link MEMBER_REQUEST_TIMEOUT_MS}; `Infinity` waits for ever.
   */
  timeout?: number;
}

/**
 * Default of {@link CollectOptions.timeout}: 2 minutes without a chunk. Discord sends the chunks
 * of one request back to back, so a quiet request is one it will not answer (a guild the
 * session does not hold or that is unavailable).
 */
export const MEMBER_REQUEST_TIMEOUT_MS = 120_000;

/** The longest delay `setTimeout` honours (a longer one fires at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A registered request: the event to send (nonce filled in) and its eventual result.
 *
 * @category Client and Session
 */
export interface Collection {
  /** The request to send: the given one, or a copy carrying a generated nonce. */
  event: RequestGuildMembers;
  /** Settles when every chunk has arrived, or on rate limit, abort or cancel. Always handle it. */
  result: Promise<GuildMembersResult>;
}

interface Pending {
  readonly guildId: Snowflake;
  /** A whole-list request (`query: ""`, `limit: 0`), the only kind Discord's 30 s limit applies to. */
  readonly wholeList: boolean;
  /** Where it goes out: set again when it moves to another session before being written. */
  shardId: number | undefined;
  session: Session | undefined;
  /** Chunks by `chunk_index`; its length is the first `chunk_count` seen. */
  chunks: (GatewayGuildMembersChunkDispatchData | undefined)[] | undefined;
  received: number;
  /** Handed to the socket (see {@link MemberChunkCollector.markSent}). */
  sent: boolean;
  /** Rejects the request when no chunk comes in time; armed once it is sent. */
  timer: NodeJS.Timeout | undefined;
  readonly timeout: number;
  resolve(result: GuildMembersResult): void;
  reject(error: unknown): void;
}

/** 12 random bytes: 16 base64url characters, well under Discord's 32-byte nonce limit. */
function newNonce(): string {
  return randomBytes(12).toString('base64url');
}

function assemble(chunks: readonly GatewayGuildMembersChunkDispatchData[]): GuildMembersResult {
  const result: GuildMembersResult = { members: [], presences: [], not_found: [] };
  for (const chunk of chunks) {
    result.members.push(...chunk.members);
    if (chunk.presences) result.presences.push(...chunk.presences);
    if (chunk.not_found) for (const id of chunk.not_found) result.not_found.push(String(id));
  }
  return result;
}

/**
 * Pending Request Guild Members, keyed by nonce. Register a request with {@link collect} (or
 * {@link request}), feed it every `GUILD_MEMBERS_CHUNK` and `RATE_LIMITED` dispatch, and each
 * result resolves once all of its `chunk_count` chunks are in, whatever their order.
 *
 * @example
 * ```ts
 * const collector = new MemberChunkCollector();
 * bot.handle('GUILD_MEMBERS_CHUNK', (d) => collector.onChunk(d));
 * bot.handle('RATE_LIMITED', (d) => collector.onRateLimited(d));
 * const { members } = await collector.request(
 *   new RequestGuildMembers({ guild_id, query: '', limit: 0 }),
 *   (event) => event.sendEvent(bot, session),
 * );
 * ```
 *
 * @category Client and Session
 */
export class MemberChunkCollector {
  readonly #pending = new Map<string, Pending>();

  /** How many requests are waiting for chunks. */
  get size(): number {
    return this.#pending.size;
  }

  /**
   * Registers `request` and returns the event to send with its result. A request without a
   * nonce (or with an empty one, which Discord would not echo) gets a fresh random nonce.
   * Register before sending, so no chunk can arrive unclaimed.
   *
   * @param request - the request to register; its nonce is kept, or one is generated
   * @param options - `signal` to withdraw it, `shardId` it goes out on
   *
   * @throws {@link ValidationError} when the request's nonce is already pending
   * @throws {@link InvalidOptionError} when `options.timeout` is not a positive number
   * @throws the signal's reason when `options.signal` is already aborted
   */
  collect(request: RequestGuildMembers, options: CollectOptions = {}): Collection {
    const { signal, shardId, session, timeout = MEMBER_REQUEST_TIMEOUT_MS } = options;
    if (typeof timeout !== 'number' || !(timeout > 0) || (timeout > MAX_TIMER_MS && timeout !== Infinity)) {
      throw new InvalidOptionError('timeout', `a number of milliseconds from 1 to ${MAX_TIMER_MS}, or Infinity`);
    }
    signal?.throwIfAborted();
    let event = request;
    if (request.nonce === undefined || request.nonce === '') {
      let nonce = newNonce();
      while (this.#pending.has(nonce)) nonce = newNonce();
      event = new RequestGuildMembers({ ...request.toJSON(), nonce });
    } else if (this.#pending.has(request.nonce)) {
      throw new ValidationError('nonce', 'unique among pending requests (this one is already waiting for chunks)');
    }
    const nonce = event.nonce!;
    const result = new Promise<GuildMembersResult>((resolve, reject) => {
      const onAbort = (): void => {
        clearTimeout(entry.timer);
        if (this.#pending.get(nonce) === entry) this.#pending.delete(nonce);
        reject(signal!.reason);
      };
      const settle = (): void => {
        clearTimeout(entry.timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const entry: Pending = {
        guildId: event.guild_id,
        wholeList: event.query === '' && event.limit === 0,
        shardId,
        session,
        chunks: undefined,
        received: 0,
        sent: false,
        timer: undefined,
        timeout,
        resolve: (value) => (settle(), resolve(value)),
        reject: (error) => (settle(), reject(error)),
      };
      this.#pending.set(nonce, entry);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    return { event, result };
  }

  /**
   * Registers `request`, sends it through `send`, and resolves with the collected members.
   * If sending fails the request is forgotten and the send error is thrown.
   *
   * @param request - the request to send
   * @param send - writes the event, e.g. `(event) => event.sendEvent(bot, session, { signal })`
   * @param options - `signal` to withdraw it, `shardId` it goes out on
   *
   * @throws `RateLimitedError` when Discord answers with `RATE_LIMITED` (see `retry_after`)
   * @throws whatever `send` throws (`MissingIntentError`, `SessionClosedError`, ...)
   */
  async request(request: RequestGuildMembers, send: (event: RequestGuildMembers) => Promise<void>, options: CollectOptions = {}): Promise<GuildMembersResult> {
    const { event, result } = this.collect(request, options);
    const sent = send(event).then(() => this.markSent(event.nonce!), (error: unknown) => {
      this.cancel(event.nonce!, error);
      throw error;
    });
    // Awaiting both at once keeps an early rejection of either from going unhandled.
    const [, members] = await Promise.all([sent, result]);
    return members;
  }

  /**
   * @internal
   * The request's frame was handed to the socket: from now on a `RATE_LIMITED` without a nonce
   * for its guild may answer it, and its timeout runs. {@link request} calls it once `send`
   * resolves, at the latest; the answer can be read earlier, before the write completes, so the
   * client calls it as the frame is handed over. Calling it again changes nothing.
   *
   * @param nonce - the request's nonce
   */
  markSent(nonce: string): void {
    const entry = this.#pending.get(nonce);
    if (!entry || entry.sent) return;
    entry.sent = true;
    // A chunk may already have armed it (the dispatch can be read before the write callback runs).
    entry.timer ??= this.#arm(nonce, entry);
  }

  /**
   * @internal
   * The request goes out on `session` after all: the one it was meant for ended before
   * writing it (a reshard replaced it).
   *
   * @param nonce - the request's nonce
   * @param session - where it goes out now
   * @returns false when the request is no longer pending or was already written
   */
  moved(nonce: string, session: Session): boolean {
    const entry = this.#pending.get(nonce);
    if (!entry || entry.sent) return false;
    entry.session = session;
    entry.shardId = session.shard[0];
    return true;
  }

  /**
   * Takes one `GUILD_MEMBERS_CHUNK` dispatch.
   *
   * @param d - the dispatch payload
   *
   * @returns whether the chunk belonged to a pending request (duplicates of a chunk already
   * received count as belonging, and are ignored)
   */
  onChunk(d: GatewayGuildMembersChunkDispatchData): boolean {
    if (d.nonce === undefined) return false;
    const entry = this.#pending.get(d.nonce);
    if (entry === undefined || entry.guildId !== d.guild_id) return false;
    const { chunk_index: index, chunk_count: count } = d;
    if (!Number.isSafeInteger(count) || count < 1 || !Number.isSafeInteger(index) || index < 0 || index >= (entry.chunks?.length ?? count)) {
      this.#fail(d.nonce, entry, new GatewayProtocolError(`GUILD_MEMBERS_CHUNK ${index} of ${count} does not fit request ${d.nonce}`));
      return true;
    }
    entry.chunks ??= new Array<GatewayGuildMembersChunkDispatchData | undefined>(count).fill(undefined);
    if (entry.chunks[index] !== undefined) return true;
    entry.chunks[index] = d;
    entry.received += 1;
    if (entry.received === entry.chunks.length) {
      this.#pending.delete(d.nonce);
      entry.resolve(assemble(entry.chunks as GatewayGuildMembersChunkDispatchData[]));
      return true;
    }
    clearTimeout(entry.timer);
    entry.timer = this.#arm(d.nonce, entry);
    return true;
  }

  /**
   * Takes one `RATE_LIMITED` dispatch: a Request Guild Members refused by Discord's
   * 1-per-guild-per-30-s limit rejects with `RateLimitedError` (`retry_after` in seconds).
   *
   * @param d - the dispatch payload
   *
   * @returns whether it answered a pending request
   */
  onRateLimited(d: GatewayRateLimitedDispatchData): boolean {
    if (d.opcode !== GatewayOpcodes.RequestGuildMembers) return false;
    // Discord drops a nonce it finds invalid; the guild then tells which request was refused,
    // among the whole-list requests (the only ones the limit applies to).
    const nonce = d.meta.nonce ?? this.#oldestWholeListSentFor(d.meta.guild_id);
    if (nonce === undefined) return false;
    const entry = this.#pending.get(nonce);
    if (entry === undefined) return false;
    this.#fail(nonce, entry, new RateLimitedError(d.opcode, d.retry_after, { ...d.meta }));
    return true;
  }

  /**
   * Forgets one pending request and rejects its result with `error`.
   *
   * @param nonce - the nonce of the request
   * @param error - what its result rejects with
   *
   * @returns whether the nonce was pending
   */
  cancel(nonce: string, error: unknown): boolean {
    const entry = this.#pending.get(nonce);
    if (entry === undefined) return false;
    this.#fail(nonce, entry, error);
    return true;
  }

  /**
   * Rejects every pending request (or only those sent on `shard`) with `error`, e.g. a
   * `SessionClosedError` when the session closes or is invalidated and the chunks cannot come.
   *
   * @param error - what the results reject with
   * @param shard - only the requests sent on this shard id, or on this session; all when omitted
   */
  cancelAll(error: unknown, shard?: number | Session): void {
    for (const [nonce, entry] of [...this.#pending]) {
      if (shard === undefined || sentOn(entry, shard)) this.#fail(nonce, entry, error);
    }
  }

  /**
   * Rejects the requests of `shard` already written to the gateway: their session was
   * replaced by a new one (READY), so their chunks will never come. Requests still waiting to
   * be written go out on the new session.
   *
   * @param error - what the results reject with
   * @param shard - the shard id, or the session, whose session was replaced
   */
  cancelSent(error: unknown, shard: number | Session): void {
    for (const [nonce, entry] of [...this.#pending]) {
      if (entry.sent && sentOn(entry, shard)) this.#fail(nonce, entry, error);
    }
  }

  #oldestWholeListSentFor(guildId: string): string | undefined {
    for (const [nonce, entry] of this.#pending) if (entry.sent && entry.wholeList && entry.guildId === guildId) return nonce;
    return undefined;
  }

  #arm(nonce: string, entry: Pending): NodeJS.Timeout | undefined {
    if (entry.timeout === Infinity) return undefined;
    // Unreferenced: a request waiting for chunks does not keep the process alive by itself.
    return setTimeout(() => {
      if (this.#pending.get(nonce) === entry) this.#fail(nonce, entry, new MemberRequestTimeoutError(entry.guildId, nonce, entry.timeout));
    }, entry.timeout).unref();
  }

  #fail(nonce: string, entry: Pending, error: unknown): void {
    this.#pending.delete(nonce);
    entry.reject(error);
  }
}

/** Whether `entry` went out on `shard`: a shard id, or a session (by identity when the request names its session). */
function sentOn(entry: Pending, shard: number | Session): boolean {
  if (typeof shard === 'number') return entry.shardId === shard;
  return entry.session !== undefined ? entry.session === shard : entry.shardId === shard.shard[0];
}
