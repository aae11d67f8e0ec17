/**
 * A snapshot of one rate-limit bucket.
 *
 * @example
 * ```ts
 * const bucket = await session.rateLimiter.getBucket(session.connectionBucket.id);
 * console.log(`${bucket?.remaining} of ${bucket?.limit} frames left`);
 * ```
 *
 * @category Rate limiting
 */
export interface Bucket {
  /** The bucket's id, e.g. `identify:0` or `gateway:3:1`. */
  readonly id: string;
  /** Units per window. */
  limit: number;
  /** Units left in the current window. */
  remaining: number;
  /** Callers waiting (in this process, for shared limiters). */
  pending: number;
  /** Epoch ms when the window frees a unit (0 = idle: nothing taken within the window). */
  reset: number;
}

/**
 * Names a bucket and its limit: `limit` units per `interval` ms, as a sliding window.
 *
 * @category Rate limiting
 */
export interface BucketRule {
  /** The bucket's id. Buckets with the same id share their units. */
  id: string;
  /** Units per window. */
  limit: number;
  /** Window length, in ms. */
  interval: number;
}

/**
 * Options of {@link RateLimiter.acquire}.
 *
 * @category Rate limiting
 */
export interface AcquireOptions {
  /** Aborting removes the caller from the queue and rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Hands out units of buckets. Implementations must never grant more than `rule.limit` units
 * within any `rule.interval` ms window, serve waiters of one bucket in order, and wait
 * without busy-looping. `disgate/testing`'s `testRateLimiter` checks all of that.
 *
 * @example
 * ```ts
 * const limiter: RateLimiter = new MemoryRateLimiter();
 * await limiter.acquire({ id: 'identify:0', limit: 1, interval: 5000 });
 * ```
 *
 * @category Rate limiting
 */
export interface RateLimiter {
  /**
   * Wait until one unit of the bucket is free, then take it.
   *
   * @param rule - the bucket and its limit
   * @param options - `signal`: aborting removes the caller from the queue
   */
  acquire(rule: BucketRule, options?: AcquireOptions): Promise<void>;
  /**
   * Snapshot of a bucket, or undefined if never used.
   *
   * @param id - the bucket's id
   */
  getBucket(id: string): Promise<Bucket | undefined>;
}
