/**
 * A RateLimiter written from scratch: a sliding log of grant times per bucket, a FIFO of
 * waiters, and one timer per bucket armed for exactly when the oldest grant leaves the window.
 * It passes disgate's conformance suite (`testRateLimiter` from `disgate/testing`), which is how
 * you would check your own limiter, e.g. one backed by your database.
 *
 * Run it: `npx tsx examples/custom-ratelimiter.ts`. Without DISCORD_TOKEN it starts the built-in
 * GatewaySimulator with two shards and `max_concurrency` 1, so the second identify waits 5 s
 * (plus the limiter's margin) on the bucket `identify:0`, and the limiter logs that wait.
 *
 * Check it:
 * ```ts
 * import { testRateLimiter } from 'disgate/testing';
 * testRateLimiter('SlidingLogRateLimiter', () => new SlidingLogRateLimiter(), { fakeTimers: true });
 * ```
 */
import { pathToFileURL } from 'node:url';
import { Client, GatewayIntentBits, UpdateStatusData } from '../lib/index.js';
import type { AcquireOptions, Bucket, BucketRule, RateLimiter } from '../lib/index.js';
import { log, runExample, type ExampleGateway } from './support/example.js';

/** One caller waiting for a unit. */
interface Waiter {
  resolve(): void;
  reject(reason: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** A bucket: the latest rule for its id, grant times inside the window (oldest first), waiters. */
interface LogBucket {
  rule: BucketRule;
  /** The rule's interval plus the margin. */
  window: number;
  grants: number[];
  waiters: Waiter[];
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Options of {@link SlidingLogRateLimiter}. */
export interface SlidingLogOptions {
  /** Told whenever a caller has to wait, and how long the bucket needs until a unit frees. */
  onWait?: (rule: BucketRule, waitMs: number) => void;
  /**
   * Extra ms added to a bucket's window (default none). A limit the other side measures on
   * arrival, like Discord's 5 s between identifies of one bucket, can be broken by network
   * jitter alone: two frames sent exactly 5000 ms apart may arrive 4990 ms apart. A margin of a
   * few hundred ms absorbs that.
   */
  margin?: (rule: BucketRule) => number;
}

/**
 * A {@link RateLimiter} keeping, per bucket, the times of the grants inside the window. A unit is
 * free while fewer than `limit` grants are younger than `interval` ms; waiters are served first
 * come, first served; nothing polls, a bucket's only timer fires when its oldest grant expires.
 *
 * @example
 * ```ts
 * const limiter = new SlidingLogRateLimiter({ onWait: (rule, ms) => console.log(`${rule.id} waits ${ms} ms`) });
 * // identify buckets, and the per-connection buckets of the sessions bot.connect() creates
 * const bot = new Client({ token, intents, rateLimiter: limiter, sessionRateLimiter: limiter });
 * // or for a session you create yourself
 * const session = new Session({ shard: [0, 1], rateLimiter: limiter });
 * ```
 */
export class SlidingLogRateLimiter implements RateLimiter {
  readonly #buckets = new Map<string, LogBucket>();

  constructor(private readonly options: SlidingLogOptions = {}) {}

  /**
   * Waits until the bucket has a free unit, then takes it.
   *
   * @throws the signal's reason when aborted before a unit was granted
   * @throws TypeError when the rule's limit or interval is not positive
   */
  acquire(rule: BucketRule, options: AcquireOptions = {}): Promise<void> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (!(Number.isInteger(rule.limit) && rule.limit > 0 && rule.interval > 0)) {
      return Promise.reject(new TypeError(`bad rule for ${rule.id}: limit and interval must be positive`));
    }
    const bucket = this.#bucket(rule);
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, onAbort: undefined };
      if (signal) {
        waiter.onAbort = () => {
          bucket.waiters = bucket.waiters.filter((w) => w !== waiter);
          reject(signal.reason);
          if (bucket.waiters.length === 0) this.#disarm(bucket);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      bucket.waiters.push(waiter);
      this.#serve(bucket);
      if (bucket.waiters.includes(waiter)) this.options.onWait?.(rule, this.#freesAt(bucket) - Date.now());
    });
  }

  /** A snapshot of the bucket, or undefined if it was never used. */
  async getBucket(id: string): Promise<Bucket | undefined> {
    const bucket = this.#buckets.get(id);
    if (!bucket) return undefined;
    this.#prune(bucket, Date.now());
    const { rule, grants, waiters } = bucket;
    return {
      id,
      limit: rule.limit,
      remaining: Math.max(0, rule.limit - grants.length),
      pending: waiters.length,
      reset: grants.length === 0 ? 0 : grants[0]! + bucket.window,
    };
  }

  #bucket(rule: BucketRule): LogBucket {
    let bucket = this.#buckets.get(rule.id);
    if (!bucket) {
      // New ids come with every new connection; forget the buckets whose window has passed.
      this.#sweep();
      bucket = { rule, window: rule.interval, grants: [], waiters: [], timer: undefined };
      this.#buckets.set(rule.id, bucket);
    }
    // The latest rule wins, so a limit that changes (e.g. a new heartbeat interval) applies at once.
    bucket.rule = rule;
    bucket.window = rule.interval + (this.options.margin?.(rule) ?? 0);
    return bucket;
  }

  #sweep(): void {
    const now = Date.now();
    for (const [id, bucket] of this.#buckets) {
      this.#prune(bucket, now);
      if (bucket.grants.length === 0 && bucket.waiters.length === 0) this.#buckets.delete(id);
    }
  }

