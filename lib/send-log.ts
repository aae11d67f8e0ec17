/**
 * Times of the last `capacity` frames written on one connection: the ground truth behind
 * `Session.getRateLimitStatus()` and the guard that keeps server-requested heartbeats inside
 * the 120-per-60 s budget. A fixed ring, so recording a frame allocates nothing.
 */
export class SendLog {
  private readonly times: Float64Array;
  private next = 0;
  private size = 0;

  constructor(private readonly capacity: number, private readonly windowMs: number) {
    this.times = new Float64Array(capacity);
  }

  record(now: number): void {
    this.times[this.next] = now;
    this.next = (this.next + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
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
