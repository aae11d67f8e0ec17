/**
 * Helpers for the end-to-end tests of send events and rate limits: reading the simulator's frame
 * log and moving fake time without letting socket I/O fall behind it.
 */
import { mock } from 'node:test';
import type { GatewaySimulator, SimulatorFrame } from '../../lib/testing/index.js';
import { settle } from './gateway.js';

/** Discord's per-connection frame window (protocol §4.1), as the simulator counts arrivals. */
export const WINDOW = 60_000;
/** The window a session counts its frames in: Discord's, 1/60 longer (lib/session.ts). */
export const SESSION_WINDOW = 61_000;

/** Frames the client sent (direction `in`), optionally of one opcode and one connection. */
export function sent(sim: GatewaySimulator, filter: { op?: number; connection?: number } = {}): SimulatorFrame[] {
  return sim.frames.filter((f) => f.direction === 'in'
    && (filter.op === undefined || f.op === filter.op)
    && (filter.connection === undefined || f.connection === filter.connection));
}

/** Frames the simulator sent (direction `out`) that are dispatches named `t`. */
export function dispatched(sim: GatewaySimulator, t: string): SimulatorFrame[] {
  return sim.frames.filter((f) => f.direction === 'out' && f.op === 0 && f.t === t);
}

/** The most timestamps that fall in any half-open window `[x, x + windowMs)`. */
export function maxInWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let first = 0, last = 0; first < sorted.length; first++) {
    while (last < sorted.length && sorted[last]! < sorted[first]! + windowMs) last++;
    best = Math.max(best, last - first);
  }
  return best;
}

/**
 * Lets real I/O run until the simulator's frame log has not grown for `quietTurns` turns of the
 * event loop. Fake time does not move, so frames written at a fake instant are logged with that
 * instant: the next tick cannot make them look later (and closer to the frames after them) than
 * they were.
 */
export async function quiesce(sim: GatewaySimulator, quietTurns = 15): Promise<void> {
  let seen = -1;
  let quiet = 0;
  while (quiet < quietTurns) {
    await settle(1);
    if (sim.frames.length === seen) quiet++;
    else {
      seen = sim.frames.length;
      quiet = 0;
    }
  }
}

/**
 * Advances fake time by `ms` in steps of at most `step`, letting the simulator's I/O go quiet
 * after each step (see {@link quiesce}).
 */
export async function advanceQuietly(sim: GatewaySimulator, ms: number, step = 1000): Promise<void> {
  await quiesce(sim);
  for (let done = 0; done < ms; done += step) {
    mock.timers.tick(Math.min(step, ms - done));
    await quiesce(sim);
  }
}

/**
 * Advances fake time in steps of `step` until `condition` holds, letting I/O go quiet after each
 * step; throws after `max` ms of fake time.
 */
export async function advanceQuietlyUntil(
  sim: GatewaySimulator, condition: () => boolean, what: string, { step = 1000, max = 600_000 } = {},
): Promise<void> {
  await quiesce(sim);
  for (let done = 0; !condition(); done += step) {
    if (done > max) throw new Error(`${what}: not reached within ${max} ms of fake time`);
    mock.timers.tick(step);
    await quiesce(sim);
  }
}

/** Frames of op 3 carry their index in `since`, so order and completeness can be read back. */
export function presenceIndexes(frames: readonly SimulatorFrame[]): number[] {
  return frames.map((f) => (f.d as { since: number }).since);
}
