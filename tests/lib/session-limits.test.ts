/**
 * Session send limits end to end: an abort that lands after the bucket granted a unit, and
 * server-requested heartbeats that must leave room for the scheduled ones, and user frames that
 * must leave room for the heartbeats the server asked for.
 */
import { it, afterEach, mock } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayOpcodes, Session, UpdateStatusData } from '../../lib/index.js';
import { harness, eventually, settle, type Harness } from '../helpers/gateway.js';
import { advanceQuietly, maxInWindow, quiesce, sent } from '../helpers/e2e.js';

let h: Harness | undefined;
afterEach(async () => { await h?.cleanup(); h = undefined; mock.restoreAll(); });

it('a send aborted right after the call (before it is written) is not sent and rejects with the reason', async () => {
  h = await harness();
  await h.session.connect(h.bot);
  const controller = new AbortController();
  const reason = new Error('withdrawn');
  const p = new UpdateStatusData({ since: null, activities: [], status: 'idle', afk: false }).sendEvent(h.bot, h.session, { signal: controller.signal });
  controller.abort(reason);
  const result = await p.then(() => 'sent', (e: unknown) => e);
  await settle();
  await quiesce(h.sim);
  assert.equal(sent(h.sim, { op: GatewayOpcodes.PresenceUpdate }).length, 0, 'frame reached the gateway');
  assert.equal(result, reason);
});

it('server-requested heartbeats on a full window leave room for the scheduled ones: never a 121st frame', async () => {
  mock.method(Math, 'random', () => 0.9); // first scheduled beat at 37125 ms
  h = await harness();
  const closes: number[] = [];
  h.sim.on('close', (e) => closes.push(e.code));
  await h.session.connect(h.bot);
  const sends = Array.from({ length: 116 }, (_, i) =>
    new UpdateStatusData({ since: i, activities: [], status: 'online', afk: false }).sendEvent(h!.bot, h!.session));
  await Promise.all(sends);
  await eventually(() => sent(h!.sim, { op: GatewayOpcodes.PresenceUpdate }).length === 116, '116 frames');
  await advanceQuietly(h.sim, 1000);
  for (let i = 0; i < 3; i++) {
    h.sim.requestHeartbeat();
    await settle();
    await advanceQuietly(h.sim, 1000);
  }
  // 117 frames (identify + 116): two answers fit beside the scheduled beat each one moves into
  // the window (41250 ms later); a third would leave no room for it.
  assert.equal(sent(h.sim, { op: GatewayOpcodes.Heartbeat }).length, 2, 'requests answered while the budget allows');
  assert.equal(h.session.getRateLimitStatus().currentEventCount, 119);
  // The next scheduled beat is due 41250 ms after the last requested one, inside the same window.
  await advanceQuietly(h.sim, 45_000);
  const first = sent(h.sim)[0]!.connection;
  const times = sent(h.sim, { connection: first }).map((f) => f.at);
  assert.ok(maxInWindow(times, 60_000) <= 120, `${maxInWindow(times, 60_000)} frames within 60 s`);
  assert.ok(!closes.includes(4008), 'the gateway closed the connection with 4008');
});

it('heartbeats the server asked for first leave less room for user frames: never a 121st frame, none lost', async () => {
  mock.method(Math, 'random', () => 0.5);
  h = await harness();
  const closes: number[] = [];
  h.sim.on('close', (e) => closes.push(e.code));
  await h.session.connect(h.bot);
  for (let i = 0; i < 6; i++) {
    h.sim.requestHeartbeat();
    await settle();
    await advanceQuietly(h.sim, 1000);
  }
  const sends = Array.from({ length: 200 }, (_, i) =>
    new UpdateStatusData({ since: i, activities: [], status: 'online', afk: false }).sendEvent(h!.bot, h!.session));
  await advanceQuietly(h.sim, 50_000);
  const first = sent(h.sim)[0]!.connection;
  const inFirstMinute = sent(h.sim, { op: GatewayOpcodes.PresenceUpdate, connection: first }).length;
  assert.ok(inFirstMinute < 117, `user frames gave way to the answered requests (${inFirstMinute} sent)`);
  await advanceQuietly(h.sim, 120_000);
  await Promise.all(sends);
  assert.deepEqual(sent(h.sim, { op: GatewayOpcodes.PresenceUpdate }).map((f) => (f.d as { since: number }).since), Array.from({ length: 200 }, (_, i) => i), 'every frame, in order');
  const times = sent(h.sim, { connection: first }).map((f) => f.at);
  assert.ok(maxInWindow(times, 60_000) <= 120, `${maxInWindow(times, 60_000)} frames within 60 s`);
  assert.ok(!closes.includes(4008), 'the gateway closed the connection with 4008');
});

it('a heartbeat interval so short that beats alone fill the window still identifies', async () => {
  h = await harness({ sim: { heartbeatInterval: 500 } });
  let ready = false;
  h.session.connect(h.bot).then(() => { ready = true; }, () => {});
  await advanceQuietly(h.sim, 3000, 100);
  assert.ok(ready, `not READY: ${h.errors.map((e) => e.message).join('; ')}`);
  assert.equal(sent(h.sim, { op: GatewayOpcodes.Identify }).length, 1);
});

it('with a 1 s heartbeat interval, user frames share the window with 60 beats a minute', async () => {
  h = await harness({ sim: { heartbeatInterval: 1000 } });
  await h.session.connect(h.bot);
  const sends = Array.from({ length: 100 }, (_, i) =>
    new UpdateStatusData({ since: i, activities: [], status: 'online', afk: false }).sendEvent(h!.bot, h!.session));
  await advanceQuietly(h.sim, 120_000, 250);
  await Promise.all(sends);
  const first = sent(h.sim)[0]!.connection;
  assert.equal(sent(h.sim, { op: GatewayOpcodes.PresenceUpdate, connection: first }).length, 100);
  const times = sent(h.sim, { connection: first }).map((f) => f.at);
  assert.ok(maxInWindow(times, 60_000) <= 120, `${maxInWindow(times, 60_000)} frames within 60 s`);
});

it('frameLimit sets the connection budget (here 20 per 60 s): frames beyond it wait, heartbeats included', async () => {
  h = await harness();
  h.session = new Session({ frameLimit: { frames: 20, windowMs: 60_000 } });
  await h.session.connect(h.bot);
  const sends = Array.from({ length: 30 }, (_, i) =>
    new UpdateStatusData({ since: i, activities: [], status: 'online', afk: false }).sendEvent(h!.bot, h!.session));
  await advanceQuietly(h.sim, 30_000);
  assert.ok(h.session.getRateLimitStatus().currentEventCount <= 20);
  await advanceQuietly(h.sim, 120_000);
  await Promise.all(sends);
  const times = sent(h.sim).map((f) => f.at);
  assert.ok(maxInWindow(times, 60_000) <= 20, `${maxInWindow(times, 60_000)} frames within 60 s`);
  assert.throws(() => new Session({ frameLimit: { frames: 0, windowMs: 60_000 } }), /frameLimit/);
  assert.throws(() => new Session({ frameLimit: { frames: 10, windowMs: Number.NaN } }), /frameLimit/);
});
