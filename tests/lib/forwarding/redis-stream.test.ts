import { strict as assert } from 'node:assert';
import { after, afterEach, before, describe, it, mock } from 'node:test';
import { Redis } from 'ioredis';
import { BackendError, InvalidOptionError } from '../../../lib/errors.js';
import {
  RedisStreamSink, decodeStreamEntry, type RedisStreamSinkOptions, type StreamRecord,
} from '../../../lib/forwarding/index.js';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server.js';

let server: RedisServer;
let redis: Redis;
let keyCounter = 0;
const freshKey = (): string => `test:events:${++keyCounter}`;

before(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url);
});

after(async () => {
  await redis.quit();
  await server.stop();
});

afterEach(() => mock.restoreAll());

interface Failure {
  readonly error: BackendError;
  readonly records: readonly StreamRecord[];
}

function sink(options: Partial<RedisStreamSinkOptions> = {}) {
  const failures: Failure[] = [];
  const key = options.key ?? freshKey();
  const instance = new RedisStreamSink({
    redis,
    key,
    onError: (error, records) => failures.push({ error, records }),
    ...options,
  });
  return { sink: instance, key, failures };
}

/** XRANGE entries as plain records. */
async function readAll(key: string): Promise<StreamRecord[]> {
  const entries = await redis.xrange(key, '-', '+');
  return entries.map(([, fields]) => decodeStreamEntry(fields));
}

