import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { InvalidOptionError } from '../../../lib/errors.js';
import { MemoryRateLimiter } from '../../../lib/ratelimit/memory.js';
import { testRateLimiter } from '../../../lib/testing/conformance.js';

testRateLimiter('MemoryRateLimiter', () => new MemoryRateLimiter(), { fakeTimers: true });

const START = 1_700_000_000_000;

function fakeTime(t: TestContext): void {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: START });
}

/** Runs queued promise callbacks; mock timers leave setImmediate real. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Advances virtual time 1 ms at a time, letting callbacks run after each step. */
async function advance(t: TestContext, ms: number): Promise<void> {
  await settle();
  for (let i = 0; i < ms; i++) {
    t.mock.timers.tick(1);
    await settle();
  }
}

describe('MemoryRateLimiter sliding window', () => {
  it('200 acquires at 117 per 60 s: no 60 s window ever holds more than 117 grants', async (t) => {
    fakeTime(t);
    const limiter = new MemoryRateLimiter();
    const rule = { id: 'gateway:0:1', limit: 117, interval: 60_000 };
    const times: number[] = [];
    // Requests arrive spread over the first 10 s, so the window slides rather than resets.
    const done: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      done.push(limiter.acquire(rule).then(() => void times.push(Date.now())));
      if (i % 20 === 19) await advance(t, 1000);
    }
    while (times.length < 200) {
      t.mock.timers.tick(100);
      await settle();
      assert.ok(Date.now() - START < 200_000, 'every acquire is served within ~2 windows');
    }
    await Promise.all(done);
    for (let i = 0; i + 117 < times.length; i++) {
      assert.ok(times[i + 117]! - times[i]! >= 60_000, `grants ${i} and ${i + 117} only ${times[i + 117]! - times[i]!} ms apart`);
    }
    // Sliding: the 118th unit is granted the moment the first grant leaves the window.
    assert.equal(times[117]! - times[0]!, 60_000);
    const bucket = await limiter.getBucket(rule.id);
    assert.equal(bucket?.pending, 0);
  });

  it('grants exactly when the oldest grant is interval ms old, not a millisecond earlier', async (t) => {
    fakeTime(t);
    const limiter = new MemoryRateLimiter();
    const rule = { id: 'edge', limit: 2, interval: 1000 };
    await limiter.acquire(rule);
    await advance(t, 300);
    await limiter.acquire(rule);
    let third = 0;
    void limiter.acquire(rule).then(() => (third = Date.now()));
    await advance(t, 699);
    assert.equal(third, 0, 'not at 999 ms');
    await advance(t, 1);
    assert.equal(third, START + 1000);
    let fourth = 0;
    void limiter.acquire(rule).then(() => (fourth = Date.now()));
    await advance(t, 299);
    assert.equal(fourth, 0);
    await advance(t, 1);
    assert.equal(fourth, START + 1300, 'the second grant (at 300 ms) frees the next unit');
  });

  it('leaves no timer behind once idle, and arms one only while waiters exist', async (t) => {
    fakeTime(t);
    const limiter = new MemoryRateLimiter();
    const rule = { id: 'timers', limit: 1, interval: 5000 };
    const fired: string[] = [];
    await limiter.acquire(rule);
    const waiting = limiter.acquire(rule);
    const aborted = new AbortController();
    const gone = limiter.acquire(rule, { signal: aborted.signal });
    aborted.abort(new Error('x'));
    await assert.rejects(gone, /x/);
    await advance(t, 5000);
    await waiting;
    // A sentinel far in the future: runAll would run any armed timer first (mock timers run in
    // time order). The limiter must have none, so only the sentinel runs and time jumps to it.
    setTimeout(() => fired.push('sentinel'), 3_600_000);
    t.mock.timers.runAll();
    assert.deepEqual(fired, ['sentinel']);
    assert.equal(Date.now(), START + 5000 + 3_600_000);
  });

  it('clears its timer when the last waiter aborts', async (t) => {
    fakeTime(t);
    const limiter = new MemoryRateLimiter();
    const rule = { id: 'abort-all', limit: 1, interval: 60_000 };
    await limiter.acquire(rule);
    const controller = new AbortController();
    const waiter = limiter.acquire(rule, { signal: controller.signal });
    controller.abort(new Error('bye'));
    await assert.rejects(waiter, /bye/);
    const start = Date.now();
    t.mock.timers.runAll();
    assert.equal(Date.now(), start, 'no timer was left to run');
    assert.equal((await limiter.getBucket(rule.id))?.pending, 0);
  });

  it('uses the new rule when the limit is lowered or raised between calls', async (t) => {
    fakeTime(t);
    const limiter = new MemoryRateLimiter();
    const id = 'changing';
    for (let i = 0; i < 5; i++) {
      await limiter.acquire({ id, limit: 5, interval: 1000 });
      await advance(t, 100);
    }
    // Lowered to 2: the two newest grants (at 300 and 400 ms) decide; the next frees at 1300.
    let lowered = 0;
    void limiter.acquire({ id, limit: 2, interval: 1000 }).then(() => (lowered = Date.now()));
    assert.equal((await limiter.getBucket(id))?.remaining, 0);
    await advance(t, 799);
    assert.equal(lowered, 0);
    await advance(t, 1);
    assert.equal(lowered, START + 1300);

    // Raised while a caller waits: the waiter is served at once.
    const rule1 = { id: 'raised', limit: 1, interval: 10_000 };
    await limiter.acquire(rule1);
    let waited = 0;
    void limiter.acquire(rule1).then(() => (waited = Date.now()));
    await settle();
    assert.equal(waited, 0);
    await limiter.acquire({ id: 'raised', limit: 3, interval: 10_000 });
    await settle();
    assert.equal(waited, Date.now(), 'the earlier waiter was served when the limit rose');
    assert.equal((await limiter.getBucket('raised'))?.remaining, 0);
  });

  it('applies a changed interval to a waiter already queued', async (t) => {
    fakeTime(t);
    const limiter = new MemoryRateLimiter();
    await limiter.acquire({ id: 'iv', limit: 1, interval: 10_000 });
    const order: string[] = [];
    void limiter.acquire({ id: 'iv', limit: 1, interval: 10_000 }).then(() => order.push('first'));
    await advance(t, 300);
    void limiter.acquire({ id: 'iv', limit: 1, interval: 200 }).then(() => order.push('second'));
    // With the 200 ms interval the first grant is already old enough: the first waiter goes now,
    // the second 200 ms later; order stays.
    await settle();
    assert.deepEqual(order, ['first']);
    await advance(t, 199);
    assert.deepEqual(order, ['first']);
    await advance(t, 1);
    assert.deepEqual(order, ['first', 'second']);
  });

  it('holds a large budget exactly, also after the limit drops', async (t) => {
    fakeTime(t);
    const limiter = new MemoryRateLimiter();
    const rule = { id: 'sessions:daily', limit: 1000, interval: 86_400_000 };
    for (let i = 0; i < 1000; i++) {
      await limiter.acquire(rule);
      t.mock.timers.tick(60_000);
    }
    assert.equal((await limiter.getBucket(rule.id))?.remaining, 0);
    let granted = 0;
    void limiter.acquire(rule).then(() => (granted = Date.now()));
    t.mock.timers.tick(START + 86_400_000 - Date.now() - 1);
    await settle();
    assert.equal(granted, 0, 'not before the first grant is a day old');
    t.mock.timers.tick(1);
    await settle();
    assert.equal(granted, START + 86_400_000);
    // Lowered to 10: the 10 newest grants (one a minute, the last just now) decide.
    let lowered = 0;
    void limiter.acquire({ ...rule, limit: 10 }).then(() => (lowered = Date.now()));
    await settle();
    assert.equal((await limiter.getBucket(rule.id))?.remaining, 0);
    t.mock.timers.tick(START + 991 * 60_000 + 86_400_000 - Date.now());
    await settle();
    assert.equal(lowered, START + 991 * 60_000 + 86_400_000);
  });

  it('rejects unusable rules', async () => {
    const limiter = new MemoryRateLimiter();
    await assert.rejects(limiter.acquire({ id: 'a', limit: 0, interval: 1000 }), InvalidOptionError);
    await assert.rejects(limiter.acquire({ id: 'a', limit: 1.5, interval: 1000 }), InvalidOptionError);
    await assert.rejects(limiter.acquire({ id: 'a', limit: 1, interval: Number.NaN }), InvalidOptionError);
    await assert.rejects(limiter.acquire({ id: 'a', limit: 1, interval: 0 }), InvalidOptionError);
    assert.equal(await limiter.getBucket('a'), undefined);
  });

  it('prunes idle per-connection buckets lazily, keeping busy ones', async (t) => {
    fakeTime(t);
    const limiter = new MemoryRateLimiter();
    const interval = 60_000;
    // A bucket with a waiter must survive every sweep.
    const busy = { id: 'identify:0', limit: 1, interval: 10_000_000 };
    await limiter.acquire(busy);
    const controller = new AbortController();
    const waiter = limiter.acquire(busy, { signal: controller.signal });
    // Weeks of reconnects: one bucket per connection, each used once then abandoned.
    for (let n = 0; n < 1000; n++) {
      await limiter.acquire({ id: `gateway:0:${n}`, limit: 120, interval });
      t.mock.timers.tick(4000);
      await settle();
    }
    let alive = 0;
    for (let n = 0; n < 1000; n++) if (await limiter.getBucket(`gateway:0:${n}`)) alive++;
    assert.ok(alive <= 64, `at most a sweep's worth of buckets remain, not all 1000 (${alive})`);
    assert.ok(await limiter.getBucket('gateway:0:999'), 'the current connection keeps its bucket');
    assert.equal((await limiter.getBucket('identify:0'))?.pending, 1, 'a bucket with a waiter is kept');
    controller.abort(new Error('done'));
    await assert.rejects(waiter, /done/);
    t.mock.timers.tick(interval);
    assert.ok(limiter.prune() > 0);
    assert.equal(await limiter.getBucket('gateway:0:999'), undefined, 'pruned once its window passed');
  });

  it('snapshot counts only grants inside the window', async (t) => {
    fakeTime(t);
    const limiter = new MemoryRateLimiter();
    const rule = { id: 'snap', limit: 3, interval: 1000 };
    await limiter.acquire(rule);
    await advance(t, 400);
    await limiter.acquire(rule);
    assert.deepEqual(await limiter.getBucket('snap'), { id: 'snap', limit: 3, remaining: 1, pending: 0, reset: START + 1000 });
    await advance(t, 600);
    assert.deepEqual(await limiter.getBucket('snap'), { id: 'snap', limit: 3, remaining: 2, pending: 0, reset: START + 1400 });
    await advance(t, 400);
    assert.deepEqual(await limiter.getBucket('snap'), { id: 'snap', limit: 3, remaining: 3, pending: 0, reset: 0 });
  });

  it('waits at most one interval after the wall clock steps backwards', async (t) => {
    fakeTime(t);
    const limiter = new MemoryRateLimiter();
    const rule = { id: 'clock', limit: 1, interval: 1000 };
    await limiter.acquire(rule);
    t.mock.timers.setTime(START - 3_600_000);
    let granted = 0;
    void limiter.acquire(rule).then(() => (granted = Date.now()));
    await advance(t, 1000);
    assert.equal(granted, START - 3_600_000 + 1000);
  });
});
