import { describe, it, afterEach, mock } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import {
  FatalCloseError, GatewayIntentBits, GatewayOpcodes, GatewayProtocolError, MemorySessionStore, ReconnectLimitError, Session,
  SessionClosedError, UpdateStatusData, type Compression, type SessionStore,
} from '../../lib/index.js';
import { harness, LONG, eventually, settle, TOKEN, type Harness } from '../helpers/gateway.js';

const INTERVAL = 41250;
let h: Harness | undefined;

afterEach(async () => {
  await h?.cleanup();
  h = undefined;
  mock.restoreAll();
});

/** Pushes MESSAGE_CREATE dispatches whose ids are the given numbers. */
function messages(hh: Harness, ids: number[]): void {
  const guild = hh.sim.guilds[0]!;
  for (const id of ids) hh.sim.dispatch('MESSAGE_CREATE', { id: String(id), channel_id: '1', guild_id: guild.id, content: `m${id}` });
}

function collectMessageIds(hh: Harness): number[] {
  const seen: number[] = [];
  hh.bot.handle('MESSAGE_CREATE', (m) => { seen.push(Number(m.id)); });
  return seen;
}

describe('Session handshake', () => {
  it('identifies with token, properties, intents and shard, then is READY', async () => {
    h = await harness({ shard: [0, 1], client: { largeThreshold: 100 } });
    const identify = h.sim.waitForFrame((f) => f.direction === 'in' && f.op === 2);
    await h.session.connect(h.bot);
    const frame = await identify;
    const d = frame.d as Record<string, unknown>;
    assert.equal(d.token, TOKEN);
    assert.deepEqual(d.properties, { os: process.platform, browser: 'disgate', device: 'disgate' });
    assert.equal(d.intents, GatewayIntentBits.Guilds | GatewayIntentBits.GuildMessages);
    assert.deepEqual(d.shard, [0, 1]);
    assert.equal(d.large_threshold, 100);
    assert.equal(h.session.status, 'ready');
    assert.ok(h.session.id);
    assert.equal(h.session.resumeURL, h.sim.resumeURL);
    assert.equal(h.bot.sessions.get(0), h.session);
  });

  it('goes through connecting and identifying to ready', async () => {
    h = await harness();
    const states: string[] = [];
    const connecting = h.session.connect(h.bot);
    states.push(h.session.status);
    await eventually(() => h!.session.status !== 'connecting', 'hello');
    states.push(h.session.status);
    await connecting;
    states.push(h.session.status);
    assert.deepEqual(states, ['connecting', 'identifying', 'ready']);
  });
});

