/**
 * The seam of a reshard: the new set's dispatches are held until the swap and delivered unless
 * the old set already delivered them, so handlers see every event once; the store keeps the new
 * sessions.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayIntentBits, MemorySessionStore, Session, shardForGuild } from '../../../lib/index.js';
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

/**
 * Connects a one-shard bot whose handlers record each MESSAGE_CREATE as `id@shard/total`. With
 * max_concurrency 1 a reshard's shards identify a window apart: what the old set gets at the
 * first one's identify arrives long before the swap.
 */
async function oneShardBot(): Promise<{ h: Harness; messages: string[] }> {
  const hh = await harness({ sim: { shards: 1, maxConcurrency: 1, guilds: 6 }, client: { shards: 1 } });
  const messages: string[] = [];
  hh.bot.handle('MESSAGE_CREATE', (m, s) => { messages.push(`${m.id}@${s.shard.join('/')}`); });
  let done = false;
  hh.bot.connect().then(() => { done = true; });
  await hh.advanceUntil(() => done, 'connect');
  return { h: hh, messages };
}

/** Runs `reshard(total)` on fake time; `onIdentify` runs as the simulator takes each new-set Identify. */
async function reshardTo(hh: Harness, total: number, onIdentify: (shard: readonly [number, number]) => void = () => {}): Promise<void> {
  let resharded = false;
  const listener = (e: { shard: readonly [number, number] }): void => { if (e.shard[1] === total) onIdentify(e.shard); };
  hh.sim.on('identify', listener);
  hh.bot.reshard(total).then(() => { resharded = true; });
  await hh.advanceUntil(() => resharded, `reshard(${total})`);
  hh.sim.off('identify', listener);
}

