/**
 * Send events end to end: the real classes through `sendEvent` / `sendEvents` and a real Session
 * against the GatewaySimulator over loopback, in fake time. What reaches the wire is read back
 * from the simulator's frame log.
 */
import { describe, it, afterEach, mock } from 'node:test';
import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import {
  Client, GatewayIntentBits, GatewayOpcodes, MemberRequestTimeoutError, MissingIntentError, PayloadTooLargeError, RateLimitedError, RequestChannelInfo,
  RequestGuildMembers, RequestSoundboardSounds, Session, SessionClosedError, UpdateStatusData, UpdateVoiceStateData,
  frameSize,
} from '../../../lib/index.js';
import type { DispatchPayloads } from '../../../lib/index.js';
import { harness, LONG, eventually, settle, TOKEN, type Harness } from '../../helpers/gateway.js';
import { advanceQuietly, dispatched, presenceIndexes, quiesce, sent, SESSION_WINDOW } from '../../helpers/e2e.js';

let h: Harness | undefined;

afterEach(async () => {
  await h?.cleanup();
  h = undefined;
  mock.restoreAll();
});

/** A presence whose `since` carries its index, so the frame log shows order and completeness. */
function presence(index: number, name = `frame ${index}`): UpdateStatusData {
  return new UpdateStatusData({ since: index, activities: [{ name, type: 0 }], status: 'online', afk: false });
}

/** Settles a promise into a value the test can look at later. */
function outcome(promise: Promise<void>): { state: 'pending' | 'sent' | 'rejected'; error?: unknown } {
  const o: { state: 'pending' | 'sent' | 'rejected'; error?: unknown } = { state: 'pending' };
  promise.then(() => { o.state = 'sent'; }, (error: unknown) => { o.state = 'rejected'; o.error = error; });
  return o;
}

/**
 * Delays the completion callbacks of writes on the client sockets connected to `port` (the
 * bytes still go out at once), as when the kernel reports a write late: the answer to a frame
 * can then be read before its write has completed. `restore` undoes it and runs the held callbacks.
 */
function holdWriteCallbacks(port: number): { held: () => number; restore: () => void } {
  const proto = Socket.prototype as unknown as Record<string, unknown>;
  const own = Object.prototype.hasOwnProperty.call(proto, 'write');
  const original = proto['write'] as (...args: unknown[]) => boolean;
  const held: Array<() => void> = [];
  proto['write'] = function (this: Socket, ...args: unknown[]): boolean {
    const last = args.length - 1;
    const callback = args[last];
    if (this.remotePort === port && typeof callback === 'function') {
      args[last] = (...results: unknown[]): void => { held.push(() => (callback as (...r: unknown[]) => void)(...results)); };
    }
    return original.apply(this, args);
  };
  return {
    held: () => held.length,
    restore: () => {
      if (own) proto['write'] = original;
      else delete proto['write'];
      for (const callback of held.splice(0)) callback();
    },
  };
}

/** Sends presences 0..n-1 and waits until the simulator has them: the bucket is then full at n = 116. */
async function fillBucket(hh: Harness, n = 116): Promise<void> {
  await Promise.all(Array.from({ length: n }, (_, i) => presence(i).sendEvent(hh.bot, hh.session)));
  await eventually(() => sent(hh.sim, { op: GatewayOpcodes.PresenceUpdate }).length === n, `${n} presences`);
}

