import { strict as assert } from 'node:assert';
import { verify } from 'node:crypto';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, it, mock } from 'node:test';
import { InvalidOptionError } from '../../../lib/errors.js';
import {
  GatewayForwarder, generateForwarderKeys, signForwardedRequest, toPrivateKey, verifyForwardedRequest,
  type DeliveryFailure, type DropReason, type ForwardedRecord, type GatewayForwarderOptions,
} from '../../../lib/forwarding/index.js';

interface Received {
  readonly body: string;
  readonly signature: string | undefined;
  readonly timestamp: string | undefined;
  readonly headers: IncomingMessage['headers'];
}

/** Answers the n-th request (0-based); a handler that never ends the response makes the request hang. */
type Responder = (res: ServerResponse, index: number, received: Received) => void;

interface TestServer {
  readonly url: string;
  readonly received: Received[];
  close(): Promise<void>;
}

const servers: TestServer[] = [];

async function startServer(respond: Responder): Promise<TestServer> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const header = (name: string): string | undefined => {
        const value = req.headers[name];
        return typeof value === 'string' ? value : undefined;
      };
      const entry: Received = {
        body: Buffer.concat(chunks).toString('utf8'),
        signature: header('x-signature-ed25519'),
        timestamp: header('x-signature-timestamp'),
        headers: req.headers,
      };
      received.push(entry);
      respond(res, received.length - 1, entry);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const handle: TestServer = {
    url: `http://127.0.0.1:${port}/events`,
    received,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  servers.push(handle);
  return handle;
}

const ok: Responder = (res) => res.writeHead(204).end();

/** Lets real I/O progress (setImmediate is never faked here) until `predicate` holds. */
async function waitFor(predicate: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 20_000; i++) {
    if (predicate()) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  assert.fail(`timed out waiting for ${what}`);
}

interface Dropped {
  readonly record: ForwardedRecord;
  readonly reason: DropReason;
  readonly failure: DeliveryFailure;
}

function forwarder(url: string, options: Partial<GatewayForwarderOptions> = {}) {
  const keys = generateForwarderKeys();
  const dropped: Dropped[] = [];
  const retries: number[] = [];
  const instance = new GatewayForwarder({
    url,
    privateKey: keys.privateKey,
    backoff: { base: 100, max: 1_000, jitter: 0 },
    onDropped: (record, reason, failure) => dropped.push({ record, reason, failure }),
    onRetry: (_record, retry) => retries.push(retry.delay),
    ...options,
  });
  return { forwarder: instance, keys, dropped, retries };
}

const NOW = 1_700_000_000_000;

/**
 * A `fetch` over node:http for the fake-timer tests. The global fetch (undici) arms internal
 * timers with whatever `setTimeout` is current; after `mock.timers.reset()` a stale fake timer
 * keeps its queue position, and clearing it later removes an unrelated timer from the next
 * test's queue (Node 24 bug). node:http's timers are internal and never faked.
 */
const httpFetch: typeof globalThis.fetch = (input, init) => new Promise<Response>((resolve, reject) => {
  const headers = new Headers(init?.headers);
  const req = request(String(input), {
    method: init?.method ?? 'GET',
    headers: Object.fromEntries(headers),
    signal: init?.signal ?? undefined,
  }, (res) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('error', reject);
    res.on('end', () => {
      const responseHeaders = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        if (typeof value === 'string') responseHeaders.set(name, value);
      }
      const status = res.statusCode ?? 500;
      const body = [101, 204, 205, 304].includes(status) ? null : Buffer.concat(chunks);
      resolve(new Response(body, { status, headers: responseHeaders }));
    });
  });
  req.on('error', (error) => reject(init?.signal?.aborted ? init.signal.reason : error));
  req.end(typeof init?.body === 'string' ? init.body : undefined);
});

