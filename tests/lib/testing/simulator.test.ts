import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { GatewaySimulator, type GatewaySimulatorOptions } from '../../../lib/testing/index.js';
import { shardForGuild } from '../../../lib/testing/simulator/guilds.js';
import { RawGatewayClient, type ConnectOptions, type Frame } from './raw-gateway-client.js';

const GUILDS = 1 << 0;
const GUILD_MEMBERS = 1 << 1;
const GUILD_VOICE_STATES = 1 << 7;
const GUILD_PRESENCES = 1 << 8;
const GUILD_MESSAGES = 1 << 9;
const MESSAGE_CONTENT = 1 << 15;

/** A started simulator that is closed when the test ends. */
async function simulator(t: TestContext, options: GatewaySimulatorOptions = {}): Promise<GatewaySimulator> {
  const sim = await GatewaySimulator.create(options);
  t.after(() => sim.close());
  return sim;
}

/** A raw client connected to `sim` (closed when the test ends), after Hello. */
async function connect(t: TestContext, sim: GatewaySimulator, options: ConnectOptions = {}): Promise<RawGatewayClient> {
  const client = await RawGatewayClient.connect(sim.url, options);
  t.after(() => client.close());
  return client;
}

/** Connects, identifies and waits for READY. */
async function ready(
  t: TestContext,
  sim: GatewaySimulator,
  identify: Record<string, unknown> = {},
  options: ConnectOptions = {},
): Promise<{ client: RawGatewayClient; ready: Frame; sessionId: string }> {
  const client = await connect(t, sim, options);
  await client.next((f) => f.op === 10);
  client.identify(identify);
  const frame = await client.dispatch('READY');
  const d = frame.d as { session_id: string };
  return { client, ready: frame, sessionId: d.session_id };
}

/**
 * Identifies of one bucket need 5 s between them (max_concurrency): tests that identify several
 * times fake `Date` and step over the window before each identify.
 */
function fakeDate(t: TestContext): void {
  t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
}
function nextIdentifyWindow(t: TestContext): void {
  t.mock.timers.tick(5000);
}

function data<T>(frame: Frame): T {
  return frame.d as T;
}