describe('Heartbeats', () => {
  it('beats first after interval * random(), then every interval, echoing the last seq', async () => {
    mock.method(Math, 'random', () => 0.5);
    h = await harness();
    const beats: Array<{ at: number; seq: number | null }> = [];
    h.sim.on('heartbeat', (e) => beats.push({ at: Date.now(), seq: e.seq }));
    await h.session.connect(h.bot);
    const start = Date.now();
    await h.advance(INTERVAL * 0.5 - 1);
    assert.equal(beats.length, 0, 'no beat before interval * jitter');
    await h.advance(1);
    await eventually(() => beats.length === 1, 'first beat');
    assert.equal(beats[0]!.at - start, Math.floor(INTERVAL * 0.5));
    assert.equal(beats[0]!.seq, h.session.seq);
    messages(h, [1, 2]);
    await eventually(() => h!.session.seq === beats[0]!.seq! + 2, 'dispatches');
    await h.advance(INTERVAL);
    await eventually(() => beats.length === 2, 'second beat');
    assert.equal(beats[1]!.at - beats[0]!.at, INTERVAL);
    assert.equal(beats[1]!.seq, h.session.seq);
    assert.ok(h.session.latency >= 0);
  });

  it('sends nothing before Identify: a first beat due while the identify bucket waits goes out right after it', async () => {
    mock.method(Math, 'random', () => 0);
    h = await harness({ sim: { shards: 2, guilds: 2 }, client: { shards: 2 } });
    let done = false;
    void h.bot.connect().then(() => { done = true; });
    await h.advanceUntil(() => done, 'both shards READY');
    await h.advance(1000);
    // Shard 1 got its Hello while shard 0's identify still held the bucket (max_concurrency 1).
    const second = h.sim.frames.find((f) => f.direction === 'in' && f.op === GatewayOpcodes.Identify && (f.d as { shard: number[] }).shard[0] === 1)!;
    const frames = h.sim.frames.filter((f) => f.connection === second.connection);
    const hello = frames.find((f) => f.op === GatewayOpcodes.Hello)!;
    assert.ok(second.at - hello.at >= 1000, `identify waited ${second.at - hello.at} ms after Hello`);
    const inbound = frames.filter((f) => f.direction === 'in').map((f) => f.op);
    assert.deepEqual(inbound.slice(0, 2), [GatewayOpcodes.Identify, GatewayOpcodes.Heartbeat], 'the due beat waited for Identify');
  });

  it('a handshake held past a whole interval does not cost the connection: the beat goes first (no 4009)', async () => {
    mock.method(Math, 'random', () => 0);
    h = await harness({ sim: { shards: 2, guilds: 2, heartbeatInterval: 2000 }, client: { shards: 2 } });
    let done = false;
    void h.bot.connect().then(() => { done = true; });
    await h.advanceUntil(() => done, 'both shards READY', { step: 50 });
    const second = h.sim.frames.find((f) => f.direction === 'in' && f.op === GatewayOpcodes.Identify && (f.d as { shard: number[] }).shard[0] === 1)!;
    const frames = h.sim.frames.filter((f) => f.connection === second.connection);
    const hello = frames.find((f) => f.op === GatewayOpcodes.Hello)!;
    assert.ok(second.at - hello.at > 2000, `identify waited ${second.at - hello.at} ms after Hello`);
    const firstBeat = frames.find((f) => f.direction === 'in' && f.op === GatewayOpcodes.Heartbeat)!;
    assert.equal(firstBeat.at - hello.at, 2000, 'held one interval, not longer');
    assert.equal(h.closes.length, 0, 'no close');
  });

  it('answers a server op 1 at once', async () => {
    h = await harness();
    await h.session.connect(h.bot);
    const beat = h.sim.waitFor('heartbeat', LONG);
    h.sim.requestHeartbeat();
    const e = await beat;
    assert.equal(e.seq, h.session.seq);
  });

  it('treats a missing ACK as a zombie: closes with a non-1000 code and resumes', async () => {
    mock.method(Math, 'random', () => 0);
    h = await harness();
    await h.session.connect(h.bot);
    mock.timers.tick(0);
    await settle();
    const id = h.session.id;
    h.sim.pauseAcks(true);
    const closed = h.sim.waitFor('close', LONG);
    const resumed = h.sim.waitFor('resume', LONG);
    let closedAt = 0;
    h.bot.once('close', () => { closedAt = Date.now(); });
    const pausedAt = Date.now();
    await h.advanceUntil(() => closedAt !== 0, 'zombie close', { step: 250 });
    // The next beat goes unacknowledged; the one after finds that out, within two intervals.
    assert.ok(closedAt - pausedAt <= 2 * INTERVAL + 500, `closed after ${closedAt - pausedAt} ms`);
    const close = await closed;
    assert.equal(close.initiator, 'client');
    assert.notEqual(close.code, 1000);
    assert.notEqual(close.code, 1001);
    h.sim.pauseAcks(false);
    await eventually(() => h!.sim.listConnections().length === 1, 'reconnect');
    const resume = await resumed;
    assert.equal(resume.sessionId, id);
    await eventually(() => h!.session.status === 'ready', 'resumed');
    assert.equal(h.session.id, id);
  });
});

