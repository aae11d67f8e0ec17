/**
 * Session send limits end to end: an abort that lands after the bucket granted a unit, and
 * server-requested heartbeats that must leave room for the scheduled ones.
 */
import { it, afterEach, mock } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayOpcodes, UpdateStatusData } from '../../lib/index.js';
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
  // 117 frames (identify + 116): one request fits beside the two scheduled beats still due; the rest wait.
  assert.equal(sent(h.sim, { op: GatewayOpcodes.Heartbeat }).length, 1, 'requests answered while the budget allows');
  assert.equal(h.session.getRateLimitStatus().currentEventCount, 118);
  // The next scheduled beat is due 41250 ms after the last requested one, inside the same window.
  await advanceQuietly(h.sim, 45_000);
  const first = sent(h.sim)[0]!.connection;
  const times = sent(h.sim, { connection: first }).map((f) => f.at);
  assert.ok(maxInWindow(times, 60_000) <= 120, `${maxInWindow(times, 60_000)} frames within 60 s`);
  assert.ok(!closes.includes(4008), 'the gateway closed the connection with 4008');
});