describe('GatewaySimulator handshake', () => {
  it('Hello, then Identify gets READY and one GUILD_CREATE per guild with seq 1, 2, 3, ...', async (t) => {
    const sim = await simulator(t, { heartbeatInterval: 30_000 });
    const client = await connect(t, sim);
    const hello = await client.next();
    assert.equal(hello.op, 10);
    assert.deepEqual(hello.d, { heartbeat_interval: 30_000 });
    assert.equal(client.wire[0]?.binary, false, 'uncompressed frames are text');

    client.identify({ shard: [0, 1] });
    const readyFrame = await client.dispatch('READY');
    const d = data<{
      v: number;
      user: { id: string; bot: boolean };
      guilds: { id: string; unavailable: boolean }[];
      session_id: string;
      resume_gateway_url: string;
      shard: [number, number];
      application: { id: string; flags: number };
    }>(readyFrame);
    assert.equal(readyFrame.s, 1);
    assert.equal(d.v, 10);
    assert.equal(d.user.bot, true);
    assert.equal(d.guilds.length, 3);
    assert.ok(d.guilds.every((g) => g.unavailable));
    assert.match(d.session_id, /^[0-9a-f]{32}$/);
    assert.equal(d.resume_gateway_url, `${sim.url}/resume`);
    assert.deepEqual(d.shard, [0, 1]);
    assert.equal(d.application.id, d.user.id);
    assert.equal(typeof d.application.flags, 'number');

    for (let i = 0; i < 3; i++) {
      const g = await client.dispatch('GUILD_CREATE');
      assert.equal(g.s, i + 2);
      const guild = data<{ id: string; name: string; member_count: number; channels: unknown[]; soundboard_sounds: unknown[]; members: unknown[] }>(g);
      assert.equal(guild.id, d.guilds[i]?.id);
      assert.equal(guild.member_count, 10);
      assert.equal(guild.members.length, 10);
      assert.equal(guild.channels.length, 3);
      assert.equal(guild.soundboard_sounds.length, 1);
    }
    assert.equal(sim.sessions.length, 1);
    assert.equal(sim.sessions[0]?.seq, 4);
    assert.equal(sim.connections, 1);
  });

  it('GUILD_CREATE follows large_threshold and presences; unavailable guilds only appear in READY', async (t) => {
    const sim = await simulator(t, { guilds: [{ members: 300 }, { members: 20 }, { unavailable: true }] });
    const { client, ready: frame } = await ready(t, sim, { intents: GUILDS, large_threshold: 250 });
    assert.equal(data<{ guilds: unknown[] }>(frame).guilds.length, 3);
    const large = data<{ large: boolean; member_count: number; members: { user: { id: string } }[]; presences: unknown[] }>(
      await client.dispatch('GUILD_CREATE'),
    );
    assert.deepEqual([large.large, large.member_count, large.members.length, large.presences.length], [true, 300, 1, 0]);
    assert.equal(large.members[0]?.user.id, data<{ user: { id: string } }>(frame).user.id, 'only the bot');
    const small = data<{ large: boolean; members: unknown[] }>(await client.dispatch('GUILD_CREATE'));
    assert.deepEqual([small.large, small.members.length], [false, 20]);
    client.send({ op: 1, d: 3 });
    await client.next((f) => f.op === 11);
    assert.equal(client.frames.filter((f) => f.t === 'GUILD_CREATE').length, 2);
  });

  it('answers heartbeats with op 11, before and after identify', async (t) => {
    const sim = await simulator(t);
    const client = await connect(t, sim);
    await client.next((f) => f.op === 10);
    client.send({ op: 1, d: null });
    await client.next((f) => f.op === 11);
    client.identify();
    await client.dispatch('READY');
    client.send({ op: 1, d: 1 });
    await client.next((f) => f.op === 11);
    assert.equal(sim.frames.filter((f) => f.direction === 'in' && f.op === 1).length, 2);
  });

  it('reports /gateway and /gateway/bot, the latter only with a valid Bot token', async (t) => {
    const sim = await simulator(t, { shards: 4, maxConcurrency: 2, sessionStartLimit: { total: 1000, remaining: 990 } });
    const open = await fetch(`${sim.apiURL}/gateway`);
    assert.equal(open.status, 200);
    assert.deepEqual(await open.json(), { url: sim.url });

    const noAuth = await fetch(`${sim.apiURL}/gateway/bot`);
    assert.equal(noAuth.status, 401);
    assert.deepEqual(await noAuth.json(), { message: '401: Unauthorized', code: 0 });
    const badAuth = await fetch(`${sim.apiURL}/gateway/bot`, { headers: { authorization: 'Bot nope' } });
    assert.equal(badAuth.status, 401);
    await badAuth.body?.cancel();
    const bareToken = await fetch(`${sim.apiURL}/gateway/bot`, { headers: { authorization: 'test-token' } });
    assert.equal(bareToken.status, 401, 'the "Bot " prefix is required');
    await bareToken.body?.cancel();

    const res = await fetch(`${sim.apiURL}/gateway/bot`, { headers: { authorization: 'Bot test-token' } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { url: string; shards: number; session_start_limit: Record<string, number> };
    assert.equal(body.url, sim.url);
    assert.equal(body.shards, 4);
    assert.equal(body.session_start_limit['total'], 1000);
    assert.equal(body.session_start_limit['remaining'], 990);
    assert.equal(body.session_start_limit['max_concurrency'], 2);
    assert.ok((body.session_start_limit['reset_after'] ?? 0) > 0);

    const missing = await fetch(`${sim.apiURL}/users/@me`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
  });
});

describe('GatewaySimulator close codes', () => {
  /** Opens a connection, lets `act` misbehave, returns the close code. */
  async function closeCode(t: TestContext, sim: GatewaySimulator, act: (c: RawGatewayClient) => Promise<void> | void, options?: ConnectOptions) {
    const client = await connect(t, sim, options);
    await act(client);
    return (await client.closed).code;
  }

  it('4003 for a request before identify, 4004 for a bad token, 4005 for a second identify', async (t) => {
    const sim = await simulator(t);
    assert.equal(await closeCode(t, sim, (c) => c.send({ op: 8, d: { guild_id: '1', query: '', limit: 0 } })), 4003);
    assert.equal(await closeCode(t, sim, (c) => c.send({ op: 5, d: null })), 4003, 'even unknown ops are refused as unauthenticated');
    assert.equal(await closeCode(t, sim, (c) => c.identify({ token: 'wrong' })), 4004);
    assert.equal(
      await closeCode(t, sim, async (c) => {
        c.identify();
        await c.dispatch('READY');
        c.identify();
      }),
      4005,
    );
  });

  it('4002 for frames over 4096 bytes and for undecodable JSON', async (t) => {
    const sim = await simulator(t);
    const big = JSON.stringify({ op: 3, d: { since: null, activities: [], status: 'online', afk: false, pad: 'x'.repeat(4100) } });
    assert.equal(await closeCode(t, sim, (c) => c.send(big)), 4002);
    assert.equal(await closeCode(t, sim, (c) => c.send('{"op":1,')), 4002);
    const client = await connect(t, sim);
    // Exactly 4096 bytes is still accepted.
    const exact = `{"op":1,"d":null,"x":"${'y'.repeat(4096 - 24)}"}`;
    assert.equal(Buffer.byteLength(exact), 4096);
    client.send(exact);
    await client.next((f) => f.op === 11);
  });

  it('4001 for an unknown opcode and for an invalid payload after identify', async (t) => {
    fakeDate(t);
    const sim = await simulator(t);
    const identified = async (c: RawGatewayClient) => {
      nextIdentifyWindow(t);
      c.identify();
      await c.dispatch('READY');
    };
    assert.equal(
      await closeCode(t, sim, async (c) => {
        await identified(c);
        c.send({ op: 5, d: null });
      }),
      4001,
    );
    const closeEvent = sim.waitFor('close', { filter: (e) => e.reason.includes('op 8') });
    assert.equal(
      await closeCode(t, sim, async (c) => {
        await identified(c);
        c.send({ op: 8, d: { guild_id: '1', query: 'a', limit: 1, user_ids: ['2'] } });
      }),
      4001,
    );
    assert.match((await closeEvent).reason, /exactly one/);
    assert.equal(
      await closeCode(t, sim, async (c) => {
        await identified(c);
        c.send({ op: 3, d: { since: null, activities: [], status: 'busy', afk: false } });
      }),
      4001,
    );
    assert.equal(
      await closeCode(t, sim, async (c) => {
        await identified(c);
        c.send({ op: 43, d: { guild_id: '1', fields: ['topic'] } });
      }),
      4001,
    );
    assert.equal(await closeCode(t, sim, (c) => c.identify({ large_threshold: 251 })), 4001);
    assert.equal(await closeCode(t, sim, (c) => c.identify({ properties: { os: 'linux' } })), 4001);
  });

  it('4008 on the 121st frame within 60 s, heartbeats included', async (t) => {
    const sim = await simulator(t);
    const client = await connect(t, sim);
    for (let i = 0; i < 121; i++) client.send({ op: 1, d: null });
    assert.equal((await client.closed).code, 4008);
    const acks = client.frames.filter((f) => f.op === 11).length;
    assert.equal(acks, 120, 'the first 120 frames were served');
  });

  it('the frame limit is a sliding 60 s window', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
    const sim = await simulator(t, { enforceHeartbeat: false });
    const client = await connect(t, sim);
    for (let i = 0; i < 120; i++) client.send({ op: 1, d: null });
    await client.next((f) => f.op === 11 && client.frames.filter((x) => x.op === 11).length === 120);
    t.mock.timers.tick(60_000);
    for (let i = 0; i < 120; i++) client.send({ op: 1, d: null });
    await client.next((f) => f.op === 11 && client.frames.filter((x) => x.op === 11).length === 240);
    client.send({ op: 1, d: null });
    assert.equal((await client.closed).code, 4008);
  });

  it('4010 invalid shard, 4011 too many guilds, 4012 bad version, 4013 bad intents, 4014 ungranted intents', async (t) => {
    const sim = await simulator(t, { grantedIntents: GUILD_MEMBERS, maxGuildsPerShard: 2 });
    assert.equal(await closeCode(t, sim, (c) => c.identify({ shard: [1, 1] })), 4010);
    assert.equal(await closeCode(t, sim, (c) => c.identify({ shard: [0, 0] })), 4010);
    assert.equal(await closeCode(t, sim, (c) => c.identify({ shard: [0] })), 4010);
    assert.equal(await closeCode(t, sim, (c) => c.identify({ shard: [0, 1] })), 4011, '3 guilds on one shard');
    assert.equal(await closeCode(t, sim, (c) => c.identify({ intents: 1 << 17 })), 4013);
    assert.equal(await closeCode(t, sim, (c) => c.identify({ intents: -1 })), 4013);
    assert.equal(await closeCode(t, sim, (c) => c.identify({ intents: GUILDS | GUILD_PRESENCES, shard: [0, 2] })), 4014);
    assert.equal(await closeCode(t, sim, () => {}, { query: 'v=9&encoding=json' }), 4012);
    assert.equal(await closeCode(t, sim, () => {}, { query: 'v=10&encoding=etf' }), 4002);
    // Two shards hold 2 and 1 guilds: allowed, and GUILD_MEMBERS was granted.
    const { ready: frame } = await ready(t, sim, { shard: [0, 2], intents: GUILDS | GUILD_MEMBERS });
    assert.equal(data<{ guilds: unknown[] }>(frame).guilds.length, 2);
  });

  it('4007 for a heartbeat whose seq is past the last one sent', async (t) => {
    const sim = await simulator(t);
    const { client } = await ready(t, sim);
    client.send({ op: 1, d: 99 });
    assert.equal((await client.closed).code, 4007);
  });

  it('4009 when the client stops heartbeating (fake timers), and the session is gone', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    const sim = await simulator(t, { heartbeatInterval: 1000 });
    const client = await connect(t, sim);
    await client.next((f) => f.op === 10);
    client.identify();
    await client.dispatch('READY');
    t.mock.timers.tick(1000);
    client.send({ op: 1, d: 4 });
    await client.next((f) => f.op === 11);
    t.mock.timers.tick(1499);
    assert.equal(sim.connections, 1, 'a beat within 1.5 intervals keeps the connection');
    t.mock.timers.tick(1);
    assert.equal((await client.closed).code, 4009);
    assert.equal(sim.sessions.length, 0);
  });
});

describe('GatewaySimulator resume', () => {
  it('replays every dispatch after the client seq in order, then RESUMED, on the resume URL', async (t) => {
    const sim = await simulator(t, { guilds: 1 });
    const { client, sessionId } = await ready(t, sim, { intents: GUILDS | GUILD_MESSAGES | MESSAGE_CONTENT });
    const guild = sim.guilds[0];
    assert.ok(guild);
    await client.dispatch('GUILD_CREATE'); // seq 2
    const closeEvent = sim.waitFor('close');
    await client.close(4900);
    assert.equal((await closeEvent).resumable, true);

    for (const content of ['a', 'b', 'c']) {
      assert.equal(sim.dispatch('MESSAGE_CREATE', { guild_id: guild.id, channel_id: '1', content }), 1);
    }
    assert.equal(sim.sessions[0]?.connection, null);

    const resumed = sim.waitFor('resume');
    const next = await connect(t, sim, { path: '/resume' });
    await next.next((f) => f.op === 10);
    next.send({ op: 6, d: { token: 'test-token', session_id: sessionId, seq: 2 } });
    const replay = [await next.next((f) => f.op === 0), await next.next((f) => f.op === 0), await next.next((f) => f.op === 0)];
    assert.deepEqual(
      replay.map((f) => [f.s, f.t, (f.d as { content: string }).content]),
      [
        [3, 'MESSAGE_CREATE', 'a'],
        [4, 'MESSAGE_CREATE', 'b'],
        [5, 'MESSAGE_CREATE', 'c'],
      ],
    );
    const done = await next.next((f) => f.op === 0);
    assert.equal(done.t, 'RESUMED');
    assert.equal(done.s, 6);
    const event = await resumed;
    assert.equal(event.replayed, 3);
    assert.equal(event.seq, 2);
    assert.deepEqual(
      sim.listConnections().map((c) => [c.path, c.resumed, c.sessionId]),
      [['/resume', true, sessionId]],
    );
    // Live again: the next dispatch continues the sequence.
    sim.dispatch('MESSAGE_CREATE', { guild_id: guild.id, channel_id: '1', content: 'd' });
    assert.equal((await next.dispatch('MESSAGE_CREATE')).s, 7);
  });

  it('op 9 false for an unknown session, an expired one, and one closed with 1000', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 5_000_000 });
    const sim = await simulator(t, { resumeTimeout: 10_000 });
    const resume = async (sessionId: string, seq = 1) => {
      const c = await connect(t, sim);
      await c.next((f) => f.op === 10);
      c.send({ op: 6, d: { token: 'test-token', session_id: sessionId, seq } });
      return c.next((f) => f.op === 9 || (f.op === 0 && f.t === 'RESUMED'));
    };
    assert.deepEqual(await resume('nope'), { op: 9, d: false, s: null, t: null });

    const first = await ready(t, sim);
    await first.client.close(4900);
    t.mock.timers.tick(10_000);
    assert.equal((await resume(first.sessionId)).op, 9, 'expired after resumeTimeout');

    const second = await ready(t, sim);
    await second.client.close(1000);
    assert.equal(sim.sessions.length, 0);
    assert.equal((await resume(second.sessionId)).op, 9, '1000 invalidates');

    nextIdentifyWindow(t);
    const third = await ready(t, sim);
    await third.client.close(4900);
    t.mock.timers.tick(9_999);
    assert.equal((await resume(third.sessionId)).t, 'RESUMED', 'still inside resumeTimeout');
  });

  it('a resume of a session still attached elsewhere closes the old connection with 4000', async (t) => {
    const sim = await simulator(t);
    const { client, sessionId } = await ready(t, sim);
    const c = await connect(t, sim);
    await c.next((f) => f.op === 10);
    c.send({ op: 6, d: { token: 'test-token', session_id: sessionId, seq: 4 } });
    await c.dispatch('RESUMED');
    assert.equal((await client.closed).code, 4000);
    assert.equal(sim.sessions[0]?.connection, sim.listConnections()[0]?.id);
  });

  it('4007 for a resume seq past the server seq', async (t) => {
    const sim = await simulator(t);
    const { client, sessionId } = await ready(t, sim);
    await client.close(4900);
    const c = await connect(t, sim);
    await c.next((f) => f.op === 10);
    c.send({ op: 6, d: { token: 'test-token', session_id: sessionId, seq: 1000 } });
    assert.equal((await c.closed).code, 4007);
  });

  it('op 9 false when the missed dispatches are no longer buffered', async (t) => {
    const sim = await simulator(t, { replayBufferSize: 2, guilds: 0 });
    const { client, sessionId } = await ready(t, sim);
    await client.close(4900);
    for (let i = 0; i < 3; i++) sim.dispatch('INTERACTION_CREATE', {}, { session: sessionId });
    const c = await connect(t, sim);
    await c.next((f) => f.op === 10);
    c.send({ op: 6, d: { token: 'test-token', session_id: sessionId, seq: 1 } });
    assert.deepEqual((await c.next((f) => f.op === 9)).d, false);
  });
});