describe('Refused before sending', () => {
  it('an oversize frame rejects with PayloadTooLargeError and nothing is sent; the session carries on', async () => {
    h = await harness();
    await h.session.connect(h.bot);
    const big = presence(1, 'x'.repeat(5000));
    assert.ok(frameSize(big) > 4096);
    const before = sent(h.sim).length;
    await assert.rejects(big.sendEvent(h.bot, h.session), (err: unknown) => {
      assert.ok(err instanceof PayloadTooLargeError);
      assert.equal(err.op, GatewayOpcodes.PresenceUpdate);
      assert.equal(err.size, frameSize(big));
      assert.equal(err.limit, 4096);
      return true;
    });
    await assert.rejects(big.sendEvents(h.bot), PayloadTooLargeError);
    await presence(2).sendEvent(h.bot, h.session);
    await eventually(() => sent(h!.sim).length === before + 1, 'the next frame');
    assert.deepEqual(presenceIndexes(sent(h.sim, { op: GatewayOpcodes.PresenceUpdate })), [2], 'only the small frame went out');
    assert.ok(sent(h.sim).every((f) => f.size <= 4096));
    assert.equal(h.closes.length, 0, 'no close 4002');
    assert.equal(h.session.getRateLimitStatus().currentEventCount, 2, 'identify and the small frame');
  });

  it('a frame of exactly 4096 bytes goes out', async () => {
    h = await harness();
    await h.session.connect(h.bot);
    const name = 'y'.repeat(4096 - frameSize(presence(3, '')));
    const exact = presence(3, name);
    assert.equal(frameSize(exact), 4096);
    await exact.sendEvent(h.bot, h.session);
    await eventually(() => sent(h!.sim, { op: GatewayOpcodes.PresenceUpdate }).length === 1, 'the 4096-byte frame');
    assert.equal(sent(h.sim, { op: GatewayOpcodes.PresenceUpdate })[0]!.size, 4096);
    assert.equal(h.closes.length, 0);
  });

  it('presences without GUILD_PRESENCES and all members without GUILD_MEMBERS reject with MissingIntentError, nothing sent', async () => {
    h = await harness({ client: { intents: GatewayIntentBits.Guilds } });
    await h.session.connect(h.bot);
    const guild_id = h.sim.guilds[0]!.id;
    const before = sent(h.sim).length;
    const withPresences = new RequestGuildMembers({ guild_id, user_ids: [h.sim.guilds[0]!.members[1]!.member.user.id], presences: true });
    const allMembers = new RequestGuildMembers({ guild_id, query: '', limit: 0 });
    const someOfAll = new RequestGuildMembers({ guild_id, query: '', limit: 10 });
    for (const event of [withPresences, allMembers, someOfAll]) {
      await assert.rejects(event.sendEvent(h.bot, h.session), MissingIntentError);
      await assert.rejects(event.sendEvents(h.bot), MissingIntentError);
      await assert.rejects(h.bot.requestGuildMembers(event), MissingIntentError);
    }
    await assert.rejects(allMembers.sendEvent(h.bot, h.session), (err: unknown) => err instanceof MissingIntentError && /GUILD_MEMBERS|GuildMembers/.test(err.message));
    await assert.rejects(withPresences.sendEvent(h.bot, h.session), (err: unknown) => err instanceof MissingIntentError && /PRESENCES|Presences/.test(err.message));
    await quiesce(h.sim);
    assert.equal(sent(h.sim).length, before, 'nothing reached the gateway');
    assert.equal(h.closes.length, 0, 'no close 4001 from the simulator');
    // A prefix query needs neither intent.
    await new RequestGuildMembers({ guild_id, query: 'user1', limit: 5 }).sendEvent(h.bot, h.session);
    await eventually(() => sent(h!.sim, { op: GatewayOpcodes.RequestGuildMembers }).length === 1, 'the prefix query');
  });
});

describe('AbortSignal', () => {
  it('a queued send aborted before it goes out is never sent and rejects with the reason; the rest go in order', async () => {
    h = await harness();
    await h.session.connect(h.bot);
    await fillBucket(h);
    const headAbort = new AbortController();
    const midAbort = new AbortController();
    const waiting = [
      outcome(presence(116).sendEvent(h.bot, h.session, { signal: headAbort.signal })), // waits on the bucket
      outcome(presence(117).sendEvent(h.bot, h.session)),
      outcome(presence(118).sendEvent(h.bot, h.session, { signal: midAbort.signal })), // waits in the session's queue
      outcome(presence(119).sendEvent(h.bot, h.session)),
    ];
    await advanceQuietly(h.sim, 10_000);
    assert.ok(waiting.every((w) => w.state === 'pending'));
    const headReason = new Error('head withdrawn');
    const midReason = new Error('middle withdrawn');
    headAbort.abort(headReason);
    midAbort.abort(midReason);
    await settle();
    assert.equal(waiting[0]!.state, 'rejected');
    assert.equal(waiting[0]!.error, headReason, 'rejects with exactly signal.reason');
    assert.equal(waiting[2]!.state, 'rejected');
    assert.equal(waiting[2]!.error, midReason, 'rejects with exactly signal.reason');
    assert.equal(waiting[1]!.state, 'pending', 'the others keep waiting for the window');

    const aborted = outcome(presence(999).sendEvent(h.bot, h.session, { signal: AbortSignal.abort(new Error('too late')) }));
    await settle();
    assert.equal(aborted.state, 'rejected');
    assert.equal((aborted.error as Error).message, 'too late');

    await advanceQuietly(h.sim, SESSION_WINDOW - 10_000);
    await eventually(() => waiting[3]!.state === 'sent', 'the rest after the window');
    assert.equal(waiting[1]!.state, 'sent');
    const indexes = presenceIndexes(sent(h.sim, { op: GatewayOpcodes.PresenceUpdate }));
    assert.deepEqual(indexes.slice(116), [117, 119], 'aborted frames never sent, the others in order');
    assert.equal(h.closes.length, 0);
  });
});

