/**
 * The seam of a reshard: the new set's dispatches are held until the swap and delivered unless
 * the old set already delivered them, so handlers see every event once; the store keeps the new
 * sessions.
 */
import { afterEach, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayCloseCodes, GatewayIntentBits, MemorySessionStore, RequestGuildMembers, Session, SessionClosedError, shardForGuild } from '../../../lib/index.js';
import { ReshardSeam, RESHARD_HOLD_MS, RESHARD_REPLAY_MS } from '../../../lib/sharding/reshard-seam.js';
import { harness, type Harness } from '../../helpers/gateway.js';

let h: Harness | undefined;
afterEach(async () => { await h?.cleanup(); h = undefined; mock.restoreAll(); });

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
    await connectAll(h);
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

/** Runs `bot.connect()` on fake time until every shard is READY. */
async function connectAll(hh: Harness): Promise<void> {
  let done = false;
  hh.bot.connect().then(() => { done = true; });
  await hh.advanceUntil(() => done, 'connect');
}

/** One user's reaction on one message: adding it twice gives the same payload twice. */
function reactionIn(guild_id: string): object {
  return { user_id: '200000000000000001', channel_id: '300000000000000001', message_id: '400000000000000001', guild_id, emoji: { id: null, name: 'x' }, burst: false, type: 0 };
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
  await connectAll(hh);
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

describe('the seam', () => {
  it('drops a late copy on the new set of what the old set delivered once the new session had identified, for RESHARD_REPLAY_MS', async () => {
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
    await h.advance(RESHARD_REPLAY_MS);
    h.sim.dispatch('MESSAGE_CREATE', unmatched, { session: owner.id! });
    await h.advanceUntil(() => messages.length === 4, 'the copy after the drain');
    assert.equal(messages[3], `${unmatched.id}@${owner.shard.join('/')}`, 'past the drain, nothing is filtered');
  });

  it('delivers an event that repeats the payload of one the old set got before the new session identified (a reaction added again)', async () => {
    h = await harness({ sim: { shards: 1, maxConcurrency: 2, guilds: 2 }, client: { shards: 1, intents: GatewayIntentBits.Guilds | GatewayIntentBits.GuildMessageReactions } });
    const seen: string[] = [];
    h.bot.handle('MESSAGE_REACTION_ADD', (_d, s) => { seen.push(`add@${s.shard.join('/')}`); });
    h.bot.handle('MESSAGE_REACTION_REMOVE', (_d, s) => { seen.push(`remove@${s.shard.join('/')}`); });
    await connectAll(h);
    const guild = h.sim.guilds[0]!;
    const reaction = reactionIn(guild.id);
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
    await connectAll(h);
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

  it('keeps each guild\'s order when the old set lags: the new set\'s copy waits for the old set', async () => {
    let messages: string[];
    ({ h, messages } = await oneShardBot());
    const oldSession = h.bot.sessions.get(0)!;
    const guild = h.sim.guilds.find((g) => shardForGuild(g.id, 2) === 0)!;
    const first = h.sim.fixtures.message({ guild_id: guild.id });
    const second = h.sim.fixtures.message({ guild_id: guild.id });
    h.bot.on('ready', (session) => {
      if (session.shard[1] !== 2 || session.shard[0] !== 0) return;
      // `second` reaches the new session at once; the old socket lags 200 ms behind, with
      // `first` (from before the new session existed) ahead of `second`.
      h!.sim.dispatch('MESSAGE_CREATE', second, { session: session.id! });
      setTimeout(() => {
        h!.sim.dispatch('MESSAGE_CREATE', first, { session: oldSession.id! });
        h!.sim.dispatch('MESSAGE_CREATE', second, { session: oldSession.id! });
      }, 200);
    });
    await reshardTo(h, 2);
    await h.advance(1000);
    assert.deepEqual(messages.map((m) => m.split('@')[0]), [first.id, second.id]);
  });

  /** Makes `session` stop processing what its current connection receives, as a zombie TCP connection would. */
  function stall(session: Session): void {
    const process = session.connectionFrame.bind(session);
    let stalled: unknown;
    (session as { connectionFrame: typeof process }).connectionFrame = (conn, frame) => {
      stalled ??= conn;
      if (conn !== stalled) process(conn, frame);
    };
  }

  for (const which of ['old', 'new'] as const) {
    it(`a${which === 'old' ? 'n old' : ' new'} session that stalls and resumes after its zombie check replays nothing twice`, async () => {
      h = await harness({ sim: { shards: 1, maxConcurrency: 1, guilds: 16, heartbeatInterval: 15_000 }, client: { shards: 1 } });
      const seen: string[] = [];
      h.bot.handle('MESSAGE_CREATE', (m) => { seen.push(m.id); });
      await connectAll(h);
      const old = h.bot.sessions.get(0)!;
      // A stalled old session must still run when it notices: 8 new shards, 5 s apart, keep it.
      const total = which === 'old' ? 8 : 2;
      const guild = h.sim.guilds.find((g) => shardForGuild(g.id, total) === 0)!;
      let fresh: Session | undefined;
      h.bot.on('ready', (session) => { if (session.shard[1] === total && session.shard[0] === 0) fresh ??= session; });
      let resharded = false;
      h.bot.reshard(total).then(() => { resharded = true; });
      await h.advanceUntil(() => fresh !== undefined, 'new shard 0 READY');
      const stalled = which === 'old' ? old : fresh!;
      stall(stalled);
      let resumed = false;
      h.sim.on('resume', (e) => { if (e.sessionId === stalled.id) resumed = true; });
      const sent: string[] = [];
      for (let i = 0; i < 3; i++) {
        const m = h.sim.fixtures.message({ guild_id: guild.id });
        h.sim.dispatch('MESSAGE_CREATE', m);
        sent.push(m.id);
      }
      await h.advanceUntil(() => resumed, 'the stalled session resumed', { max: 120_000 });
      await h.advanceUntil(() => resharded, 'the swap', { max: 120_000 });
      await h.advance(2000);
      assert.deepEqual(seen, sent, 'each once, in order');
    });
  }

  it('a new session whose connection drops before READY expects no copies until it identifies again', async () => {
    h = await harness({ sim: { shards: 1, maxConcurrency: 1, guilds: 2 }, client: { shards: 1, intents: GatewayIntentBits.Guilds | GatewayIntentBits.GuildMessageReactions } });
    const seen: string[] = [];
    h.bot.handle('MESSAGE_REACTION_ADD', (_d, s) => { seen.push(`add@${s.shard.join('/')}`); });
    h.bot.handle('MESSAGE_REACTION_REMOVE', (_d, s) => { seen.push(`remove@${s.shard.join('/')}`); });
    await connectAll(h);
    const old = h.bot.sessions.get(0)!;
    const reaction = reactionIn(h.sim.guilds[0]!.id);
    // The new session's first connection drops just before its READY is read.
    let dropped = false;
    let connection = 0;
    h.sim.on('identify', (e) => { if (connection === 0 && e.shard[1] === 1) connection = e.connection; });
    const original = Session.prototype.connectionFrame;
    mock.method(Session.prototype, 'connectionFrame', function (this: Session, conn: Parameters<Session['connectionFrame']>[0], frame: Parameters<Session['connectionFrame']>[1]) {
      if (this !== old && !dropped && frame.t === 'READY') {
        dropped = true;
        h!.sim.dropSocket({ connection });
        return;
      }
      original.call(this, conn, frame);
    });
    let resharded = false;
    h.bot.reshard(1).then(() => { resharded = true; });
    await h.advanceUntil(() => dropped, 'the first connection of the new session dropped', { step: 10 });
    // Discord routes this to the old session only: the new one has no session now.
    assert.equal(h.sim.dispatch('MESSAGE_REACTION_ADD', reaction as never, { session: old.id! }), 1);
    await h.advanceUntil(() => resharded, 'reshard', { step: 10 });
    await h.advance(500, 50);
    h.sim.dispatch('MESSAGE_REACTION_REMOVE', reaction as never);
    await h.advance(200, 50);
    h.sim.dispatch('MESSAGE_REACTION_ADD', reaction as never);
    await h.advance(1000, 50);
    assert.deepEqual(seen, ['add@0/1', 'remove@0/1', 'add@0/1'], 'the second add is a new event');
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
  await connectAll(h);
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

it('with a store, the running set keeps its store keys until the swap, even when a new session is invalidated', async () => {
  const store = new MemorySessionStore();
  h = await harness({ sim: { shards: 1, maxConcurrency: 1, guilds: 4 }, client: { shards: 1, store } });
  await connectAll(h);
  await h.advance(1500);
  const old = h.bot.sessions.get(0)!;
  assert.equal((await store.get(0))?.session_id, old.id);
  let fresh: Session | undefined;
  h.bot.on('ready', (session) => { if (session.shard[1] === 2 && session.shard[0] === 0) fresh ??= session; });
  let resharded = false;
  h.bot.reshard(2).then(() => { resharded = true; });
  await h.advanceUntil(() => fresh !== undefined, 'new shard 0 READY');
  h.sim.invalidateSession(false, { session: fresh!.id! });
  await h.advance(1500);
  assert.equal(resharded, false);
  assert.equal((await store.get(0))?.session_id, old.id, 'a crash now resumes the running session');
  await h.advanceUntil(() => resharded, 'the swap');
  await h.advance(1500);
  assert.equal((await store.get(0))?.session_id, h.bot.sessions.get(0)!.id);
  assert.deepEqual((await store.get(0))?.shard, [0, 2]);
});

it('with a store, a reshard to fewer shards deletes the keys of the shard ids it no longer runs', async () => {
  const store = new MemorySessionStore();
  h = await harness({ sim: { shards: 2, maxConcurrency: 2, guilds: 4 }, client: { shards: 2, store } });
  await connectAll(h);
  await h.advance(1500);
  assert.notEqual(await store.get(1), undefined);
  let resharded = false;
  h.bot.reshard(1).then(() => { resharded = true; });
  await h.advanceUntil(() => resharded, 'reshard');
  await h.advance(1500);
  assert.equal(await store.get(1), undefined, 'nothing left to resume a retired session from');
  assert.equal((await store.get(0))?.session_id, h.bot.sessions.get(0)!.id);
});

it('with a store, a reshard to the same count identifies its sessions instead of resuming the running ones', async () => {
  const store = new MemorySessionStore();
  h = await harness({ sim: { shards: 1, guilds: 2 }, client: { shards: 1, store } });
  await connectAll(h);
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

describe('the swap', () => {
  it('waits until every new session is READY at once: one invalidated after its READY is not left without a session', async () => {
    let messages: string[];
    ({ h, messages } = await oneShardBot());
    const guild = h.sim.guilds.find((g) => shardForGuild(g.id, 2) === 0)!;
    let invalidated: Session | undefined;
    h.bot.on('ready', (session, how) => {
      if (session.shard[1] !== 2 || session.shard[0] !== 0 || how !== 'ready' || invalidated) return;
      invalidated = session;
      // Discord drops the brand-new session (a gateway node restarting, say): it must identify again.
      h!.sim.invalidateSession(false, { session: session.id! });
    });
    let resharded = false;
    h.bot.reshard(2).then(() => { resharded = true; });
    const sent: string[] = [];
    while (!resharded) {
      const m = h.sim.fixtures.message({ guild_id: guild.id });
      h.sim.dispatch('MESSAGE_CREATE', m);
      sent.push(m.id);
      await h.advance(250);
    }
    assert.ok(invalidated, 'the new shard 0 was invalidated once');
    assert.equal(h.bot.sessions.get(0), invalidated);
    assert.equal(invalidated.status, 'ready', 'swapped only once it was READY again');
    for (let i = 0; i < 4; i++) {
      const m = h.sim.fixtures.message({ guild_id: guild.id });
      h.sim.dispatch('MESSAGE_CREATE', m);
      sent.push(m.id);
    }
    await h.advance(2000);
    const ids = messages.map((m) => m.split('@')[0]!);
    assert.deepEqual(sent.filter((id) => !ids.includes(id)), [], 'lost');
    assert.equal(new Set(ids).size, ids.length, 'delivered twice');
  });

  for (const when of ['while the new set connects', 'before the count is known', 'before anything is connected'] as const) {
    it(`close() ${when} abandons the reshard: no session of the new set stays connected`, async () => {
      h = await harness({ sim: { shards: 2, maxConcurrency: 1, guilds: 4 }, client: { shards: 1 } });
      await connectAll(h);
      let outcome: unknown;
      h.bot.reshard(when === 'before the count is known' ? undefined : 2).then(() => { outcome = 'resharded'; }, (err: unknown) => { outcome = err; });
      if (when === 'while the new set connects') await h.advanceUntil(() => h!.sim.sessions.some((s) => s.shard[1] === 2), 'the first new session');
      await h.bot.close();
      await h.advanceUntil(() => outcome !== undefined, 'the reshard settled');
      assert.ok(outcome instanceof SessionClosedError, `reshard(): ${String(outcome)}`);
      await h.advance(30_000);
      assert.equal(h.sim.connections, 0, 'no connection survives close()');
      assert.equal(h.bot.sessions.size, 0);
    });
  }

  it('member requests still waiting to be written on an old session go out on the guild\'s new session', async () => {
    h = await harness({ sim: { shards: 1, maxConcurrency: 2, guilds: 2 }, client: { shards: 1, intents: GatewayIntentBits.Guilds | GatewayIntentBits.GuildMembers } });
    await connectAll(h);
    const guild = h.sim.guilds[0]!;
    const outcomes = new Map<string, number>();
    // More than the connection's 120 frames per minute: some still wait in its queue at the swap.
    for (let i = 0; i < 140; i++) {
      h.bot.requestGuildMembers(new RequestGuildMembers({ guild_id: guild.id, user_ids: [guild.members[i % guild.members.length]!.member.user.id] }), { timeout: 600_000 })
        .then(() => 'answered', (err: unknown) => String(err))
        .then((outcome) => outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1));
    }
    await h.advance(500, 50);
    let resharded = false;
    h.bot.reshard(2).then(() => { resharded = true; });
    await h.advanceUntil(() => resharded, 'reshard');
    await h.advanceUntil(() => [...outcomes.values()].reduce((a, b) => a + b, 0) === 140, 'every request settled', { max: 180_000 });
    assert.deepEqual([...outcomes], [['answered', 140]]);
  });

  it('a new session\'s READY leaves the old session\'s member requests of its shard id alone', async () => {
    ({ h } = await oneShardBot());
    const old = h.bot.sessions.get(0)!;
    let outcome: unknown;
    // No answer comes for this guild: the request stays pending, as one whose chunks still stream.
    h.bot.requestGuildMembers(new RequestGuildMembers({ guild_id: '123456789012345678', query: 'a', limit: 10 }), { session: old })
      .then(() => { outcome = 'answered'; }, (err: unknown) => { outcome = err; });
    await h.advance(500, 50);
    let freshReady = false;
    h.bot.on('ready', (session) => { if (session.shard[1] === 2 && session.shard[0] === 0) freshReady = true; });
    let resharded = false;
    h.bot.reshard(2).then(() => { resharded = true; });
    await h.advanceUntil(() => freshReady, 'new shard 0 READY');
    await h.advance(100, 50);
    assert.equal(outcome, undefined, 'still waiting on the old session');
    await h.advanceUntil(() => resharded, 'the swap');
    await h.advanceUntil(() => outcome !== undefined, 'the request settled');
    assert.ok((outcome as unknown) instanceof SessionClosedError, 'rejected once its own session is retired');
  });

  it('autoReshard: an old session closed 4011 during a reshard that then fails gets a reshard of its own', async () => {
    h = await harness({ sim: { shards: 3, maxConcurrency: 1, guilds: 4 }, client: { shards: 1, autoReshard: true } });
    await connectAll(h);
    const old = h.bot.sessions.get(0)!;
    let fresh: Session | undefined;
    h.bot.on('ready', (session) => { if (session.shard[1] === 2 && session.shard[0] === 0) fresh ??= session; });
    let outcome: unknown;
    h.bot.reshard(2).then(() => { outcome = 'resharded'; }, (err: unknown) => { outcome = err; });
    await h.advanceUntil(() => fresh !== undefined, 'new shard 0 of 2 READY');
    // The running set needs more shards, and so does the new set: reshard(2) fails.
    h.sim.closeWith(GatewayCloseCodes.ShardingRequired, { session: old.id! });
    await h.advanceUntil(() => old.status === 'closed', 'the old session ended');
    h.sim.closeWith(GatewayCloseCodes.ShardingRequired, { session: fresh!.id! });
    await h.advanceUntil(() => outcome !== undefined, 'reshard(2) settled');
    assert.ok(outcome instanceof Error);
    let resharded = 0;
    h.bot.on('resharded', (count) => { resharded = count; });
    await h.advanceUntil(() => resharded !== 0, 'the reshard for the old session', { max: 120_000 });
    assert.equal(resharded, 3, 'to the count Discord recommends');
    assert.deepEqual([...h.bot.sessions.values()].map((s) => [s.shard[1], s.status]), [[3, 'ready'], [3, 'ready'], [3, 'ready']]);
  });

  it('autoReshard: close() during the reshard a 4011 started reports no error', async () => {
    h = await harness({ sim: { shards: 2, maxConcurrency: 1, guilds: 4 }, client: { shards: 1, autoReshard: true } });
    await connectAll(h);
    h.sim.closeWith(GatewayCloseCodes.ShardingRequired, { session: h.bot.sessions.get(0)!.id! });
    await h.advanceUntil(() => h!.sim.sessions.some((s) => s.shard[1] === 2), 'the reshard started');
    await h.bot.close();
    await h.advance(30_000);
    assert.deepEqual(h.errors.map((e) => e.message).filter((m) => !m.includes('4011')), []);
    assert.equal(h.sim.connections, 0);
  });

  it('a new session that ends before the swap ends the reshard at once: the rest of the set does not identify', async () => {
    ({ h } = await oneShardBot());
    let fresh: Session | undefined;
    h.bot.on('ready', (session) => { if (session.shard[1] === 6 && session.shard[0] === 0) fresh ??= session; });
    let outcome: unknown;
    h.bot.reshard(6).then(() => { outcome = 'resharded'; }, (err: unknown) => { outcome = err; });
    await h.advanceUntil(() => fresh !== undefined, 'new shard 0 READY');
    const identified: number[] = [];
    h.sim.on('identify', (e) => { if (e.shard[1] === 6) identified.push(e.shard[0]); });
    h.sim.closeWith(GatewayCloseCodes.AuthenticationFailed, { session: fresh!.id! });
    await h.advanceUntil(() => outcome !== undefined, 'the reshard settled', { max: 2000 });
    assert.ok(outcome instanceof Error, `reshard(): ${String(outcome)}`);
    assert.deepEqual(identified, [], 'no new session identified after one ended');
    assert.equal(h.bot.sessions.get(0)!.shard[1], 1, 'the old set keeps running');
    assert.equal(h.bot.sessions.get(0)!.status, 'ready');
  });
});

describe('ReshardSeam', () => {
  const oldSession = new Session({ shard: [0, 1] });
  const oldSet = new Map([[0, oldSession]]);
  const fresh = [new Session({ shard: [0, 2] }), new Session({ shard: [1, 2] })];
  const msg = (id: string, guild_id?: string): { id: string; guild_id?: string } => (guild_id === undefined ? { id } : { id, guild_id });
  /** A seam whose new sessions have all identified (Discord sends both sets every event); `out` lists what it delivered itself. */
  const overlapping = (limits = {}, old: ReadonlyMap<number, Session> = oldSet): { seam: ReshardSeam; out: string[] } => {
    const out: string[] = [];
    const seam = new ReshardSeam(fresh, old, (event, payload, session) => out.push(`${event} ${(payload as { id: string }).id} ${session.shard.join('/')}`), limits);
    for (const session of fresh) seam.identifying(session);
    return { seam, out };
  };

  it('the old set delivers; the new set\'s copy is dropped whichever comes first', () => {
    const { seam, out } = overlapping();
    assert.equal(seam.route('MESSAGE_CREATE', msg('1'), oldSession), true);
    assert.equal(seam.route('MESSAGE_CREATE', msg('1'), fresh[0]!), false, 'the new set\'s copy, later');
    assert.equal(seam.route('MESSAGE_CREATE', msg('2'), fresh[0]!), false, 'the new set first: it waits');
    assert.equal(seam.route('MESSAGE_CREATE', msg('2'), oldSession), true, 'the old set delivers it, in its order');
    seam.swap();
    assert.deepEqual(out, [], 'nothing of the new set was missing from the old set');
  });

  it('matches copies one for one, and never a set against itself', () => {
    const { seam, out } = overlapping();
    assert.equal(seam.route('TYPING_START', msg('7'), oldSession), true);
    assert.equal(seam.route('TYPING_START', msg('7'), oldSession), true, 'the same payload twice on one set: two events');
    assert.equal(seam.route('TYPING_START', msg('7'), fresh[0]!), false);
    assert.equal(seam.route('TYPING_START', msg('7'), fresh[0]!), false);
    assert.equal(seam.route('TYPING_START', msg('7'), fresh[0]!), false, 'a third copy waits: it is a new event');
    seam.swap();
    assert.deepEqual(out, ['TYPING_START 7 0/2']);
  });

  it('what the old set has not delivered within RESHARD_HOLD_MS goes out, in order, and the old set\'s late copy (a replay) is dropped', (t) => {
    t.mock.timers.enable({ apis: ['Date', 'setTimeout'] });
    const { seam, out } = overlapping();
    seam.route('MESSAGE_CREATE', msg('a'), fresh[0]!);
    seam.route('MESSAGE_CREATE', msg('b'), fresh[0]!);
    t.mock.timers.tick(RESHARD_HOLD_MS - 1);
    assert.deepEqual(out, []);
    t.mock.timers.tick(1);
    assert.deepEqual(out, ['MESSAGE_CREATE a 0/2', 'MESSAGE_CREATE b 0/2'], 'on a timer, without another dispatch');
    assert.equal(seam.route('MESSAGE_CREATE', msg('a'), oldSession), false, 'the old set\'s late copy');
    assert.equal(seam.route('MESSAGE_CREATE', msg('b'), oldSession), false);
    assert.equal(seam.route('MESSAGE_CREATE', msg('c'), oldSession), true);
  });

  it('when the old set delivers a guild\'s event, the new set\'s earlier ones of that guild it missed go out first', () => {
    const { seam, out } = overlapping();
    const other = String(1n << 22n);
    seam.route('MESSAGE_CREATE', msg('a'), fresh[0]!);
    seam.route('MESSAGE_CREATE', msg('x', other), fresh[1]!);
    seam.route('MESSAGE_CREATE', msg('b'), fresh[0]!);
    assert.equal(seam.route('MESSAGE_CREATE', msg('b'), oldSession), true);
    assert.deepEqual(out, ['MESSAGE_CREATE a 0/2'], 'the old set missed a; another guild\'s event still waits');
    seam.swap();
    assert.deepEqual(out, ['MESSAGE_CREATE a 0/2', 'MESSAGE_CREATE x 1/2']);
  });

  it('an old session that ends releases its guilds\' waiting dispatches in order, and later ones go out at once', () => {
    const ending = new Session({ shard: [0, 1] });
    const { seam, out } = overlapping({}, new Map([[0, ending]]));
    seam.route('MESSAGE_CREATE', msg('1'), fresh[0]!);
    ending.status = 'closed';
    seam.oldEnded(ending);
    assert.deepEqual(out, ['MESSAGE_CREATE 1 0/2']);
    assert.equal(seam.route('MESSAGE_CREATE', msg('2'), fresh[0]!), true);
  });

  it('a new session\'s initial GUILD_CREATEs (the guilds its READY lists) go out at once; a later GUILD_CREATE is matched', () => {
    const { seam } = overlapping();
    const guild = String(1n << 22n);
    assert.equal(seam.route('READY', { guilds: [{ id: guild, unavailable: true }] }, fresh[1]!), true);
    assert.equal(seam.route('GUILD_CREATE', { id: guild, name: 'g' }, fresh[1]!), true);
    assert.equal(seam.route('GUILD_CREATE', { id: guild, name: 'g' }, fresh[1]!), false, 'a second one waits for the old set\'s');
  });

  it('at the swap what still waits goes out in arrival order; afterwards late copies of the old set\'s events are dropped until none is due', (t) => {
    t.mock.timers.enable({ apis: ['Date'] });
    const { seam, out } = overlapping();
    assert.equal(seam.isStarting(fresh[0]!), true);
    seam.route('MESSAGE_CREATE', msg('1'), oldSession);
    seam.route('MESSAGE_CREATE', msg('2'), oldSession);
    seam.route('MESSAGE_CREATE', msg('3'), fresh[1]!);
    seam.route('MESSAGE_CREATE', msg('4'), fresh[0]!);
    seam.swap();
    assert.deepEqual(out, ['MESSAGE_CREATE 3 1/2', 'MESSAGE_CREATE 4 0/2']);
    assert.equal(seam.isStarting(fresh[0]!), false);
    assert.equal(seam.finished, false);
    assert.equal(seam.route('MESSAGE_CREATE', msg('1'), fresh[0]!), false);
    assert.equal(seam.route('MESSAGE_CREATE', msg('5'), fresh[1]!), true, 'the new set\'s own events wait for nothing after the swap');
    t.mock.timers.tick(RESHARD_REPLAY_MS);
    assert.equal(seam.finished, true);
    assert.equal(seam.route('MESSAGE_CREATE', msg('2'), fresh[0]!), true, 'past the drain, nothing is filtered');
  });

  it('a guild whose old session has ended gets the new set\'s events at once', () => {
    const ended = new Session({ shard: [0, 1] });
    ended.status = 'closed';
    const { seam, out } = overlapping({}, new Map([[0, ended]]));
    assert.equal(seam.route('MESSAGE_CREATE', msg('1'), fresh[0]!), true);
    seam.swap();
    assert.deepEqual(out, []);
  });

  it('waits for a copy only once the new session that gets the guild has identified, and until it loses its session', () => {
    const out: string[] = [];
    const seam = new ReshardSeam(fresh, oldSet, (event, payload) => out.push(`${event} ${(payload as { id: string }).id}`));
    // Guild 1 << 22 is on new shard 1 of 2; guildless events (DMs) go to shard 0.
    const guild = String(1n << 22n);
    assert.equal(shardForGuild(guild, 2), 1);
    seam.route('MESSAGE_CREATE', msg('a', guild), oldSession);
    seam.route('GUILD_UPDATE', { id: guild }, oldSession);
    seam.identifying(fresh[0]!);
    seam.route('MESSAGE_CREATE', msg('b', guild), oldSession);
    seam.route('MESSAGE_CREATE', msg('dm'), oldSession);
    seam.identifying(fresh[1]!);
    seam.route('MESSAGE_CREATE', msg('c', guild), oldSession);
    seam.route('GUILD_UPDATE', { id: guild, name: 'renamed' }, oldSession);
    const copies = [msg('a', guild), msg('b', guild), msg('c', guild)].map((d) => seam.route('MESSAGE_CREATE', d, fresh[1]!));
    assert.deepEqual(copies, [false, false, false], 'every new-set dispatch waits for the old set before the swap');
    seam.route('GUILD_UPDATE', { id: guild }, fresh[1]!);
    seam.route('GUILD_UPDATE', { id: guild, name: 'renamed' }, fresh[1]!);
    seam.route('MESSAGE_CREATE', msg('dm'), fresh[0]!);
    seam.lost(fresh[1]!);
    seam.route('MESSAGE_CREATE', msg('d', guild), oldSession);
    seam.route('MESSAGE_CREATE', msg('d', guild), fresh[1]!);
    seam.swap();
    assert.deepEqual(out, ['MESSAGE_CREATE a', 'MESSAGE_CREATE b', 'GUILD_UPDATE ' + guild, 'MESSAGE_CREATE d'],
      'only what happened while the guild\'s new session was identified had a copy; GUILD_UPDATE is routed by its id, a DM to shard 0');
  });

  it('never matches or holds what answers one connection (READY, RESUMED, member chunks, RATE_LIMITED ...)', () => {
    const { seam } = overlapping();
    for (const event of ['READY', 'RESUMED', 'RATE_LIMITED', 'GUILD_MEMBERS_CHUNK']) {
      assert.equal(seam.route(event, msg('x'), oldSession), true);
      assert.equal(seam.route(event, msg('x'), fresh[0]!), true, event);
    }
  });

  it('is finished at the swap when nothing waits for a copy', () => {
    const { seam } = overlapping();
    seam.route('MESSAGE_CREATE', msg('1'), oldSession);
    seam.route('MESSAGE_CREATE', msg('1'), fresh[0]!);
    seam.swap();
    assert.equal(seam.finished, true);
  });

  it('a seam started during another\'s drain drops the late copies the other would have', () => {
    const { seam: first } = overlapping();
    first.route('MESSAGE_CREATE', msg('1'), oldSession);
    first.swap();
    const running = new Map(fresh.map((s) => [s.shard[0], s] as const));
    const second = new ReshardSeam([new Session({ shard: [0, 3] })], running, () => {}, {}, first);
    // fresh[0] is the running set now, and the second seam's old set.
    assert.equal(second.route('MESSAGE_CREATE', msg('1'), fresh[0]!), false, 'the late copy of the first swap');
    assert.equal(second.route('MESSAGE_CREATE', msg('5'), fresh[0]!), true);
  });

  it('holds a bounded number of dispatches: past it the oldest goes out early, never dropped', () => {
    const { seam, out } = overlapping({ maxHeld: 2 });
    for (const id of ['1', '2', '3']) seam.route('MESSAGE_CREATE', msg(id), fresh[1]!);
    assert.deepEqual(out, ['MESSAGE_CREATE 1 1/2']);
    assert.equal(seam.route('MESSAGE_CREATE', msg('1'), oldSession), false, 'its late copy from the old set');
    seam.swap();
    assert.deepEqual(out, ['MESSAGE_CREATE 1 1/2', 'MESSAGE_CREATE 2 1/2', 'MESSAGE_CREATE 3 1/2']);
  });

  it('a match tells what the other set passed: the guild\'s older remembered events expect no copy any more', () => {
    const { seam } = overlapping();
    // The old set's P came before the new session had the guild: no copy of it comes.
    seam.route('PRESENCE_UPDATE', msg('online'), oldSession);
    seam.route('PRESENCE_UPDATE', msg('idle'), fresh[0]!);
    assert.equal(seam.route('PRESENCE_UPDATE', msg('idle'), oldSession), true);
    seam.swap();
    assert.equal(seam.route('PRESENCE_UPDATE', msg('online'), fresh[0]!), true, 'online again is a new event');
  });

  it('when the new set\'s copy matches, its earlier waiting events of the guild (the old set missed them) go out first', () => {
    const { seam, out } = overlapping();
    seam.route('MESSAGE_CREATE', msg('a'), fresh[0]!);
    seam.route('MESSAGE_CREATE', msg('b'), oldSession);
    assert.equal(seam.route('MESSAGE_CREATE', msg('b'), fresh[0]!), false);
    assert.deepEqual(out, ['MESSAGE_CREATE a 0/2'], 'before the old set\'s next event');
  });

  it('a handler that ends the old session while the seam delivers leaves its books straight', () => {
    const out: string[] = [];
    const ending = new Session({ shard: [0, 1] });
    let seam: ReshardSeam;
    const deliver = (event: string, payload: unknown): void => {
      out.push((payload as { id: string }).id);
      if ((payload as { id: string }).id === 'a') {
        ending.status = 'closed';
        seam.oldEnded(ending);
      }
    };
    seam = new ReshardSeam(fresh, new Map([[0, ending]]), deliver);
    for (const session of fresh) seam.identifying(session);
    seam.route('MESSAGE_CREATE', msg('a'), fresh[0]!);
    seam.route('MESSAGE_CREATE', msg('b'), fresh[0]!);
    seam.route('MESSAGE_CREATE', msg('c'), fresh[0]!);
    assert.equal(seam.route('MESSAGE_CREATE', msg('b'), ending), true, 'b goes out from the old set');
    seam.swap();
    assert.deepEqual(out, ['a', 'c'], 'a (missed), and c when the old session ended: each once, nothing thrown');
  });

  it('a guild that becomes available during the reshard gets one GUILD_CREATE, though the new session\'s READY listed it', () => {
    const { seam } = overlapping();
    seam.route('READY', { guilds: [{ id: '0', unavailable: true }] }, fresh[0]!);
    const fromOld = seam.route('GUILD_CREATE', { id: '0', name: 'g' }, oldSession);
    const fromNew = seam.route('GUILD_CREATE', { id: '0', name: 'g' }, fresh[0]!);
    assert.deepEqual([fromOld, fromNew], [true, false]);
  });

  it('remembers a bounded number of old-set dispatches: past it, no copy is expected', () => {
    const { seam, out } = overlapping({ maxRemembered: 3 });
    for (const id of ['1', '2', '3', '4']) seam.route('MESSAGE_CREATE', msg(id), oldSession);
    for (const id of ['1', '2', '3', '4']) seam.route('MESSAGE_CREATE', msg(id), fresh[0]!);
    seam.swap();
    assert.deepEqual(out, ['MESSAGE_CREATE 4 0/2'], 'only the one not remembered comes again');
  });
});