describe('GatewaySimulator compression', () => {
  for (const compress of ['zlib-stream', 'zstd-stream'] as const) {
    it(`${compress}: binary frames through one context decode to the same protocol`, async (t) => {
      const sim = await simulator(t, { guilds: 2 });
      const { client } = await ready(t, sim, {}, { compress });
      await client.dispatch('GUILD_CREATE');
      await client.dispatch('GUILD_CREATE');
      assert.ok(client.wire.every((m) => m.binary), 'compressed frames are binary');
      if (compress === 'zlib-stream') {
        assert.ok(client.wire.every((m) => m.bytes.subarray(-4).equals(Buffer.from([0, 0, 0xff, 0xff]))), 'each ends with Z_SYNC_FLUSH');
      }
      // Many frames in a burst: each WebSocket message is exactly one gateway message.
      for (let i = 0; i < 300; i++) sim.dispatch('GUILD_UPDATE', { guild_id: sim.guilds[0]?.id, n: i }, 0);
      const last = await client.next((f) => f.t === 'GUILD_UPDATE' && (f.d as { n: number }).n === 299);
      assert.equal(last.s, 3 + 300);
      const updates = client.frames.filter((f) => f.t === 'GUILD_UPDATE');
      assert.deepEqual(
        updates.map((f) => f.s),
        Array.from({ length: 300 }, (_, i) => 4 + i),
      );
      assert.equal(client.wire.length, client.frames.length);
      assert.equal(sim.listConnections()[0]?.compress, compress);
    });
  }

  it('closes with 4002 for an unknown compress value', async (t) => {
    const sim = await simulator(t);
    const c = await RawGatewayClient.connect(sim.url, { query: 'v=10&encoding=json&compress=brotli' });
    assert.equal((await c.closed).code, 4002);
  });
});

