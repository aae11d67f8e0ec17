/**
 * The rate limits end to end, against the GatewaySimulator over loopback in fake time: the
 * per-connection budget (120 frames per 60 s, heartbeats included), the identify buckets of
 * `max_concurrency`, the daily session-start budget, and custom limiters in both roles.
 */
import { describe, it, afterEach, mock } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayOpcodes, IDENTIFY_INTERVAL_MS, MemoryRateLimiter, Session, UpdateStatusData, heartbeatReserve } from '../../../lib/index.js';
import type { AcquireOptions, Bucket, BucketRule, RateLimiter, RateLimitStatus } from '../../../lib/index.js';
import { harness, eventually, type Harness } from '../../helpers/gateway.js';
import { advanceQuietly, advanceQuietlyUntil, maxInWindow, presenceIndexes, quiesce, sent, SESSION_WINDOW, WINDOW } from '../../helpers/e2e.js';

const INTERVAL = 41_250;
let h: Harness | undefined;

afterEach(async () => {
  await h?.cleanup();
  h = undefined;
  mock.restoreAll();
});

/** A presence whose `since` carries its index, so the frame log shows order and completeness. */
function presence(index: number): UpdateStatusData {
  return new UpdateStatusData({ since: index, activities: [{ name: `frame ${index}`, type: 0 }], status: 'online', afk: false });
}

/** Every connection's inbound frames (heartbeats included) never exceed 120 in any 60 s. */
function assertNoWindowOver120(hh: Harness): void {
  const byConnection = new Map<number, number[]>();
  for (const f of sent(hh.sim)) byConnection.set(f.connection, [...(byConnection.get(f.connection) ?? []), f.at]);
  for (const [connection, times] of byConnection) {
    const most = maxInWindow(times, WINDOW);
    assert.ok(most <= 120, `connection ${connection}: ${most} frames within one 60 s window`);
  }
}

describe('Per-connection budget: 120 frames per 60 s, heartbeats included', () => {
  it('200 presence updates sent at once: never over 120 per window, never 4008, all out in order', async () => {
    // Jitter 0.5: the first heartbeat comes at 20625 ms, inside the first window.
    mock.method(Math, 'random', () => 0.5);
    h = await harness();
    const closes: number[] = [];
    h.sim.on('close', (e) => closes.push(e.code));
    await h.session.connect(h.bot);
    const t0 = Date.now();
    const reserve = heartbeatReserve(INTERVAL);
    assert.equal(reserve, 3);
    assert.equal(h.session.connectionBucket?.limit, 120 - reserve);
    assert.deepEqual(h.session.getRateLimitStatus(), { remainingEvents: 119, currentEventCount: 1, resetTime: t0 + SESSION_WINDOW },
      'identify is the first frame of the window');

    const results: Array<'ok' | Error> = [];
    const sends = Array.from({ length: 200 }, (_, i) => presence(i).sendEvent(h!.bot, h!.session).then(
      () => { results[i] = 'ok'; },
      (err: Error) => { results[i] = err; },
    ));
    // The bucket holds 117 units; identify took one. 116 go out now, the other 84 wait.
    await eventually(() => sent(h!.sim, { op: GatewayOpcodes.PresenceUpdate }).length === 116, '116 frames');
    await quiesce(h.sim);
    assert.equal(sent(h.sim, { op: GatewayOpcodes.PresenceUpdate }).length, 116);
    assert.equal(results.filter((r) => r === 'ok').length, 116);
    const full: RateLimitStatus = h.session.getRateLimitStatus();
    assert.deepEqual(full, { remainingEvents: 3, currentEventCount: 117, resetTime: t0 + SESSION_WINDOW });
    const bucket = await h.session.rateLimiter.getBucket(h.session.connectionBucket!.id);
    assert.equal(bucket?.remaining, 0);
    // The session queues its frames and lets one at a time wait on the bucket, so order holds.
    assert.equal(bucket?.pending, 1);

    // The heartbeat at 20625 ms uses the reserve; user frames still wait.
    await advanceQuietly(h.sim, INTERVAL / 2);
    assert.equal(sent(h.sim, { op: GatewayOpcodes.Heartbeat }).length, 1);
    assert.deepEqual(h.session.getRateLimitStatus(), { remainingEvents: 2, currentEventCount: 118, resetTime: t0 + SESSION_WINDOW });
    assert.equal(sent(h.sim, { op: GatewayOpcodes.PresenceUpdate }).length, 116);

    // One ms before the window ends nothing more has gone; at its end the rest go at once.
    await advanceQuietly(h.sim, SESSION_WINDOW - INTERVAL / 2 - 1);
    assert.equal(sent(h.sim, { op: GatewayOpcodes.PresenceUpdate }).length, 116);
    await advanceQuietly(h.sim, 1);
    await eventually(() => sent(h!.sim, { op: GatewayOpcodes.PresenceUpdate }).length === 200, 'the other 84');
    await Promise.all(sends);
    assert.ok(results.every((r) => r === 'ok'), 'every send resolved');
    const later = h.session.getRateLimitStatus();
    // Left in the window: the heartbeat at 20625 ms and the 84 frames just sent.
    assert.deepEqual(later, { remainingEvents: 120 - 85, currentEventCount: 85, resetTime: t0 + INTERVAL / 2 + SESSION_WINDOW });

    const presences = sent(h.sim, { op: GatewayOpcodes.PresenceUpdate });
    assert.deepEqual(presenceIndexes(presences), Array.from({ length: 200 }, (_, i) => i), 'in order, none lost or repeated');
    assert.ok(presences.slice(116).every((f) => f.at === t0 + SESSION_WINDOW), 'the rest went when the window freed');
    // Keep going past the next heartbeats to check the windows that overlap both bursts.
    await advanceQuietly(h.sim, 2 * INTERVAL);
    assert.ok(sent(h.sim, { op: GatewayOpcodes.Heartbeat }).length >= 3);
    assertNoWindowOver120(h);
    assert.ok(!closes.includes(4008), `the simulator closed with ${closes.join(', ')}`);
    assert.equal(h.closes.length, 0, 'the connection never closed');
    assert.equal(h.sim.listConnections().length, 1);
  });
});

