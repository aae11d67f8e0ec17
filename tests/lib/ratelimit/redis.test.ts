import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { BackendError } from '../../../lib/errors.js';
import { RedisRateLimiter, type RedisScriptClient } from '../../../lib/ratelimit/redis.js';
import { testRateLimiter } from '../../../lib/testing/conformance.js';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server.js';

let server: RedisServer;
let redis: Redis;

before(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url);
});

after(async () => {
  redis.disconnect();
  await server.stop();
});

// Real time: Redis keeps its own clock. 300 ms windows keep the suite to a few seconds.
testRateLimiter('RedisRateLimiter', () => new RedisRateLimiter({ redis }), { interval: 300 });

const INTERVAL = 300;
/** Grants are observed when their promise settles, after a Redis round trip; see the conformance suite. */
const TOLERANCE = 75;

function bucketId(label: string): string {
  return `test:${randomUUID().slice(0, 8)}:${label}`;
}

function assertSlidingWindow(times: number[], limit: number, interval: number): void {
  const sorted = [...times].sort((a, b) => a - b);
  for (let i = 0; i + limit < sorted.length; i++) {
    const gap = sorted[i + limit]! - sorted[i]!;
    assert.ok(gap >= interval - TOLERANCE, `grants ${i} and ${i + limit} are ${gap} ms apart: more than ${limit} in one window`);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Records unhandled rejections for the duration of `body`. */
async function withoutUnhandledRejections(body: () => Promise<void>): Promise<void> {
  const seen: unknown[] = [];
  const listener = (reason: unknown): void => void seen.push(reason);
  process.on('unhandledRejection', listener);
  try {
    await body();
    await sleep(50);
  } finally {
    process.off('unhandledRejection', listener);
  }
  assert.deepEqual(seen, [], 'no unhandled rejection');
}

describe('RedisRateLimiter shared by many clients', () => {
  it('two clients on one bucket never exceed the limit together', async () => {
    const other = new Redis(server.url);
    try {
      const a = new RedisRateLimiter({ redis });
      const b = new RedisRateLimiter({ redis: other });
      const rule = { id: bucketId('shared'), limit: 5, interval: INTERVAL };
      const times: number[] = [];
      const all: Promise<void>[] = [];
      for (let i = 0; i < 10; i++) {
        for (const limiter of [a, b]) all.push(limiter.acquire(rule).then(() => void times.push(Date.now())));
      }
      await Promise.all(all);
      assert.equal(times.length, 20);
      assertSlidingWindow(times, 5, INTERVAL);
      const snapshot = await b.getBucket(rule.id);
      assert.equal(snapshot?.limit, 5);
      assert.equal(snapshot?.remaining, 0, 'the last window is full');
    } finally {
      other.disconnect();
    }
  });

  it('two processes on one bucket never exceed the limit together', async () => {
    const child = fileURLToPath(new URL('../../helpers/redis-limiter-child.ts', import.meta.url));
    const rule = { id: bucketId('processes'), limit: 4, interval: INTERVAL };
    const procs = [0, 1].map(() =>
      spawn(process.execPath, ['--import', 'tsx', child, server.url, rule.id, String(rule.limit), String(rule.interval), '8'], {
        stdio: ['pipe', 'pipe', 'inherit'],
      }),
    );
    try {
      const lines = procs.map((p) => createInterface({ input: p.stdout })[Symbol.asyncIterator]());
      for (const line of lines) assert.equal((await line.next()).value, 'ready');
      for (const p of procs) p.stdin.write('go\n');
      const times: number[] = [];
      for (const line of lines) {
        const parsed: unknown = JSON.parse(String((await line.next()).value));
        assert.ok(Array.isArray(parsed) && parsed.every((t) => typeof t === 'number'));
        times.push(...(parsed as number[]));
      }
      assert.equal(times.length, 16);
      assertSlidingWindow(times, rule.limit, rule.interval);
      for (const p of procs) if (p.exitCode === null) await once(p, 'exit');
      assert.deepEqual(procs.map((p) => p.exitCode), [0, 0]);
    } finally {
      for (const p of procs) if (p.exitCode === null) p.kill();
    }
  });

  it('getBucket tells the rule of a bucket used only by another process', async () => {
    const rule = { id: bucketId('foreign'), limit: 3, interval: 10_000 };
    await new RedisRateLimiter({ redis }).acquire(rule);
    const before = Date.now();
    const snapshot = await new RedisRateLimiter({ redis }).getBucket(rule.id);
    assert.ok(snapshot);
    assert.equal(snapshot.limit, 3);
    assert.equal(snapshot.remaining, 2);
    assert.equal(snapshot.pending, 0);
    assert.ok(Math.abs(snapshot.reset - (before + 10_000)) < 200, `reset ${snapshot.reset - before} ms ahead`);
  });

  it('keeps its keys under the prefix and lets them expire after the window', async () => {
    const limiter = new RedisRateLimiter({ redis, prefix: 'custom:' });
    const id = bucketId('prefix');
    await limiter.acquire({ id, limit: 2, interval: 1000 });
    assert.equal(await redis.zcard(`custom:${id}`), 1);
    const ttl = await redis.pttl(`custom:${id}`);
    assert.ok(ttl > 0 && ttl <= 1000, `expires with the window (pttl ${ttl})`);
    assert.equal(await redis.exists(`disgate:rl:${id}`), 0);
  });

  it('loads its script again after SCRIPT FLUSH', async () => {
    const limiter = new RedisRateLimiter({ redis });
    const rule = { id: bucketId('flush'), limit: 5, interval: 1000 };
    await limiter.acquire(rule);
    await redis.script('FLUSH');
    await limiter.acquire(rule);
    assert.equal((await limiter.getBucket(rule.id))?.remaining, 3);
  });

  it('gives back a unit granted to a caller that aborted while the script ran', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let heldDone: () => void = () => {};
    const heldCall = new Promise<void>((resolve) => (heldDone = resolve));
    // Holds the first script call until the caller has aborted.
    let held = false;
    const gated = new Proxy(redis, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (property !== 'evalsha' || typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const call = (): unknown => Reflect.apply(value, target, args);
          if (held) return call();
          held = true;
          return gate.then(call).finally(heldDone);
        };
      },
    }) as RedisScriptClient;
    const limiter = new RedisRateLimiter({ redis: gated });
    const rule = { id: bucketId('refund'), limit: 2, interval: 10_000 };
    // Load the script first, so the held call is the one that takes the unit (not a NOSCRIPT miss).
    await new RedisRateLimiter({ redis }).acquire({ ...rule, id: bucketId('warm-up') });
    const controller = new AbortController();
    const aborted = limiter.acquire(rule, { signal: controller.signal });
    controller.abort(new Error('changed my mind'));
    await assert.rejects(aborted, /changed my mind/);
    release();
    await heldCall;
    // The refund is a separate, best-effort call after the grant: wait until it landed.
    for (let i = 0; i < 50 && (await redis.zcard(`disgate:rl:${rule.id}`)) !== 0; i++) await sleep(10);
    assert.equal(await redis.zcard(`disgate:rl:${rule.id}`), 0, 'the unit went back');
  });
});