describe('RedisStreamSink', () => {
  it('caps the stream at maxLen exactly, keeping the newest entries', async () => {
    const { sink: s, key, failures } = sink({ maxLen: 50, batchSize: 64 });
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 100; i++) s.push('MESSAGE_CREATE', { n: round * 100 + i }, round);
      await s.flush();
      assert.ok(await redis.xlen(key) <= 50, `XLEN <= 50 after round ${round}`);
    }
    assert.equal(await redis.xlen(key), 50);
    const records = await readAll(key);
    assert.deepEqual(records.map((r) => (r.d as { n: number }).n), Array.from({ length: 50 }, (_, i) => 450 + i));
    assert.deepEqual(records.at(-1), { t: 'MESSAGE_CREATE', d: { n: 499 }, shard_id: 4 });
    assert.deepEqual(failures, []);
    assert.deepEqual(s.stats, { pending: 0, written: 500, failed: 0 });
  });

  it('trims approximately with MAXLEN ~ when asked', async () => {
    const { sink: s, key } = sink({ maxLen: 10, trim: 'approximate' });
    for (let i = 0; i < 1_000; i++) s.push('TYPING_START', { n: i }, 0);
    await s.flush();
    const length = await redis.xlen(key);
    assert.ok(length >= 10 && length < 1_000, `approximate trimming kept ${length} entries`);
  });

  it('lets consumers in a group share the entries with XREADGROUP', async () => {
    const { sink: s, key } = sink();
    await redis.xgroup('CREATE', key, 'workers', '$', 'MKSTREAM');
    for (let i = 0; i < 20; i++) s.push(i % 2 ? 'GUILD_MEMBER_ADD' : 'MESSAGE_CREATE', { n: i }, i % 4);
    await s.flush();

    const read = async (consumer: string): Promise<[string, StreamRecord][]> => {
      const reply = await redis.xreadgroup('GROUP', 'workers', consumer, 'COUNT', 10, 'STREAMS', key, '>') as
        [string, [string, string[]][]][] | null;
      return (reply?.[0]?.[1] ?? []).map(([id, fields]) => [id, decodeStreamEntry(fields)]);
    };
    const first = await read('a');
    const second = await read('b');
    assert.equal(first.length, 10);
    assert.equal(second.length, 10);
    assert.deepEqual(await read('a'), [], 'every entry went to exactly one consumer');
    const all = [...first, ...second].map(([, r]) => r);
    assert.deepEqual(all.map((r) => (r.d as { n: number }).n), Array.from({ length: 20 }, (_, i) => i));
    assert.deepEqual(all[3], { t: 'GUILD_MEMBER_ADD', d: { n: 3 }, shard_id: 3 });
    assert.equal(await redis.xack(key, 'workers', ...first.map(([id]) => id), ...second.map(([id]) => id)), 20);
  });

  it('pipelines the pushes of one tick, at most batchSize XADDs per pipeline', async () => {
    const pipelines = mock.method(redis, 'pipeline');
    const { sink: s, key } = sink({ batchSize: 4 });
    for (let i = 0; i < 10; i++) s.push('MESSAGE_CREATE', { n: i }, 0);
    assert.equal(pipelines.mock.callCount(), 2, 'two full batches go at once');
    assert.equal(s.stats.pending, 10);
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.equal(pipelines.mock.callCount(), 3, 'the rest goes on the next turn of the event loop');
    await s.flush();
    assert.equal(await redis.xlen(key), 10);
  });

  it('forwards only the selected events', async () => {
    const { sink: s, key } = sink({ events: ['GUILD_CREATE'] });
    s.push('MESSAGE_CREATE', {}, 0);
    s.push('GUILD_CREATE', { id: 'g' }, 1);
    await s.flush();
    assert.deepEqual(await readAll(key), [{ t: 'GUILD_CREATE', d: { id: 'g' }, shard_id: 1 }]);
  });

  it('reports failed XADDs through onError with the records lost', async () => {
    const key = freshKey();
    await redis.set(key, 'not a stream');
    const { sink: s, failures } = sink({ key });
    s.push('MESSAGE_CREATE', { n: 1 }, 0);
    s.push('MESSAGE_CREATE', { n: 2 }, 0);
    await s.flush();
    assert.equal(failures.length, 1);
    assert.ok(failures[0]?.error instanceof BackendError);
    assert.match(failures[0]?.error.message ?? '', /WRONGTYPE/);
    assert.deepEqual(failures[0]?.records.map((r) => r.d), [{ n: 1 }, { n: 2 }]);
    assert.deepEqual(s.stats, { pending: 0, written: 0, failed: 2 });
  });

  it('reports an unreachable Redis without unhandled rejections', async () => {
    const probe = await startRedisServer();
    await probe.stop(); // a port where nothing listens
    const offline = new Redis(probe.url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      const { sink: s, failures } = sink({ redis: offline });
      s.push('MESSAGE_CREATE', { n: 1 }, 0);
      await s.flush();
      assert.equal(failures.length, 1);
      assert.ok(failures[0]?.error instanceof BackendError);
      assert.equal(failures[0]?.records.length, 1);
    } finally {
      offline.disconnect();
    }
  });

  it('bounds what waits for Redis and refuses unserializable payloads', async () => {
    const { sink: s, key, failures } = sink({ maxPending: 3, batchSize: 100 });
    for (let n = 0; n < 5; n++) s.push('MESSAGE_CREATE', { n }, 0);
    s.push('MESSAGE_CREATE', { big: 1n }, 0);
    assert.deepEqual(failures.map((f) => f.records.map((r) => r.d)), [[{ n: 3 }], [{ n: 4 }], [{ big: 1n }]]);
    assert.match(failures[0]?.error.message ?? '', /3 records are already waiting/);
    await s.flush();
    assert.equal(await redis.xlen(key), 3);
  });

  it('close() writes what is buffered and refuses later pushes', async () => {
    const { sink: s, key, failures } = sink();
    s.push('MESSAGE_CREATE', { n: 1 }, 0);
    await s.close();
    s.push('MESSAGE_CREATE', { n: 2 }, 0);
    await s.flush();
    assert.equal(await redis.xlen(key), 1);
    assert.equal(failures.length, 1);
    assert.match(failures[0]?.error.message ?? '', /closed/);
    assert.equal(redis.status, 'ready', "the caller's client stays open");
  });

  it('swallows exceptions thrown by onError', async () => {
    const key = freshKey();
    await redis.set(key, 'not a stream');
    const s = new RedisStreamSink({ redis, key, onError: () => { throw new Error('bad callback'); } });
    s.push('MESSAGE_CREATE', {}, 0);
    await s.flush();
    assert.deepEqual(s.stats, { pending: 0, written: 0, failed: 1 });
  });

  it('validates its options', () => {
    const bad: [Partial<RedisStreamSinkOptions>, string][] = [
      [{ maxLen: 0 }, 'maxLen'],
      [{ key: '' }, 'key'],
      [{ batchSize: 0 }, 'batchSize'],
      [{ maxPending: 1.5 }, 'maxPending'],
    ];
    for (const [options, option] of bad) {
      assert.throws(() => new RedisStreamSink({ redis, ...options }),
        (e: unknown) => e instanceof InvalidOptionError && e.option === option, option);
    }
  });
});

describe('decodeStreamEntry', () => {
  it('restores a record and refuses entries written by something else', () => {
    assert.deepEqual(decodeStreamEntry(['t', 'READY', 'd', '{"v":10}', 'shard', '2']), { t: 'READY', d: { v: 10 }, shard_id: 2 });
    assert.throws(() => decodeStreamEntry(['t', 'READY', 'd', '{}']), BackendError);
    assert.throws(() => decodeStreamEntry(['t', 'READY', 'd', '{}', 'shard', '']), BackendError);
    assert.throws(() => decodeStreamEntry(['t', 'READY', 'd', 'nope', 'shard', '0']), BackendError);
  });
});
