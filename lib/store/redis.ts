import type { Redis } from 'ioredis';
import type { SessionInfo } from '../../types/payloads.js';
import { BackendError } from '../errors.js';
import { backendCall } from '../ratelimit/backend-call.js';
import { copySessionInfo, readSessionInfo } from './session-info.js';
import type { SessionStore } from './types.js';

/**
 * The part of an ioredis client the store uses. A `Redis` instance fits.
 *
 * @category Stores and forwarding
 */
export type RedisStoreClient = Pick<Redis, 'get' | 'del' | 'pipeline'>;

/**
 * Options of {@link RedisSessionStore}.
 *
 * @category Stores and forwarding
 */
export interface RedisSessionStoreOptions {
  /** The ioredis client to use (the store never connects or closes it). */
  redis: RedisStoreClient;
  /**
   * Prefix of the keys, one per shard at `<prefix><shard id>`. Default `'disgate:session:'`.
   * Give each bot its own prefix when several share a Redis.
   */
  prefix?: string;
  /** At most one write per this many ms; `set` between writes only updates what is written next. Default 1000. */
  flushInterval?: number;
  /**
   * Seconds a saved session lives after its last write. Default 600: Discord lets a session
   * resume only for a few minutes after a disconnect, so an older one would be refused anyway.
   */
  ttl?: number;
  /** Ms to wait for Redis to answer before failing with `BackendError`. Default 5000. */
  timeout?: number;
  /**
   * Receives the error of a background (timed) write. The values stay queued and are retried
   * once per `flushInterval` (without keeping the process alive); `flush()` reports its own
   * failure by rejecting. Default: ignored.
   */
  onError?: (error: BackendError) => void;
}

/**
 * A {@link SessionStore} in Redis, so a restarted process (or another machine) resumes its
 * shards instead of identifying again. Each shard's session is one JSON string
 * `{ session_id, seq, resume_gateway_url, shard }` that expires `ttl` s after its last write.
 *
 * Sessions call `set` on every dispatch (the sequence number changes), so writes are batched:
 * the latest value per shard is kept and written at most once per `flushInterval` ms, all
 * shards in one pipeline. `flush()` writes now (call it before a planned shutdown); `delete`
 * removes at once. Redis failures become `BackendError` rejections of `flush`, `delete` and
 * `get`, never unhandled rejections.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * const store = new RedisSessionStore({ redis: new Redis(process.env.REDIS_URL!), prefix: 'mybot:session:' });
 * const bot = new Client({ token, intents, store });
 * process.once('SIGTERM', async () => { await bot.close(); await store.flush(); });
 * ```
 *
 * @category Stores and forwarding
 */
export class RedisSessionStore implements SessionStore {
  readonly #redis: RedisStoreClient;
  readonly #prefix: string;
  readonly #flushInterval: number;
  readonly #ttl: number;
  readonly #timeout: number;
  readonly #onError: ((error: BackendError) => void) | undefined;
  /** Latest values not yet handed to Redis. */
  #pending = new Map<number, SessionInfo>();
  /** Batches handed to Redis and not yet confirmed; `delete` strikes shards from them so a failed batch does not bring them back. */
  readonly #inFlight = new Set<Map<number, SessionInfo>>();
  readonly #writes = new Set<Promise<void>>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastWrite = Number.NEGATIVE_INFINITY;
  /** The last write failed: retries then do not keep the process alive. */
  #failing = false;

