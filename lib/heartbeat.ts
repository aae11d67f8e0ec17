/** What the heartbeater needs from the owner of its connection. */
export interface HeartbeatTarget {
  /** Writes an op 1 frame now. */
  sendHeartbeat(): void;
  /** No ACK arrived between two beats: the connection is a zombie. */
  heartbeatMissed(): void;
}

/**
 * Keeps one connection alive (protocol §1.5): the first beat after `interval * random()`, then
 * one every `interval`; a beat that finds the previous one unacknowledged reports a zombie
 * instead of beating. Only op 11 counts as an ACK, never other inbound traffic. One instance
 * per connection, so no state leaks into the next one.
 *
 * A first beat that falls due before the connection's Identify or Resume is written waits for
 * {@link Heartbeater.release} (protocol §1.6: a payload before Identify may close with 4003), but
 * never past one `interval` after {@link Heartbeater.start}, so a handshake held up by the
 * identify bucket cannot make the gateway miss its heartbeat (4009) either.
 */
export class Heartbeater {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private acked = true;
  /** When the oldest beat still waiting for its ACK was sent (meaningless while `acked`). */
  private unackedSince = 0;
  private sentAt = 0;
  /** When the next scheduled beat is due, epoch ms (0 when stopped). */
  nextBeatAt = 0;
  /** Round trip of the last acknowledged beat, in ms (`-1` before the first ACK). */
  latency = -1;
  /** Until the handshake is written, beats wait until this time at the latest (epoch ms). */
  private holdUntil = 0;
  private released = false;
  /** A beat fell due while held: it goes out on release. */
  private waiting = false;
  /** After stop() nothing beats again: the connection is gone. */
  private stopped = false;

  constructor(readonly interval: number, private readonly target: HeartbeatTarget, private readonly random: () => number = Math.random) {}

  /** Schedules the jittered first beat. */
  start(): void {
    this.holdUntil = Date.now() + this.interval;
    this.schedule(Math.floor(this.interval * this.random()));
  }

  /** The handshake (Identify or Resume) is written: a beat held for it goes out now. */
  release(): void {
    if (this.released || this.stopped) return;
    this.released = true;
    if (!this.waiting) return;
    this.waiting = false;
    this.send();
    this.schedule(this.interval);
  }

  /** Records an op 11. */
  ack(): void {
    this.acked = true;
    if (this.sentAt) this.latency = Date.now() - this.sentAt;
  }

  /**
   * Answers a server op 1 at once; the regular schedule continues from now. A beat left
   * unacknowledged for a whole interval still means a zombie: requests must not keep a dead
   * connection looking alive.
   */
  beatNow(): void {
    if (this.stopped) return;
    if (!this.acked && Date.now() - this.unackedSince >= this.interval) {
      this.failed();
      return;
    }
    this.send();
    this.schedule(this.interval);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.nextBeatAt = 0;
  }

  private schedule(delay: number): void {
    clearTimeout(this.timer);
    this.nextBeatAt = Date.now() + delay;
    this.timer = setTimeout(this.tick, delay);
  }

  private readonly tick = (): void => {
    if (!this.acked) {
      this.failed();
      return;
    }
    const now = Date.now();
    if (!this.released && now < this.holdUntil) {
      this.waiting = true;
      this.schedule(this.holdUntil - now);
      return;
    }
    this.waiting = false;
    this.send();
    this.schedule(this.interval);
  };

  private failed(): void {
    this.stop();
    this.target.heartbeatMissed();
  }

  private send(): void {
    const now = Date.now();
    if (this.acked) this.unackedSince = now;
    this.acked = false;
    this.sentAt = now;
    this.target.sendHeartbeat();
  }
}

/**
 * Beats per minute the per-connection budget keeps free for heartbeats: one per interval that
 * fits in 60 s, plus one for the jittered first beat or a server-requested beat. 3 at 41250 ms,
 * leaving 117 frames a minute for everything else (design §4).
 *
 * @param interval - the `heartbeat_interval` from Hello, in ms
 * @param windowMs - the rate-limit window, in ms (Discord's is 60 s)
 * @example
 * ```ts
 * heartbeatReserve(41250);       // 3
 * 120 - heartbeatReserve(41250); // 117 frames a minute for send events
 * ```
 *
 * @category Rate limiting
 */
export function heartbeatReserve(interval: number, windowMs = 60_000): number {
  return Math.ceil(windowMs / interval) + 1;
}