describe('While reconnecting and after closing', () => {
  for (const fault of ['reconnect', 'dropSocket'] as const) {
    it(`frames sent while the session reconnects (${fault}) go out after RESUMED, in the order sent`, async () => {
      h = await harness();
      await h.session.connect(h.bot);
      await presence(0).sendEvent(h.bot, h.session);
      await eventually(() => sent(h!.sim, { op: GatewayOpcodes.PresenceUpdate }).length === 1, 'the first presence');
      const resumed = h.sim.waitFor('resume', LONG);
      // The first attempt meets op 7 before Hello, so the session stays down until its backoff
      // timer (fake time) fires: long enough to see that nothing is written meanwhile.
      h.sim.reconnectBeforeHello(1);
      if (fault === 'reconnect') h.sim.reconnect();
      else h.sim.dropSocket();
      await eventually(() => h!.session.status === 'reconnecting' && h!.sim.connections === 0, 'the session waits to reconnect');
      const sends = [1, 2, 3, 4, 5].map((i) => outcome(presence(i).sendEvent(h!.bot, h!.session)));
      await quiesce(h.sim);
      assert.ok(sends.every((s) => s.state === 'pending'), 'nothing is written while the session is down');
      await h.advanceUntil(() => sends.every((s) => s.state === 'sent'), 'queued frames sent', { step: 250, max: 120_000 });
      const { connection } = await resumed;
      const frames = h.sim.frames;
      const resumedAt = frames.findIndex((f) => f.direction === 'out' && f.connection === connection && f.t === 'RESUMED');
      assert.ok(resumedAt >= 0, 'RESUMED was sent on the new connection');
      const after = frames.filter((f, i) => f.direction === 'in' && f.op === GatewayOpcodes.PresenceUpdate && f.connection === connection && i > resumedAt);
      assert.deepEqual(presenceIndexes(after), [1, 2, 3, 4, 5], 'all after RESUMED, on the resumed connection, in order');
      assert.deepEqual(presenceIndexes(sent(h.sim, { op: GatewayOpcodes.PresenceUpdate })), [0, 1, 2, 3, 4, 5], 'each exactly once');
      assert.equal(sent(h.sim, { op: GatewayOpcodes.Identify }).length, 1, 'resumed, not identified again');
    });
  }

  it('frames sent while the session identifies anew (op 9 false) go out after READY, in order', async () => {
    h = await harness();
    await h.session.connect(h.bot);
    const firstId = h.session.id;
    h.sim.invalidateSession(false);
    await eventually(() => h!.session.status !== 'ready', 'the session notices');
    const sends = [1, 2, 3].map((i) => outcome(presence(i).sendEvent(h!.bot, h!.session)));
    // The new identify waits 1-5 s (fake time).
    await quiesce(h.sim);
    assert.ok(sends.every((s) => s.state === 'pending'));
    const identified = h.sim.waitFor('identify', LONG);
    await h.advanceUntil(() => sends.every((s) => s.state === 'sent'), 'queued frames sent', { step: 250, max: 30_000 });
    const { connection, sessionId } = await identified;
    assert.notEqual(sessionId, firstId);
    const readyAt = h.sim.frames.findIndex((f) => f.direction === 'out' && f.connection === connection && f.t === 'READY');
    const after = h.sim.frames.filter((f, i) => f.direction === 'in' && f.op === GatewayOpcodes.PresenceUpdate && i > readyAt);
    assert.deepEqual(presenceIndexes(after), [1, 2, 3]);
    assert.ok(after.every((f) => f.connection === connection));
  });

  it('frames waiting on a full bucket go out on the resumed connection with its fresh budget', async () => {
    h = await harness();
    await h.session.connect(h.bot);
    await fillBucket(h);
    const waiting = [116, 117, 118].map((i) => outcome(presence(i).sendEvent(h!.bot, h!.session)));
    await advanceQuietly(h.sim, 5000);
    const resumed = h.sim.waitFor('resume', LONG);
    h.sim.dropSocket();
    await h.advanceUntil(() => waiting.every((w) => w.state !== 'pending'), 'the waiting frames', { step: 250, max: 120_000 });
    const { connection } = await resumed;
    assert.ok(waiting.every((w) => w.state === 'sent'));
    const onNew = sent(h.sim, { op: GatewayOpcodes.PresenceUpdate, connection });
    assert.deepEqual(presenceIndexes(onNew), [116, 117, 118]);
    // Well before the old connection's window would have freed (60 s after the burst).
    assert.ok(onNew.every((f) => f.at < sent(h!.sim, { op: GatewayOpcodes.Identify })[0]!.at + 30_000), 'not held for the old window');
  });

  it('a closed session rejects sends with SessionClosedError, queued ones included, and writes nothing', async () => {
    h = await harness();
    await h.session.connect(h.bot);
    // Every new connection meets op 7 before Hello: the session stays down, in backoff.
    h.sim.reconnectBeforeHello(1000);
    h.sim.dropSocket();
    await eventually(() => h!.session.status === 'reconnecting' && h!.sim.connections === 0, 'the session waits to reconnect');
    const queued = outcome(presence(1).sendEvent(h.bot, h.session));
    await quiesce(h.sim);
    assert.equal(queued.state, 'pending');
    await h.session.disconnect();
    await settle();
    assert.equal(queued.state, 'rejected');
    assert.ok(queued.error instanceof SessionClosedError, `queued send rejected with ${String(queued.error)}`);
    await assert.rejects(presence(2).sendEvent(h.bot, h.session), SessionClosedError);
    await assert.rejects(new RequestSoundboardSounds({ guild_ids: [h.sim.guilds[0]!.id] }).sendEvent(h.bot, h.session), SessionClosedError);
    await h.advance(10_000);
    assert.equal(sent(h.sim, { op: GatewayOpcodes.PresenceUpdate }).length, 0);
    assert.equal(sent(h.sim, { op: GatewayOpcodes.RequestSoundboardSounds }).length, 0);
  });

  it('frames queued behind a full bucket are rejected with SessionClosedError when the session is disconnected', async () => {
    h = await harness();
    await h.session.connect(h.bot);
    await fillBucket(h);
    const waiting = [116, 117].map((i) => outcome(presence(i).sendEvent(h!.bot, h!.session)));
    await settle();
    await h.session.disconnect();
    await settle();
    assert.deepEqual(waiting.map((w) => w.state), ['rejected', 'rejected']);
    assert.ok(waiting.every((w) => w.error instanceof SessionClosedError));
  });
});