  /**
   * @param options - the client, and optionally prefix, flush interval, ttl, timeout and error hook
   * @throws TypeError when `flushInterval`, `ttl` or `timeout` is not usable
   */
  constructor(options: RedisSessionStoreOptions) {
    this.#redis = options.redis;
    this.#prefix = options.prefix ?? 'disgate:session:';
    this.#flushInterval = options.flushInterval ?? 1000;
    this.#ttl = options.ttl ?? 600;
    this.#timeout = options.timeout ?? 5000;
    this.#onError = options.onError;
    if (!(this.#flushInterval >= 0)) throw new TypeError('RedisSessionStore: flushInterval must be a number of ms >= 0');
    if (!Number.isSafeInteger(this.#ttl) || this.#ttl < 1) throw new TypeError('RedisSessionStore: ttl must be a whole number of seconds >= 1');
    if (!(this.#timeout > 0)) throw new TypeError('RedisSessionStore: timeout must be a positive number of ms');
  }

  /**
   * Reads a shard's session; a value set but not yet written is returned as is.
   *
   * @param shardId - the shard
   * @returns the session, or undefined when none is saved (or the saved value is unreadable)
   * @throws BackendError (as a rejection) when Redis fails or does not answer in time
   */
  async get(shardId: number): Promise<SessionInfo | undefined> {
    const queued = this.#pending.get(shardId) ?? this.#latestInFlight(shardId);
    if (queued !== undefined) return copySessionInfo(queued);
    const raw = await backendCall(`RedisSessionStore get ${shardId}`, this.#timeout, () => this.#redis.get(this.#key(shardId)));
    return raw === null ? undefined : parse(raw);
  }

  /**
   * Queues a shard's session for the next write (at most one per `flushInterval`). Never rejects:
   * write failures go to `onError` and to the next `flush()`.
   *
   * @param shardId - the shard
   * @param info - its session; a copy of its fields is kept
   */
  set(shardId: number, info: SessionInfo): Promise<void> {
    this.#pending.set(shardId, copySessionInfo(info));
    this.#schedule();
    return Promise.resolve();
  }

  /**
   * Removes a shard's session from Redis now (and from anything queued).
   *
   * @param shardId - the shard
   * @throws BackendError (as a rejection) when Redis fails or does not answer in time
   */
  async delete(shardId: number): Promise<void> {
    this.#pending.delete(shardId);
    for (const batch of this.#inFlight) batch.delete(shardId);
    // Commands on one connection run in order, so this DEL lands after any SET already sent.
    await backendCall(`RedisSessionStore delete ${shardId}`, this.#timeout, () => this.#redis.del(this.#key(shardId)));
  }

  /**
   * Writes everything queued now, and waits for writes already under way.
   *
   * @throws BackendError (as a rejection) when the write fails; the values stay queued
   */
  async flush(): Promise<void> {
    this.#clearTimer();
    // A failed background write puts its values back in the queue, which this flush then writes.
    await Promise.allSettled([...this.#writes]);
    this.#clearTimer();
    await this.#write();
  }

  #key(shardId: number): string {
    return this.#prefix + String(shardId);
  }

  #latestInFlight(shardId: number): SessionInfo | undefined {
    let latest: SessionInfo | undefined;
    for (const batch of this.#inFlight) latest = batch.get(shardId) ?? latest;
    return latest;
  }

  /** Arms the timer for the next write: right away after a quiet spell, else one interval after the last write. */
  #schedule(): void {
    if (this.#timer !== undefined || this.#writes.size > 0 || this.#pending.size === 0) return;
    const delay = Math.max(0, this.#lastWrite + this.#flushInterval - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#write().catch((error: unknown) => {
        if (error instanceof BackendError) this.#onError?.(error);
      });
    }, delay);
    // A normal write holds the process open until it is out; a retry against a backend that is
    // down must not keep a finished process alive forever.
    if (this.#failing) this.#timer.unref();
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  /** Hands the queued values to Redis in one pipeline of `SET key json EX ttl`. */
  #write(): Promise<void> {
    if (this.#pending.size === 0) return Promise.resolve();
    const batch = this.#pending;
    this.#pending = new Map();
    this.#inFlight.add(batch);
    this.#lastWrite = Date.now();
    const commands = [...batch].map(([shardId, info]) => ['set', this.#key(shardId), JSON.stringify(info), 'EX', this.#ttl]);
    const write = backendCall(`RedisSessionStore flush of ${batch.size} session(s)`, this.#timeout, () => this.#redis.pipeline(commands).exec())
      .then((results) => {
        const failed = results?.find(([error]) => error !== null)?.[0];
        if (results === null || failed) throw new BackendError(`RedisSessionStore flush: ${failed?.message ?? 'the pipeline was discarded'}`, { cause: failed });
        this.#failing = false;
      })
      .catch((error: unknown) => {
        this.#failing = true;
        // Put back what is still wanted: not deleted meanwhile, not replaced by a newer value.
        for (const [shardId, info] of batch) if (!this.#pending.has(shardId)) this.#pending.set(shardId, info);
        throw error;
      })
      .finally(() => {
        this.#inFlight.delete(batch);
        this.#writes.delete(write);
        this.#schedule();
      });
    this.#writes.add(write);
    // Callers of flush() see the rejection; the timer path catches it; this copy is only bookkeeping.
    write.catch(() => {});
    return write;
  }
}

/** A stored value, if it still has the shape of a session. */
function parse(raw: string): SessionInfo | undefined {
  try {
    return readSessionInfo(JSON.parse(raw));
  } catch {
    return undefined;
  }
}
