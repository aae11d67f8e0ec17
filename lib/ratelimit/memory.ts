import { ruleProblem } from './rule.js';
import type { AcquireOptions, Bucket, BucketRule, RateLimiter } from './types.js';
import { WaiterQueue } from './waiters.js';

/**
 * State of one bucket. `ring` holds the timestamps of the last `count` (at most `limit`) grants,
 * oldest at `head`: the window is full exactly when `count === limit` and the oldest of them is
 * younger than `interval`, so checking for a free unit is O(1) whatever the limit. The ring has
 * exactly `limit` slots once `count` reaches `limit`.
 */
interface BucketState {
  readonly id: string;
  limit: number;
  interval: number;
  ring: Float64Array;
  head: number;
  count: number;
  readonly waiters: WaiterQueue;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Ring slots allocated up front; the ring doubles up to `limit` as grants come, so a daily
 * budget of thousands of units costs memory only once it is used.
 */
const INITIAL_RING = 16;

/** Below this many buckets the limiter never sweeps; sweeping tiny maps buys nothing. */
const MIN_SWEEP_SIZE = 64;

/**
 * The default {@link RateLimiter}: sliding-window buckets held in this process's memory.
 *
 * Within any `rule.interval` ms it grants at most `rule.limit` units per bucket. Waiters of a
 * bucket are served strictly in order; each bucket has at most one timer, armed only while it
 * has waiters, for exactly when the next unit frees. Idle buckets (no waiters, window passed)
 * are pruned lazily, so one bucket per connection (`gateway:<shard>:<n>`) does not pile up
 * over weeks of reconnects.
 *
 * A rule may change between calls for the same id: a lowered limit keeps the newest grants
 * and waits for them, a raised limit frees units at once, a new interval applies to the
 * grants already made.
 *
 * @example
 * ```ts
 * const limiter = new MemoryRateLimiter();
 * const rule = { id: 'gateway:0:1', limit: 117, interval: 60_000 };
 * await limiter.acquire(rule);                        // free capacity: resolves at once
 * const bucket = await limiter.getBucket(rule.id);    // { limit: 117, remaining: 116, pending: 0, ... }
 * ```
 *
 * @category Rate limiting
 */
export class MemoryRateLimiter implements RateLimiter {
  readonly #buckets = new Map<string, BucketState>();
  /** Number of buckets at which the next new bucket triggers a sweep (amortized O(1) pruning). */
  #sweepAt = MIN_SWEEP_SIZE;

  /**
   * Waits until one unit of `rule.id` is free, then takes it.
   *
   * @param rule - the bucket and its limit; the latest rule passed for an id wins
   * @param options - `signal` withdraws the call: it rejects with `signal.reason`
   * @returns a promise that resolves once the unit is taken
   * @throws InvalidOptionError (as a rejection) when `limit` is not a positive integer or
   *   `interval` not a positive finite number
   */
  acquire(rule: BucketRule, options?: AcquireOptions): Promise<void> {
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    let bucket = this.#buckets.get(rule.id);
    if (bucket === undefined || bucket.limit !== rule.limit || bucket.interval !== rule.interval) {
      const problem = ruleProblem(rule);
      if (problem) return Promise.reject(problem);
      bucket = bucket === undefined ? this.#create(rule) : this.#applyRule(bucket, rule);
    }
    const now = Date.now();
    if (bucket.waiters.size === 0 && isFree(bucket, now)) {
      take(bucket, now);
      return Promise.resolve();
    }
    return this.#enqueue(bucket, signal);
  }

  /**
   * Snapshot of a bucket.
   *
   * @param id - the bucket's id
   * @returns the bucket's state now, or undefined if it was never used (or was pruned while idle)
   */
  getBucket(id: string): Promise<Bucket | undefined> {
    const bucket = this.#buckets.get(id);
    if (bucket === undefined) return Promise.resolve(undefined);
    const now = Date.now();
    const used = usedInWindow(bucket, now);
    const oldest = bucket.ring[(bucket.head + bucket.count - used) % bucket.ring.length] ?? 0;
    return Promise.resolve({
      id,
      limit: bucket.limit,
      remaining: bucket.limit - used,
      pending: bucket.waiters.size,
      reset: used === 0 ? 0 : oldest + bucket.interval,
    });
  }

  /**
   * Forgets every bucket that has no waiters and nothing taken within its window (such a
   * bucket behaves exactly like a new one). Runs by itself whenever the number of buckets has
   * doubled since the last sweep; call it to reclaim memory sooner.
   *
   * @returns how many buckets were removed
   */
  prune(): number {
    const now = Date.now();
    let removed = 0;
    for (const [id, bucket] of this.#buckets) {
      if (bucket.waiters.size === 0 && usedInWindow(bucket, now) === 0) {
        this.#buckets.delete(id);
        removed++;
      }
    }
    this.#sweepAt = Math.max(MIN_SWEEP_SIZE, this.#buckets.size * 2);
    return removed;
  }