describe('the seam after the swap', () => {
  it('drops a late copy on the new set of what the old set delivered once the new session had identified, for RESHARD_DRAIN_MS', async () => {
    let messages: string[];
    ({ h, messages } = await oneShardBot());
    const oldSession = h.bot.sessions.get(0)!;
    const guild = h.sim.guilds.find((g) => shardForGuild(g.id, 2) === 0)!;
    const late = h.sim.fixtures.message({ guild_id: guild.id });
    const unmatched = h.sim.fixtures.message({ guild_id: guild.id });
    // Discord already sends the guild's events to both sets; these reach the old set first.
    await reshardTo(h, 2, (shard) => {
      if (shard[0] !== shardForGuild(guild.id, 2)) return;
      h!.sim.dispatch('MESSAGE_CREATE', late, { session: oldSession.id! });
      h!.sim.dispatch('MESSAGE_CREATE', unmatched, { session: oldSession.id! });
    });
    assert.deepEqual(messages, [`${late.id}@0/1`, `${unmatched.id}@0/1`]);
    const owner = h.bot.sessionForGuild(guild.id)!;
    const fresh = h.sim.fixtures.message({ guild_id: guild.id });
    h.sim.dispatch('MESSAGE_CREATE', late, { session: owner.id! });
    h.sim.dispatch('MESSAGE_CREATE', fresh, { session: owner.id! });
    await h.advanceUntil(() => messages.length === 3, 'the new message');
    assert.deepEqual(messages.slice(2), [`${fresh.id}@${owner.shard.join('/')}`], 'the late copy was dropped, the new message delivered');
    await h.advance(RESHARD_DRAIN_MS);
    h.sim.dispatch('MESSAGE_CREATE', unmatched, { session: owner.id! });
    await h.advanceUntil(() => messages.length === 4, 'the copy after the drain');
    assert.equal(messages[3], `${unmatched.id}@${owner.shard.join('/')}`, 'past the drain, nothing is filtered');
  });

  it('delivers an event that repeats the payload of one the old set got before the new session identified (a reaction added again)', async () => {
    h = await harness({ sim: { shards: 1, maxConcurrency: 2, guilds: 2 }, client: { shards: 1, intents: GatewayIntentBits.Guilds | GatewayIntentBits.GuildMessageReactions } });
    const seen: string[] = [];
    h.bot.handle('MESSAGE_REACTION_ADD', (_d, s) => { seen.push(`add@${s.shard.join('/')}`); });
    h.bot.handle('MESSAGE_REACTION_REMOVE', (_d, s) => { seen.push(`remove@${s.shard.join('/')}`); });
    let done = false;
    h.bot.connect().then(() => { done = true; });
    await h.advanceUntil(() => done, 'connect');
    const guild = h.sim.guilds[0]!;
    const reaction = { user_id: '200000000000000001', channel_id: '300000000000000001', message_id: '400000000000000001', guild_id: guild.id, emoji: { id: null, name: '👍' }, burst: false, type: 0 };
    let resharded = false;
    h.bot.reshard(2).then(() => { resharded = true; });
    // Before the new set identifies, Discord routes these to the old session alone.
    assert.equal(h.sim.dispatch('MESSAGE_REACTION_ADD', reaction as never), 1);
    assert.equal(h.sim.dispatch('MESSAGE_REACTION_REMOVE', reaction as never), 1);
    await h.advanceUntil(() => resharded, 'reshard');
    await h.advance(1000);
    h.sim.dispatch('MESSAGE_REACTION_ADD', reaction as never);
    await h.advance(500);
    const owner = h.bot.sessionForGuild(guild.id)!;
    assert.deepEqual(seen, ['add@0/1', 'remove@0/1', `add@${owner.shard.join('/')}`]);
  });

  it('never takes a new session\'s RESUMED for a copy of the old set\'s', async () => {
    h = await harness({ sim: { shards: 1, maxConcurrency: 2, guilds: 2 }, client: { shards: 1 } });
    const resumed: string[] = [];
    h.bot.handle('RESUMED', (_d, s) => { resumed.push(s.shard.join('/')); });
    let done = false;
    h.bot.connect().then(() => { done = true; });
    await h.advanceUntil(() => done, 'connect');
    const old = h.bot.sessions.get(0)!;
    let resharded = false;
    h.bot.reshard(2).then(() => { resharded = true; });
    h.sim.dropSocket({ session: old.id! });
    await h.advanceUntil(() => resumed.length === 1, 'the old session resumed');
    await h.advanceUntil(() => resharded, 'reshard');
    await h.advance(1000);
    h.sim.dropSocket({ session: h.bot.sessions.get(0)!.id! });
    await h.advanceUntil(() => resumed.length === 2, 'the new session resumed');
    assert.deepEqual(resumed, ['0/1', '0/2']);
  });

  it('a second reshard inside the drain keeps dropping the late copies of the first', async () => {
    let messages: string[];
    ({ h, messages } = await oneShardBot());
    const oldSession = h.bot.sessions.get(0)!;
    const guild = h.sim.guilds.find((g) => shardForGuild(g.id, 2) === 0)!;
    const late = h.sim.fixtures.message({ guild_id: guild.id });
    await reshardTo(h, 2, (shard) => {
      if (shard[0] === shardForGuild(guild.id, 2)) h!.sim.dispatch('MESSAGE_CREATE', late, { session: oldSession.id! });
    });
    const owner = h.bot.sessionForGuild(guild.id)!;
    let second = false;
    h.bot.reshard(3).then(() => { second = true; });
    h.sim.dispatch('MESSAGE_CREATE', late, { session: owner.id! });
    await h.advanceUntil(() => second, 'reshard(3)');
    await h.advance(1000);
    assert.deepEqual(messages, [`${late.id}@0/1`], 'delivered once');
  });
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
  /** A seam whose new sessions have all identified (Discord sends both sets every event). */
  const listening = (limits = {}): ReshardSeam => {
    const seam = new ReshardSeam(fresh, limits);
    for (const session of fresh) seam.identifying(session);
    return seam;
  };
  const release = (seam: ReshardSeam): string[] => {
    const out: string[] = [];
    seam.release((event, payload, session) => out.push(`${event} ${(payload as { id: string }).id} ${session.shard[0]}`));
    return out;
  };

  it('delivers the old set at once, holds the new set, and releases only what the old set did not deliver', () => {
    const seam = listening();
    assert.equal(seam.route('MESSAGE_CREATE', { id: '1' }, oldSession), true);
    assert.equal(seam.route('MESSAGE_CREATE', { id: '1' }, fresh[0]!), false);
    assert.equal(seam.route('MESSAGE_CREATE', { id: '2' }, fresh[1]!), false);
    assert.equal(seam.route('MESSAGE_UPDATE', { id: '1' }, fresh[0]!), false);
    assert.deepEqual(release(seam), ['MESSAGE_CREATE 2 1', 'MESSAGE_UPDATE 1 0']);
  });

  it('matches copies one for one: an event the old set delivered once hides one held copy', () => {
    const seam = listening();
    seam.route('TYPING_START', { id: '7' }, oldSession);
    seam.route('TYPING_START', { id: '7' }, fresh[0]!);
    seam.route('TYPING_START', { id: '7' }, fresh[0]!);
    assert.deepEqual(release(seam), ['TYPING_START 7 0']);
  });

  it('remembers the old set\'s events of a guild only once the new session that gets the guild has identified', () => {
    const seam = new ReshardSeam(fresh);
    // Guild 1 << 22 is on new shard 1 of 2; guildless events (DMs) go to shard 0.
    const guild = String(1n << 22n);
    assert.equal(shardForGuild(guild, 2), 1);
    seam.route('MESSAGE_CREATE', { id: 'a', guild_id: guild }, oldSession);
    seam.route('GUILD_UPDATE', { id: guild }, oldSession);
    seam.identifying(fresh[0]!);
    seam.route('MESSAGE_CREATE', { id: 'b', guild_id: guild }, oldSession);
    seam.route('MESSAGE_CREATE', { id: 'dm' }, oldSession);
    seam.identifying(fresh[1]!);
    seam.route('MESSAGE_CREATE', { id: 'c', guild_id: guild }, oldSession);
    seam.route('GUILD_UPDATE', { id: guild, name: 'renamed' }, oldSession);
    for (const d of [{ id: 'a', guild_id: guild }, { id: 'b', guild_id: guild }, { id: 'c', guild_id: guild }]) seam.route('MESSAGE_CREATE', d, fresh[1]!);
    seam.route('GUILD_UPDATE', { id: guild }, fresh[1]!);
    seam.route('GUILD_UPDATE', { id: guild, name: 'renamed' }, fresh[1]!);
    seam.route('MESSAGE_CREATE', { id: 'dm' }, fresh[0]!);
    assert.deepEqual(release(seam), ['MESSAGE_CREATE a 1', 'MESSAGE_CREATE b 1', 'GUILD_UPDATE ' + guild + ' 1'],
      'copies come only of what happened after the guild\'s new session identified');
  });

  it('never matches what answers one connection (READY, RESUMED, member chunks, RATE_LIMITED ...)', () => {
    const seam = listening();
    for (const event of ['RESUMED', 'RATE_LIMITED', 'GUILD_MEMBERS_CHUNK']) seam.route(event, { id: 'x' }, oldSession);
    seam.route('RESUMED', { id: 'x' }, fresh[0]!);
    assert.deepEqual(release(seam), ['RESUMED x 0']);
    assert.equal(seam.route('RATE_LIMITED', { id: 'x' }, fresh[0]!), true);
    assert.equal(seam.route('GUILD_MEMBERS_CHUNK', { id: 'x' }, fresh[0]!), true);
  });

  it('after release, the new set passes except copies of what the old set delivered, one for one, until the drain ends', (t) => {
    t.mock.timers.enable({ apis: ['Date'] });
    const seam = listening();
    seam.route('MESSAGE_CREATE', { id: '1' }, oldSession);
    seam.route('MESSAGE_CREATE', { id: '1' }, oldSession);
    seam.route('MESSAGE_CREATE', { id: '2' }, oldSession);
    seam.route('MESSAGE_CREATE', { id: '4' }, oldSession);
    assert.equal(seam.holds(fresh[0]!), true);
    assert.deepEqual(release(seam), []);
    assert.equal(seam.holds(fresh[0]!), false, 'nothing is held after the swap');
    assert.equal(seam.finished, false);
    assert.equal(seam.route('MESSAGE_CREATE', { id: '1' }, fresh[0]!), false);
    assert.equal(seam.route('MESSAGE_CREATE', { id: '1' }, fresh[1]!), false);
    assert.equal(seam.route('MESSAGE_CREATE', { id: '1' }, fresh[0]!), true, 'a third copy is a new event');
    assert.equal(seam.route('MESSAGE_CREATE', { id: '3' }, fresh[0]!), true);
    assert.equal(seam.route('MESSAGE_CREATE', { id: '2' }, oldSession), true, 'a session outside the new set is not filtered');
    assert.equal(seam.route('MESSAGE_CREATE', { id: '2' }, fresh[1]!), false);
    t.mock.timers.tick(RESHARD_DRAIN_MS);
    assert.equal(seam.finished, true);
    assert.equal(seam.route('MESSAGE_CREATE', { id: '4' }, fresh[0]!), true, 'past the drain, a copy is let through');
  });

  it('is finished as soon as every remembered event has met its copy', () => {
    const seam = listening();
    seam.route('MESSAGE_CREATE', { id: '1' }, oldSession);
    release(seam);
    assert.equal(seam.finished, false);
    seam.route('MESSAGE_CREATE', { id: '1' }, fresh[0]!);
    assert.equal(seam.finished, true);
  });

  it('a seam started during another\'s drain drops the late copies the other would have', () => {
    const first = listening();
    first.route('MESSAGE_CREATE', { id: '1' }, oldSession);
    release(first);
    const third = [new Session({ shard: [0, 3] })];
    const second = new ReshardSeam(third, {}, first);
    // fresh[0] is the running set now, and the second seam's old set.
    assert.equal(second.route('MESSAGE_CREATE', { id: '1' }, fresh[0]!), false, 'the late copy of the first swap');
    assert.equal(second.route('MESSAGE_CREATE', { id: '5' }, fresh[0]!), true);
  });

  it('remembers a bounded number of old-set dispatches, forgetting the oldest first', () => {
    const seam = listening({ maxRemembered: 3 });
    for (const id of ['1', '2', '3', '4']) seam.route('MESSAGE_CREATE', { id }, oldSession);
    for (const id of ['1', '2', '3', '4']) seam.route('MESSAGE_CREATE', { id }, fresh[0]!);
    assert.deepEqual(release(seam), ['MESSAGE_CREATE 1 0'], 'only the forgotten one comes again');
  });

  it('holds a bounded number of dispatches, dropping (and counting) the oldest', () => {
    const seam = listening({ maxHeld: 2 });
    for (const id of ['1', '2', '3']) seam.route('MESSAGE_CREATE', { id }, fresh[1]!);
    assert.equal(seam.dropped, 1);
    assert.deepEqual(release(seam), ['MESSAGE_CREATE 2 1', 'MESSAGE_CREATE 3 1']);
    const longer = listening({ maxHeld: 2 });
    for (let id = 1; id <= 7; id++) longer.route('MESSAGE_CREATE', { id: String(id) }, fresh[1]!);
    assert.equal(longer.dropped, 5);
    assert.deepEqual(release(longer), ['MESSAGE_CREATE 6 1', 'MESSAGE_CREATE 7 1']);
  });
});
