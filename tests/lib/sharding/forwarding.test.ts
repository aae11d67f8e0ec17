import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  GatewayForwarder, SIGNATURE_HEADER, TIMESTAMP_HEADER, forwardDispatches, generateForwarderKeys, shardForGuild, verifyForwardedRequest,
  type ForwardedRecord,
} from '../../../lib/index.js';
import { harness, type Harness } from '../../helpers/gateway.js';

let h: Harness | undefined;
let receiver: Server | undefined;
let forwarder: GatewayForwarder | undefined;

afterEach(async () => {
  await forwarder?.close();
  await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
  await h?.cleanup();
  h = forwarder = receiver = undefined;
});

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** A receiver that verifies each request's Ed25519 signature as a bot's webhook would. */
async function startReceiver(publicKey: string): Promise<{ url: string; accepted: ForwardedRecord[]; refused: number; bodies: Array<{ body: string; signature: string; timestamp: string }> }> {
  const state = { url: '', accepted: [] as ForwardedRecord[], refused: 0, bodies: [] as Array<{ body: string; signature: string; timestamp: string }> };
  receiver = createServer((req, res) => {
    void readBody(req).then((body) => {
      const signature = req.headers[SIGNATURE_HEADER.toLowerCase()];
      const timestamp = req.headers[TIMESTAMP_HEADER.toLowerCase()];
      const sig = typeof signature === 'string' ? signature : undefined;
      const ts = typeof timestamp === 'string' ? timestamp : undefined;
      if (!verifyForwardedRequest(publicKey, sig, ts, body)) {
        state.refused++;
        res.writeHead(401).end();
        return;
      }
      state.bodies.push({ body, signature: sig!, timestamp: ts! });
      state.accepted.push(JSON.parse(body) as ForwardedRecord);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver!.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/events`;
  return state;
}

describe('GatewayForwarder on a real Client', () => {
  it('forwards the selected dispatches of every shard, signed, once each, in order per shard', async () => {
    // Real timers: the forwarder's requests go through fetch, whose timers fake time would freeze.
    h = await harness({ fakeTimers: false, sim: { shards: 2, maxConcurrency: 2, guilds: 4 }, client: { shards: 2 } });
    const keys = generateForwarderKeys();
    const received = await startReceiver(keys.publicKeyHex);
    forwarder = new GatewayForwarder({ url: received.url, privateKey: keys.privateKey });
    const stop = forwardDispatches(h.bot, forwarder, { events: ['GUILD_CREATE', 'MESSAGE_CREATE'] });

    await h.bot.connect();
    const sent = new Map<number, string[]>([[0, []], [1, []]]);
    for (let round = 0; round < 10; round++) {
      for (const guild of h.sim.guilds) {
        const message = h.sim.fixtures.message({ guild_id: guild.id, content: `round ${round}` });
        h.sim.dispatch('MESSAGE_CREATE', message);
        sent.get(shardForGuild(guild.id, 2))!.push(message.id);
      }
      h.sim.dispatch('TYPING_START', { channel_id: '1', user_id: '2', timestamp: 0 }); // not selected
    }
    const total = sent.get(0)!.length + sent.get(1)!.length;
    const deadline = Date.now() + 5000;
    while (received.accepted.filter((r) => r.t === 'MESSAGE_CREATE').length < total && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await forwarder.flush();
    stop();

    assert.equal(received.refused, 0, 'every request carried a valid signature');
    assert.deepEqual(new Set(received.accepted.map((r) => r.t)), new Set(['GUILD_CREATE', 'MESSAGE_CREATE']), 'only the selected events');
    const guildCreates = received.accepted.filter((r) => r.t === 'GUILD_CREATE');
    assert.deepEqual(
      guildCreates.map((r) => [(r.d as { id: string }).id, r.shard_id]).sort(),
      h.sim.guilds.map((g) => [g.id, shardForGuild(g.id, 2)]).sort(),
      'each guild once, from the shard that holds it',
    );
    for (const shard of [0, 1]) {
      const forwarded = received.accepted.filter((r) => r.t === 'MESSAGE_CREATE' && r.shard_id === shard).map((r) => (r.d as { id: string }).id);
      assert.deepEqual(forwarded, sent.get(shard), `shard ${shard}: every message once, in order`);
    }
    assert.equal(new Set(received.accepted.map((r) => r.id)).size, received.accepted.length, 'record ids are unique');
    assert.equal(forwarder.stats.delivered, received.accepted.length);
    assert.equal(forwarder.stats.dropped, 0);

    // The receiver really checks: a delivered request with one byte more in its body is refused.
    const { body, signature, timestamp } = received.bodies[0]!;
    const tampered = await fetch(received.url, {
      method: 'POST',
      body: `${body} `,
      headers: { [SIGNATURE_HEADER]: signature, [TIMESTAMP_HEADER]: timestamp },
    });
    assert.equal(tampered.status, 401);
  });
});
