/**
 * The simulator's `identifyOrder` option (protocol §4.2): max_concurrency groups start in order,
 * so shard `s` may identify only once shard `s - maxConcurrency` of the same count has.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it, type TestContext } from 'node:test';
import { GatewaySimulator, type GatewaySimulatorOptions } from '../../../../lib/testing/index.js';
import { RawGatewayClient, type Frame } from '../raw-gateway-client.js';

/** A started simulator with no guilds and `identifyOrder` on, closed when the test ends. */
async function simulator(t: TestContext, options: GatewaySimulatorOptions = {}): Promise<GatewaySimulator> {
  const sim = await GatewaySimulator.create({ guilds: 0, identifyOrder: true, ...options });
  t.after(() => sim.close());
  return sim;
}

/** A raw client after Hello. */
async function connect(t: TestContext, sim: GatewaySimulator): Promise<RawGatewayClient> {
  const client = await RawGatewayClient.connect(sim.url);
  t.after(() => client.close());
  await client.next((f) => f.op === 10);
  return client;
}

/** Identifies `shard` on `client` and returns READY or op 9, whichever comes. */
async function identify(client: RawGatewayClient, shard: [number, number]): Promise<Frame> {
  client.identify({ shard });
  return client.next((f) => f.op === 9 || (f.op === 0 && f.t === 'READY'));
}

const refused = (frame: Frame): boolean => frame.op === 9 && frame.d === false;
const accepted = (frame: Frame): boolean => frame.op === 0 && frame.t === 'READY';

/** Identifies each shard on its own connection, stepping over the 5 s window before each. */
async function startShards(t: TestContext, sim: GatewaySimulator, shards: [number, number][]): Promise<Frame[]> {
  const frames: Frame[] = [];
  for (const shard of shards) {
    t.mock.timers.tick(5000);
    frames.push(await identify(await connect(t, sim), shard));
  }
  return frames;
}

describe('simulator identifyOrder', () => {
  // Identify buckets are 5 s windows: every test fakes `Date` and steps over them.
  beforeEach((t) => (t as TestContext).mock.timers.enable({ apis: ['Date'], now: 1_000_000 }));

  it('shard s before shard s - maxConcurrency gets op 9 false and no session', async (t) => {
    const sim = await simulator(t, { shards: 4, maxConcurrency: 2 });
    const identifies: number[] = [];
    sim.on('identify', (e) => identifies.push(e.shard[0]));
    const budget = sim.sessionStartLimit.remaining;
    const client = await connect(t, sim);
    const frame = await identify(client, [2, 4]);
    assert.ok(refused(frame), `got ${JSON.stringify(frame)}`);
    assert.deepEqual(sim.frames.filter((f) => f.direction === 'out' && f.op === 9).map((f) => f.d), [false], 'the op 9 is logged');
    assert.deepEqual([sim.sessions.length, identifies, sim.sessionStartLimit.remaining], [0, [], budget]);
    // The refusal took no bucket slot (2 % 2 = bucket 0) and the connection may identify again.
    assert.ok(accepted(await identify(client, [0, 4])));
    assert.deepEqual(identifies, [0]);
  });

  it('accepts groups in order; each shard waits for its own predecessor of the same shard count', async (t) => {
    const sim = await simulator(t, { shards: 4, maxConcurrency: 2 });
    const [s0, s1] = await startShards(t, sim, [[0, 4], [1, 4]]);
    assert.ok(s0 && s1 && accepted(s0) && accepted(s1));
    const [s2, s3] = await startShards(t, sim, [[2, 4], [3, 4]]);
    assert.ok(s2 && s3 && accepted(s2) && accepted(s3));

    const other = await simulator(t, { shards: 4, maxConcurrency: 2 });
    const frames = await startShards(t, other, [[0, 4], [3, 4], [0, 2], [2, 4]]);
    assert.deepEqual(frames.map(accepted), [true, false, true, true], '3 needs 1; 2 of 4 needs 0 of 4, not 0 of 2');
    const counts = await startShards(t, await simulator(t, { maxConcurrency: 2 }), [[0, 2], [2, 6]]);
    assert.deepEqual(counts.map(accepted), [true, false], 'shard 0 of 2 does not open shard 2 of 6');
  });

  it('applies with the default maxConcurrency 1: shard 1 needs shard 0', async (t) => {
    const sim = await simulator(t, { shards: 2 });
    assert.deepEqual((await startShards(t, sim, [[1, 2], [0, 2], [1, 2]])).map(accepted), [false, true, true]);
  });

  it('once is enough: a shard re-identifies after its predecessor’s session ended with 4009', async (t) => {
    const sim = await simulator(t, { shards: 4, maxConcurrency: 2 });
    await startShards(t, sim, [[0, 4], [2, 4]]);
    assert.equal(sim.closeWith(4009), 2, 'both sessions end');
    await sim.waitFor('close').catch(() => undefined);
    assert.equal(sim.sessions.length, 0);
    assert.deepEqual((await startShards(t, sim, [[2, 4]])).map(accepted), [true]);
  });

  it('identifyOrder: false, the default, accepts any order', async (t) => {
    const off = await simulator(t, { shards: 4, maxConcurrency: 2, identifyOrder: false });
    assert.deepEqual((await startShards(t, off, [[3, 4], [2, 4]])).map(accepted), [true, true]);
    const byDefault = await GatewaySimulator.create({ guilds: 0, shards: 2 });
    t.after(() => byDefault.close());
    assert.deepEqual((await startShards(t, byDefault, [[1, 2]])).map(accepted), [true]);
  });
});