  /** When the next unit frees: the grant `limit` places back leaves the window. */
  #freesAt(bucket: LogBucket): number {
    return bucket.grants[bucket.grants.length - bucket.rule.limit]! + bucket.window;
  }

  #prune(bucket: LogBucket, now: number): void {
    const { grants, window } = bucket;
    let expired = 0;
    while (expired < grants.length && grants[expired]! + window <= now) expired++;
    if (expired > 0) grants.splice(0, expired);
  }

  /** Grants units to the waiters at the front while there are free ones; arms the timer for the rest. */
  #serve(bucket: LogBucket): void {
    const now = Date.now();
    this.#prune(bucket, now);
    while (bucket.waiters.length > 0 && bucket.grants.length < bucket.rule.limit) {
      const waiter = bucket.waiters.shift()!;
      if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
      bucket.grants.push(now);
      waiter.resolve();
    }
    if (bucket.waiters.length > 0 && bucket.timer === undefined) {
      bucket.timer = setTimeout(() => {
        bucket.timer = undefined;
        this.#serve(bucket);
      }, Math.max(0, this.#freesAt(bucket) - now));
    }
  }

  #disarm(bucket: LogBucket): void {
    clearTimeout(bucket.timer);
    bucket.timer = undefined;
  }
}

async function main({ simulator, connection }: ExampleGateway): Promise<void> {

  // One limiter in both roles: the bot's identify buckets and every session's connection bucket.
  // Identifies get a 250 ms margin against network jitter (see SlidingLogOptions.margin).
  const limiter = new SlidingLogRateLimiter({
    onWait: (rule, ms) => log(`limiter: ${rule.id} is full; waiting ${ms} ms`),
    margin: (rule) => (rule.id.startsWith('identify:') ? 250 : 0),
  });
  const bot = new Client({
    ...connection,
    intents: GatewayIntentBits.Guilds,
    rateLimiter: limiter,
    sessionRateLimiter: limiter,
  });
  bot.on('error', (error) => log(`error: ${error.message}`));
  simulator?.on('identify', (e) => log(`gateway: shard ${e.shard[0]} identified`));

  const { shards, session_start_limit } = await bot.getGatewayBot();
  log(`connecting ${shards} shards (max_concurrency ${session_start_limit.max_concurrency})...`);
  await bot.connect();
  const sessions = [...bot.sessions.values()];
  log('all shards READY');

  await new UpdateStatusData({ since: null, activities: [{ name: 'a custom limiter', type: 3 }], status: 'online', afk: false }).sendEvents(bot);
  for (const session of sessions) {
    const bucket = await limiter.getBucket(session.connectionBucket!.id);
    log(`shard ${session.shard[0]}: bucket ${bucket!.id}: ${bucket!.remaining} of ${bucket!.limit} frames left this minute`);
  }
  if (simulator) {
    const refused = simulator.frames.filter((f) => f.direction === 'out' && f.op === 9).length;
    log(`gateway: ${simulator.frames.filter((f) => f.direction === 'in' && f.op === 2).length} identifies received, ${refused} refused`);
  }
  const identify = await limiter.getBucket('identify:0');
  log(`identify:0: ${identify?.remaining ?? 1} of ${identify?.limit ?? 1} left, frees at ${identify?.reset ? new Date(identify.reset).toISOString() : 'now'}`);

  await bot.close();
}

// Run only when executed directly, so tests can import the class. The simulator runs two shards
// in one identify bucket (max_concurrency 1), so the limiter has a wait to show.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runExample({ shards: 2, maxConcurrency: 1, guilds: 4 }, main);
}
