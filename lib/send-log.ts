/**
 * Times of the frames written on one connection within the last window: the ground truth
 * behind `Session.getRateLimitStatus()` and the guard that keeps server-requested heartbeats
 * inside the 120-per-60 s budget. Only frames still inside the window are kept (oldest first),
 * so an idle connection that beats every 41 s holds two or three numbers, not `capacity`.
 */
export class SendLog {
  private times: number[] = [];
  /** Index of the oldest kept frame; the slots before it are dropped in batches. */
  private head = 0;

  constructor(private readonly capacity: number, private readonly windowMs: number) {}

  record(now: number): void {
    const times = this.times;
    let head = this.head;
    while (head < times.length && (times[head]! <= now - this.windowMs || times.length - head >= this.capacity)) head++;
    if (head > 16 && head * 2 > times.length) {
      times.splice(0, head);
      head = 0;
    }
    this.head = head;
    times.push(now);
  }

  /** Frames written within the window ending at `now`. */
  count(now: number): number {
    let n = 0;
    // A full scan, not a search: after a wall-clock step backwards the times are not sorted.
    for (let i = this.head; i < this.times.length; i++) if (this.times[i]! > now - this.windowMs) n++;
    return n;
  }

  /** When the oldest frame still in the window leaves it (0 when the window is empty). */
  resetTime(now: number): number {
    let oldest = Infinity;
    for (let i = this.head; i < this.times.length; i++) {
      const t = this.times[i]!;
      if (t > now - this.windowMs && t < oldest) oldest = t;
    }
    return oldest === Infinity ? 0 : oldest + this.windowMs;
  }

  /**
   * Whether one more frame written at `now` keeps every window at or under `capacity`, given
   * the heartbeats still to come: one at `nextBeat`, then one every `interval` (`nextBeat` 0:
   * none). Only the ends of future windows at those beats can be fuller than the window
   * ending now, as frames only leave in between.
   */
  fits(now: number, nextBeat: number, interval: number): boolean {
    if (this.count(now) + 1 > this.capacity) return false;
    let beats = 0;
    for (let at = nextBeat; nextBeat > 0 && at < now + this.windowMs; at += interval) {
      beats++;
      if (this.count(at) + 1 + beats > this.capacity) return false;
    }
    return true;
  }

  clear(): void {
    this.times = [];
    this.head = 0;
  }
}