describe('Request Guild Members through bot.requestGuildMembers', () => {
  const intents = GatewayIntentBits.Guilds | GatewayIntentBits.GuildMembers;

  /**
   * Connects the harness's one-guild bot; another process of the same bot asked for the whole
   * member list 10 s ago, so Discord's window for the guild is closed for 20 s more.
   */
  async function askedElsewhere(hh: Harness): Promise<{ all: () => RequestGuildMembers; otherSession: Session }> {
    await hh.session.connect(hh.bot);
    const guild_id = hh.sim.guilds[0]!.id;
    const all = (): RequestGuildMembers => new RequestGuildMembers({ guild_id, query: '', limit: 0 });
    const { other, otherSession } = await otherProcess(hh);
    await other.requestGuildMembers(all(), { session: otherSession });
    await hh.advance(10_000);
    return { all, otherSession };
  }

  /** Another process of the same bot, with its own READY session of the same shard. */
  async function otherProcess(hh: Harness): Promise<{ other: Client; otherSession: Session }> {
    const other = new Client({ token: TOKEN, intents, apiURL: hh.sim.apiURL });
    const otherSession = new Session({ shard: [0, 1] });
    let connected = false;
    void otherSession.connect(other).then(() => { connected = true; });
    await hh.advanceUntil(() => connected, 'the other process READY');
    return { other, otherSession };
  }

  it('a 2,500-member guild comes back whole in 3 chunks', async () => {
    h = await harness({ sim: { guilds: [{ members: 2500 }] }, client: { intents } });
    await h.session.connect(h.bot);
    const guild = h.sim.guilds[0]!;
    const result = await h.bot.requestGuildMembers(new RequestGuildMembers({ guild_id: guild.id, query: '', limit: 0 }));
    assert.equal(result.members.length, 2500);
    assert.deepEqual(new Set(result.members.map((m) => m.user.id)), new Set(guild.members.map((m) => m.member.user.id)));
    assert.deepEqual(result.not_found, []);
    const chunks = dispatched(h.sim, 'GUILD_MEMBERS_CHUNK').map((f) => f.d as DispatchPayloads['GUILD_MEMBERS_CHUNK']);
    assert.deepEqual(chunks.map((c) => [c.chunk_index, c.chunk_count, c.members.length]), [[0, 3, 1000], [1, 3, 1000], [2, 3, 500]]);
    const request = sent(h.sim, { op: GatewayOpcodes.RequestGuildMembers })[0]!.d as { nonce?: string };
    assert.ok(request.nonce, 'a nonce was generated');
    assert.ok(chunks.every((c) => c.nonce === request.nonce));
  });

  it('a second whole-list request within 30 s is refused unsent with RateLimitedError carrying retry_after; after it, one succeeds', async () => {
    h = await harness({ sim: { guilds: [{ members: 2500 }] }, client: { intents } });
    await h.session.connect(h.bot);
    const guild_id = h.sim.guilds[0]!.id;
    const all = (): RequestGuildMembers => new RequestGuildMembers({ guild_id, query: '', limit: 0 });
    await h.bot.requestGuildMembers(all());
    await h.advance(10_000);
    const error = await h.bot.requestGuildMembers(all()).then(() => undefined, (err: unknown) => err);
    assert.ok(error instanceof RateLimitedError, `rejected with ${String(error)}`);
    assert.equal(error.opcode, GatewayOpcodes.RequestGuildMembers);
    // 30 s from the first request's write, and a second for its transit.
    assert.ok(Math.abs(error.retry_after - 21) < 0.5, `retry_after ${error.retry_after} s`);
    assert.equal((error.meta as { guild_id?: string }).guild_id, guild_id);
    assert.equal(sent(h.sim, { op: GatewayOpcodes.RequestGuildMembers }).length, 1, 'no frame spent on a request Discord would refuse');
    await h.advance(Math.ceil(error.retry_after * 1000));
    const again = await h.bot.requestGuildMembers(all());
    assert.equal(again.members.length, 2500);
  });

  it('a whole-list request broadcast with sendEvents goes to every session; only the guild\'s own session counts against the window', async () => {
    h = await harness({ sim: { shards: 2, guilds: 4 }, client: { intents, shards: 2 } });
    let ready = false;
    void h.bot.connect().then(() => { ready = true; });
    await h.advanceUntil(() => ready, 'both shards READY');
    const guild_id = h.sim.guilds[0]!.id;
    const chunks: string[] = [];
    h.bot.handle('GUILD_MEMBERS_CHUNK', (c) => { chunks.push(c.guild_id); });
    await new RequestGuildMembers({ guild_id, query: '', limit: 0 }).sendEvents(h.bot);
    await eventually(() => sent(h!.sim, { op: GatewayOpcodes.RequestGuildMembers }).length === 2, 'written on both sessions');
    await eventually(() => chunks.length > 0, 'the chunks of the guild');
    assert.deepEqual([...new Set(chunks)], [guild_id]);
    // The guild's window is now closed on its own session, whichever session is asked.
    await assert.rejects(new RequestGuildMembers({ guild_id, query: '', limit: 0 }).sendEvent(h.bot, h.bot.sessionForGuild(guild_id)!), RateLimitedError);
  });

  it('Discord\'s RATE_LIMITED (another process asked first) rejects with its retry_after and closes the guild\'s window for as long', async () => {
    h = await harness({ sim: { guilds: [{ members: 2500 }] }, client: { intents } });
    const { all, otherSession } = await askedElsewhere(h);
    try {
      const error = await h.bot.requestGuildMembers(all()).then(() => undefined, (err: unknown) => err);
      assert.ok(error instanceof RateLimitedError, `rejected with ${String(error)}`);
      assert.ok(Math.abs(error.retry_after - 20) < 0.5, `Discord's retry_after: ${error.retry_after} s`);
      assert.equal(h.session.status, 'ready', 'RATE_LIMITED does not close the connection');
      const written = sent(h.sim, { op: GatewayOpcodes.RequestGuildMembers }).length;
      await h.advance(10_000);
      await assert.rejects(h.bot.requestGuildMembers(all()), RateLimitedError);
      assert.equal(sent(h.sim, { op: GatewayOpcodes.RequestGuildMembers }).length, written, 'refused unsent inside Discord\'s retry_after');
      await h.advance(11_000);
      assert.equal((await h.bot.requestGuildMembers(all())).members.length, 2500);
    } finally {
      await otherSession.disconnect();
    }
  });

  it('Discord\'s RATE_LIMITED without a nonce, read before the request\'s write has completed, rejects it with RateLimitedError; other requests are answered', async () => {
    h = await harness({ sim: { guilds: [{ members: 2500 }, { members: 50 }], rateLimitedNonce: false }, client: { intents } });
    await h.session.connect(h.bot);
    const [limited, open] = [h.sim.guilds[0]!, h.sim.guilds[1]!];
    const all = (guild_id: string): RequestGuildMembers => new RequestGuildMembers({ guild_id, query: '', limit: 0 });
    // Another process of the same bot asks first: Discord's window for the guild is closed.
    const { other, otherSession } = await otherProcess(h);
    try {
      await other.requestGuildMembers(all(limited.id), { session: otherSession });
      await h.advance(10_000);
      const settled = new Map<string, unknown>();
      const track = (name: string, request: RequestGuildMembers): void => {
        h!.bot.requestGuildMembers(request).then((r) => settled.set(name, r.members.length), (err: unknown) => settled.set(name, err));
      };
      const hold = holdWriteCallbacks(h.sim.port);
      try {
        track('whole list', all(limited.id));
        await eventually(() => dispatched(h!.sim, 'RATE_LIMITED').length === 1, 'Discord\'s RATE_LIMITED');
        await settle();
        assert.ok(hold.held() > 0, 'the request\'s write has not completed when its answer is read');
      } finally {
        hold.restore();
      }
      assert.ok(!('nonce' in (dispatched(h.sim, 'RATE_LIMITED')[0]!.d as { meta: object }).meta), 'the answer carries no nonce');
      // Requests the limit does not apply to, pending beside it, are answered as usual.
      track('user_ids', new RequestGuildMembers({ guild_id: limited.id, user_ids: [limited.members[0]!.member.user.id] }));
      track('other guild', all(open.id));
      await h.advanceUntil(() => settled.size === 3, 'all three requests settled', { max: 180_000 });
      const error = settled.get('whole list');
      assert.ok(error instanceof RateLimitedError, `rejected with ${String(error)}`);
      assert.equal((error.meta as { guild_id?: string }).guild_id, limited.id);
      assert.ok(Math.abs(error.retry_after - 20) < 0.5, `Discord's retry_after: ${error.retry_after} s`);
      assert.equal(settled.get('user_ids'), 1);
      assert.equal(settled.get('other guild'), 50);
    } finally {
      await otherSession.disconnect();
    }
  });

  it('Discord\'s retry_after, read before the request\'s write has completed, is the guild\'s window: a request after it goes out', async () => {
    h = await harness({ sim: { guilds: [{ members: 60 }] }, client: { intents } });
    const { all, otherSession } = await askedElsewhere(h);
    try {
      let first: unknown;
      const hold = holdWriteCallbacks(h.sim.port);
      try {
        h.bot.requestGuildMembers(all()).then(() => { first = 'answered'; }, (err: unknown) => { first = err; });
        await eventually(() => dispatched(h!.sim, 'RATE_LIMITED').length === 1, 'Discord\'s RATE_LIMITED');
        await settle();
        assert.ok(hold.held() > 0, 'the request\'s write has not completed when its answer is read');
      } finally {
        hold.restore();
      }
      await h.advanceUntil(() => first !== undefined, 'the first request settled');
      assert.ok(first instanceof RateLimitedError, `rejected with ${String(first)}`);
      // The write completing afterwards must not restart a full 30 s window over Discord's 20 s.
      await h.advance(Math.ceil(first.retry_after * 1000) + 1500);
      assert.equal((await h.bot.requestGuildMembers(all())).members.length, 60);
    } finally {
      await otherSession.disconnect();
    }
  });

  it('a request Discord never answers (a guild the session does not hold) rejects with MemberRequestTimeoutError', async () => {
    h = await harness({ sim: { guilds: [{ members: 50 }] }, client: { intents } });
    await h.session.connect(h.bot);
    const elsewhere = '999999999999999993';
    const settled: unknown[] = [];
    h.bot.requestGuildMembers(new RequestGuildMembers({ guild_id: elsewhere, query: 'a', limit: 10 }), { session: h.session, timeout: 10_000 })
      .then(() => settled.push('resolved'), (err: unknown) => settled.push(err));
    await h.advance(9_000);
    assert.equal(sent(h.sim, { op: GatewayOpcodes.RequestGuildMembers }).length, 1, 'written');
    assert.equal(settled.length, 0);
    await h.advance(1_500);
    const error = settled[0];
    assert.ok(error instanceof MemberRequestTimeoutError, `settled with ${String(error)}`);
    assert.equal(error.guild_id, elsewhere);
    assert.equal(h.session.status, 'ready', 'the session is not affected');
  });

  it('a user_ids request reports the unknown ids in not_found', async () => {
    h = await harness({ sim: { guilds: [{ members: 50 }] }, client: { intents } });
    await h.session.connect(h.bot);
    const guild = h.sim.guilds[0]!;
    const known = guild.members.slice(1, 4).map((m) => m.member.user.id);
    const unknown = ['999999999999999991', '999999999999999992'];
    const result = await h.bot.requestGuildMembers(new RequestGuildMembers({ guild_id: guild.id, user_ids: [...known, ...unknown] }));
    assert.deepEqual(result.members.map((m) => m.user.id).sort(), [...known].sort());
    assert.deepEqual([...result.not_found].sort(), unknown);
  });

  it('presences come back with GUILD_PRESENCES', async () => {
    h = await harness({ sim: { guilds: [{ members: 20 }] }, client: { intents: intents | GatewayIntentBits.GuildPresences } });
    await h.session.connect(h.bot);
    const guild = h.sim.guilds[0]!;
    const result = await h.bot.requestGuildMembers(new RequestGuildMembers({ guild_id: guild.id, query: 'user', limit: 100, presences: true }));
    assert.equal(result.members.length, 19);
    assert.ok(result.presences.length > 0);
  });

  it('aborting rejects with the reason, and the late chunks are ignored', async () => {
    h = await harness({ sim: { guilds: [{ members: 2500 }] }, client: { intents } });
    await h.session.connect(h.bot);
    const guild_id = h.sim.guilds[0]!.id;
    // Queued behind a full bucket, then aborted: never sent.
    await fillBucket(h);
    const controller = new AbortController();
    const reason = new Error('not needed any more');
    const pending = h.bot.requestGuildMembers(new RequestGuildMembers({ guild_id, query: '', limit: 0 }), { signal: controller.signal });
    await advanceQuietly(h.sim, 5000);
    controller.abort(reason);
    await assert.rejects(pending, (err: unknown) => err === reason);
    await advanceQuietly(h.sim, SESSION_WINDOW);
    assert.equal(sent(h.sim, { op: GatewayOpcodes.RequestGuildMembers }).length, 0);
    // Nothing was sent, so the next whole-list request is not rate limited.
    const result = await h.bot.requestGuildMembers(new RequestGuildMembers({ guild_id, query: '', limit: 0 }));
    assert.equal(result.members.length, 2500);

    // Aborted after the first chunk arrived: rejects at once; the other chunks arrive unclaimed.
    await h.advance(31_000);
    const late = new AbortController();
    const chunks: number[] = [];
    h.bot.handle('GUILD_MEMBERS_CHUNK', (chunk) => {
      chunks.push(chunk.chunk_index);
      if (chunk.chunk_index === 0) late.abort(reason);
    });
    const inFlight = h.bot.requestGuildMembers(new RequestGuildMembers({ guild_id, query: '', limit: 0 }), { signal: late.signal });
    await assert.rejects(inFlight, (err: unknown) => err === reason);
    await eventually(() => chunks.length === 3, 'the unclaimed chunks');
    await quiesce(h.sim);
    assert.equal(h.errors.length, 0, 'unclaimed chunks are no error');
  });
});

