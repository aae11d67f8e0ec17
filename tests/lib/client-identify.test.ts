/**
 * Identify spacing seen from the gateway: Discord measures arrivals, so the client's buckets
 * keep a margin over the 5 s window.
 */
import { it, afterEach, mock } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayConnection } from '../../lib/connection.js';
import { GatewayOpcodes, IDENTIFY_INTERVAL_MS } from '../../lib/index.js';
import { harness, eventually, type Harness } from '../helpers/gateway.js';
import { advanceQuietlyUntil } from '../helpers/e2e.js';

let h: Harness | undefined;
afterEach(async () => { await h?.cleanup(); h = undefined; mock.restoreAll(); });

it('two shards, max_concurrency 1: a 10 ms transit delay on the first identify does not cause op 9', async () => {
  h = await harness({ sim: { shards: 2, maxConcurrency: 1, guilds: 2 }, client: { shards: 2 } });
  const send = GatewayConnection.prototype.send;
  let delayed = false;
  // The first identify spends 10 ms on the network (fake time), as on a real link with jitter.
  mock.method(GatewayConnection.prototype, 'send', function (this: GatewayConnection, text: string) {
    if (!delayed && text.startsWith('{"op":2,')) {
      delayed = true;
      mock.timers.tick(10);
    }
    return send.call(this, text);
  });
  let done = false;
  const t0 = Date.now();
  const identifies: number[] = [];
  h.sim.on('identify', () => identifies.push(Date.now()));
  const connected = h.bot.connect().finally(() => { done = true; });
  await eventually(() => identifies.length === 1, 'first identify');
  assert.equal(identifies[0]! - t0, 10, 'the first identify arrived 10 ms after it was granted');
  // Exactly when the client's identify bucket frees again.
  mock.timers.tick(t0 + IDENTIFY_INTERVAL_MS - Date.now());
  await advanceQuietlyUntil(h.sim, () => done, 'both shards ready', { step: 100, max: 30_000 });
  await connected;
  const invalid = h.sim.frames.filter((f) => f.direction === 'out' && f.op === GatewayOpcodes.InvalidSession);
  assert.equal(invalid.length, 0, 'the gateway refused an identify (op 9): identifies arrived less than 5 s apart');
});