describe('Reconnect and resume', () => {
  it('op 7: resumes on resume_gateway_url with no dispatch lost or repeated', async () => {
    h = await harness();
    const seen = collectMessageIds(h);
    const paths: string[] = [];
    h.sim.on('connection', (c) => paths.push(c.path));
    await h.session.connect(h.bot);
    messages(h, [1, 2, 3, 4, 5]);
    await eventually(() => seen.length === 5, 'first messages');
    h.sim.reconnect();
    messages(h, [6, 7, 8]);
    await eventually(() => h!.session.status !== 'ready', 'reconnecting');
    messages(h, [9, 10]);
    await eventually(() => seen.length === 10 && h!.session.status === 'ready', 'resumed with replay');
    await settle();
    assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(paths.length, 2);
    assert.match(paths[1]!, /resume/, 'second connection used resume_gateway_url');
    assert.equal(h.sim.frames.filter((f) => f.direction === 'in' && f.op === 2).length, 1, 'identified only once');
  });

  it('op 7 before Hello: reconnects and identifies', async () => {
    h = await harness();
    h.sim.reconnectBeforeHello(1);
    const connecting = h.session.connect(h.bot);
    await h.advanceUntil(() => h!.session.status === 'ready', 'ready after op 7 before Hello');
    await connecting;
    assert.equal(h.sim.frames.filter((f) => f.direction === 'out' && f.op === 7).length, 1);
  });

  it('a silently dropped socket is resumed without loss', async () => {
    h = await harness();
    const seen = collectMessageIds(h);
    await h.session.connect(h.bot);
    messages(h, [1, 2]);
    await eventually(() => seen.length === 2, 'messages');
    const resumed = h.sim.waitFor('resume', LONG);
    h.sim.dropSocket();
    messages(h, [3, 4]);
    await eventually(() => h!.closes.length === 1, 'close seen');
    assert.equal(h.closes[0]!.code, 1006);
    assert.equal(h.closes[0]!.resumable, true);
    await resumed;
    await eventually(() => seen.length === 4 && h!.session.status === 'ready', 'replay');
    assert.deepEqual(seen, [1, 2, 3, 4]);
  });

  it('op 9 true resumes', async () => {
    h = await harness();
    await h.session.connect(h.bot);
    const id = h.session.id;
    const resumed = h.sim.waitFor('resume', LONG);
    h.sim.invalidateSession(true);
    await resumed;
    await eventually(() => h!.session.status === 'ready', 'resumed');
    assert.equal(h.session.id, id);
  });

  it('op 9 false identifies anew after a 1-5 s wait', async () => {
    mock.method(Math, 'random', () => 0.5);
    h = await harness();
    await h.session.connect(h.bot);
    const oldId = h.session.id;
    const t0 = Date.now();
    const identified = h.sim.waitFor('identify', LONG);
    h.sim.invalidateSession(false);
    await eventually(() => h!.session.status === 'reconnecting', 'waiting to re-identify');
    assert.equal(h.session.id, undefined, 'session forgotten');
    await h.advance(2999);
    assert.equal(h.sim.listConnections().length, 0, 'no reconnect before the 1-5 s wait (3 s here)');
    await h.advance(2500, 100);
    const e = await identified;
    assert.ok(Date.now() - t0 >= 5000, 'the identify bucket still spaces identifies 5 s apart');
    await eventually(() => h!.session.status === 'ready', 'ready');
    assert.notEqual(h.session.id, oldId);
    assert.equal(e.sessionId, h.session.id);
    assert.equal(h.sim.frames.filter((f) => f.direction === 'in' && f.op === 6).length, 0, 'never resumed');
  });

  it('4007 and 4009 start a new session; 4000 and a gateway\'s 1000 or 1001 resume (only a client\'s own 1000/1001 ends a session)', async () => {
    for (const [code, resumes] of [[4000, true], [1000, true], [1001, true], [4007, false], [4009, false]] as const) {
      h = await harness();
      await h.session.connect(h.bot);
      const next = resumes ? h.sim.waitFor('resume', LONG) : h.sim.waitFor('identify', LONG);
      h.sim.closeWith(code);
      await h.advance(6000, 500);
      await next;
      await eventually(() => h!.session.status === 'ready', `ready after ${code}`);
      assert.equal(h.closes[0]!.code, code);
      assert.equal(h.closes[0]!.resumable, resumes, `resumable after ${code}`);
      await h.cleanup();
      h = undefined;
    }
  });

  it('backs off exponentially with jitter between failed attempts', async () => {
    mock.method(Math, 'random', () => 0.999999);
    h = await harness();
    const times: number[] = [];
    h.sim.on('connection', () => times.push(Date.now()));
    h.sim.reconnectBeforeHello(4);
    const connecting = h.session.connect(h.bot);
    // Each step lets the previous attempt's op 7 and close land before time moves on.
    for (let attempt = 1; attempt <= 4; attempt++) {
      await eventually(() => h!.session.status === 'reconnecting' && times.length === attempt, `failed attempt ${attempt}`);
      await h.advanceUntil(() => times.length === attempt + 1, `attempt ${attempt + 1}`, { step: 50 });
    }
    await connecting;
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    assert.deepEqual(gaps, [1000, 2000, 4000, 8000]);
  });

  it('gives up after maxReconnectAttempts with a typed error', async () => {
    h = await harness({ client: { maxReconnectAttempts: 2 } });
    h.sim.reconnectBeforeHello(10);
    const connecting = h.session.connect(h.bot);
    const rejected = assert.rejects(connecting, (err: unknown) => err instanceof ReconnectLimitError && err.attempts === 2);
    await h.advance(10_000, 100);
    await rejected;
    assert.equal(h.session.status, 'closed');
    assert.equal(h.sim.frames.filter((f) => f.direction === 'out' && f.op === 7).length, 3);
  });

  it('with autoReconnect off, a close ends the session and says so', async () => {
    h = await harness({ client: { autoReconnect: false } });
    await h.session.connect(h.bot);
    h.sim.closeWith(4000);
    await eventually(() => h!.session.status === 'closed', 'closed');
    assert.equal(h.closes[0]!.reconnect, false);
  });
});

