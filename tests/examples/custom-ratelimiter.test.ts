/**
 * The user-written limiter of examples/custom-ratelimiter.ts passes the same conformance suite
 * as the built-in limiters, and does its job inside a bot.
 */
import { describe, it, mock, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { testRateLimiter } from '../../lib/testing/index.js';
import { GatewayOpcodes, IDENTIFY_INTERVAL_MS, Session, UpdateStatusData } from '../../lib/index.js';
import type { BucketRule } from '../../lib/index.js';
import { SlidingLogRateLimiter } from '../../examples/custom-ratelimiter.js';
import { harness, eventually, type Harness } from '../helpers/gateway.js';
import { advanceQuietly, advanceQuietlyUntil, maxInWindow, SESSION_WINDOW, sent } from '../helpers/e2e.js';

testRateLimiter('SlidingLogRateLimiter (examples/custom-ratelimiter.ts)', () => new SlidingLogRateLimiter(), { fakeTimers: true });

describe('SlidingLogRateLimiter margin', () => {
  it('widens the window of the buckets it applies to, and only those', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    const limiter = new SlidingLogRateLimiter({ margin: (rule) => (rule.id.startsWith('identify:') ? 250 : 0) });
    const grants: Array<[string, number]> = [];
    const take = (id: string): Promise<void> => limiter.acquire({ id, limit: 1, interval: 5000 }).then(() => { grants.push([id, Date.now() - 1_000_000]); });
    const all = Promise.all([take('identify:0'), take('identify:0'), take('other'), take('other')]);
    await new Promise((resolve) => setImmediate(resolve));
    for (let ms = 0; ms < 6000; ms += 50) {
      t.mock.timers.tick(50);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await all;
    assert.deepEqual(grants.sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0])), [['identify:0', 0], ['other', 0], ['other', 5000], ['identify:0', 5250]]);
    assert.equal((await limiter.getBucket('identify:0'))?.reset, 1_000_000 + 5250 + 5250);
  });
});

describe('SlidingLogRateLimiter in a bot', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.cleanup();
    h = undefined;
    mock.restoreAll();
  });

  it('holds the identify buckets and the connection buckets of two shards, reporting its waits', async () => {
    const waits: Array<{ id: string; ms: number }> = [];
    const limiter = new SlidingLogRateLimiter({ onWait: (rule: BucketRule, ms: number) => waits.push({ id: rule.id, ms }) });
    h = await harness({ sim: { shards: 2, guilds: 4 }, client: { rateLimiter: limiter } });
    const identifies: number[] = [];
    h.sim.on('identify', () => identifies.push(Date.now()));
    const sessions = [0, 1].map((id) => new Session({ shard: [id, 2], rateLimiter: limiter }));
    try {
      const connected = Promise.all(sessions.map((s) => s.connect(h!.bot)));
      await advanceQuietlyUntil(h.sim, () => sessions.every((s) => s.status === 'ready'), 'both shards', { step: 250, max: 20_000 });
      await connected;
      assert.equal(identifies.length, 2);
      assert.equal(identifies[1]! - identifies[0]!, IDENTIFY_INTERVAL_MS, 'max_concurrency 1: the second identify waits 5 s and the margin');
      assert.deepEqual(waits.map((w) => w.id), ['identify:0']);
      assert.equal(waits[0]!.ms, IDENTIFY_INTERVAL_MS);

      // 130 frames on shard 0: 116 at once, the rest when the connection's window frees.
      const sends = Array.from({ length: 130 }, (_, i) =>
        new UpdateStatusData({ since: i, activities: [], status: 'online', afk: false }).sendEvent(h!.bot, sessions[0]!));
      await eventually(() => sent(h!.sim, { op: GatewayOpcodes.PresenceUpdate }).length === 116, '116 frames');
      const bucket = await limiter.getBucket(sessions[0]!.connectionBucket!.id);
      assert.equal(bucket?.remaining, 0);
      await advanceQuietly(h.sim, SESSION_WINDOW, 1000);
      await Promise.all(sends);
      const frames = sent(h.sim, { op: GatewayOpcodes.PresenceUpdate });
      assert.deepEqual(frames.map((f) => (f.d as { since: number }).since), Array.from({ length: 130 }, (_, i) => i));
      assert.ok(maxInWindow(sent(h.sim).filter((f) => f.connection === frames[0]!.connection).map((f) => f.at), 60_000) <= 120);
      assert.ok(!h.closes.some((c) => c.code === 4008));
    } finally {
      await Promise.all(sessions.map((s) => s.disconnect()));
    }
  });
});
