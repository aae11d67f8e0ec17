/**
 * Forwarding dispatches to a bot whose logic runs elsewhere (a serverless function, another
 * service). Two halves in one file so it runs offline:
 *
 * - the sender: a `Client` connected to the gateway, whose dispatches `forwardDispatches` feeds
 *   to a `GatewayForwarder`, which POSTs each selected one as signed JSON;
 * - the receiver: an HTTP endpoint that verifies each request exactly as it would verify
 *   Discord interactions (`X-Signature-Ed25519` over timestamp + body), refuses the rest with
 *   401, and deduplicates on `id` because delivery is at least once.
 *
 * Run: `npx tsx examples/forward-webhook.ts`. Without DISCORD_TOKEN the bot connects (two
 * shards) to the built-in GatewaySimulator, which then sends a few messages; with DISCORD_TOKEN
 * it connects to Discord and forwards for 10 s.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, GatewayIntentBits } from '../lib/index.js';
import {
  GatewayForwarder, SIGNATURE_HEADER, TIMESTAMP_HEADER, forwardDispatches, generateForwarderKeys, verifyForwardedRequest,
  type ForwardedRecord,
} from '../lib/forwarding/index.js';
import { exampleGateway } from './support/example.js';

// In production: generate once, keep privateKeyHex with the bot and publicKeyHex with the receiver.
const keys = generateForwarderKeys();

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return typeof value === 'string' ? value : undefined;
}

// ---- receiver ----
const seen = new Set<string>();
const receiver = createServer(async (req, res) => {
  const body = await readBody(req);
  // Verify the raw body before parsing it: the signature covers the exact bytes sent.
  const valid = verifyForwardedRequest(keys.publicKeyHex, header(req, SIGNATURE_HEADER), header(req, TIMESTAMP_HEADER), body);
  if (!valid) {
    console.log('receiver: refused a request with a bad signature');
    res.writeHead(401).end('invalid request signature');
    return;
  }
  const record = JSON.parse(body) as ForwardedRecord;
  if (seen.has(record.id)) {
    res.writeHead(204).end(); // a retry of something already handled
    return;
  }
  seen.add(record.id);
  const d = record.d as { name?: string; content?: string };
  console.log(`receiver: ${record.t} from shard ${record.shard_id}: ${JSON.stringify(d.name ?? d.content)}`);
  res.writeHead(204).end();
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/gateway-events`;

// ---- sender ----
const { simulator, connection } = await exampleGateway({ shards: 2, maxConcurrency: 2, guilds: 2 });
const bot = new Client({
  ...connection,
  intents: GatewayIntentBits.Guilds | GatewayIntentBits.GuildMessages | GatewayIntentBits.MessageContent,
});
bot.on('error', (error) => console.log(`bot: ${error.message}`));
const forwarder = new GatewayForwarder({
  url,
  privateKey: keys.privateKeyHex,
  events: ['GUILD_CREATE', 'MESSAGE_CREATE'],
  onDropped: (record, reason, failure) => console.log(`forwarder: dropped ${record.t} (${reason}, ${failure.attempts} attempts)`),
  onRetry: (record, retry) => console.log(`forwarder: retrying ${record.t} in ${retry.delay} ms`),
});
// Every dispatch of every shard goes to the forwarder, which keeps the selected ones.
const stopForwarding = forwardDispatches(bot, forwarder);
await bot.connect();
console.log(`bot: ${bot.sessions.size} shards READY`);

if (simulator) {
  for (const guild of simulator.guilds) {
    simulator.dispatch('MESSAGE_CREATE', simulator.fixtures.message({ guild_id: guild.id, content: `hello from ${guild.name}` }));
  }
  simulator.dispatch('TYPING_START', { channel_id: '10', user_id: '30', timestamp: Math.floor(Date.now() / 1000) }); // not selected: never sent
  const expected = 2 * simulator.guilds.length; // a GUILD_CREATE and a message per guild
  while (seen.size < expected) await new Promise((resolve) => setTimeout(resolve, 10));
} else {
  console.log('bot: forwarding for 10 s');
  await new Promise((resolve) => setTimeout(resolve, 10_000));
}
stopForwarding();
await forwarder.flush();
console.log('forwarder:', forwarder.stats);
await bot.close();
await simulator?.close();

// Anyone without the private key is refused.
const forged = await fetch(url, {
  method: 'POST',
  body: JSON.stringify({ t: 'MESSAGE_CREATE', d: {}, shard_id: 0, id: 'forged' }),
  headers: { [SIGNATURE_HEADER]: '00'.repeat(64), [TIMESTAMP_HEADER]: String(Math.floor(Date.now() / 1000)) },
});
console.log(`forged request answered ${forged.status}`);

await forwarder.close();
receiver.close();
