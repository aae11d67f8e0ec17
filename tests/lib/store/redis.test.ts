import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { BackendError } from '../../../lib/errors.js';
import { RedisSessionStore, type RedisStoreClient } from '../../../lib/store/redis.js';
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

const info = { session_id: 'abc', seq: 1, resume_gateway_url: 'wss://gateway-us-east1-b.discord.gg' };

function prefix(): string {
  return `test:${randomUUID().slice(0, 8)}:`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Wraps the client so every pipeline (one batched write) is timed, and the first `failures` of them fail. */
function countingClient(client: Redis, failures = 0): { client: RedisStoreClient; writes: number[] } {
  const writes: number[] = [];
  const wrapped = new Proxy(client, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (property !== 'pipeline' || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        writes.push(Date.now());
        if (writes.length <= failures) return { exec: () => Promise.reject(new Error('READONLY You cannot write against a read only replica.')) };
        return Reflect.apply(value, target, args);
      };
    },
  }) as RedisStoreClient;
  return { client: wrapped, writes };
}

describe('RedisSessionStore', () => {
  it('returns undefined for a shard with no session', async () => {
    assert.equal(await new RedisSessionStore({ redis, prefix: prefix() }).get(0), undefined);
  });

  it('stores JSON { session_id, seq, resume_gateway_url } with the ttl, readable after a restart', async () => {
    const keys = prefix();
    const store = new RedisSessionStore({ redis, prefix: keys, ttl: 120 });
    await store.set(4, { ...info, extra: true } as typeof info);
    await store.flush();
    assert.deepEqual(JSON.parse((await redis.get(`${keys}4`)) ?? 'null'), info);
    const ttl = await redis.ttl(`${keys}4`);
    assert.ok(ttl > 115 && ttl <= 120, `ttl ${ttl}`);
    assert.deepEqual(await new RedisSessionStore({ redis, prefix: keys }).get(4), info, 'a new process reads it');
    assert.equal(await redis.ttl(`${keys}4`), ttl, 'reading does not extend the ttl');
  });

  it('keeps the shard a session identified with; values saved without one still read', async () => {
    const keys = prefix();
    const store = new RedisSessionStore({ redis, prefix: keys });
    await store.set(5, { ...info, shard: [5, 16] });
    await store.flush();
    assert.deepEqual(JSON.parse((await redis.get(`${keys}5`)) ?? 'null'), { ...info, shard: [5, 16] });
    assert.deepEqual(await new RedisSessionStore({ redis, prefix: keys }).get(5), { ...info, shard: [5, 16] });
    await redis.set(`${keys}6`, JSON.stringify(info));
    assert.deepEqual(await store.get(6), info, 'a value saved by disgate 0.1');
  });

  it('uses a 600 s ttl by default', async () => {
    const keys = prefix();
    const store = new RedisSessionStore({ redis, prefix: keys });
    await store.set(0, info);
    await store.flush();
    const ttl = await redis.ttl(`${keys}0`);
    assert.ok(ttl > 595 && ttl <= 600, `ttl ${ttl}`);
  });

  it('writes at most once per flushInterval however often set is called', async () => {
    const keys = prefix();
    const { client, writes } = countingClient(redis);
    const store = new RedisSessionStore({ redis: client, prefix: keys, flushInterval: 100 });
    const started = Date.now();
    let seq = 0;
    while (Date.now() - started < 450) {
      await store.set(0, { ...info, seq: ++seq });
      await store.set(1, { ...info, seq: seq * 2 });
      await sleep(5);
    }
    assert.equal((await store.get(0))?.seq, seq, 'get sees the latest value before it is written');
    // The trailing write lands by itself within one interval.
    await sleep(150);
    assert.ok(seq > 40, `many sets (${seq})`);
    assert.ok(writes.length >= 4 && writes.length <= 6, `${writes.length} writes for ${seq * 2} sets over ~450 ms`);
    for (let i = 1; i < writes.length; i++) {
      assert.ok(writes[i]! - writes[i - 1]! >= 99, `writes ${i - 1} and ${i} only ${writes[i]! - writes[i - 1]!} ms apart`);
    }
    assert.equal(JSON.parse((await redis.get(`${keys}0`)) ?? 'null').seq, seq);
    assert.equal(JSON.parse((await redis.get(`${keys}1`)) ?? 'null').seq, seq * 2);
  });

  it('writes every shard changed since the last write in one pipeline', async () => {
    const keys = prefix();
    const { client, writes } = countingClient(redis);
    const store = new RedisSessionStore({ redis: client, prefix: keys, flushInterval: 60_000 });
    for (let shard = 0; shard < 10; shard++) await store.set(shard, { ...info, seq: shard });
    await store.flush();
    assert.equal(writes.length, 1);
    const values = await redis.mget(Array.from({ length: 10 }, (_, shard) => `${keys}${shard}`));
    assert.deepEqual(values.map((v) => JSON.parse(v ?? 'null').seq), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('flush writes at once what the interval still holds back, leaving no timer', async () => {
    const keys = prefix();
    const { client, writes } = countingClient(redis);
    // An hour-long interval: if flush left the timer armed, this test file would not exit.
    const store = new RedisSessionStore({ redis: client, prefix: keys, flushInterval: 3_600_000 });
    await store.set(0, info);
    await sleep(20);
    assert.equal(writes.length, 1, 'the first change after a quiet spell is written right away');
    await store.set(0, { ...info, seq: 99 });
    await sleep(20);
    assert.equal(writes.length, 1, 'the next one waits for the interval');
    assert.equal(JSON.parse((await redis.get(`${keys}0`)) ?? 'null').seq, 1);
    await store.flush();
    assert.equal(writes.length, 2);
    assert.equal(JSON.parse((await redis.get(`${keys}0`)) ?? 'null').seq, 99);
    await store.flush();
    assert.equal(writes.length, 2, 'nothing queued, nothing written');
  });

  it('delete removes the session at once, including a queued newer value', async () => {
    const keys = prefix();
    const store = new RedisSessionStore({ redis, prefix: keys, flushInterval: 50 });
    await store.set(2, info);
    await store.flush();
    await store.set(2, { ...info, seq: 2 });
    await store.delete(2);
    assert.equal(await redis.exists(`${keys}2`), 0);
    assert.equal(await store.get(2), undefined);
    await sleep(120);
    assert.equal(await redis.exists(`${keys}2`), 0, 'the queued value was not written later');
  });

  it('ignores a stored value that is not a session', async () => {
    const keys = prefix();
    await redis.set(`${keys}0`, 'not json');
    await redis.set(`${keys}1`, JSON.stringify({ session_id: 1 }));
    await redis.set(`${keys}2`, JSON.stringify({ ...info, shard: [2] }));
    await redis.set(`${keys}3`, JSON.stringify({ ...info, shard: [3, 2] }));
    const store = new RedisSessionStore({ redis, prefix: keys });
    for (const shard of [0, 1, 2, 3]) assert.equal(await store.get(shard), undefined, `key ${shard}`);
  });

  it('retries a failed background write, reporting it to onError', async () => {
    const keys = prefix();
    const { client, writes } = countingClient(redis, 1);
    const errors: BackendError[] = [];
    const store = new RedisSessionStore({ redis: client, prefix: keys, flushInterval: 50, onError: (e) => void errors.push(e) });
    await store.set(0, info);
    await sleep(20);
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof BackendError);
    assert.match(errors[0].message, /READONLY/);
    await sleep(80);
    assert.equal(writes.length, 2, 'retried after one interval');
    assert.deepEqual(JSON.parse((await redis.get(`${keys}0`)) ?? 'null'), info);
  });

  it('rejects flush, delete and get with BackendError when Redis is gone, without unhandled rejections', async () => {
    const own = await startRedisServer();
    const client = new Redis(own.url, { lazyConnect: true, disconnectTimeout: 50 });
    client.on('error', () => {});
    await client.connect();
    const unhandled: unknown[] = [];
    const listener = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', listener);
    try {
      const errors: BackendError[] = [];
      const store = new RedisSessionStore({ redis: client, flushInterval: 50, timeout: 200, onError: (e) => void errors.push(e) });
      await store.set(0, info);
      await store.flush();
      await own.stop();
      await store.set(0, { ...info, seq: 2 });
      await sleep(300);
      assert.ok(errors.length >= 1 && errors.every((e) => e instanceof BackendError), 'the background write failed into onError');
      await assert.rejects(store.flush(), BackendError);
      assert.deepEqual(await store.get(0), { ...info, seq: 2 }, 'the unwritten value is still queued');
      await assert.rejects(store.get(1), BackendError);
      await assert.rejects(store.delete(0), BackendError);
      assert.equal(await store.flush(), undefined, 'delete dropped the queued value: nothing left to write');
      await sleep(50);
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', listener);
      client.disconnect();
      await own.stop();
    }
  });
});
