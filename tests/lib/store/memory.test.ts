import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemorySessionStore } from '../../../lib/store/memory.js';

const info = { session_id: 'abc', seq: 42, resume_gateway_url: 'wss://gateway-us-east1-b.discord.gg' };

describe('MemorySessionStore', () => {
  it('returns undefined for a shard with no session', async () => {
    assert.equal(await new MemorySessionStore().get(0), undefined);
  });

  it('keeps one session per shard and forgets it on delete', async () => {
    const store = new MemorySessionStore();
    await store.set(0, info);
    await store.set(1, { ...info, session_id: 'def', seq: 7 });
    await store.set(0, { ...info, seq: 43 });
    assert.deepEqual(await store.get(0), { ...info, seq: 43 });
    assert.equal((await store.get(1))?.session_id, 'def');
    await store.delete(0);
    assert.equal(await store.get(0), undefined);
    assert.equal((await store.get(1))?.seq, 7);
    await store.flush();
  });

  it('keeps the shard a session identified with, as a copy', async () => {
    const store = new MemorySessionStore();
    const shard: [number, number] = [3, 8];
    await store.set(3, { ...info, shard });
    shard[1] = 16;
    const read = await store.get(3);
    assert.deepEqual(read, { ...info, shard: [3, 8] });
    assert.notEqual(read?.shard, shard);
  });

  it('copies values in and out, keeping only the session fields', async () => {
    const store = new MemorySessionStore();
    const mine = { ...info, extra: 'not stored' };
    await store.set(3, mine);
    mine.seq = 1000;
    const read = await store.get(3);
    assert.deepEqual(read, info);
    if (read) read.seq = 5;
    assert.equal((await store.get(3))?.seq, 42);
  });
});