describe('Fatal close codes', () => {
  it('4004: connect() rejects with FatalCloseError and nothing retries', async () => {
    h = await harness({ client: { token: 'wrong-token' } });
    h.bot.on('error', () => {});
    await assert.rejects(h.session.connect(h.bot), (err: unknown) => err instanceof FatalCloseError && err.code === 4004);
    assert.equal(h.session.status, 'closed');
  });

  it('4014: privileged intents not granted', async () => {
    h = await harness({ sim: { grantedIntents: 0 }, client: { intents: GatewayIntentBits.Guilds | GatewayIntentBits.GuildMembers } });
    await assert.rejects(h.session.connect(h.bot), (err: unknown) => err instanceof FatalCloseError && err.code === 4014);
  });

  for (const code of [4004, 4010, 4011, 4012, 4013, 4014]) {
    it(`${code} on a live session ends it with FatalCloseError`, async () => {
      h = await harness();
      await h.session.connect(h.bot);
      h.sim.closeWith(code);
      await eventually(() => h!.session.status === 'closed', 'closed');
      await h.advance(120_000, 10_000);
      const fatal = h.errors.find((e) => e instanceof FatalCloseError);
      assert.ok(fatal instanceof FatalCloseError);
      assert.equal(fatal.code, code);
      assert.equal(h.closes[0]!.reconnect, false);
      assert.equal(h.sim.listConnections().length, 0, 'no reconnect');
    });
  }
});

describe('Transport compression', () => {
  for (const compression of ['none', 'zlib-stream', 'zstd-stream'] as Compression[]) {
    it(`${compression}: connects, receives dispatches, resumes with a fresh context`, async () => {
      h = await harness({ client: { compression } });
      const seen = collectMessageIds(h);
      const modes: string[] = [];
      h.sim.on('connection', (c) => modes.push(c.compress));
      await h.session.connect(h.bot);
      messages(h, [1, 2, 3]);
      await eventually(() => seen.length === 3, 'messages');
      h.sim.reconnect();
      messages(h, [4]);
      await eventually(() => seen.length === 4 && h!.session.status === 'ready', 'resume');
      assert.deepEqual(seen, [1, 2, 3, 4]);
      assert.deepEqual(modes, [compression, compression]);
    });
  }

  it('a corrupt compressed stream closes and resumes instead of crashing', async () => {
    h = await harness({ client: { compression: 'zlib-stream' } });
    const seen = collectMessageIds(h);
    await h.session.connect(h.bot);
    const resumed = h.sim.waitFor('resume', LONG);
    h.sim.sendRaw(Buffer.from('definitely not deflate\x00\x00\xff\xff', 'latin1'));
    messages(h, [1]);
    await resumed;
    await eventually(() => seen.length === 1 && h!.session.status === 'ready', 'replayed');
    assert.ok(h.errors.some((e) => e instanceof GatewayProtocolError));
  });
});

describe('Malformed frames from the gateway', () => {
  it('bad JSON, unknown ops and dispatches without d become error events, not crashes', async () => {
    h = await harness();
    const seen = collectMessageIds(h);
    await h.session.connect(h.bot);
    h.sim.sendRaw('{"op":99,"d":null}');
    h.sim.sendRaw('{"op":0,"t":"MESSAGE_CREATE","s":999}');
    h.sim.sendRaw('[1,2,3]');
    await eventually(() => h!.errors.length >= 3, 'three errors');
    assert.equal(h.session.status, 'ready', 'recoverable garbage keeps the connection');
    const resumed = h.sim.waitFor('resume', LONG);
    h.sim.sendRaw('this is not json');
    messages(h, [7]);
    await resumed;
    await eventually(() => seen.length === 1 && h!.session.status === 'ready', 'resumed after undecodable frame');
    assert.ok(h.errors.every((e) => e instanceof GatewayProtocolError));
  });

  it('an endless stream of op 7 backs off instead of spinning', async () => {
    mock.method(Math, 'random', () => 0.5);
    h = await harness();
    h.sim.reconnectBeforeHello(1_000);
    void h.session.connect(h.bot).catch(() => {});
    const connections: number[] = [];
    h.sim.on('connection', () => connections.push(Date.now()));
    await h.advance(120_000, 1000);
    assert.ok(connections.length <= 10, `${connections.length} attempts in 2 minutes`);
    assert.equal(h.session.status === 'reconnecting' || h.session.status === 'connecting', true);
  });
});

