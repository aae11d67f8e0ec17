/**
 * How a session recovers when the usual path fails: heartbeats the server asks for while ACKs
 * never come, a resume URL that cannot be reached, a new session after an old one left a
 * sequence number behind, and a gateway that accepts the socket but never says Hello.
 */
import { it, afterEach, mock } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';
import { Client, GatewayIntentBits, GatewayOpcodes, Session } from '../../lib/index.js';
import { harness, settle, type Harness } from '../helpers/gateway.js';
import { advanceQuietly, advanceQuietlyUntil, sent } from '../helpers/e2e.js';

let h: Harness | undefined;
afterEach(async () => { await h?.cleanup(); h = undefined; mock.restoreAll(); });

it('server heartbeat requests do not hide a zombie: no ACK for a whole interval closes and resumes', async () => {
  h = await harness();
  await h.session.connect(h.bot);
  const first = sent(h.sim)[0]!.connection;
  h.sim.pauseAcks(true);
  for (let i = 0; i < 6 && h.closes.length === 0; i++) {
    h.sim.requestHeartbeat();
    await settle();
    await advanceQuietly(h.sim, 10_000, 1000);
  }
  assert.equal(h.closes.length, 1, 'the zombie was never detected');
  assert.equal(h.closes[0]!.code, 4900);
  assert.equal(h.closes[0]!.resumable, true);
  assert.ok(sent(h.sim, { op: GatewayOpcodes.Heartbeat, connection: first }).length >= 4, 'requests were answered meanwhile');
  h.sim.pauseAcks(false);
  await advanceQuietlyUntil(h.sim, () => h!.session.status === 'ready', 'resumed', { max: 60_000 });
  assert.equal(sent(h.sim, { op: GatewayOpcodes.Resume }).length, 1);
});

it('an unreachable resume_gateway_url is tried three times, then the session identifies on the gateway URL', async () => {
  h = await harness();
  await h.session.connect(h.bot);
  const firstId = h.session.id;
  h.session.resumeURL = 'ws://127.0.0.1:9/'; // the discard port: nothing listens
  h.sim.dropSocket();
  await advanceQuietlyUntil(h.sim, () => h!.session.status === 'ready' && h!.session.id !== firstId, 'a new session', { max: 120_000 });
  const attempts = h.debug.filter((m) => m.includes('connecting to 127.0.0.1:9 '));
  assert.equal(attempts.length, 3, attempts.join('\n'));
  assert.ok(h.debug.some((m) => m.includes('3 resume attempts failed')));
  assert.equal(sent(h.sim, { op: GatewayOpcodes.Identify }).length, 2);
});

it('a new session after a non-resumable drop takes its READY, although the old seq was higher', async () => {
  h = await harness();
  await h.session.connect(h.bot);
  const guild = h.sim.guilds[0]!;
  for (let i = 0; i < 5; i++) h.sim.dispatch('MESSAGE_CREATE', { id: String(i), channel_id: '1', guild_id: guild.id, content: `m${i}` });
  await advanceQuietly(h.sim, 100, 100);
  assert.ok(h.session.seq! > 5);
  const firstId = h.session.id;
  h.session.resumeURL = undefined; // the resume state is incomplete: the next connection identifies
  h.sim.dropSocket();
  await advanceQuietlyUntil(h.sim, () => h!.session.status === 'ready', 'READY of the new session', { max: 60_000 });
  assert.notEqual(h.session.id, firstId);
  assert.deepEqual(h.closes.map((c) => c.code), [1006], 'no detour through a 4007 (a heartbeat with the old seq)');
  assert.equal(sent(h.sim, { op: GatewayOpcodes.Identify }).length, 2);
  const seen: string[] = [];
  h.bot.handleAny((name) => seen.push(name));
  h.sim.dispatch('MESSAGE_CREATE', { id: '99', channel_id: '1', guild_id: guild.id, content: 'after' });
  await advanceQuietly(h.sim, 100, 100);
  assert.deepEqual(seen, ['MESSAGE_CREATE'], 'events of the new session are delivered');
});

it('a gateway that accepts the socket but never says Hello is left after 30 s and tried again', async (t) => {
  const silent = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => silent.once('listening', () => resolve()));
  let connections = 0;
  silent.on('connection', () => { connections++; });
  t.after(() => new Promise<void>((resolve) => { for (const c of silent.clients) c.terminate(); silent.close(() => resolve()); }));
  mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: 1_700_000_000_000 });
  t.after(() => mock.timers.reset());
  const bot = new Client({
    token: 'token', intents: GatewayIntentBits.Guilds, compression: 'none',
    gatewayURL: `ws://127.0.0.1:${(silent.address() as AddressInfo).port}`,
    // Nothing listens there: GET /gateway/bot fails at once and the defaults apply.
    apiURL: 'http://127.0.0.1:9/api/v10',
  });
  const closes: number[] = [];
  bot.on('close', (e) => closes.push(e.code));
  bot.on('error', () => {});
  const session = new Session();
  const connected = session.connect(bot).catch(() => {});
  const step = async (ms: number): Promise<void> => {
    for (let done = 0; done < ms; done += 500) {
      mock.timers.tick(500);
      await settle(10);
    }
  };
  await step(29_500);
  assert.equal(connections, 1);
  assert.deepEqual(closes, [], 'still waiting for Hello');
  await step(5_000);
  assert.deepEqual(closes, [4900], 'left the silent connection, keeping the session resumable');
  await step(5_000);
  assert.equal(connections, 2, 'tried again (after a backoff)');
  await session.disconnect();
  await connected;
});
