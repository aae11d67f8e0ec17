import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayCloseCodes, GatewayOpcodes, IDENTIFY_INTERVAL_MS } from '../../../lib/index.js';
import type { SimulatorIdentifyEvent } from '../../../lib/testing/index.js';
import { harness, type Harness } from '../../helpers/gateway.js';

/** Discord's identify window (protocol §4.2); the client spaces a key's identifies a margin more. */
const WINDOW = 5000;
const SPACING = IDENTIFY_INTERVAL_MS;
/** Fake-time step: an identify granted mid-step reaches the simulator (real I/O) at the step's end. */
const STEP = 50;
let h: Harness | undefined;

afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

interface Identified {
  shard: readonly [number, number];
  at: number;
}

function recordIdentifies(hh: Harness): Identified[] {
  const seen: Identified[] = [];
  hh.sim.on('identify', (e: SimulatorIdentifyEvent) => seen.push({ shard: e.shard, at: Date.now() }));
  return seen;
}

/** Op 9 frames the simulator sent: identifies it refused for exceeding max_concurrency. */
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

const connectOnFakeTime = (hh: Harness): Promise<void> => onFakeTime(hh, hh.bot.connect(), 'bot.connect()');

/** Identifies the simulator accepted, and when each identifying connection opened. */
function record(hh: Harness): { identified: Identified[]; opened: Identified[] } {
  const identified: Identified[] = [];
  const opened: Identified[] = [];
  const openedAt = new Map<number, number>();
  hh.sim.on('connection', (e) => openedAt.set(e.connection, Date.now()));
  hh.sim.on('identify', (e) => {
    identified.push({ shard: e.shard, at: Date.now() });
    opened.push({ shard: e.shard, at: openedAt.get(e.connection)! });
  });
  return { identified, opened };
}

function find(list: readonly Identified[], shard: readonly [number, number]): Identified {
  const found = list.find((x) => x.shard[0] === shard[0] && x.shard[1] === shard[1]);
  assert.ok(found, `shard [${shard.join(', ')}] identified`);
  return found;
}

describe('bot.connect(): identify buckets', () => {
  it('starts 16 shards with max_concurrency 4 one bucket key at a time, 4 per 5 s window, in order', async () => {
    h = await harness({ sim: { shards: 16, maxConcurrency: 4, guilds: 48, identifyOrder: true } });
    const identified = recordIdentifies(h);
    const progress: Array<[number, number]> = [];
    h.bot.on('progress', (ready, total) => progress.push([ready, total]));
    const start = Date.now();
    await connectOnFakeTime(h);

    assert.equal(identified.length, 16);
    assert.equal(refusals(h), 0, 'the simulator (checking group order too) refused no identify');
    // Waves: shards 0-3 at once, then 4-7 one spacing (window and margin) later, and so on.
    const waves = new Map<number, number[]>();
    for (const { shard, at } of identified) {
      assert.equal(shard[1], 16);
      const wave = Math.floor((at - start) / SPACING);
      waves.set(wave, [...(waves.get(wave) ?? []), shard[0]]);
    }
    assert.deepEqual([...waves.keys()], [0, 1, 2, 3]);
    for (const [wave, shards] of waves) {
      assert.deepEqual([...shards].sort((a, b) => a - b), [0, 1, 2, 3].map((k) => wave * 4 + k), `wave ${wave}`);
      assert.deepEqual(new Set(shards.map((id) => id % 4)).size, 4, `one shard per key in wave ${wave}`);
    }
    // The limit holds in every 5 s window, not just in the waves' own: none holds more than 4,
    // and a key's next identify comes a full window after its previous one.
    for (const first of identified) {
      const inWindow = identified.filter((x) => x.at >= first.at && x.at < first.at + WINDOW);
      assert.ok(inWindow.length <= 4, `${inWindow.length} identifies in the window from ${first.at - start} ms`);
    }
    for (let key = 0; key < 4; key++) {
      const times = identified.filter((x) => x.shard[0] % 4 === key).map((x) => x.at);
      for (let i = 1; i < times.length; i++) assert.ok(times[i]! - times[i - 1]! >= WINDOW, `key ${key}: ${times[i]! - times[i - 1]!} ms apart`);
    }
    // The whole start takes the least the client's spacing allows: 3 waits of one spacing.
    assert.ok(SPACING >= WINDOW && SPACING <= WINDOW + 1000, `spacing ${SPACING} ms: the window plus a small margin`);
    const took = identified.at(-1)!.at - identified[0]!.at;
    assert.ok(took >= 3 * SPACING && took < 3 * SPACING + STEP, `${took} ms from first to last identify`);

    assert.deepEqual(progress, Array.from({ length: 17 }, (_, i) => [i, 16]));
    assert.equal(h.bot.sessions.size, 16);
    for (const [id, session] of h.bot.sessions) {
      assert.deepEqual(session.shard, [id, 16]);
      assert.equal(session.status, 'ready');
    }
  });

  it('routes every guild to the session whose gateway session holds it', async () => {
    h = await harness({ sim: { shards: 16, maxConcurrency: 16, guilds: 48 } });
    await connectOnFakeTime(h);
    const holder = new Map<string, string>();
    for (const s of h.sim.sessions) for (const guild of s.guilds) holder.set(guild, s.id);
    assert.equal(holder.size, 48, 'every guild is held by exactly one simulator session');
    const used = new Set<number>();
    for (const guild of h.sim.guilds) {
      const session = h.bot.sessionForGuild(guild.id);
      assert.ok(session, `a session for guild ${guild.id}`);
      assert.equal(session.id, holder.get(guild.id), `guild ${guild.id}`);
      used.add(session.shard[0]);
    }
    assert.equal(used.size, 16, 'the fixtures spread over every shard');
  });

  it('starts only the shards of a { ids, total } slice, identifying them as [id, total]', async () => {
    h = await harness({ sim: { shards: 4, maxConcurrency: 1, guilds: 8 }, client: { shards: { ids: [2, 3], total: 4 } } });
    const identified = recordIdentifies(h);
    const progress: Array<[number, number]> = [];
    h.bot.on('progress', (ready, total) => progress.push([ready, total]));
    await connectOnFakeTime(h);

    assert.deepEqual(identified.map((x) => x.shard), [[2, 4], [3, 4]]);
    const gap = identified[1]!.at - identified[0]!.at;
    assert.ok(gap >= SPACING && gap < SPACING + STEP, `one bucket (max_concurrency 1): ${gap} ms apart`);
    assert.deepEqual([...h.bot.sessions.keys()].sort(), [2, 3]);
    assert.deepEqual(h.sim.sessions.map((s) => s.shard).sort(), [[2, 4], [3, 4]]);
    assert.deepEqual(progress, [[0, 2], [1, 2], [2, 2]]);
    // Guilds of the shards this process does not run have no session here.
    for (const guild of h.sim.guilds) {
      const holder: number | undefined = h.sim.sessions.find((s) => s.guilds.includes(guild.id))?.shard[0];
      assert.equal(h.bot.sessionForGuild(guild.id)?.shard[0], holder);
    }
  });
});