describe('GatewaySimulator Request Guild Members (op 8)', () => {
  const big = { guilds: [{ name: 'Big', members: 2500 }] };

  it('2500 members in 3 chunks with the nonce; a repeat within 30 s gets RATE_LIMITED and the connection stays', async (t) => {
    const sim = await simulator(t, big);
    const { client } = await ready(t, sim, { intents: GUILDS | GUILD_MEMBERS });
    const guildId = sim.guilds[0]?.id;
    client.send({ op: 8, d: { guild_id: guildId, query: '', limit: 0, nonce: 'n1' } });
    const chunks = [];
    for (let i = 0; i < 3; i++) chunks.push(data<{ members: unknown[]; chunk_index: number; chunk_count: number; nonce: string; guild_id: string }>(await client.dispatch('GUILD_MEMBERS_CHUNK')));
    assert.deepEqual(
      chunks.map((c) => [c.members.length, c.chunk_index, c.chunk_count, c.nonce, c.guild_id]),
      [
        [1000, 0, 3, 'n1', guildId],
        [1000, 1, 3, 'n1', guildId],
        [500, 2, 3, 'n1', guildId],
      ],
    );
    client.send({ op: 8, d: { guild_id: guildId, query: '', limit: 0, nonce: 'n2' } });
    const limited = data<{ opcode: number; retry_after: number; meta: { guild_id: string; nonce: string } }>(await client.dispatch('RATE_LIMITED'));
    assert.equal(limited.opcode, 8);
    assert.ok(limited.retry_after > 0 && limited.retry_after <= 30, `retry_after ${limited.retry_after} is in seconds`);
    assert.deepEqual(limited.meta, { guild_id: guildId, nonce: 'n2' });
    client.send({ op: 1, d: null });
    await client.next((f) => f.op === 11);
    assert.equal(sim.connections, 1);
  });

  it('with rateLimitedNonce: false, RATE_LIMITED names only the guild; chunks keep the nonce', async (t) => {
    const sim = await simulator(t, { guilds: [{ members: 5 }], rateLimitedNonce: false });
    const { client } = await ready(t, sim, { intents: GUILDS | GUILD_MEMBERS });
    const guildId = sim.guilds[0]?.id;
    client.send({ op: 8, d: { guild_id: guildId, query: '', limit: 0, nonce: 'n1' } });
    assert.equal(data<{ nonce: string }>(await client.dispatch('GUILD_MEMBERS_CHUNK')).nonce, 'n1');
    client.send({ op: 8, d: { guild_id: guildId, query: '', limit: 0, nonce: 'n2' } });
    assert.deepEqual(data<{ meta: object }>(await client.dispatch('RATE_LIMITED')).meta, { guild_id: guildId });
  });

  it('the 30 s window is per guild and ends after 30 s (fake Date)', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
    const sim = await simulator(t, { guilds: [{ members: 5 }, { members: 5 }] });
    const { client } = await ready(t, sim, { intents: GUILDS | GUILD_MEMBERS });
    const [a, b] = sim.guilds.map((g) => g.id);
    const request = (guild_id: string | undefined) => client.send({ op: 8, d: { guild_id, query: '', limit: 0 } });
    request(a);
    await client.dispatch('GUILD_MEMBERS_CHUNK');
    request(b);
    assert.equal(data<{ guild_id: string }>(await client.dispatch('GUILD_MEMBERS_CHUNK')).guild_id, b);
    t.mock.timers.tick(29_000);
    request(a);
    assert.equal(data<{ retry_after: number }>(await client.dispatch('RATE_LIMITED')).retry_after, 1);
    t.mock.timers.tick(1000);
    request(a);
    assert.equal(data<{ guild_id: string }>(await client.dispatch('GUILD_MEMBERS_CHUNK')).guild_id, a);
  });

  it('user_ids: found members and not_found; query: case-insensitive username prefix within limit', async (t) => {
    const sim = await simulator(t, {
      guilds: [{ members: [{ username: 'Alice' }, { username: 'alfred' }, { username: 'bob' }, { username: 'ALbert' }] }],
    });
    const { client } = await ready(t, sim, { intents: GUILDS });
    const guild = sim.guilds[0];
    assert.ok(guild);
    const bob = guild.members.find((m) => m.member.user.username === 'bob')?.member.user.id;
    client.send({ op: 8, d: { guild_id: guild.id, user_ids: [bob, '123'], nonce: 'ids' } });
    const byId = data<{ members: { user: { id: string } }[]; not_found: string[]; nonce: string }>(await client.dispatch('GUILD_MEMBERS_CHUNK'));
    assert.deepEqual(byId.members.map((m) => m.user.id), [bob]);
    assert.deepEqual(byId.not_found, ['123']);

    client.send({ op: 8, d: { guild_id: guild.id, query: 'al', limit: 2 } });
    const byQuery = data<{ members: { user: { username: string } }[]; nonce?: string }>(await client.dispatch('GUILD_MEMBERS_CHUNK'));
    assert.deepEqual(byQuery.members.map((m) => m.user.username), ['Alice', 'alfred']);
    assert.equal(byQuery.nonce, undefined);

    // A nonce over 32 bytes is ignored, not refused.
    client.send({ op: 8, d: { guild_id: guild.id, query: 'zzz', limit: 5, nonce: 'x'.repeat(33) } });
    const empty = data<{ members: unknown[]; nonce?: string; chunk_count: number }>(await client.dispatch('GUILD_MEMBERS_CHUNK'));
    assert.deepEqual([empty.members.length, empty.nonce, empty.chunk_count], [0, undefined, 1]);
  });

  it('presences only with GUILD_PRESENCES; the whole list needs GUILD_MEMBERS (else 4001)', async (t) => {
    fakeDate(t);
    const sim = await simulator(t, { guilds: [{ members: 10 }] });
    const guildId = sim.guilds[0]?.id;
    const withIntent = await ready(t, sim, { intents: GUILDS | GUILD_PRESENCES });
    withIntent.client.send({ op: 8, d: { guild_id: guildId, query: 'user', limit: 10, presences: true } });
    const chunk = data<{ presences: { status: string }[] }>(await withIntent.client.dispatch('GUILD_MEMBERS_CHUNK'));
    assert.ok(chunk.presences.length > 0 && chunk.presences.every((p) => p.status !== 'offline'));

    nextIdentifyWindow(t);
    const without = await ready(t, sim, { intents: GUILDS });
    without.client.send({ op: 8, d: { guild_id: guildId, query: 'user', limit: 10, presences: true } });
    assert.equal(data<{ presences?: unknown }>(await without.client.dispatch('GUILD_MEMBERS_CHUNK')).presences, undefined);
    without.client.send({ op: 8, d: { guild_id: guildId, query: '', limit: 0 } });
    assert.equal((await without.client.closed).code, 4001);
  });
});