describe('RedisRateLimiter when Redis fails', () => {
  it('rejects a waiter with BackendError when the server dies mid-wait (timeout)', async () => {
    const own = await startRedisServer();
    const client = new Redis(own.url, { disconnectTimeout: 50 });
    client.on('error', () => {});
    try {
      await withoutUnhandledRejections(async () => {
        const limiter = new RedisRateLimiter({ redis: client, timeout: 300 });
        const rule = { id: bucketId('dies'), limit: 1, interval: 400 };
        await limiter.acquire(rule);
        const waiting = limiter.acquire(rule);
        const outcome = waiting.then(() => 'granted', (error: unknown) => error);
        await sleep(100);
        await own.stop();
        const started = Date.now();
        const result = await outcome;
        assert.ok(result instanceof BackendError, `expected BackendError, got ${String(result)}`);
        assert.match(result.message, /no answer|Connection|closed/i);
        assert.ok(Date.now() - started < 2000, 'fails within the timeout after the wait, not forever');
        await assert.rejects(limiter.getBucket(rule.id), BackendError);
      });
    } finally {
      client.disconnect();
      await own.stop();
    }
  });

  it('rejects every waiter of the bucket at once when a command errors', async () => {
    const own = await startRedisServer();
    const client = new Redis(own.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true, disconnectTimeout: 50 });
    client.on('error', () => {});
    await client.connect();
    try {
      await withoutUnhandledRejections(async () => {
        const limiter = new RedisRateLimiter({ redis: client });
        const rule = { id: bucketId('errors'), limit: 1, interval: 300 };
        await limiter.acquire(rule);
        const waiters = [limiter.acquire(rule), limiter.acquire(rule), limiter.acquire(rule)];
        const outcomes = Promise.all(waiters.map((w) => w.then(() => 'granted', (error: unknown) => error)));
        await own.stop();
        const results = await outcomes;
        for (const result of results) assert.ok(result instanceof BackendError, `expected BackendError, got ${String(result)}`);
        // Nothing lingers: a later call fails too instead of being granted silently.
        await assert.rejects(limiter.acquire(rule), BackendError);
      });
    } finally {
      client.disconnect();
      await own.stop();
    }
  });
});
