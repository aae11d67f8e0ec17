/**
 * The seam of a reshard: the new set's dispatches are held until the swap and delivered unless
 * the old set already delivered them, so handlers see every event once; the store keeps the new
 * sessions.
 */
import { it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { MemorySessionStore } from '../../../lib/index.js';
import { harness, type Harness } from '../../helpers/gateway.js';

let h: Harness | undefined;
afterEach(async () => { await h?.cleanup(); h = undefined; });

it('after a 4011 reshard, every dispatch the new set received reaches the handlers once', async () => {
  h = await harness({ sim: { shards: 4, maxConcurrency: 2, maxGuildsPerShard: 2, guilds: 6 }, client: { shards: 1, autoReshard: true } });
  const readies: number[] = [];
  const guildCreates: string[] = [];
  const messages: string[] = [];
  h.bot.handle('READY', (_r, s) => { readies.push(s.shard[0]); });
  h.bot.handle('GUILD_CREATE', (g) => { guildCreates.push(g.id); });
  h.bot.handle('MESSAGE_CREATE', (m) => { messages.push(m.id); });
  let done = false;
  h.bot.connect().then(() => { done = true; }, () => { done = true; });
  const sent: string[] = [];
  while (!done) {
    for (const guild of h.sim.guilds) {
      const m = h.sim.fixtures.message({ guild_id: guild.id });
      if (h.sim.dispatch('MESSAGE_CREATE', m) > 0) sent.push(m.id);
    }
    await h.advance(250);
  }
  await h.advance(1000);
  assert.deepEqual(readies.sort(), [0, 1, 2, 3], 'READY of every new shard');
  assert.deepEqual([...guildCreates].sort(), h.sim.guilds.map((g) => g.id).sort(), 'GUILD_CREATE of every guild, once');
  assert.deepEqual(messages.sort(), sent.sort(), 'every message a new session received, once');
});

for (let trial = 0; trial < 3; trial++) {
  it(`live reshard 1 -> 2: each message once (trial ${trial})`, async () => {
    h = await harness({ sim: { shards: 1, maxConcurrency: 2, guilds: 4 }, client: { shards: 1 } });
    const messages: string[] = [];
    h.bot.handle('MESSAGE_CREATE', (m) => { messages.push(m.id); });
    let done = false;
    h.bot.connect().then(() => { done = true; });
    await h.advanceUntil(() => done, 'connect');
    const sent: string[] = [];
    const push = (): void => {
      for (const guild of h!.sim.guilds) {
        const m = h!.sim.fixtures.message({ guild_id: guild.id });
        h!.sim.dispatch('MESSAGE_CREATE', m);
        sent.push(m.id);
      }
    };
    h.sim.on('identify', (e) => { if (e.shard[1] === 2) for (let i = 0; i < 20; i++) push(); });
    let resharded = false;
    h.bot.reshard(2).then(() => { resharded = true; });
    while (!resharded) { push(); await h.advance(250); }
    await h.advance(2000);
    const seen = new Map<string, number>();
    for (const id of messages) seen.set(id, (seen.get(id) ?? 0) + 1);
    const twice = [...seen.values()].filter((n) => n > 1).length;
    const lost = sent.filter((id) => !seen.has(id)).length;
    assert.equal(twice, 0, 'delivered twice');
    assert.equal(lost, 0, 'lost');
  });
}

it('with a store, bot.reshard(2) starts new sessions (no resume of the running set\'s) and the store then holds them', async () => {
  const store = new MemorySessionStore();
  h = await harness({ sim: { shards: 1, maxConcurrency: 2, guilds: 4 }, client: { shards: 1, store } });
  let done = false;
  h.bot.connect().then(() => { done = true; });
  await h.advanceUntil(() => done, 'connect');
  const identified: Array<readonly [number, number]> = [];
  let resumes = 0;
  h.sim.on('identify', (e) => identified.push(e.shard));
  h.sim.on('resume', () => resumes++);
  let resharded = false;
  h.bot.reshard(2).then(() => { resharded = true; });
  await h.advanceUntil(() => resharded, 'reshard');
  await h.advance(1000);
  for (const [id, session] of h.bot.sessions) {
    const saved = await store.get(id);
    assert.equal(saved?.session_id, session.id, `store entry of shard ${id} is the new session's`);
    assert.deepEqual(saved?.shard, [id, 2]);
  }
  assert.equal(resumes, 0, 'shard 0 of 2 did not resume shard 0 of 1');
  assert.deepEqual([...identified].sort(), [[0, 2], [1, 2]]);
});

it('with a store, a reshard to the same count identifies its sessions instead of resuming the running ones', async () => {
  const store = new MemorySessionStore();
  h = await harness({ sim: { shards: 1, guilds: 2 }, client: { shards: 1, store } });
  let done = false;
  h.bot.connect().then(() => { done = true; });
  await h.advanceUntil(() => done, 'connect');
  const old = h.bot.sessions.get(0)!;
  let resumes = 0;
  h.sim.on('resume', () => resumes++);
  let resharded = false;
  h.bot.reshard(1).then(() => { resharded = true; });
  await h.advanceUntil(() => resharded, 'reshard');
  const fresh = h.bot.sessions.get(0)!;
  assert.notEqual(fresh, old);
  assert.notEqual(fresh.id, old.id, 'a session of its own');
  assert.equal(resumes, 0);
  assert.equal((await store.get(0))?.session_id, fresh.id);
});