describe('GatewaySimulator other send events', () => {
  it('op 4: join gets VOICE_STATE_UPDATE + VOICE_SERVER_UPDATE, leave only VOICE_STATE_UPDATE', async (t) => {
    const sim = await simulator(t, { guilds: 1 });
    const { client, sessionId } = await ready(t, sim, { intents: GUILDS | GUILD_VOICE_STATES });
    const guild = sim.guilds[0];
    const channel = guild?.voiceChannels[0];
    assert.ok(guild && channel);
    client.send({ op: 4, d: { guild_id: guild.id, channel_id: channel.id, self_mute: false, self_deaf: true } });
    const state = data<{ session_id: string; channel_id: string; self_deaf: boolean; user_id: string }>(await client.dispatch('VOICE_STATE_UPDATE'));
    assert.deepEqual([state.session_id, state.channel_id, state.self_deaf], [sessionId, channel.id, true]);
    const server = data<{ token: string; guild_id: string; endpoint: string }>(await client.dispatch('VOICE_SERVER_UPDATE'));
    assert.equal(server.guild_id, guild.id);
    assert.ok(server.token.length > 0 && server.endpoint.length > 0);
    assert.deepEqual(sim.sessions[0]?.voiceStates[guild.id], { channel_id: channel.id, self_mute: false, self_deaf: true });

    client.send({ op: 4, d: { guild_id: guild.id, channel_id: null, self_mute: false, self_deaf: false } });
    const left = await client.dispatch('VOICE_STATE_UPDATE');
    assert.equal(data<{ channel_id: null }>(left).channel_id, null);
    client.send({ op: 1, d: null });
    await client.next((f) => f.op === 11);
    const afterLeave = client.frames.slice(client.frames.indexOf(left) + 1);
    assert.ok(!afterLeave.some((f) => f.t === 'VOICE_SERVER_UPDATE'), 'no VOICE_SERVER_UPDATE for a leave');
  });

  it('op 31: one SOUNDBOARD_SOUNDS per guild; op 43: CHANNEL_INFO with the requested fields', async (t) => {
    const sim = await simulator(t, {
      guilds: [{ soundboardSounds: 2, voiceChannels: [{ status: 'chilling', voiceStartTime: 1_700_000_000 }, {}] }, {}],
    });
    const { client } = await ready(t, sim);
    const [a, b] = sim.guilds;
    assert.ok(a && b);
    client.send({ op: 31, d: { guild_ids: [a.id, b.id] } });
    const first = data<{ guild_id: string; soundboard_sounds: unknown[] }>(await client.dispatch('SOUNDBOARD_SOUNDS'));
    const second = data<{ guild_id: string; soundboard_sounds: unknown[] }>(await client.dispatch('SOUNDBOARD_SOUNDS'));
    assert.deepEqual([first.guild_id, first.soundboard_sounds.length, second.guild_id, second.soundboard_sounds.length], [a.id, 2, b.id, 1]);

    client.send({ op: 43, d: { guild_id: a.id, fields: ['status'] } });
    const info = data<{ guild_id: string; channels: Record<string, unknown>[] }>(await client.dispatch('CHANNEL_INFO'));
    assert.equal(info.guild_id, a.id);
    assert.deepEqual(info.channels, [
      { id: a.voiceChannels[0]?.id, status: 'chilling' },
      { id: a.voiceChannels[1]?.id, status: null },
    ]);
    client.send({ op: 43, d: { guild_id: a.id, fields: ['status', 'voice_start_time'] } });
    const both = data<{ channels: Record<string, unknown>[] }>(await client.dispatch('CHANNEL_INFO'));
    assert.deepEqual(both.channels[0], { id: a.voiceChannels[0]?.id, status: 'chilling', voice_start_time: 1_700_000_000 });
  });

  it('op 3: the presence is recorded and announced', async (t) => {
    const sim = await simulator(t);
    const { client, sessionId } = await ready(t, sim);
    const presence = { since: null, activities: [{ name: 'tests', type: 0 }], status: 'idle', afk: false };
    const announced = sim.waitFor('presence');
    client.send({ op: 3, d: presence });
    assert.deepEqual((await announced).presence, presence);
    assert.deepEqual(sim.sessions.find((s) => s.id === sessionId)?.presence, presence);
  });
});

