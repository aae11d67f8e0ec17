/**
 * Times of the frames written on one connection within the last window: the ground truth
 * behind `Session.getRateLimitStatus()` and the gate that keeps every window at or under
 * `capacity` frames, heartbeats included. Only frames still inside the window are kept, oldest
 * first, so an idle connection that beats every 41 s holds two or three numbers.
 *
 * Times are kept non-decreasing: a frame recorded after the wall clock stepped back counts as
 * written at the previous frame's time, which only keeps it in the window longer (the safe
 * side), and lets every query be a binary search.
 */
export class SendLog {
  private times: number[] = [];
  /** Index of the oldest kept frame; the slots before it are dropped in batches. */
  private head = 0;

  constructor(private readonly capacity: number, private readonly windowMs: number) {}

  record(now: number): void {
    const times = this.times;
    const last = times.length > this.head ? times[times.length - 1]! : -Infinity;
    let head = this.firstAfter(now - this.windowMs);
    if (times.length - head >= this.capacity) head = times.length - this.capacity + 1;
    if (head > 16 && head * 2 > times.length) {
      times.splice(0, head);
      head = 0;
    }
    this.head = head;
    times.push(Math.max(now, last));
  }

  /** Frames written within the window ending at `now`. */
  count(now: number): number {
    return this.times.length - this.firstAfter(now - this.windowMs);
  }

  /** When the oldest frame still in the window leaves it (0 when the window is empty). */
  resetTime(now: number): number {
    const first = this.firstAfter(now - this.windowMs);
    return first === this.times.length ? 0 : this.times[first]! + this.windowMs;
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
    for (let at = nextBeat; nextBeat > 0 && interval > 0 && at < now + this.windowMs; at += interval) {
      beats++;
      if (this.count(at) + 1 + beats > this.capacity) return false;
    }
    return true;
  }

  clear(): void {
    this.times = [];
    this.head = 0;
  }

  /** Index of the first kept frame written after `time` (the length when none). */
  private firstAfter(time: number): number {
    let low = this.head;
    let high = this.times.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.times[mid]! > time) high = mid;
      else low = mid + 1;
    }
    return low;
  }
}
