/**
 * The seam of a reshard: the new set's dispatches are held until the swap and delivered unless
 * the old set already delivered them, so handlers see every event once; the store keeps the new
 * sessions.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemorySessionStore, Session } from '../../../lib/index.js';
import { ReshardSeam, RESHARD_DRAIN_MS } from '../../../lib/sharding/reshard-seam.js';
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

it('after the swap, a late copy on the new set of what the old set delivered is dropped, for RESHARD_DRAIN_MS', async () => {
  h = await harness({ sim: { shards: 1, maxConcurrency: 2, guilds: 2 }, client: { shards: 1 } });
  const messages: Array<{ id: string; total: number }> = [];
  h.bot.handle('MESSAGE_CREATE', (m, s) => { messages.push({ id: m.id, total: s.shard[1] }); });
  let done = false;
  h.bot.connect().then(() => { done = true; });
  await h.advanceUntil(() => done, 'connect');
  const oldSession = h.bot.sessions.get(0)!;
  const guild = h.sim.guilds[0]!;
  const early = h.sim.fixtures.message({ guild_id: guild.id });
  const unmatched = h.sim.fixtures.message({ guild_id: guild.id });
  let resharded = false;
  h.bot.reshard(2).then(() => { resharded = true; });
  // Only the old set gets these before the swap: their copies reach the new set after it.
  h.sim.dispatch('MESSAGE_CREATE', early, { session: oldSession.id! });
  h.sim.dispatch('MESSAGE_CREATE', unmatched, { session: oldSession.id! });
  await h.advanceUntil(() => resharded, 'reshard');
  assert.deepEqual(messages, [{ id: early.id, total: 1 }, { id: unmatched.id, total: 1 }]);
  const owner = h.bot.sessionForGuild(guild.id)!;
  const fresh = h.sim.fixtures.message({ guild_id: guild.id });
  h.sim.dispatch('MESSAGE_CREATE', early, { session: owner.id! });
  h.sim.dispatch('MESSAGE_CREATE', fresh, { session: owner.id! });
  await h.advanceUntil(() => messages.length === 3, 'the new message');
  assert.deepEqual(messages.slice(2), [{ id: fresh.id, total: 2 }], 'the late copy was dropped, the new message delivered');
  await h.advance(RESHARD_DRAIN_MS);
  h.sim.dispatch('MESSAGE_CREATE', unmatched, { session: owner.id! });
  await h.advanceUntil(() => messages.length === 4, 'the copy after the drain');
  assert.deepEqual(messages[3], { id: unmatched.id, total: 2 }, 'past the drain, nothing is filtered');
});

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

describe('ReshardSeam', () => {
  const oldSession = new Session({ shard: [0, 1] });
  const fresh = [new Session({ shard: [0, 2] }), new Session({ shard: [1, 2] })];
  const release = (seam: ReshardSeam): string[] => {
    const out: string[] = [];
    seam.release((event, payload, session) => out.push(`${event} ${(payload as { id: string }).id} ${session.shard[0]}`));
    return out;
  };

  it('delivers the old set at once, holds the new set, and releases only what the old set did not deliver', () => {
    const seam = new ReshardSeam(fresh);
    assert.equal(seam.route('MESSAGE_CREATE', { id: '1' }, oldSession), true);
    assert.equal(seam.route('MESSAGE_CREATE', { id: '1' }, fresh[0]!), false);
    assert.equal(seam.route('MESSAGE_CREATE', { id: '2' }, fresh[1]!), false);
    assert.equal(seam.route('MESSAGE_UPDATE', { id: '1' }, fresh[0]!), false);
    assert.deepEqual(release(seam), ['MESSAGE_CREATE 2 1', 'MESSAGE_UPDATE 1 0']);
  });

  it('matches copies one for one: an event the old set delivered once hides one held copy', () => {
    const seam = new ReshardSeam(fresh);
    seam.route('TYPING_START', { id: '7' }, oldSession);
    seam.route('TYPING_START', { id: '7' }, fresh[0]!);
    seam.route('TYPING_START', { id: '7' }, fresh[0]!);
    assert.deepEqual(release(seam), ['TYPING_START 7 0']);
  });

  it('after release, the new set passes except copies of what the old set delivered, one for one', () => {
    const seam = new ReshardSeam(fresh);
    seam.route('MESSAGE_CREATE', { id: '1' }, oldSession);
    seam.route('MESSAGE_CREATE', { id: '1' }, oldSession);
    seam.route('MESSAGE_CREATE', { id: '2' }, oldSession);
    assert.equal(seam.holds(fresh[0]!), true);
    assert.deepEqual(release(seam), []);
    assert.equal(seam.holds(fresh[0]!), false, 'nothing is held after the swap');
    assert.equal(seam.route('MESSAGE_CREATE', { id: '1' }, fresh[0]!), false);
    assert.equal(seam.route('MESSAGE_CREATE', { id: '1' }, fresh[1]!), false);
    assert.equal(seam.route('MESSAGE_CREATE', { id: '1' }, fresh[0]!), true, 'a third copy is a new event');
    assert.equal(seam.route('MESSAGE_CREATE', { id: '3' }, fresh[0]!), true);
    assert.equal(seam.route('MESSAGE_CREATE', { id: '2' }, oldSession), true, 'a session outside the new set is not filtered');
    assert.equal(seam.route('MESSAGE_CREATE', { id: '2' }, fresh[1]!), false);
  });

  it('remembers a bounded number of old-set dispatches, forgetting the oldest first', () => {
    const seam = new ReshardSeam(fresh, { maxRemembered: 3 });
    for (const id of ['1', '2', '3', '4']) seam.route('MESSAGE_CREATE', { id }, oldSession);
    for (const id of ['1', '2', '3', '4']) seam.route('MESSAGE_CREATE', { id }, fresh[0]!);
    assert.deepEqual(release(seam), ['MESSAGE_CREATE 1 0'], 'only the forgotten one comes again');
  });

  it('holds a bounded number of dispatches, dropping (and counting) the oldest', () => {
    const seam = new ReshardSeam(fresh, { maxHeld: 2 });
    for (const id of ['1', '2', '3']) seam.route('MESSAGE_CREATE', { id }, fresh[1]!);
    assert.equal(seam.dropped, 1);
    assert.deepEqual(release(seam), ['MESSAGE_CREATE 2 1', 'MESSAGE_CREATE 3 1']);
    const longer = new ReshardSeam(fresh, { maxHeld: 2 });
    for (let id = 1; id <= 7; id++) longer.route('MESSAGE_CREATE', { id: String(id) }, fresh[1]!);
    assert.equal(longer.dropped, 5);
    assert.deepEqual(release(longer), ['MESSAGE_CREATE 6 1', 'MESSAGE_CREATE 7 1']);
  });
});