describe('GatewaySimulator sharding and identify limits', () => {
  it('routes guilds and dispatches by (guild_id >> 22) % shards; no guild_id goes to shard 0', async (t) => {
    const sim = await simulator(t, { shards: 2, guilds: 4, maxConcurrency: 2 });
    const s0 = await ready(t, sim, { shard: [0, 2], intents: GUILDS | GUILD_MESSAGES });
    const s1 = await ready(t, sim, { shard: [1, 2], intents: GUILDS | GUILD_MESSAGES });
    const ids = (f: Frame) => data<{ guilds: { id: string }[] }>(f).guilds.map((g) => g.id);
    assert.deepEqual(ids(s0.ready), sim.guilds.filter((g) => shardForGuild(g.id, 2) === 0).map((g) => g.id));
    assert.deepEqual(ids(s1.ready), sim.guilds.filter((g) => shardForGuild(g.id, 2) === 1).map((g) => g.id));
    assert.equal(ids(s0.ready).length, 2);

    const onShard1 = ids(s1.ready)[0];
    assert.equal(sim.dispatch('MESSAGE_CREATE', { guild_id: onShard1, content: 'x' }), 1);
    assert.equal(data<{ guild_id: string }>(await s1.client.dispatch('MESSAGE_CREATE')).guild_id, onShard1);
    assert.equal(sim.dispatch('MESSAGE_CREATE', { content: 'dm' }), 1);
    assert.equal(data<{ content: string }>(await s0.client.dispatch('MESSAGE_CREATE')).content, 'dm');
    assert.equal(sim.dispatch('MESSAGE_CREATE', { content: 'both' }, { shard: 1 }), 1);
    await s1.client.next((f) => f.t === 'MESSAGE_CREATE' && (f.d as { content: string }).content === 'both');
  });

  it('drops dispatches the session has no intent for', async (t) => {
    const sim = await simulator(t);
    await ready(t, sim, { intents: GUILDS });
    assert.equal(sim.dispatch('MESSAGE_CREATE', { content: 'x' }), 0);
    assert.equal(sim.dispatch('INTERACTION_CREATE', { id: '1' }), 1, 'ungated events always arrive');
  });

  it('op 9 false for a second identify of the same bucket within 5 s; other buckets go through', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
    const sim = await simulator(t, { shards: 4, guilds: 0, maxConcurrency: 2 });
    await ready(t, sim, { shard: [0, 4] });
    await ready(t, sim, { shard: [1, 4] });
    const c = await connect(t, sim);
    await c.next((f) => f.op === 10);
    c.identify({ shard: [2, 4] }); // bucket 0 again
    assert.deepEqual((await c.next((f) => f.op === 9)).d, false);
    t.mock.timers.tick(5000);
    c.identify({ shard: [2, 4] }); // an op 9 created no session, so identifying again is allowed
    await c.dispatch('READY');
  });

  it('an identify with no session starts left ends every session with 4004 and revokes the token', async (t) => {
    fakeDate(t);
    const sim = await simulator(t, { sessionStartLimit: { total: 5, remaining: 1 } });
    const first = await ready(t, sim);
    assert.equal(sim.sessionStartLimit.remaining, 0);
    nextIdentifyWindow(t);
    const c = await connect(t, sim);
    c.identify();
    assert.equal((await c.closed).code, 4004);
    assert.equal((await first.client.closed).code, 4004);
    assert.equal(sim.tokenRevoked, true);
    const res = await fetch(`${sim.apiURL}/gateway/bot`, { headers: { authorization: 'Bot test-token' } });
    assert.equal(res.status, 401);
    await res.body?.cancel();
  });

  it('accepts any of several tokens', async (t) => {
    const sim = await simulator(t, { token: ['old', 'new'], maxConcurrency: 2, shards: 2 });
    await ready(t, sim, { token: 'new', shard: [0, 2] });
    await ready(t, sim, { token: 'old', shard: [1, 2] });
    assert.equal(sim.sessions.length, 2);
  });
});