describe('bot.connect(): sockets open when their group may start', () => {
  it('a shard waiting for the groups before it has no socket yet: it identifies within one window of opening it', async () => {
    // A 2 s heartbeat interval with a deadline of 3 s: a socket idling through earlier groups
    // would have to beat long before it identifies.
    h = await harness({ sim: { shards: 8, maxConcurrency: 2, guilds: 8, heartbeatInterval: 2000, identifyOrder: true } });
    const identified = recordIdentifies(h);
    const openedAt = new Map<number, number>();
    const waited: number[] = [];
    h.sim.on('connection', (e) => openedAt.set(e.connection, Date.now()));
    h.sim.on('identify', (e) => waited.push(Date.now() - openedAt.get(e.connection)!));
    await connectOnFakeTime(h);
    assert.equal(identified.length, 8);
    assert.deepEqual(h.closes, [], 'no connection was lost on the way');
    // Four groups, 5.25 s apart: a socket waits at most one identify window, never for earlier groups.
    assert.ok(Math.max(...waited) <= SPACING + STEP, `a socket waited ${Math.max(...waited)} ms for its identify`);
    assert.equal(refusals(h), 0);
  });
});

describe('bot.connect(): a shard that cannot connect', () => {
  it('does not hold up the next group: after its failed attempt the next group starts on time', async () => {
    h = await harness({ sim: { shards: 4, maxConcurrency: 2, guilds: 4 }, client: { shards: 4 } });
    const identified = recordIdentifies(h);
    const start = Date.now();
    // Group 0's two sockets open together; the second one, and every retry after the first
    // half second, dies before Hello: one shard of group 0 never connects.
    let connections = 0;
    h.sim.on('connection', (e) => {
      connections++;
      if (connections === 2 || Date.now() - start >= 500) h!.sim.dropSocket({ connection: e.connection });
    });
    void h.bot.connect().catch(() => {});
    await h.advanceUntil(() => identified.length >= 3, 'three shards identified', { step: STEP, max: 60_000 });
    const shards = identified.map((x) => x.shard[0]);
    assert.ok(shards.includes(2) && shards.includes(3), `group 1 started: ${JSON.stringify(shards)}`);
    const groupOne = identified.filter((x) => x.shard[0] >= 2).map((x) => x.at - start);
    assert.ok(Math.max(...groupOne) <= SPACING + STEP, `group 1 identified ${JSON.stringify(groupOne)} ms after start`);
  });
});

describe('re-identifying together on one bucket key', () => {
  it('sockets open one at a time in line: none waits more than one window for its identify', async () => {
    h = await harness({ sim: { shards: 4, maxConcurrency: 1, guilds: 4 }, client: { shards: 4 } });
    await connectOnFakeTime(h);
    const openedAt = new Map<number, number>();
    const waited: number[] = [];
    const identifiedAt: number[] = [];
    h.sim.on('connection', (e) => openedAt.set(e.connection, Date.now()));
    h.sim.on('identify', (e) => { waited.push(Date.now() - openedAt.get(e.connection)!); identifiedAt.push(Date.now()); });
    // Every session invalidated at once: four new sessions on key 0, 5.25 s apart.
    h.sim.invalidateSession(false);
    await h.advanceUntil(() => identifiedAt.length === 4 && [...h!.bot.sessions.values()].every((s) => s.status === 'ready'), 'four re-identifies', { step: STEP, max: 60_000 });
    for (let i = 1; i < 4; i++) assert.ok(identifiedAt[i]! - identifiedAt[i - 1]! >= SPACING, 'one identify per window');
    assert.ok(Math.max(...waited) <= SPACING + STEP, `a socket waited ${JSON.stringify(waited)} ms for its identify`);
    assert.equal(refusals(h), 4, 'no op 9 but the four invalidations');
  });
});

/**
 * During a live reshard two sessions share each shard id (the old set's and the new set's).
 * The group gates of a start (protocol §4.2: groups start in order) belong to the sessions
 * of that start: an old-set shard that identifies again must neither wait for the new set's
 * groups nor, with its own identify slot, let a new-set group start early.
 */
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
