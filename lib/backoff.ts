/**
 * Delays between failed connection attempts: exponential from `base` doubling to `max`, with
 * "equal jitter" (half fixed, half random) so many shards that failed together do not retry
 * in lockstep, while every delay stays at least half the nominal one.
 */
export class Backoff {
  private failures = 0;

  constructor(private readonly base = 1000, private readonly max = 60_000, private readonly random: () => number = Math.random) {}

  /** Consecutive failures recorded since the last {@link Backoff.reset}. */
  get attempts(): number {
    return this.failures;
  }

  /** Records a failure and returns how long to wait before the next attempt, in ms. */
  next(): number {
    const nominal = Math.min(this.max, this.base * 2 ** this.failures);
    this.failures++;
    return Math.round(nominal / 2 + (nominal / 2) * this.random());
  }

  /** Called when a connection reached READY or RESUMED. */
  reset(): void {
    this.failures = 0;
  }
}