describe('GatewaySimulator fault injection', () => {
  it('reconnect() sends op 7 and closes with 4000 after reconnectCloseDelay; the session stays resumable', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const sim = await simulator(t, { reconnectCloseDelay: 2000 });
    const { client, sessionId } = await ready(t, sim);
    assert.equal(sim.reconnect(), 1);
    assert.deepEqual(await client.next((f) => f.op === 7), { op: 7, d: null, s: null, t: null });
    t.mock.timers.tick(2000);
    assert.equal((await client.closed).code, 4000);
    assert.equal(sim.sessions[0]?.id, sessionId);
    assert.equal(sim.sessions[0]?.connection, null);
  });

  it('reconnectBeforeHello(): the next connection gets op 7 instead of Hello', async (t) => {
    const sim = await simulator(t, { reconnectCloseDelay: 0 });
    sim.reconnectBeforeHello();
    const c = await connect(t, sim);
    assert.equal((await c.next()).op, 7);
    const d = await connect(t, sim);
    assert.equal((await d.next()).op, 10);
    assert.ok(!c.frames.some((f) => f.op === 10));
  });

  it('invalidateSession(false) ends the session; invalidateSession(true) keeps it', async (t) => {
    const sim = await simulator(t);
    const a = await ready(t, sim);
    sim.invalidateSession(true);
    assert.equal((await a.client.next((f) => f.op === 9)).d, true);
    assert.equal(sim.sessions.length, 1);
    sim.invalidateSession(false);
    assert.equal((await a.client.next((f) => f.op === 9)).d, false);
    assert.equal(sim.sessions.length, 0);
    a.client.send({ op: 8, d: { guild_id: '1', query: 'a', limit: 1 } });
    assert.equal((await a.client.closed).code, 4003, 'an invalidated session is not authenticated');
  });

  it('closeWith() and dropSocket() keep resumable sessions; closeWith(4009) does not', async (t) => {
    fakeDate(t);
    const sim = await simulator(t, { shards: 2, maxConcurrency: 2 });
    const s0 = await ready(t, sim, { shard: [0, 2] });
    const s1 = await ready(t, sim, { shard: [1, 2] });
    const closes: { code: number; initiator: string; resumable: boolean }[] = [];
    sim.on('close', (e) => closes.push({ code: e.code, initiator: e.initiator, resumable: e.resumable }));
    assert.equal(sim.closeWith(4000, 0), 1);
    assert.equal((await s0.client.closed).code, 4000);
    assert.equal(sim.dropSocket({ shard: 1 }), 1);
    assert.equal((await s1.client.closed).code, 1006);
    await sim.waitFor('close', { filter: (e) => e.code === 1006 }).catch(() => undefined);
    assert.deepEqual(closes, [
      { code: 4000, initiator: 'server', resumable: true },
      { code: 1006, initiator: 'server', resumable: true },
    ]);
    assert.equal(sim.sessions.length, 2);

    nextIdentifyWindow(t);
    const again = await ready(t, sim, { shard: [0, 1] });
    sim.closeWith(4009, { session: again.sessionId });
    assert.equal((await again.client.closed).code, 4009);
    assert.equal(sim.sessions.some((s) => s.id === again.sessionId), false);
  });

  it('requestHeartbeat() sends op 1; pauseAcks() withholds op 11 until lifted', async (t) => {
    const sim = await simulator(t);
    const { client } = await ready(t, sim);
    sim.requestHeartbeat();
    assert.deepEqual(await client.next((f) => f.op === 1), { op: 1, d: null, s: null, t: null });
    sim.pauseAcks(true, 0);
    client.send({ op: 1, d: 1 });
    const beat = await sim.waitFor('heartbeat');
    assert.equal(beat.acked, false);
    sim.pauseAcks(false, 0);
    client.send({ op: 1, d: 1 });
    await client.next((f) => f.op === 11);
    assert.equal(client.frames.filter((f) => f.op === 11).length, 1);
  });

  it('sendRaw() writes bytes as given, even on a compressed connection', async (t) => {
    const sim = await simulator(t);
    const plain = await ready(t, sim);
    sim.sendRaw('{"op":99,"d":null}');
    assert.equal((await plain.client.next((f) => f.op === 99)).op, 99);
    const zc = await RawGatewayClient.connect(sim.url, { compress: 'zlib-stream' });
    t.after(() => zc.close());
    await zc.next((f) => f.op === 10);
    const wireBefore = zc.wire.length;
    sim.sendRaw(Buffer.from([1, 2, 3]), { connection: sim.listConnections().at(-1)?.id ?? -1 });
    await new Promise<void>((resolve) => zc.ws.once('message', () => resolve()));
    assert.deepEqual(zc.wire[wireBefore]?.bytes, Buffer.from([1, 2, 3]));
  });
});