afterEach(async () => {
  mock.timers.reset();
  mock.restoreAll();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('GatewayForwarder signatures', () => {
  it('signs timestamp + body with Ed25519 so the public key verifies every request', async () => {
    const server = await startServer(ok);
    const { forwarder: f, keys } = forwarder(server.url);
    f.push('MESSAGE_CREATE', { id: '1', content: 'héllo' }, 0);
    f.push('GUILD_MEMBER_ADD', { guild_id: '2' }, 3);
    await f.flush();

    assert.equal(server.received.length, 2);
    for (const { body, signature, timestamp, headers } of server.received) {
      assert.ok(signature && timestamp, 'signature and timestamp headers are present');
      assert.match(timestamp, /^\d+$/);
      assert.ok(Math.abs(Number(timestamp) - Date.now() / 1000) < 60, 'timestamp is unix seconds');
      assert.equal(headers['content-type'], 'application/json');
      // Verified with node:crypto alone, as a receiver without disgate would.
      assert.ok(verify(null, Buffer.from(timestamp + body), keys.publicKey, Buffer.from(signature, 'hex')));
      assert.ok(verifyForwardedRequest(keys.publicKeyHex, signature, timestamp, body));
      assert.ok(verifyForwardedRequest(keys.publicKey, signature, timestamp, Buffer.from(body)));
      // Any change to the body, the timestamp or the key breaks it.
      assert.equal(verifyForwardedRequest(keys.publicKeyHex, signature, timestamp, body.replace('"', "'")), false);
      assert.equal(verifyForwardedRequest(keys.publicKeyHex, signature, String(Number(timestamp) - 1), body), false);
      assert.equal(verifyForwardedRequest(generateForwarderKeys().publicKeyHex, signature, timestamp, body), false);
    }
    const bodies = server.received.map((r) => JSON.parse(r.body) as ForwardedRecord);
    assert.deepEqual(bodies.map(({ t, d, shard_id }) => ({ t, d, shard_id })), [
      { t: 'MESSAGE_CREATE', d: { id: '1', content: 'héllo' }, shard_id: 0 },
      { t: 'GUILD_MEMBER_ADD', d: { guild_id: '2' }, shard_id: 3 },
    ]);
    assert.notEqual(bodies[0]?.id, bodies[1]?.id);
    assert.deepEqual(f.stats, { queued: 0, inFlight: 0, delivered: 2, dropped: 0, retries: 0 });
  });

  it('accepts the private key as a hex seed or PEM, and the public key as PEM', async () => {
    const server = await startServer(ok);
    const keys = generateForwarderKeys();
    const pem = keys.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    for (const privateKey of [keys.privateKeyHex, pem, Buffer.from(keys.privateKeyHex, 'hex')]) {
      const f = new GatewayForwarder({ url: server.url, privateKey });
      f.push('READY', {}, 0);
      await f.flush();
    }
    const publicPem = keys.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    for (const { signature, timestamp, body } of server.received) {
      assert.ok(verifyForwardedRequest(publicPem, signature, timestamp, body));
    }
    assert.equal(server.received.length, 3);
  });

  it('refuses stale or malformed signatures on the receiving side', () => {
    const keys = generateForwarderKeys();
    const body = '{"t":"READY"}';
    const ts = String(NOW / 1000);
    const sig = signForwardedRequest(toPrivateKey(keys.privateKeyHex), ts, body);
    assert.ok(verifyForwardedRequest(keys.publicKeyHex, sig, ts, body, { now: NOW + 299_000 }));
    assert.equal(verifyForwardedRequest(keys.publicKeyHex, sig, ts, body, { now: NOW + 301_000 }), false);
    assert.equal(verifyForwardedRequest(keys.publicKeyHex, sig, ts, body, { now: NOW - 301_000 }), false);
    assert.ok(verifyForwardedRequest(keys.publicKeyHex, sig, ts, body, { now: NOW + 10 ** 9, maxAgeSeconds: Infinity }));
    assert.equal(verifyForwardedRequest(keys.publicKeyHex, `${sig.slice(0, -2)}zz`, ts, body, { now: NOW }), false);
    assert.equal(verifyForwardedRequest(keys.publicKeyHex, undefined, ts, body, { now: NOW }), false);
    assert.equal(verifyForwardedRequest(keys.publicKeyHex, sig, `${ts}.5`, body, { now: NOW }), false);
    assert.throws(() => verifyForwardedRequest('not a key', sig, ts, body), InvalidOptionError);
  });

  it('validates its options', () => {
    const { privateKey, publicKey } = generateForwarderKeys();
    const url = 'http://127.0.0.1:1/';
    const bad: [Partial<GatewayForwarderOptions>, string][] = [
      [{ url: 'not a url' }, 'url'],
      [{ url: 'ftp://127.0.0.1/' }, 'url'],
      [{ privateKey: publicKey }, 'privateKey'],
      [{ privateKey: 'abcd' }, 'privateKey'],
      [{ maxQueue: 0 }, 'maxQueue'],
      [{ maxRetries: -1 }, 'maxRetries'],
      [{ concurrency: 1.5 }, 'concurrency'],
      [{ backoff: { jitter: 2 } }, 'backoff.jitter'],
    ];
    for (const [options, option] of bad) {
      assert.throws(() => new GatewayForwarder({ url, privateKey, ...options }),
        (e: unknown) => e instanceof InvalidOptionError && e.option === option, option);
    }
  });
});

describe('GatewayForwarder delivery', () => {
  it('keeps order with concurrency 1 and forwards only the selected events', async () => {
    const server = await startServer(ok);
    const { forwarder: f } = forwarder(server.url, { events: ['MESSAGE_CREATE'] });
    for (let i = 0; i < 20; i++) {
      f.push('MESSAGE_CREATE', { n: i }, 0);
      f.push('TYPING_START', { n: i }, 0);
    }
    await f.flush();
    assert.deepEqual(server.received.map((r) => (JSON.parse(r.body) as { d: { n: number } }).d.n),
      Array.from({ length: 20 }, (_, i) => i));
  });

  it('retries 5xx with exponential backoff and stops at maxRetries, reporting the record', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: NOW });
    const server = await startServer((res) => res.writeHead(503).end('down'));
    const { forwarder: f, dropped, retries } = forwarder(server.url, { maxRetries: 3, fetch: httpFetch });
    f.push('MESSAGE_CREATE', { id: 'x' }, 1);
    const flushed = f.flush();

    for (let retry = 1; retry <= 3; retry++) {
      await waitFor(() => retries.length === retry, `retry ${retry}`);
      assert.equal(server.received.length, retry);
      mock.timers.tick(retries[retry - 1] ?? 0);
    }
    await flushed;
    assert.equal(server.received.length, 4, 'one attempt plus exactly maxRetries retries');
    assert.deepEqual(retries, [100, 200, 400]);
    assert.equal(dropped.length, 1);
    assert.equal(dropped[0]?.reason, 'retries_exhausted');
    assert.deepEqual({ ...dropped[0]?.failure, error: undefined }, { attempts: 4, status: 503, error: undefined });
    assert.equal(dropped[0]?.record.t, 'MESSAGE_CREATE');
    // Every retry carries the same record id, signed afresh.
    assert.equal(new Set(server.received.map((r) => (JSON.parse(r.body) as ForwardedRecord).id)).size, 1);
    assert.deepEqual(f.stats, { queued: 0, inFlight: 0, delivered: 0, dropped: 1, retries: 3 });
  });

  it('caps the backoff at max and applies jitter below the exponential delay', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: NOW });
    mock.method(Math, 'random', () => 0.5);
    const server = await startServer((res) => res.writeHead(500).end());
    const { forwarder: f, retries } = forwarder(server.url, {
      maxRetries: 4, backoff: { base: 400, max: 1_000, jitter: 0.5 }, fetch: httpFetch,
    });
    f.push('READY', {}, 0);
    const flushed = f.flush();
    for (let retry = 1; retry <= 4; retry++) {
      await waitFor(() => retries.length === retry, `retry ${retry}`);
      mock.timers.tick(retries[retry - 1] ?? 0);
    }
    await flushed;
    // 400, 800, min(1000, 1600), 1000 — each reduced by jitter * random = 25 %.
    assert.deepEqual(retries, [300, 600, 750, 750]);
  });

  it('honours Retry-After on 429 and does not send before it', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: NOW });
    const server = await startServer((res, i) => {
      if (i === 0) res.writeHead(429, { 'Retry-After': '7' }).end();
      else res.writeHead(200).end();
    });
    const { forwarder: f, dropped, retries } = forwarder(server.url, { fetch: httpFetch });
    f.push('GUILD_CREATE', { id: 'g' }, 0);
    const flushed = f.flush();
    await waitFor(() => retries.length === 1, 'the 429 retry');
    assert.deepEqual(retries, [7_000]);
    mock.timers.tick(6_999);
    for (let i = 0; i < 50; i++) await new Promise<void>((resolve) => setImmediate(resolve));
    assert.equal(server.received.length, 1, 'no request before Retry-After elapsed');
    mock.timers.tick(1);
    await flushed;
    assert.equal(server.received.length, 2);
    assert.equal(dropped.length, 0);
    assert.equal(f.stats.delivered, 1);
  });

  it('does not retry other 4xx responses and reports them rejected', async () => {
    const server = await startServer((res, i) => res.writeHead(i === 0 ? 401 : 200).end());
    const { forwarder: f, dropped } = forwarder(server.url);
    f.push('MESSAGE_CREATE', { n: 1 }, 0);
    f.push('MESSAGE_CREATE', { n: 2 }, 0);
    await f.flush();
    assert.equal(server.received.length, 2);
    assert.equal(dropped.length, 1);
    assert.equal(dropped[0]?.reason, 'rejected');
    assert.deepEqual(dropped[0]?.failure, { attempts: 1, status: 401 });
    assert.deepEqual(dropped[0]?.record.d, { n: 1 });
  });

  it('retries network errors and request timeouts', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: NOW });
    const server = await startServer((res, i) => {
      if (i > 0) res.writeHead(200).end(); // the first request never gets an answer
    });
    const { forwarder: f, dropped, retries } = forwarder(server.url, { timeout: 5_000, fetch: httpFetch });
    f.push('MESSAGE_CREATE', {}, 0);
    const flushed = f.flush();
    await waitFor(() => server.received.length === 1, 'the first request');
    mock.timers.tick(5_000);
    await waitFor(() => retries.length === 1, 'the retry after the timeout');
    mock.timers.tick(100);
    await flushed;
    assert.equal(server.received.length, 2);
    assert.equal(dropped.length, 0);

    // Nothing listens on the closed server's port: connection refused, retried, then dropped.
    await server.close();
    const refused = forwarder(server.url, { maxRetries: 1, fetch: httpFetch });
    refused.forwarder.push('MESSAGE_CREATE', {}, 0);
    const done = refused.forwarder.flush();
    await waitFor(() => refused.retries.length === 1, 'the retry after a refused connection');
    mock.timers.tick(100);
    await done;
    assert.equal(refused.dropped[0]?.reason, 'retries_exhausted');
    assert.equal(refused.dropped[0]?.failure.attempts, 2);
    assert.ok(refused.dropped[0]?.failure.error instanceof Error);
  });

  it('bounds the queue, dropping and reporting the oldest waiting records', async () => {
    let release: (() => void) | undefined;
    const server = await startServer((res, i) => {
      if (i === 0) release = () => res.writeHead(200).end();
      else res.writeHead(200).end();
    });
    const { forwarder: f, dropped } = forwarder(server.url, { maxQueue: 2 });
    f.push('MESSAGE_CREATE', { n: 1 }, 0);
    await waitFor(() => release !== undefined, 'the first request');
    for (let n = 2; n <= 5; n++) f.push('MESSAGE_CREATE', { n }, 0);
    assert.deepEqual(f.stats, { queued: 2, inFlight: 1, delivered: 0, dropped: 2, retries: 0 });
    assert.deepEqual(dropped.map((x) => [x.reason, x.record.d]), [['queue_full', { n: 2 }], ['queue_full', { n: 3 }]]);
    release?.();
    await f.flush();
    assert.deepEqual(server.received.map((r) => (JSON.parse(r.body) as { d: { n: number } }).d.n), [1, 4, 5]);
  });

  it('reports unserializable payloads instead of throwing from push', async () => {
    const server = await startServer(ok);
    const { forwarder: f, dropped } = forwarder(server.url);
    f.push('MESSAGE_CREATE', { big: 1n }, 0);
    await f.flush();
    assert.equal(server.received.length, 0);
    assert.equal(dropped[0]?.reason, 'unserializable');
  });

  it('close() aborts in-flight work and reports everything undelivered as closed', async () => {
    const server = await startServer(() => { /* never answers */ });
    const { forwarder: f, dropped } = forwarder(server.url);
    f.push('MESSAGE_CREATE', { n: 1 }, 0);
    f.push('MESSAGE_CREATE', { n: 2 }, 0);
    await waitFor(() => server.received.length === 1, 'the first request');
    await f.close();
    f.push('MESSAGE_CREATE', { n: 3 }, 0);
    assert.deepEqual(dropped.map((x) => [x.reason, x.record.d]),
      [['closed', { n: 2 }], ['closed', { n: 1 }], ['closed', { n: 3 }]]);
    assert.equal(server.received.length, 1);
  });
});
