import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayCloseCodes, GatewayOpcodes, IDENTIFY_INTERVAL_MS } from '../../../lib/index.js';
import { harness, type Harness } from '../../helpers/gateway.js';

/**
 * During a live reshard two sessions share each shard id (the old set's and the new set's).
 * The group gates of a start (protocol §4.2: groups start in order) belong to the sessions
 * of that start: an old-set shard that identifies again must neither wait for the new set's
 * groups nor, with its own identify slot, let a new-set group start early.
 */

const SPACING = IDENTIFY_INTERVAL_MS;
/** Fake-time step: an identify granted mid-step reaches the simulator (real I/O) at the step's end. */
const STEP = 50;
let h: Harness | undefined;

afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

interface Seen {
  shard: readonly [number, number];
  at: number;
}

/** Identifies the simulator accepted, and when each identifying connection opened. */
function record(hh: Harness): { identified: Seen[]; opened: Seen[] } {
  const identified: Seen[] = [];
  const opened: Seen[] = [];
  const openedAt = new Map<number, number>();
  hh.sim.on('connection', (e) => openedAt.set(e.connection, Date.now()));
  hh.sim.on('identify', (e) => {
    identified.push({ shard: e.shard, at: Date.now() });
    opened.push({ shard: e.shard, at: openedAt.get(e.connection)! });
  });
  return { identified, opened };
}

function refusals(hh: Harness): number {
  return hh.sim.frames.filter((f) => f.direction === 'out' && f.op === GatewayOpcodes.InvalidSession).length;
}

/** Runs `promise` on fake time until it settles; rethrows its rejection. */
async function onFakeTime(hh: Harness, promise: Promise<void>, what: string): Promise<void> {
  let outcome: { ok: true } | { ok: false; error: unknown } | undefined;
  promise.then(() => { outcome = { ok: true }; }, (error: unknown) => { outcome = { ok: false, error }; });
  await hh.advanceUntil(() => outcome !== undefined, what, { step: STEP, max: 120_000 });
  if (outcome && !outcome.ok) throw outcome.error;
}

function find(list: readonly Seen[], shard: readonly [number, number]): Seen {
  const found = list.find((x) => x.shard[0] === shard[0] && x.shard[1] === shard[1]);
  assert.ok(found, `shard [${shard.join(', ')}] identified`);
  return found;
}

describe('reshard: group gates belong to the sessions of one start', () => {
  it('an old-set shard identifying again does not wait for the new set\'s groups', async () => {
    // max_concurrency 1: every shard is its own group, all on bucket key 0.
    h = await harness({ sim: { shards: 8, maxConcurrency: 1, guilds: 8 }, client: { shards: 4 } });
    await onFakeTime(h, h.bot.connect(), 'bot.connect()');
    await h.advance(SPACING, STEP);
    const { identified } = record(h);
    const old3 = h.bot.sessions.get(3)!;

    const start = Date.now();
    const resharding = h.bot.reshard(8);
    // The old set's shard 3 loses its session as the new set starts: it must identify again.
    assert.equal(h.sim.closeWith(GatewayCloseCodes.SessionTimedOut, { session: old3.id! }), 1);
    await onFakeTime(h, resharding, 'reshard(8)');

    // In key 0's line the old shard 3 waits for at most the head and the one before it; the new
    // set's shard 3 opens only after new shards 0-2 have their slots (about 10.5 s), and the old
    // one must not wait for that.
    const again = find(identified, [3, 4]);
    assert.ok(again.at - start <= 2 * SPACING + STEP, `old shard 3 identified again after ${again.at - start} ms`);
    const fresh = identified.filter((x) => x.shard[1] === 8);
    assert.deepEqual(fresh.map((x) => x.shard[0]), [0, 1, 2, 3, 4, 5, 6, 7], 'the new set in order');
    const all = identified.map((x) => x.at);
    for (let i = 1; i < all.length; i++) assert.ok(all[i]! - all[i - 1]! >= SPACING, 'one identify per window on key 0');
    assert.equal(refusals(h), 0);
    assert.deepEqual([...h.bot.sessions.values()].map((s) => s.shard), [0, 1, 2, 3, 4, 5, 6, 7].map((id) => [id, 8]));
  });

  it('an old-set shard\'s identify slot does not open the new set\'s next group', async () => {
    // max_concurrency 2: the new set starts as groups {0, 1} then {2, 3}.
    h = await harness({ sim: { shards: 4, maxConcurrency: 2, guilds: 4 }, client: { shards: 2 } });
    await onFakeTime(h, h.bot.connect(), 'bot.connect()');
    const { identified, opened } = record(h);
    const old1 = h.bot.sessions.get(1)!;
    // Old shard 1 must identify again; it heads key 1's line, waiting for the key's window.
    let connections = 0;
    h.sim.on('connection', () => connections++);
    assert.equal(h.sim.closeWith(GatewayCloseCodes.SessionTimedOut, { session: old1.id! }), 1);
    await h.advanceUntil(() => connections === 1, 'old shard 1 opened its socket', { step: 1 });

    await onFakeTime(h, h.bot.reshard(4), 'reshard(4)');

    // Key 1 serves old shard 1 first, then the new shard 1 a window later: the new set's second
    // group may open its sockets only once the new shard 1 has its slot.
    const old = find(identified, [1, 2]);
    const new1 = find(identified, [1, 4]);
    assert.ok(new1.at - old.at >= SPACING, 'key 1: old shard 1, then new shard 1');
    for (const id of [2, 3]) {
      const socket = find(opened, [id, 4]);
      assert.ok(socket.at >= new1.at, `new shard ${id} opened its socket ${new1.at - socket.at} ms before new shard 1 had its slot`);
    }
    assert.equal(refusals(h), 0);
    assert.deepEqual([...h.bot.sessions.values()].map((s) => s.shard), [0, 1, 2, 3].map((id) => [id, 4]));
  });
});
