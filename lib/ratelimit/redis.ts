import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { BackendError } from '../errors.js';
import { backendCall } from './backend-call.js';
import { ruleProblem } from './rule.js';
import type { AcquireOptions, Bucket, BucketRule, RateLimiter } from './types.js';
import { WaiterQueue } from './waiters.js';

/**
 * The part of an ioredis client the limiter uses: scripts only. A `Redis` instance fits.
 *
 * @category Rate limiting
 */
export type RedisScriptClient = Pick<Redis, 'evalsha' | 'eval'>;

/**
 * Options of {@link RedisRateLimiter}.
 *
 * @category Rate limiting
 */
export interface RedisRateLimiterOptions {
  /** The ioredis client to use (the limiter never connects or closes it). */
  redis: RedisScriptClient;
  /** Prefix of the limiter's keys: one sorted set per bucket at `<prefix><bucket id>`. Default `'disgate:rl:'`. */
  prefix?: string;
  /**
   * Ms to wait for Redis to answer one script call before the waiting callers of that bucket
   * are rejected with `BackendError`. Default 5000. ioredis queues commands while it
   * reconnects, so without a deadline a dead server would leave callers waiting forever.
   */
  timeout?: number;
}

/**
 * Takes up to `want` units. Members are `<tag>:<i>`, where the tag starts with `limit:interval`
 * so a snapshot can tell the rule; scores are Redis's clock (ms), the same for every process.
 * Returns { granted, ms until the next unit frees (0 if all were granted) }.
 */
const ACQUIRE_SCRIPT = `
if redis.replicate_commands then redis.replicate_commands() end
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local tag = ARGV[4]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - interval)
local used = redis.call('ZCARD', key)
local granted = math.max(0, math.min(want, limit - used))
for i = 1, granted do
  redis.call('ZADD', key, now, tag .. ':' .. i)
end
if granted > 0 then redis.call('PEXPIRE', key, math.ceil(interval)) end
local wait = 0
if granted < want then
  local at = used + granted - limit
  local entry = redis.call('ZRANGE', key, at, at, 'WITHSCORES')
  wait = math.max(1, math.ceil(tonumber(entry[2]) + interval - now))
end
return {granted, wait}
`;

/** Reads a bucket: {} when empty, else { limit, interval, used, oldest score in the window, now }. */
const SNAPSHOT_SCRIPT = `
local key = KEYS[1]
local newest = redis.call('ZRANGE', key, -1, -1)
if #newest == 0 then return {} end
local limit, interval = string.match(newest[1], '^([^:]+):([^:]+):')
limit = tonumber(limit)
interval = tonumber(interval)
if limit == nil or interval == nil then return {} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local from = '(' .. (now - interval)
local used = redis.call('ZCOUNT', key, from, '+inf')
local oldest = 0
if used > 0 then
  oldest = tonumber(redis.call('ZRANGEBYSCORE', key, from, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)[2])
end
return {limit, tostring(interval), used, oldest, now}
`;

/** Gives back units taken for callers that aborted while the script ran. */
const REFUND_SCRIPT = `return redis.call('ZREM', KEYS[1], unpack(ARGV))`;

/**
 * Timers may fire a little before the ms Redis named (and Redis's ms is rounded down), so
 * sleeps get this much extra; an early retry would only cost another round trip.
 */
const WAKE_MARGIN = 2;

/** A Lua script run by SHA, loaded on first use (EVAL) when the server does not know it. */
class Script {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: RedisScriptClient, key: string, args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, 1, key, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.eval(this.source, 1, key, ...args);
    }
  }
}

const acquireScript = new Script(ACQUIRE_SCRIPT);
const snapshotScript = new Script(SNAPSHOT_SCRIPT);
const refundScript = new Script(REFUND_SCRIPT);

/** The callers of one bucket waiting in this process, and the loop that serves them. */
interface BucketQueue {
  rule: BucketRule;
  readonly waiters: WaiterQueue;
  /** Ends the current sleep early (waiters gone, or the rule changed). */
  wake: (() => void) | undefined;
}

/**
 * A {@link RateLimiter} whose buckets live in Redis, so many processes or machines share them
 * (this is how shards spread over machines take turns to identify).
 *
 * Every attempt is one atomic Lua script on Redis's clock: drop grants older than the window,
 * grant if fewer than `limit` remain, else answer how long until the oldest leaves. Callers of
 * one bucket in this process queue in order behind a single loop that sleeps exactly that long
 * (no polling), then tries again. Across processes the limit always holds; the order between
 * processes is whoever's attempt reaches Redis first.
 *
 * When Redis fails or does not answer within `timeout`, the callers waiting on that bucket
 * are rejected with `BackendError`; nothing is ever granted without Redis's word.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * const limiter = new RedisRateLimiter({ redis: new Redis(process.env.REDIS_URL!) });
 * const bot = new Client({ token, intents, rateLimiter: limiter });
 * ```
 *
 * @category Rate limiting
 */
export class RedisRateLimiter implements RateLimiter {
  readonly #redis: RedisScriptClient;
  readonly #prefix: string;
  readonly #timeout: number;
  readonly #queues = new Map<string, BucketQueue>();
  /** Makes members unique across processes (uid) and attempts (counter). */
  readonly #uid = randomUUID();
  #attempts = 0;

