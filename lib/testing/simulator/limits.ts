/**
 * The gateway's server-side limits, each as a small counter that reads the clock it is given, so
 * fake timers drive them.
 */

/** "At most `limit` events in any `windowMs`", as a ring of the last `limit` timestamps. */
export class SlidingWindow {
  private readonly stamps: Float64Array;
  private count = 0;

  /**
   * @param limit - events allowed in any window
   * @param windowMs - window length in milliseconds
   */
  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {
    this.stamps = new Float64Array(limit);
  }

  /** Records an event at `now`; returns false (and records nothing) when it is one too many. */
  hit(now: number): boolean {
    const slot = this.count % this.limit;
    // The slot holds the event `limit` events ago: if it is still inside the window, this one is over.
    if (this.count >= this.limit && now - (this.stamps[slot] ?? 0) < this.windowMs) return false;
    this.stamps[slot] = now;
    this.count++;
    return true;
  }
}

/** One use per key per `intervalMs` (identify concurrency buckets, member-list requests). */
export class Cooldowns {
  private readonly last = new Map<string, number>();

  /** @param intervalMs - how long a key stays blocked after a use */
  constructor(readonly intervalMs: number) {}

  /** Uses `key` at `now` and returns 0, or returns the milliseconds left without using it. */
  take(key: string, now: number): number {
    const last = this.last.get(key);
    if (last !== undefined && now - last < this.intervalMs) return this.intervalMs - (now - last);
    this.last.set(key, now);
    return 0;
  }

  /** Forgets every use. */
  clear(): void {
    this.last.clear();
  }
}

/**
 * Snapshot of the daily identify budget in `/gateway/bot`'s shape (protocol §1.1).
 *
 * @category Testing
 */
export interface SessionStartLimitSnapshot {
  /** Session starts per window. */
  total: number;
  /** Starts left. */
  remaining: number;
  /** Milliseconds until `remaining` is refilled. */
  reset_after: number;
  /** Identifies allowed per 5 s (one per bucket `shard_id % max_concurrency`). */
  max_concurrency: number;
}

/** The daily session-start budget: `remaining` counts down per identify and refills at the reset. */
export class SessionStartBudget {
  private resetAt: number;

  /**
   * @param total - session starts per window
   * @param remaining - starts left now
   * @param resetAfter - milliseconds until the first refill
   * @param windowMs - length of every later window (24 h on Discord)
   * @param now - the current time
   */
  constructor(
    readonly total: number,
    private remaining: number,
    resetAfter: number,
    private readonly windowMs: number,
    now: number,
  ) {
    this.resetAt = now + resetAfter;
  }

  private refresh(now: number): void {
    if (now < this.resetAt) return;
    this.remaining = this.total;
    this.resetAt = now + this.windowMs;
  }

  /** Spends one start; false when none is left. */
  take(now: number): boolean {
    this.refresh(now);
    if (this.remaining <= 0) return false;
    this.remaining--;
    return true;
  }

  /** The budget as `/gateway/bot` reports it. */
  snapshot(now: number, maxConcurrency: number): SessionStartLimitSnapshot {
    this.refresh(now);
    return { total: this.total, remaining: this.remaining, reset_after: this.resetAt - now, max_concurrency: maxConcurrency };
  }
}
