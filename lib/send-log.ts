/**
 * Times of the last `capacity` frames written on one connection: the ground truth behind
 * `Session.getRateLimitStatus()` and the guard that keeps server-requested heartbeats inside
 * the 120-per-60 s budget. A ring that starts small (an idle connection sends two or three
 * frames a minute) and grows to `capacity`; after that, recording allocates nothing.
 */
export class SendLog {
  private times = new Float64Array(8);
  private next = 0;
  private size = 0;

  constructor(private readonly capacity: number, private readonly windowMs: number) {}

  record(now: number): void {
    if (this.size === this.times.length && this.size < this.capacity) {
      // Unroll the full ring oldest-first into a larger one.
      const grown = new Float64Array(Math.min(this.capacity, this.times.length * 2));
      grown.set(this.times.subarray(this.next), 0);
      grown.set(this.times.subarray(0, this.next), this.times.length - this.next);
      this.next = this.size;
      this.times = grown;
    }
    this.times[this.next] = now;
    this.next = (this.next + 1) % this.times.length;
    if (this.size < this.times.length) this.size++;
  }

  /** Frames written within the window ending at `now`. */
  count(now: number): number {
    let n = 0;
    for (let i = 0; i < this.size; i++) if (this.times[i]! > now - this.windowMs) n++;
    return n;
  }

  /** When the oldest frame still in the window leaves it (0 when the window is empty). */
  resetTime(now: number): number {
    let oldest = Infinity;
    for (let i = 0; i < this.size; i++) {
      const t = this.times[i]!;
      if (t > now - this.windowMs && t < oldest) oldest = t;
    }
    return oldest === Infinity ? 0 : oldest + this.windowMs;
  }

  clear(): void {
    this.next = 0;
    this.size = 0;
  }
}