describe('GatewaySimulator observation', () => {
  it('logs frames in both directions with connection, shard, op, t, s and size; clearFrames() empties it', async (t) => {
    const sim = await simulator(t, { guilds: 1 });
    const seen = sim.waitForFrame((f) => f.direction === 'out' && f.t === 'GUILD_CREATE');
    const { client } = await ready(t, sim);
    const guildCreate = await seen;
    assert.equal(guildCreate.s, 2);
    assert.equal(guildCreate.shard, 0);
    assert.ok(guildCreate.size > 100);
    await client.dispatch('GUILD_CREATE');
    const kinds = sim.frames.map((f) => `${f.direction}:${f.op}${f.t ? `:${f.t}` : ''}`);
    assert.deepEqual(kinds, ['out:10', 'in:2', 'out:0:READY', 'out:0:GUILD_CREATE']);
    assert.equal(sim.frames[1]?.shard, null, 'identify arrives before the connection has a shard');
    sim.clearFrames();
    assert.equal(sim.frames.length, 0);
  });

  it('recordFrames: false keeps no log; blast() pushes many dispatches with consecutive seqs', async (t) => {
    const sim = await simulator(t, { recordFrames: false, guilds: 0 });
    const { client } = await ready(t, sim);
    assert.equal(await sim.blast('INTERACTION_CREATE', { id: '1' }, 3000), 3000);
    const last = await client.next((f) => f.s === 3001, 10_000);
    assert.equal(last.t, 'INTERACTION_CREATE');
    assert.equal(client.frames.filter((f) => f.t === 'INTERACTION_CREATE').length, 3000);
    assert.equal(sim.frames.length, 0);
  });

  it('waitFor() times out, and close() rejects pending waits and ends connections promptly', async (t) => {
    const sim = await GatewaySimulator.create();
    await assert.rejects(sim.waitFor('identify', { timeout: 20 }), /Timed out/);
    const pending = assert.rejects(sim.waitFor('identify'), /closed/);
    const client = await RawGatewayClient.connect(sim.url);
    await sim.close();
    await pending;
    assert.equal(sim.connections, 0);
    assert.equal((await client.closed).code, 1006);
    await sim.close();
    t.diagnostic('closed twice without error');
  });

  it('fixtures.message() builds a MESSAGE_CREATE that matches the guild fixtures', async (t) => {
    const sim = await simulator(t, { guilds: 2 });
    const { client } = await ready(t, sim, { intents: GUILDS | GUILD_MESSAGES | MESSAGE_CONTENT });
    const guild = sim.guilds[1];
    assert.ok(guild);
    assert.equal(sim.dispatch('MESSAGE_CREATE', sim.fixtures.message({ guild_id: guild.id, content: 'ping' })), 1);
    const m = data<{ guild_id: string; channel_id: string; content: string; author: { id: string }; member: { roles: unknown[] } }>(
      await client.dispatch('MESSAGE_CREATE'),
    );
    assert.deepEqual([m.guild_id, m.channel_id, m.content], [guild.id, guild.textChannels[0]?.id, 'ping']);
    assert.equal(m.author.id, guild.members[1]?.member.user.id, 'a member other than the bot wrote it');
    assert.ok(Array.isArray(m.member.roles));
    const dm = sim.fixtures.message({ guild_id: null });
    assert.equal(dm.guild_id, undefined);
    assert.notEqual(dm.id, m.channel_id);
  });

  it('refuses bad options and reads of the address before start()', () => {
    assert.throws(() => new GatewaySimulator({ shards: 0 }), { name: 'InvalidOptionError' });
    assert.throws(() => new GatewaySimulator({ token: [] }), { name: 'InvalidOptionError' });
    assert.throws(() => new GatewaySimulator().url, /not started/);
  });
});
