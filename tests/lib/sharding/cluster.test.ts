import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { GatewayOpcodes } from '../../../lib/index.js';
import { GatewaySimulator, type SimulatorIdentifyEvent } from '../../../lib/testing/index.js';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server.js';
import { WorkerProcess } from './fixtures/worker-process.js';

const TOKEN = 'cluster-token';
/** Discord's identify window (protocol §4.2); real time here, since two processes share it. */
const WINDOW = 5000;
/**
 * The simulator stamps an identify when it arrives, after the grant and a loopback hop, so two
 * arrivals can be a few ms closer than the grants were (Redis's clock decides the grants). The
 * simulator itself is exact: an arrival 4999 ms after its key's previous one gets op 9 and the
 * shard identifies again 1-5 s later, so such refusals are counted below, not forbidden.
 */
const TOLERANCE = 50;

let redis: RedisServer;
before(async () => { redis = await startRedisServer(); });
after(async () => { await redis.stop(); });

describe('two processes sharing identify buckets through Redis', () => {
  it('never identify more than max_concurrency shards in a 5 s window together', { timeout: 60_000 }, async () => {
    // 4 shards, max_concurrency 2: keys 0 and 1. Process A runs shards 0 and 1, process B 2 and
    // 3, so each key is wanted by both processes at once.
    const sim = await GatewaySimulator.create({ token: TOKEN, shards: 4, maxConcurrency: 2, guilds: 8 });
    const identified: Array<{ shard: number; at: number }> = [];
    sim.on('identify', (e: SimulatorIdentifyEvent) => identified.push({ shard: e.shard[0], at: Date.now() }));
    const prefix = `test:${randomUUID().slice(0, 8)}:`;
    const base = { apiURL: sim.apiURL, token: TOKEN, redisURL: redis.url, prefix };
    const workers = [
      new WorkerProcess('A', { ...base, shards: { ids: [0, 1], total: 4 } }),
      new WorkerProcess('B', { ...base, shards: { ids: [2, 3], total: 4 } }),
    ];
    try {
      await Promise.all(workers.map((w) => w.waitForLine((l) => l === 'loaded', 'loaded')));
      for (const w of workers) w.send('go');
      await Promise.all(workers.map((w) => w.waitForLine((l) => l === 'connected', 'connected')));

      assert.deepEqual(identified.map((x) => x.shard).sort(), [0, 1, 2, 3]);
      // Every identify frame counts, including any the gateway refused (op 9) and their retries.
      const attempts = sim.frames.filter((f) => f.direction === 'in' && f.op === GatewayOpcodes.Identify)
        .map((f) => ({ shard: (f.d as { shard: [number, number] }).shard[0], at: f.at }));
      for (let i = 0; i + 2 < attempts.length; i++) {
        const gap = attempts[i + 2]!.at - attempts[i]!.at;
        assert.ok(gap >= WINDOW - TOLERANCE, `identifies ${i} and ${i + 2} ${gap} ms apart: 3 in one window`);
      }
      for (const key of [0, 1]) {
        const ofKey = attempts.filter((x) => x.shard % 2 === key);
        for (let i = 1; i < ofKey.length; i++) {
          assert.ok(ofKey[i]!.at - ofKey[i - 1]!.at >= WINDOW - TOLERANCE, `key ${key}: ${ofKey[i]!.at - ofKey[i - 1]!.at} ms apart`);
        }
      }
      for (const w of workers) assert.deepEqual(w.errors, [], `${w.name} reported no error`);
      assert.deepEqual(sim.sessions.map((s) => s.shard[0]).sort(), [0, 1, 2, 3]);
    } finally {
      await Promise.all(workers.map((w) => w.close()));
      await sim.close();
    }
  });
});