describe('Voice, soundboard and channel info through the real classes and bot.handle', () => {
  const intents = GatewayIntentBits.Guilds | GatewayIntentBits.GuildVoiceStates;

  it('op 3 sets the presence the gateway keeps for the session', async () => {
    h = await harness();
    await h.session.connect(h.bot);
    const seen = h.sim.waitFor('presence', LONG);
    await new UpdateStatusData({ since: null, activities: [{ name: 'Custom Status', type: 4, state: 'testing' }], status: 'dnd', afk: false })
      .sendEvent(h.bot, h.session);
    const { presence: p } = await seen;
    assert.deepEqual(p, { since: null, activities: [{ name: 'Custom Status', type: 4, state: 'testing' }], status: 'dnd', afk: false });
    assert.deepEqual(h.sim.sessions[0]!.presence, p);
  });

  it('op 4 joins (VOICE_STATE_UPDATE + VOICE_SERVER_UPDATE) and leaves with channel_id null', async () => {
    h = await harness({ client: { intents } });
    const states: Array<DispatchPayloads['VOICE_STATE_UPDATE']> = [];
    const servers: Array<DispatchPayloads['VOICE_SERVER_UPDATE']> = [];
    h.bot.handle('VOICE_STATE_UPDATE', (s) => { states.push(s); });
    h.bot.handle('VOICE_SERVER_UPDATE', (s) => { servers.push(s); });
    await h.session.connect(h.bot);
    const guild = h.sim.guilds[0]!;
    const channel = guild.voiceChannels[0]!;

    await new UpdateVoiceStateData({ guild_id: guild.id, channel_id: channel.id, self_mute: false, self_deaf: true }).sendEvent(h.bot, h.session);
    await eventually(() => states.length === 1 && servers.length === 1, 'both voice dispatches');
    assert.equal(states[0]!.channel_id, channel.id);
    assert.equal(states[0]!.guild_id, guild.id);
    assert.equal(states[0]!.self_deaf, true);
    assert.equal(states[0]!.session_id, h.session.id);
    assert.equal(servers[0]!.guild_id, guild.id);
    assert.ok(servers[0]!.token && servers[0]!.endpoint);
    assert.deepEqual(h.sim.sessions[0]!.voiceStates[guild.id], { channel_id: channel.id, self_mute: false, self_deaf: true });

    await new UpdateVoiceStateData({ guild_id: guild.id, channel_id: null, self_mute: false, self_deaf: false }).sendEvent(h.bot, h.session);
    await eventually(() => states.length === 2, 'the leave');
    await quiesce(h.sim);
    assert.equal(states[1]!.channel_id, null);
    assert.equal(servers.length, 1, 'leaving brings no VOICE_SERVER_UPDATE');
    assert.equal(h.sim.sessions[0]!.voiceStates[guild.id]?.channel_id, null);
  });

  it('op 31 brings one SOUNDBOARD_SOUNDS per guild', async () => {
    h = await harness({ sim: { guilds: [{ soundboardSounds: 2 }, { soundboardSounds: 3 }, {}] } });
    const got: Array<DispatchPayloads['SOUNDBOARD_SOUNDS']> = [];
    h.bot.handle('SOUNDBOARD_SOUNDS', (s) => { got.push(s); });
    await h.session.connect(h.bot);
    const [a, b] = h.sim.guilds;
    await new RequestSoundboardSounds({ guild_ids: [a!.id, b!.id] }).sendEvent(h.bot, h.session);
    await eventually(() => got.length === 2, 'two SOUNDBOARD_SOUNDS');
    await quiesce(h.sim);
    assert.equal(got.length, 2);
    const byGuild = new Map(got.map((s) => [s.guild_id, s.soundboard_sounds.length]));
    assert.deepEqual(byGuild, new Map([[a!.id, 2], [b!.id, 3]]));
  });

  it('op 43 brings CHANNEL_INFO with the requested fields', async () => {
    h = await harness({ sim: { guilds: [{ voiceChannels: [{ status: 'Raid night', voiceStartTime: 1_700_000_000 }, { status: null }] }] } });
    const got: Array<DispatchPayloads['CHANNEL_INFO']> = [];
    h.bot.handle('CHANNEL_INFO', (c) => { got.push(c); });
    await h.session.connect(h.bot);
    const guild = h.sim.guilds[0]!;
    await new RequestChannelInfo({ guild_id: guild.id, fields: ['status', 'voice_start_time'] }).sendEvent(h.bot, h.session);
    await eventually(() => got.length === 1, 'CHANNEL_INFO');
    const [first, second] = guild.voiceChannels;
    assert.equal(got[0]!.guild_id, guild.id);
    assert.deepEqual(got[0]!.channels, [
      { id: first!.id, status: 'Raid night', voice_start_time: 1_700_000_000 },
      { id: second!.id, status: null, voice_start_time: null },
    ]);

    await new RequestChannelInfo({ guild_id: guild.id, fields: ['status'] }).sendEvent(h.bot, h.session);
    await eventually(() => got.length === 2, 'second CHANNEL_INFO');
    assert.deepEqual(got[1]!.channels, [{ id: first!.id, status: 'Raid night' }, { id: second!.id, status: null }]);
  });
});