  /**
   * @param options - the client, and optionally the key prefix and per-call timeout
   * @throws TypeError when `timeout` is not a positive number
   */
  constructor(options: RedisRateLimiterOptions) {
    this.#redis = options.redis;
    this.#prefix = options.prefix ?? 'disgate:rl:';
    this.#timeout = options.timeout ?? 5000;
    if (!(this.#timeout > 0)) throw new TypeError('RedisRateLimiter: timeout must be a positive number of ms');
  }

  /**
   * Waits until one unit of `rule.id` is free in Redis, then takes it.
   *
   * @param rule - the bucket and its limit; the latest rule passed in this process wins
   * @param options - `signal` withdraws the call: it rejects with `signal.reason`
   * @returns a promise that resolves once Redis granted the unit
   * @throws BackendError (as a rejection) when Redis fails or does not answer in time
   * @throws InvalidOptionError (as a rejection) for a rule with a non-positive limit or interval
   */
  acquire(rule: BucketRule, options?: AcquireOptions): Promise<void> {
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const problem = ruleProblem(rule);
    if (problem) return Promise.reject(problem);
    let queue = this.#queues.get(rule.id);
    if (queue === undefined) {
      const created: BucketQueue = {
        rule,
        waiters: new WaiterQueue(() => {
          if (created.waiters.size === 0) created.wake?.();
        }),
        wake: undefined,
      };
      queue = created;
      this.#queues.set(rule.id, created);
      const promise = created.waiters.wait(signal);
      void this.#serve(created);
      return promise;
    }
    if (queue.rule.limit !== rule.limit || queue.rule.interval !== rule.interval) {
      queue.rule = rule;
      // A raised limit or shorter interval may free units now: try again instead of sleeping on.
      queue.wake?.();
    }
    return queue.waiters.wait(signal);
  }

  /**
   * Snapshot of a bucket as Redis holds it. `pending` counts the callers waiting in this process.
   *
   * @param id - the bucket's id
   * @returns the snapshot, or undefined when Redis holds nothing for the bucket (never used, or
   *   idle for a whole window) and nobody here waits on it
   * @throws BackendError (as a rejection) when Redis fails or does not answer in time
   */
  async getBucket(id: string): Promise<Bucket | undefined> {
    const key = this.#prefix + id;
    const reply = await backendCall(`RedisRateLimiter getBucket ${id}`, this.#timeout, () => snapshotScript.run(this.#redis, key, []));
    const queue = this.#queues.get(id);
    const pending = queue?.waiters.size ?? 0;
    if (!Array.isArray(reply) || reply.length < 5) {
      return queue ? { id, limit: queue.rule.limit, remaining: queue.rule.limit, pending, reset: 0 } : undefined;
    }
    const [limit, interval, used, oldest] = reply.map(Number) as [number, number, number, number];
    return { id, limit, remaining: Math.max(0, limit - used), pending, reset: used === 0 ? 0 : oldest + interval };
  }

  /** The loop of one bucket: one script call at a time, sleeping between attempts only as long as Redis says. */
  async #serve(queue: BucketQueue): Promise<void> {
    const key = this.#prefix + queue.rule.id;
    while (queue.waiters.size > 0) {
      const rule = queue.rule;
      const want = queue.waiters.size;
      const tag = `${rule.limit}:${rule.interval}:${this.#uid}:${++this.#attempts}`;
      let granted: number;
      let wait: number;
      try {
        [granted, wait] = await this.#attempt(key, rule, want, tag);
      } catch (error) {
        queue.waiters.failAll(error);
        break;
      }
      for (let i = 1; i <= granted; i++) {
        if (!queue.waiters.grant()) {
          this.#refund(key, tag, i, granted);
          break;
        }
      }
      if (granted < want && queue.waiters.size > 0) await this.#sleep(queue, wait + WAKE_MARGIN);
    }
    // Synchronous with the loop's last check, so no caller can slip in between.
    if (this.#queues.get(queue.rule.id) === queue) this.#queues.delete(queue.rule.id);
  }

  async #attempt(key: string, rule: BucketRule, want: number, tag: string): Promise<[number, number]> {
    const reply = await backendCall(`RedisRateLimiter acquire ${rule.id}`, this.#timeout, () =>
      acquireScript.run(this.#redis, key, [rule.limit, rule.interval, want, tag]),
    );
    if (!Array.isArray(reply) || typeof reply[0] !== 'number' || typeof reply[1] !== 'number') {
      throw new BackendError(`RedisRateLimiter acquire ${rule.id}: unexpected reply from the script`);
    }
    return [reply[0], reply[1]];
  }

  /** Best effort: if it fails, the units stay taken until they leave the window, which is safe. */
  #refund(key: string, tag: string, from: number, to: number): void {
    const members: string[] = [];
    for (let i = from; i <= to; i++) members.push(`${tag}:${i}`);
    backendCall('RedisRateLimiter refund', this.#timeout, () => refundScript.run(this.#redis, key, members)).catch(() => {});
  }

  #sleep(queue: BucketQueue, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        queue.wake = undefined;
        resolve();
      }, ms);
      queue.wake = () => {
        clearTimeout(timer);
        queue.wake = undefined;
        resolve();
      };
    });
  }
}