describe('disconnect()', () => {
  it('closes with 1000, ends the session, and later sends reject with SessionClosedError', async () => {
    h = await harness();
    await h.session.connect(h.bot);
    const closed = h.sim.waitFor('close', LONG);
    await h.session.disconnect();
    const e = await closed;
    assert.equal(e.code, 1000);
    assert.equal(e.resumable, false);
    assert.equal(h.session.status, 'closed');
    await assert.rejects(
      new UpdateStatusData({ since: null, activities: [], status: 'idle', afk: false }).sendEvent(h.bot, h.session),
      SessionClosedError,
    );
  });
});

describe('Security', () => {
  it('the token never appears in debug output, errors or close events', async () => {
    h = await harness({ client: { compression: 'zlib-stream' } });
    await h.session.connect(h.bot);
    h.sim.sendRaw(`not json ${TOKEN}`);
    await eventually(() => h!.session.status !== 'ready', 'closing');
    await eventually(() => h!.session.status === 'ready', 'resumed');
    h.sim.closeWith(4000, undefined, `reason with ${TOKEN}`.slice(0, 120));
    await eventually(() => h!.closes.length >= 2 && h!.session.status === 'ready', 'resumed again');
    h.sim.closeWith(4013);
    await eventually(() => h!.session.status === 'closed', 'fatal');
    const everything = [
      ...h.debug,
      ...h.closes.map((c) => JSON.stringify(c)),
      ...h.errors.map((e) => `${e.message} ${e.stack} ${inspect(e, { showHidden: true, depth: 5 })} ${JSON.stringify(e)}`),
    ].join('\n');
    assert.ok(h.debug.length > 0 && h.errors.length > 0);
    assert.equal(everything.includes(TOKEN), false, 'token leaked');
  });
});

describe('Session store', () => {
  function recordingStore() {
    const inner = new MemorySessionStore();
    const sets: number[] = [];
    const store: SessionStore = {
      get: (id) => inner.get(id),
      set: (id, info) => { sets.push(info.seq); return inner.set(id, info); },
      delete: (id) => inner.delete(id),
      flush: () => inner.flush(),
    };
    return { store, sets, inner };
  }

  it('saves on every seq and refreshes on each heartbeat, so a quiet shard never expires', async () => {
    mock.method(Math, 'random', () => 0);
    const { store, sets } = recordingStore();
    h = await harness({ client: { store } });
    await h.session.connect(h.bot);
    const afterReady = sets.length;
    assert.ok(afterReady >= 1);
    await h.advance(INTERVAL * 2 + 500, 500);
    assert.ok(sets.length >= afterReady + 2, `${sets.length - afterReady} refreshes in two intervals without dispatches`);
  });

  it('a new Session with a saved session resumes it instead of identifying', async () => {
    const { store } = recordingStore();
    h = await harness({ client: { store } });
    await h.session.connect(h.bot);
    const id = h.session.id;
    await h.session.disconnect(4000);
    const successor = new Session({ shard: [0, 1] });
    const resumed = h.sim.waitFor('resume', LONG);
    await successor.connect(h.bot);
    assert.equal((await resumed).sessionId, id);
    assert.equal(h.sim.frames.filter((f) => f.direction === 'in' && f.op === 2).length, 1, 'identified once in all');
    await successor.disconnect();
  });

  it('a session saved under another shard count is not resumed: Discord would route the old count\'s guilds to it', async () => {
    const { store, inner } = recordingStore();
    h = await harness({ client: { store } });
    await h.session.connect(h.bot);
    await h.session.disconnect(4000);
    assert.deepEqual((await inner.get(0))?.shard, [0, 1], 'saved with the shard it identified as');
    const successor = new Session({ shard: [0, 2] });
    let resumes = 0;
    h.sim.on('resume', () => resumes++);
    const identified: Array<readonly [number, number]> = [];
    h.sim.on('identify', (e) => identified.push(e.shard));
    let ready = false;
    void successor.connect(h.bot).then(() => { ready = true; });
    // The identify bucket spaces this identify 5 s after the first one.
    await h.advanceUntil(() => ready, 'successor READY');
    assert.equal(resumes, 0);
    assert.deepEqual(identified, [[0, 2]]);
    assert.deepEqual((await inner.get(0))?.shard, [0, 2], 'the new session replaced the old one in the store');
    await successor.disconnect();
  });
});