describe('sendEvents', () => {
  it('reaches every session of a 2-shard bot', async () => {
    h = await harness({ sim: { shards: 2, guilds: 4 }, client: { shards: 2 } });
    const connecting = h.bot.connect();
    await h.advanceUntil(() => h!.bot.sessions.size === 2 && [...h!.bot.sessions.values()].every((s) => s.status === 'ready'), 'both shards', { step: 500 });
    await connecting;
    const presences: Array<{ sessionId: string; status: string }> = [];
    h.sim.on('presence', (e) => presences.push({ sessionId: e.sessionId, status: e.presence.status }));
    await new UpdateStatusData({ since: null, activities: [], status: 'idle', afk: true }).sendEvents(h.bot);
    await eventually(() => presences.length === 2, 'both presences');
    const ids = [...h.bot.sessions.values()].map((s) => s.id).sort();
    assert.deepEqual(presences.map((p) => p.sessionId).sort(), ids);
    assert.ok(presences.every((p) => p.status === 'idle'));
    assert.deepEqual(new Set(sent(h.sim, { op: GatewayOpcodes.PresenceUpdate }).map((f) => f.shard)), new Set([0, 1]));
    assert.ok(h.sim.sessions.every((s) => s.presence?.status === 'idle'));
  });

  it('rejects when one session is closed, after the others got it', async () => {
    h = await harness({ sim: { shards: 2, guilds: 4 }, client: { shards: 2 } });
    const connecting = h.bot.connect();
    await h.advanceUntil(() => h!.bot.sessions.size === 2 && [...h!.bot.sessions.values()].every((s) => s.status === 'ready'), 'both shards', { step: 500 });
    await connecting;
    await h.bot.sessions.get(1)!.disconnect();
    await assert.rejects(new UpdateStatusData({ since: null, activities: [], status: 'online', afk: false }).sendEvents(h.bot), SessionClosedError);
    await eventually(() => sent(h!.sim, { op: GatewayOpcodes.PresenceUpdate }).length === 1, 'shard 0 got it');
    assert.equal(sent(h.sim, { op: GatewayOpcodes.PresenceUpdate })[0]!.shard, 0);
  });
});

describe('A Session made by the user next to the bot', () => {
  it('sendEvent on a session of another shard count still goes through that session', async () => {
    h = await harness({ sim: { shards: 2, guilds: 4 } });
    const other = new Session({ shard: [1, 2] });
    try {
      await other.connect(h.bot);
      await presence(7).sendEvent(h.bot, other);
      await eventually(() => sent(h!.sim, { op: GatewayOpcodes.PresenceUpdate }).length === 1, 'the presence');
      assert.equal(sent(h.sim, { op: GatewayOpcodes.PresenceUpdate })[0]!.shard, 1);
    } finally {
      await other.disconnect();
    }
  });
});