  #create(rule: BucketRule): BucketState {
    if (this.#buckets.size >= this.#sweepAt) this.prune();
    const bucket: BucketState = {
      id: rule.id,
      limit: rule.limit,
      interval: rule.interval,
      ring: new Float64Array(Math.min(rule.limit, INITIAL_RING)),
      head: 0,
      count: 0,
      // The next unit frees at the same time whoever waits for it, so an abort leaves the armed
      // timer alone unless nobody is left to serve.
      waiters: new WaiterQueue(() => {
        if (bucket.waiters.size === 0) disarm(bucket);
      }),
      timer: undefined,
    };
    this.#buckets.set(rule.id, bucket);
    return bucket;
  }

  #applyRule(bucket: BucketState, rule: BucketRule): BucketState {
    if (bucket.limit !== rule.limit) {
      // Keep the newest grants that fit the new limit: they are the ones that decide when the
      // next unit frees under it.
      const keep = Math.min(bucket.count, rule.limit);
      const ring = new Float64Array(Math.min(rule.limit, Math.max(INITIAL_RING, keep)));
      for (let i = 0; i < keep; i++) {
        ring[i] = bucket.ring[(bucket.head + bucket.count - keep + i) % bucket.ring.length] ?? 0;
      }
      bucket.ring = ring;
      bucket.head = 0;
      bucket.count = keep;
      bucket.limit = rule.limit;
    }
    bucket.interval = rule.interval;
    // Waiters may be servable now (limit raised, interval shortened) or later than the armed timer.
    if (bucket.waiters.size > 0) this.#drain(bucket);
    return bucket;
  }

  #enqueue(bucket: BucketState, signal: AbortSignal | undefined): Promise<void> {
    const promise = bucket.waiters.wait(signal);
    // Normally the armed timer serves this waiter; drain in case a unit freed before the timer
    // fired (timers may run late), so order stays strict without waiting for it.
    if (bucket.timer === undefined || isFree(bucket, Date.now())) this.#drain(bucket);
    return promise;
  }

  /** Serves every waiter a free unit allows, then arms the timer for the next one (if any wait). */
  #drain(bucket: BucketState): void {
    const now = Date.now();
    while (bucket.waiters.size > 0 && isFree(bucket, now)) {
      take(bucket, now);
      bucket.waiters.grant();
    }
    disarm(bucket);
    if (bucket.waiters.size > 0) {
      bucket.timer = setTimeout(() => {
        bucket.timer = undefined;
        this.#drain(bucket);
      }, waitFor(bucket, now));
    }
  }
}

function disarm(bucket: BucketState): void {
  if (bucket.timer !== undefined) {
    clearTimeout(bucket.timer);
    bucket.timer = undefined;
  }
}

function isFree(bucket: BucketState, now: number): boolean {
  return bucket.count < bucket.limit || now - (bucket.ring[bucket.head] ?? 0) >= bucket.interval;
}

function take(bucket: BucketState, now: number): void {
  if (bucket.count < bucket.limit) {
    if (bucket.count === bucket.ring.length) grow(bucket);
    bucket.ring[(bucket.head + bucket.count) % bucket.ring.length] = now;
    bucket.count++;
  } else {
    bucket.ring[bucket.head] = now;
    bucket.head = (bucket.head + 1) % bucket.ring.length;
  }
}

/** Doubles the ring (up to `limit` slots), oldest grant first. Only while the ring is full and below the limit. */
function grow(bucket: BucketState): void {
  const ring = new Float64Array(Math.min(bucket.limit, bucket.ring.length * 2));
  for (let i = 0; i < bucket.count; i++) ring[i] = bucket.ring[(bucket.head + i) % bucket.ring.length] ?? 0;
  bucket.ring = ring;
  bucket.head = 0;
}

/**
 * Ms until the oldest grant leaves the window (the bucket is full when this is called). If the
 * wall clock went backwards, grants "from the future" are treated as made now, so a clock step
 * delays the bucket by at most one interval instead of by the size of the step.
 */
function waitFor(bucket: BucketState, now: number): number {
  const oldest = bucket.ring[bucket.head] ?? 0;
  if (oldest > now) {
    for (let i = 0; i < bucket.count; i++) {
      const at = (bucket.head + i) % bucket.ring.length;
      if ((bucket.ring[at] ?? 0) > now) bucket.ring[at] = now;
    }
    return bucket.interval;
  }
  return Math.max(1, oldest + bucket.interval - now);
}

/** Grants of the last `interval` ms (the ring is oldest-first, so scan from the oldest). */
function usedInWindow(bucket: BucketState, now: number): number {
  let expired = 0;
  while (expired < bucket.count && now - (bucket.ring[(bucket.head + expired) % bucket.ring.length] ?? 0) >= bucket.interval) {
    expired++;
  }
  return bucket.count - expired;
}
