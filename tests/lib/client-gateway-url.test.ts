/**
 * The cached `GET /gateway/bot` answer: fetched again when new sessions fail to connect with its
 * URL (protocol §1.1), but never more than once per 30 s, however many attempts fail.
 */
import { it, mock, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, GatewayIntentBits, Session } from '../../lib/index.js';
import { settle } from '../helpers/gateway.js';

/** Serves the REST API with `handler` on a free port, then moves to fake time; returns the apiURL. */
async function fakeApi(t: TestContext, handler: RequestListener): Promise<string> {
  const api = createServer(handler);
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  t.after(() => api.close());
  mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: 1_700_000_000_000 });
  t.after(() => mock.timers.reset());
  return `http://127.0.0.1:${(api.address() as AddressInfo).port}/api/v10`;
}

it('failed connects refetch /gateway/bot at most every 30 s', async (t) => {
  let fetches = 0;
  const apiURL = await fakeApi(t, (_req, res) => {
    fetches++;
    // A gateway URL nothing listens on (the discard port): every attempt fails.
    const body = JSON.stringify({ url: 'ws://127.0.0.1:9', shards: 1, session_start_limit: { total: 1000, remaining: 1000, reset_after: 0, max_concurrency: 1 } });
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  const bot = new Client({ token: 'token', intents: GatewayIntentBits.Guilds, apiURL, compression: 'none', maxReconnectAttempts: 1000 });
  const attempts: string[] = [];
  bot.on('debug', (m) => { if (m.includes('connecting to')) attempts.push(m); });
  bot.on('error', () => {});
  const session = new Session();
  const connected = session.connect(bot).catch(() => {});
  // Three minutes of failed attempts with backoff (1, 2, 4, ... s).
  for (let ms = 0; ms < 180_000; ms += 250) {
    mock.timers.tick(250);
    await settle(10);
  }
  assert.ok(attempts.length >= 6, `only ${attempts.length} attempts`);
  assert.ok(fetches >= 2, 'the cached answer was never fetched again');
  assert.ok(fetches <= 1 + 180_000 / 30_000, `${fetches} fetches in 3 minutes`);
  await session.disconnect();
  await connected;
});

it('during an API outage, shards waiting to identify do not each fetch /gateway/bot', async (t) => {
  let fetches = 0;
  const apiURL = await fakeApi(t, (_req, res) => {
    fetches++;
    res.writeHead(503).end('down');
  });
  const bot = new Client({
    token: 'token', intents: GatewayIntentBits.Guilds, apiURL, gatewayURL: 'ws://127.0.0.1:9', compression: 'none', shards: 8, maxReconnectAttempts: 1000,
  });
  bot.on('error', () => {});
  const connected = bot.connect().catch(() => {});
  for (let ms = 0; ms < 20_000; ms += 250) {
    mock.timers.tick(250);
    await settle(10);
  }
  assert.ok(fetches >= 1);
  assert.ok(fetches <= 2, `${fetches} fetches in 20 s for 8 shards`);
  await bot.close();
  await connected;
});
