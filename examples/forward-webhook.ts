/**
 * Forwarding dispatches to a bot whose logic runs elsewhere (a serverless function, another
 * service). Two halves in one file so it runs offline:
 *
 * - the receiver: an HTTP endpoint that verifies each request exactly as it would verify
 *   Discord interactions (`X-Signature-Ed25519` over timestamp + body), refuses the rest with
 *   401, and deduplicates on `id` because delivery is at least once;
 * - the sender: a `GatewayForwarder` pushing dispatches. In a real bot,
 *   `forwardDispatches(bot, forwarder, { events })` feeds it from the gateway.
 *
 * Run: `npx tsx examples/forward-webhook.ts`
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  GatewayForwarder, SIGNATURE_HEADER, TIMESTAMP_HEADER, generateForwarderKeys, verifyForwardedRequest,
  type ForwardedRecord,
} from '../lib/forwarding/index.js';

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
  console.log(`receiver: ${record.t} from shard ${record.shard_id}:`, JSON.stringify(record.d));
  res.writeHead(204).end();
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/gateway-events`;

// ---- sender ----
const forwarder = new GatewayForwarder({
  url,
  privateKey: keys.privateKeyHex,
  events: ['MESSAGE_CREATE', 'GUILD_MEMBER_ADD'],
  onDropped: (record, reason, failure) => console.log(`forwarder: dropped ${record.t} (${reason}, ${failure.attempts} attempts)`),
  onRetry: (record, retry) => console.log(`forwarder: retrying ${record.t} in ${retry.delay} ms`),
});

forwarder.push('MESSAGE_CREATE', { id: '1', channel_id: '10', content: 'hello from the gateway' }, 0);
forwarder.push('TYPING_START', { channel_id: '10' }, 0); // not selected: never sent
forwarder.push('GUILD_MEMBER_ADD', { guild_id: '20', user: { id: '30', username: 'newcomer' } }, 1);
await forwarder.flush();
console.log('forwarder:', forwarder.stats);

// Anyone without the private key is refused.
const forged = await fetch(url, {
  method: 'POST',
  body: JSON.stringify({ t: 'MESSAGE_CREATE', d: {}, shard_id: 0, id: 'forged' }),
  headers: { [SIGNATURE_HEADER]: '00'.repeat(64), [TIMESTAMP_HEADER]: String(Math.floor(Date.now() / 1000)) },
});
console.log(`forged request answered ${forged.status}`);

await forwarder.close();
receiver.close();
