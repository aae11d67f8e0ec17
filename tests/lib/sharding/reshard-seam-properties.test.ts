/**
 * Properties of the reshard seam over many random interleavings (seeded, so every run sees the
 * same ones): both shard sets receive each guild's events in order, each set at its own pace,
 * and handlers must see every event once, in each guild's order.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Session } from '../../../lib/index.js';
import { ReshardSeam } from '../../../lib/sharding/reshard-seam.js';

const SEEDS = 300;
const EVENTS_PER_GUILD = 20;
/** Guilds on new shards 0, 1 and 0 of 2, and guildless events (shard 0). */
const GUILDS = ['0', String(1n << 22n), String(2n << 22n), ''];

/** A small deterministic generator (an LCG): the same seed, the same run. */
function random(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
}

interface Scenario {
  readonly old: Session;
  readonly fresh: readonly Session[];
  readonly seam: ReshardSeam;
  /** What the handlers saw, per guild. */
  readonly seen: Map<string, string[]>;
  /** Routes one event of `guild` from the old or the new set, recording it when delivered. */
  route(side: 'old' | 'new', guild: string, value: string): void;
}

function scenario(limits = {}): Scenario {
  const old = new Session({ shard: [0, 1] });
  const fresh = [new Session({ shard: [0, 2] }), new Session({ shard: [1, 2] })];
  const seen = new Map<string, string[]>();
  const record = (payload: unknown): void => {
    const { v, guild_id = '' } = payload as { v: string; guild_id?: string };
    seen.set(guild_id, [...(seen.get(guild_id) ?? []), v]);
  };
  const seam = new ReshardSeam(fresh, new Map([[0, old]]), (_event, payload) => record(payload), limits);
  for (const session of fresh) seam.identifying(session);
  return {
    old, fresh, seam, seen,
    route(side, guild, value) {
      const payload = guild === '' ? { v: value } : { v: value, guild_id: guild };
      const session = side === 'old' ? old : fresh[guild === String(1n << 22n) ? 1 : 0]!;
      if (seam.route('MESSAGE_CREATE', payload, session)) record(payload);
    },
  };
}

describe('ReshardSeam properties', () => {
  // Two values only: most payloads repeat, so matching must go by each guild's order.
  for (const values of [EVENTS_PER_GUILD, 2]) {
    for (const swapAt of [1, 0.6]) {
      it(`both sets get everything: each event once, in order (${values} distinct payloads per guild, swap after ${swapAt * 100}% of the old set)`, () => {
        for (let seed = 1; seed <= SEEDS; seed++) {
          const next = random(seed);
          const { seam, seen, route } = scenario();
          const streams = GUILDS.map((_, g) => Array.from({ length: EVENTS_PER_GUILD }, (__, i) => String(values === 2 ? Math.floor(next() * 2) : i)));
          const at = { old: GUILDS.map(() => 0), new: GUILDS.map(() => 0) };
          let oldDelivered = 0;
          let swapped = false;
          const done = (side: 'old' | 'new'): boolean => at[side].every((n) => n === EVENTS_PER_GUILD);
          while (!done('new') || (!swapped && !done('old'))) {
            if (!swapped && oldDelivered >= swapAt * GUILDS.length * EVENTS_PER_GUILD) {
              seam.swap();
              swapped = true;
            }
            const side = next() < 0.5 ? 'old' : 'new';
            const g = Math.floor(next() * GUILDS.length);
            if ((side === 'old' && swapped) || at[side][g]! === EVENTS_PER_GUILD) continue;
            const value = streams[g]![at[side][g]!++]!;
            if (side === 'old') oldDelivered++;
            route(side, GUILDS[g]!, value);
          }
          if (!swapped) seam.swap();
          GUILDS.forEach((guild, g) => assert.deepEqual(seen.get(guild) ?? [], streams[g], `seed ${seed}, guild ${JSON.stringify(guild)}`));
          if (swapAt === 1) assert.equal(seam.finished, true, `seed ${seed}: nothing left waiting after the swap`);
        }
      });
    }
  }

  for (const maxHeld of [100_000, 3]) {
    it(`the old set misses some events: each still arrives once (hold timer on, at most ${maxHeld} waiting)`, (t) => {
      t.mock.timers.enable({ apis: ['Date', 'setTimeout'] });
      for (let seed = 1; seed <= SEEDS; seed++) {
        const next = random(seed);
        const { seam, seen, route } = scenario({ maxHeld });
        const streams = GUILDS.map((_, g) => Array.from({ length: EVENTS_PER_GUILD }, (__, i) => ({ value: `${g}:${i}`, missedByOld: next() < 0.15 })));
        const at = { old: GUILDS.map(() => 0), new: GUILDS.map(() => 0) };
        const done = (side: 'old' | 'new'): boolean => at[side].every((n) => n === EVENTS_PER_GUILD);
        while (!done('old') || !done('new')) {
          if (next() < 0.1) t.mock.timers.tick(Math.floor(next() * 6000));
          const side = next() < 0.5 ? 'old' : 'new';
          const g = Math.floor(next() * GUILDS.length);
          if (at[side][g]! === EVENTS_PER_GUILD) continue;
          const event = streams[g]![at[side][g]!++]!;
          if (side === 'old' && event.missedByOld) continue;
          route(side, GUILDS[g]!, event.value);
        }
        t.mock.timers.tick(20_000);
        seam.swap();
        const counts = new Map<string, number>();
        for (const values of seen.values()) for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
        const wrong = streams.flat().filter((e) => counts.get(e.value) !== 1).map((e) => `${e.value} x${counts.get(e.value) ?? 0}`);
        assert.deepEqual(wrong, [], `seed ${seed}`);
      }
    });
  }
});
