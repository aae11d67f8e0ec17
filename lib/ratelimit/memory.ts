import { ruleProblem } from './rule.js';
import type { AcquireOptions, Bucket, BucketRule, RateLimiter } from './types.js';
import { WaiterQueue } from './waiters.js';

/**
 * State of one bucket. `times` holds the grants still inside the window, oldest first from
 * `head`: the bucket has a free unit exactly when fewer than `limit` remain once the expired
 * ones are dropped, which is O(1) amortized whatever the limit. Expired grants are dropped as
 * they are met, so an idle bucket holds a handful of numbers, not `limit` of them.
 */
interface BucketState {
  readonly id: string;
  limit: number;
  interval: number;
  times: number[];
  head: number;
  /** Made on the first wait: most buckets never have a waiter. */
  waiters: WaiterQueue | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Dropped slots at the front of `times` tolerated before it is compacted. */
const COMPACT_AT = 16;

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
 * grants still inside the old window (older ones are already forgotten).
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
    if (waiting(bucket) === 0 && isFree(bucket, now)) {
      bucket.times.push(now);
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
    const used = usedInWindow(bucket, Date.now());
    return Promise.resolve({
      id,
      limit: bucket.limit,
      remaining: bucket.limit - used,
      pending: waiting(bucket),
      reset: used === 0 ? 0 : bucket.times[bucket.head]! + bucket.interval,
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
      if (waiting(bucket) === 0 && usedInWindow(bucket, now) === 0) {
        this.#buckets.delete(id);
        removed++;
      }
    }
    this.#sweepAt = Math.max(MIN_SWEEP_SIZE, this.#buckets.size * 2);
    return removed;
  }

  #create(rule: BucketRule): BucketState {
    if (this.#buckets.size >= this.#sweepAt) this.prune();
    const bucket: BucketState = { id: rule.id, limit: rule.limit, interval: rule.interval, times: [], head: 0, waiters: undefined, timer: undefined };
    this.#buckets.set(rule.id, bucket);
    return bucket;
  }

  #applyRule(bucket: BucketState, rule: BucketRule): BucketState {
    bucket.interval = rule.interval;
    bucket.limit = rule.limit;
    // Under a lowered limit only the newest grants count: they decide when the next unit frees.
    const excess = usedInWindow(bucket, Date.now()) - rule.limit;
    if (excess > 0) bucket.head += excess;
    // Waiters may be servable now (limit raised, interval shortened) or later than the armed timer.
    if (waiting(bucket) > 0) this.#drain(bucket);
    return bucket;
  }

  #enqueue(bucket: BucketState, signal: AbortSignal | undefined): Promise<void> {
    // The next unit frees at the same time whoever waits for it, so an abort leaves the armed
    // timer alone unless nobody is left to serve.
    bucket.waiters ??= new WaiterQueue(() => {
      if (waiting(bucket) === 0) disarm(bucket);
    });
    const promise = bucket.waiters.wait(signal);
    // Normally the armed timer serves this waiter; drain in case a unit freed before the timer
    // fired (timers may run late), so order stays strict without waiting for it.
    if (bucket.timer === undefined || isFree(bucket, Date.now())) this.#drain(bucket);
    return promise;
  }

  /** Serves every waiter a free unit allows, then arms the timer for the next one (if any wait). */
  #drain(bucket: BucketState): void {
    const now = Date.now();
    while (waiting(bucket) > 0 && isFree(bucket, now)) {
      bucket.times.push(now);
      bucket.waiters!.grant();
    }
    disarm(bucket);
    if (waiting(bucket) > 0) {
      bucket.timer = setTimeout(() => {
        bucket.timer = undefined;
        this.#drain(bucket);
      }, waitFor(bucket, now));
    }
  }
}

function waiting(bucket: BucketState): number {
  return bucket.waiters === undefined ? 0 : bucket.waiters.size;
}

function disarm(bucket: BucketState): void {
  if (bucket.timer !== undefined) {
    clearTimeout(bucket.timer);
    bucket.timer = undefined;
  }
}

function isFree(bucket: BucketState, now: number): boolean {
  return usedInWindow(bucket, now) < bucket.limit;
}

/** Drops the grants that left the window and returns how many remain. */
function usedInWindow(bucket: BucketState, now: number): number {
  const { times } = bucket;
  let head = bucket.head;
  while (head < times.length && now - times[head]! >= bucket.interval) head++;
  if (head === times.length) {
    times.length = 0;
    head = 0;
  } else if (head > COMPACT_AT && head * 2 > times.length) {
    times.splice(0, head);
    head = 0;
  }
  bucket.head = head;
  return times.length - head;
}

/**
 * Ms until the oldest grant leaves the window (the bucket is full when this is called). If the
 * wall clock went backwards, grants "from the future" are treated as made now, so a clock step
 * delays the bucket by at most one interval instead of by the size of the step.
 */
function waitFor(bucket: BucketState, now: number): number {
  const { times } = bucket;
  if (times[bucket.head]! > now) {
    for (let i = bucket.head; i < times.length; i++) if (times[i]! > now) times[i] = now;
    return bucket.interval;
  }
  return Math.max(1, times[bucket.head]! + bucket.interval - now);
}