describe('Identify buckets: max_concurrency identifies per 5 s, bucket key shard_id % max_concurrency', () => {
  it('8 shards with max_concurrency 2: at most 2 per 5 s, one per key, ascending per key', async () => {
    h = await harness({ sim: { shards: 8, maxConcurrency: 2, guilds: 8 }, client: { shards: 8 } });
    const identifies: Array<{ shard: number; at: number }> = [];
    h.sim.on('identify', (e) => identifies.push({ shard: e.shard[0], at: Date.now() }));
    const connected = h.bot.connect();
    let done = false;
    void connected.then(() => { done = true; }, () => { done = true; });
    const t0 = Date.now();
    await advanceQuietlyUntil(h.sim, () => done, 'all 8 shards READY', { step: 250, max: 60_000 });
    await connected;

    assert.equal(identifies.length, 8);
    assert.deepEqual(identifies.map((i) => i.shard).sort(), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.equal(maxInWindow(identifies.map((i) => i.at), 5000), 2, 'never more than max_concurrency per 5 s');
    for (const key of [0, 1]) {
      const ofKey = identifies.filter((i) => i.shard % 2 === key);
      assert.deepEqual(ofKey.map((i) => i.shard), [key, key + 2, key + 4, key + 6], `key ${key}: ascending shard ids`);
      for (let i = 1; i < ofKey.length; i++) {
        assert.ok(ofKey[i]!.at - ofKey[i - 1]!.at >= 5000, `key ${key}: identifies ${ofKey[i]!.at - ofKey[i - 1]!.at} ms apart`);
      }
    }
    // The buckets run in parallel, bucket by bucket: shards 0 and 1 at once, 2 and 3 five
    // seconds later, and so on; the whole start takes three 5 s waits, not seven.
    for (const { shard, at } of identifies) assert.equal(at - t0, IDENTIFY_INTERVAL_MS * Math.floor(shard / 2), `shard ${shard}`);
    const invalid = h.sim.frames.filter((f) => f.direction === 'out' && f.op === GatewayOpcodes.InvalidSession);
    assert.equal(invalid.length, 0, 'the simulator never refused an identify');
    assert.equal(h.bot.sessions.size, 8);
    assert.ok([...h.bot.sessions.values()].every((s) => s.status === 'ready'));
    for (const key of [0, 1]) assert.ok(await h.bot.rateLimiter.getBucket(`identify:${key}`), `bucket identify:${key} was used`);
    assert.equal(await h.bot.rateLimiter.getBucket('identify:2'), undefined, 'no bucket beyond max_concurrency');
  });
});

describe('Daily session-start budget', () => {
  it('with none left, a forced re-identify waits for the reset (and says so) instead of spending past zero', async () => {
    const RESET_AFTER = 300_000;
    h = await harness({ sim: { sessionStartLimit: { total: 1000, remaining: 1, resetAfter: RESET_AFTER } } });
    const warnings: string[] = [];
    h.bot.on('warn', (m) => warnings.push(m));
    const identifies: number[] = [];
    h.sim.on('identify', () => identifies.push(Date.now()));
    const t0 = Date.now();
    await h.session.connect(h.bot);
    assert.equal(identifies.length, 1);
    assert.equal(h.sim.sessionStartLimit.remaining, 0);

    h.sim.invalidateSession(false);
    // The session reconnects after 1-5 s and must then wait until the reset, without a socket.
    await advanceQuietlyUntil(h.sim, () => warnings.some((m) => /session start/.test(m)), 'the warning', { step: 500, max: 10_000 });
    const warning = warnings.find((m) => /session start/.test(m))!;
    assert.match(warning, new RegExp(new Date(t0 + RESET_AFTER).toISOString().slice(0, 16)), `names the reset time: ${warning}`);
    assert.equal(h.session.status, 'connecting');
    await advanceQuietly(h.sim, RESET_AFTER - 10_000 - (Date.now() - t0), 5000);
    assert.equal(identifies.length, 1, 'no identify while the budget is spent');
    assert.equal(sent(h.sim, { op: GatewayOpcodes.Identify }).length, 1);
    assert.equal(h.sim.tokenRevoked, false);
    assert.equal(h.sim.listConnections().length, 0, 'no socket idles (heartbeating before Identify) until the reset');

    await advanceQuietlyUntil(h.sim, () => h!.session.status === 'ready', 'READY after the reset', { step: 500, max: 30_000 });
    assert.equal(identifies.length, 2);
    assert.ok(identifies[1]! >= t0 + RESET_AFTER, `identified ${t0 + RESET_AFTER - identifies[1]!} ms before the reset`);
    assert.ok(identifies[1]! <= t0 + RESET_AFTER + 1000, 'and soon after it');
    assert.equal(h.sim.tokenRevoked, false, 'the token was never reset');
    assert.equal(h.sim.sessionStartLimit.remaining, 999);
    assert.ok(!h.closes.some((c) => c.code === 4004));
  });
});

/** A user-supplied limiter that records every bucket it is asked for, then defers to memory. */
class RecordingLimiter implements RateLimiter {
  readonly acquired: string[] = [];
  readonly #inner = new MemoryRateLimiter();

  acquire(rule: BucketRule, options?: AcquireOptions): Promise<void> {
    this.acquired.push(rule.id);
    return this.#inner.acquire(rule, options);
  }

  getBucket(id: string): Promise<Bucket | undefined> {
    return this.#inner.getBucket(id);
  }
}

describe('Custom RateLimiter in both roles', () => {
  it('the Client limiter takes the identify buckets, the Session limiter every frame of the connection', async () => {
    const appWide = new RecordingLimiter();
    const perConnection = new RecordingLimiter();
    h = await harness({ sim: { maxConcurrency: 16, shards: 32, guilds: 4 }, client: { rateLimiter: appWide } });
    assert.equal(h.bot.rateLimiter, appWide);
    const session = new Session({ shard: [21, 32], rateLimiter: perConnection });
    assert.equal(session.rateLimiter, perConnection);
    try {
      await session.connect(h.bot);
      await presence(1).sendEvent(h.bot, session);
      await presence(2).sendEvent(h.bot, session);
      assert.deepEqual(appWide.acquired, ['session-start', 'identify:5'], 'the daily budget, then identify bucket shard_id % max_concurrency, and nothing else');
      const bucket = session.connectionBucket!;
      assert.match(bucket.id, /^gateway:21:/);
      assert.deepEqual(perConnection.acquired, [bucket.id, bucket.id, bucket.id], 'identify and both presences');
      const snapshot = await perConnection.getBucket(bucket.id);
      assert.equal(snapshot?.limit, 117);
      assert.equal(snapshot?.remaining, 114);

      // A new connection gets a new per-connection bucket in the same limiter; a resume takes no identify bucket.
      h.sim.reconnect();
      await h.advanceUntil(() => session.status === 'ready' && session.connectionBucket !== bucket, 'resumed');
      await presence(3).sendEvent(h.bot, session);
      const next = session.connectionBucket!;
      assert.notEqual(next.id, bucket.id);
      assert.match(next.id, /^gateway:21:/);
      assert.deepEqual(perConnection.acquired.slice(3), [next.id, next.id], 'resume and the presence');
      assert.deepEqual(appWide.acquired, ['session-start', 'identify:5']);
      await eventually(() => sent(h!.sim, { op: GatewayOpcodes.PresenceUpdate }).length === 3, 'three presences');
    } finally {
      await session.disconnect();
    }
  });

  it('bot.connect() gives the sessions it creates the sessionRateLimiter, and the identify buckets to rateLimiter', async () => {
    const appWide = new RecordingLimiter();
    const perConnection = new RecordingLimiter();
    h = await harness({ sim: { shards: 2, maxConcurrency: 2, guilds: 4 }, client: { shards: 2, rateLimiter: appWide, sessionRateLimiter: perConnection } });
    await h.bot.connect();
    assert.deepEqual([...appWide.acquired].sort(), ['identify:0', 'identify:1', 'session-start', 'session-start']);
    const buckets = [0, 1].map((id) => h!.bot.sessions.get(id)!.connectionBucket!.id);
    assert.match(buckets[0]!, /^gateway:0:/);
    assert.match(buckets[1]!, /^gateway:1:/);
    assert.deepEqual([...perConnection.acquired].sort(), [...buckets].sort(), 'one identify frame per connection bucket');
    assert.ok([...h.bot.sessions.values()].every((s) => s.rateLimiter === perConnection));
    await new UpdateStatusData({ since: null, activities: [], status: 'idle', afk: false }).sendEvents(h.bot);
    assert.equal(perConnection.acquired.length, 4);
  });
});
