import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { WebSocketServer, type WebSocket as ServerSocket } from 'ws';
import { GatewayWebSocket, CLOSE_TIMEOUT_MS, type WebSocketListener } from '../../lib/websocket.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** A reader that loses a frame fails the test instead of hanging it. */
const LIMIT = { timeout: 10_000 };

/** Records what a socket reports; `ended` resolves at the first `closed`. */
class Recorder implements WebSocketListener {
  readonly messages: { binary: boolean; data: string | Buffer }[] = [];
  readonly closes: { code: number; reason: string }[] = [];
  readonly ended: Promise<{ code: number; reason: string }>;
  private resolveEnded!: (value: { code: number; reason: string }) => void;
  private waiters: { count: number; resolve: () => void }[] = [];

  constructor() {
    this.ended = new Promise((resolve) => { this.resolveEnded = resolve; });
  }

  text(text: string): void {
    this.push({ binary: false, data: text });
  }

  binary(data: Buffer): void {
    // The view is valid only during the call.
    this.push({ binary: true, data: Buffer.from(data) });
  }

  closed(code: number, reason: string): void {
    this.closes.push({ code, reason });
    this.resolveEnded({ code, reason });
  }

  /** Resolves once `count` messages arrived. */
  received(count: number): Promise<void> {
    if (this.messages.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  get texts(): string[] {
    return this.messages.map((m) => (typeof m.data === 'string' ? m.data : `<binary ${m.data.length}>`));
  }

  private push(message: { binary: boolean; data: string | Buffer }): void {
    this.messages.push(message);
    this.waiters = this.waiters.filter((w) => {
      if (this.messages.length < w.count) return true;
      w.resolve();
      return false;
    });
  }
}

const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const tick = (ms = 20): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A `ws` server on loopback; each test takes the next connection. */
async function wsServer(options: { maxPayload?: number } = {}): Promise<{ url: string; next(): Promise<ServerSocket> }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, ...options });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const pending: ServerSocket[] = [];
  const waiting: ((ws: ServerSocket) => void)[] = [];
  server.on('connection', (ws) => {
    const waiter = waiting.shift();
    if (waiter) waiter(ws);
    else pending.push(ws);
  });
  cleanups.push(() => new Promise<void>((resolve) => {
    for (const client of server.clients) client.terminate();
    server.close(() => resolve());
  }));
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/gateway?v=10&encoding=json`,
    next: () => {
      const ws = pending.shift();
      return ws ? Promise.resolve(ws) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}

/** Hands `chunk` to the reader as one socket read, the way Node's `onread` does. */
function feed(ws: GatewayWebSocket, chunk: Buffer): void {
  ws.received(chunk, chunk.length);
}

/** A server frame (unmasked unless `mask`), with any length form the payload needs. */
function frame(opcode: number, payload: string | Buffer = Buffer.alloc(0), options: { fin?: boolean; rsv?: number; mask?: boolean } = {}): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const fin = options.fin ?? true;
  const length = body.length;
  const header = length < 126 ? Buffer.alloc(2) : length < 0x10000 ? Buffer.alloc(4) : Buffer.alloc(10);
  header[0] = (fin ? 0x80 : 0) | ((options.rsv ?? 0) << 4) | opcode;
  if (length < 126) header[1] = length;
  else if (length < 0x10000) {
    header[1] = 126;
    header.writeUInt16BE(length, 2);
  } else {
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  if (!options.mask) return Buffer.concat([header, body]);
  header[1] |= 0x80;
  const key = Buffer.from([1, 2, 3, 4]);
  return Buffer.concat([header, key, Buffer.from(body.map((b, i) => b ^ key[i % 4]))]);
}

function closeFrame(code: number, reason = ''): Buffer {
  const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
  payload.writeUInt16BE(code, 0);
  payload.write(reason, 2);
  return frame(0x8, payload);
}

/** Decodes the (masked) frames a client wrote. */
class ClientFrames {
  readonly frames: { opcode: number; fin: boolean; payload: Buffer }[] = [];
  private buffered = Buffer.alloc(0);

  push(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    for (;;) {
      const b = this.buffered;
      if (b.length < 2) return;
      assert.ok(b[1] & 0x80, 'client frames are masked');
      let length = b[1] & 0x7f;
      let offset = 2;
      if (length === 126) { if (b.length < 4) return; length = b.readUInt16BE(2); offset = 4; }
      else if (length === 127) { if (b.length < 10) return; length = Number(b.readBigUInt64BE(2)); offset = 10; }
      if (b.length < offset + 4 + length) return;
      const key = b.subarray(offset, offset + 4);
      const payload = Buffer.from(b.subarray(offset + 4, offset + 4 + length).map((x, i) => x ^ key[i % 4]));
      this.frames.push({ opcode: b[0] & 0x0f, fin: (b[0] & 0x80) !== 0, payload });
      this.buffered = b.subarray(offset + 4 + length);
    }
  }

  closeCode(): number | undefined {
    const close = this.frames.find((f) => f.opcode === 0x8);
    return close && close.payload.length >= 2 ? close.payload.readUInt16BE(0) : undefined;
  }
}

interface RawPeer {
  socket: net.Socket;
  client: ClientFrames;
}

/**
 * A bare TCP server that answers the handshake by hand (`accept` overrides the
 * Sec-WebSocket-Accept value; `head` is written in the same write as the 101) and hands each
 * connection to `onPeer`.
 */
async function rawServer(onPeer: (peer: RawPeer) => void, options: { accept?: string; head?: Buffer; status?: string; answer?: (accept: string) => string } = {}): Promise<string> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('error', () => {});
    let request = '';
    const client = new ClientFrames();
    let upgraded = false;
    socket.on('data', (chunk: Buffer) => {
      if (upgraded) return client.push(chunk);
      request += chunk.toString('latin1');
      const end = request.indexOf('\r\n\r\n');
      if (end < 0) return;
      upgraded = true;
      const key = /sec-websocket-key: *(\S+)/i.exec(request)?.[1] ?? '';
      const accept = options.accept ?? createHash('sha1').update(key + GUID).digest('base64');
      const status = options.status ?? '101 Switching Protocols';
      const answer = options.answer?.(accept) ?? `HTTP/1.1 ${status}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`;
      socket.write(Buffer.concat([Buffer.from(answer, 'latin1'), options.head ?? Buffer.alloc(0)]));
      const rest = Buffer.from(request.slice(end + 4), 'latin1');
      if (rest.length > 0) client.push(rest);
      onPeer({ socket, client });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => {
    for (const socket of sockets) socket.destroy();
    server.close(() => resolve());
  }));
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

/** Connects to `url` and resolves once the handshake is through. */
async function connect(url: string, recorder = new Recorder(), maxPayload = 1 << 24): Promise<{ ws: GatewayWebSocket; recorder: Recorder }> {
  const ws = new GatewayWebSocket(url, recorder, maxPayload);
  cleanups.push(() => ws.terminate());
  for (let i = 0; i < 200 && !ws.open && recorder.closes.length === 0; i++) await tick(5);
  return { ws, recorder };
}

/** A client connected to a raw peer, once the peer has the socket. */
async function connectRaw(recorder = new Recorder(), maxPayload = 1 << 24): Promise<{ raw: RawPeer; ws: GatewayWebSocket; recorder: Recorder }> {
  let raw: RawPeer | undefined;
  const url = await rawServer((peer) => { raw = peer; });
  const connected = await connect(url, recorder, maxPayload);
  await until(() => raw !== undefined, 'the raw peer');
  return { raw: raw!, ...connected };
}

/** Resolves once `predicate` holds (polled; loopback is fast). */
async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (predicate()) return;
    await tick(5);
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** A throwaway self-signed certificate for localhost and 127.0.0.1 (test only; valid until 2126). */
const TLS_KEY = readFileSync(new URL('../fixtures/tls/localhost-key.pem', import.meta.url), 'utf8');
const TLS_CERT = readFileSync(new URL('../fixtures/tls/localhost-cert.pem', import.meta.url), 'utf8');

/** A ws server behind TLS with the self-signed certificate; records the SNI name of each connection. */
async function wssServer(): Promise<{ url: string; names: string[]; next(): Promise<ServerSocket> }> {
  const names: string[] = [];
  const server = https.createServer({
    key: TLS_KEY,
    cert: TLS_CERT,
    // Called with the client's SNI name during its hello, before the client judges the certificate.
    SNICallback: (name, done) => {
      names.push(name);
      done(null);
    },
  });
  const wss = new WebSocketServer({ server });
  const next = new Promise<ServerSocket>((resolve) => wss.once('connection', resolve));
  await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
  cleanups.push(() => new Promise<void>((resolve) => {
    for (const client of wss.clients) client.terminate();
    wss.close();
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return { url: `wss://localhost:${(server.address() as AddressInfo).port}/gateway`, names, next: () => next };
}

describe('GatewayWebSocket handshake', () => {
  test('a wrong Sec-WebSocket-Accept fails the connection with 1006 and delivers nothing', LIMIT, async () => {
    const url = await rawServer(() => {}, { accept: 'bm90IHRoZSByaWdodCBrZXk=', head: frame(0x1, '{"op":10}') });
    const { ws, recorder } = await connect(url);
    assert.deepEqual(await recorder.ended, { code: 1006, reason: 'Invalid Sec-WebSocket-Accept header in the handshake answer' });
    await tick();
    assert.equal(ws.open, false);
    assert.deepEqual(recorder.messages, []);
    assert.equal(recorder.closes.length, 1);
  });

  test('a non-101 answer is reported as 1006 naming the status', LIMIT, async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(403);
      res.end('no');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { recorder } = await connect(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    const end = await recorder.ended;
    assert.equal(end.code, 1006);
    assert.match(end.reason, /Unexpected server response: 403/);
    await tick();
    assert.equal(recorder.closes.length, 1);
  });

  test('a refused connection is reported once as 1006', LIMIT, async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const { recorder } = await connect(`ws://127.0.0.1:${port}/`);
    const end = await recorder.ended;
    assert.equal(end.code, 1006);
    assert.match(end.reason, /ECONNREFUSED/);
    await tick();
    assert.equal(recorder.closes.length, 1);
  });

  test('an unusable URL is reported asynchronously, not thrown', LIMIT, async () => {
    const recorder = new Recorder();
    new GatewayWebSocket('ftp://127.0.0.1/', recorder, 1024);
    assert.equal(recorder.closes.length, 0);
    const end = await recorder.ended;
    assert.equal(end.code, 1006);
    assert.match(end.reason, /unsupported protocol ftp:/);
  });

  test('sends path and query, offers no extension, and parses frames that came with the 101', LIMIT, async () => {
    let requestText = '';
    const server = net.createServer((socket) => {
      socket.once('data', (chunk: Buffer) => {
        requestText = chunk.toString('latin1');
        const key = /sec-websocket-key: *(\S+)/i.exec(requestText)?.[1] ?? '';
        const accept = createHash('sha1').update(key + GUID).digest('base64');
        socket.write(Buffer.concat([
          Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`),
          frame(0x1, '{"op":10}'),
          frame(0x1, '{"op":11}'),
        ]));
      });
      cleanups.push(() => socket.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { recorder } = await connect(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/gw?v=10&encoding=json`);
    await recorder.received(2);
    assert.deepEqual(recorder.texts, ['{"op":10}', '{"op":11}']);
    assert.match(requestText, /^GET \/gw\?v=10&encoding=json HTTP\/1\.1\r\n/);
    assert.match(requestText, /\r\nHost: 127\.0\.0\.1:\d+\r\n/);
    assert.match(requestText, /\r\nConnection: Upgrade\r\n/i);
    assert.match(requestText, /\r\nSec-WebSocket-Version: 13\r\n/i);
    assert.match(requestText, /\r\nUpgrade: websocket\r\n/i);
    assert.match(requestText, /\r\nSec-WebSocket-Key: [A-Za-z0-9+/]{22}==\r\n/i);
    assert.doesNotMatch(requestText, /Sec-WebSocket-Extensions/i);
  });

  test('wss: TLS with SNI; a certificate that does not verify is reported once as 1006', LIMIT, async () => {
    const server = await wssServer();
    const { recorder } = await connect(server.url);
    const end = await recorder.ended;
    assert.equal(end.code, 1006);
    assert.match(end.reason, /self[- ]signed certificate/);
    assert.deepEqual(server.names, ['localhost']);
    await tick();
    assert.equal(recorder.closes.length, 1);
  });

  test('wss: messages both ways once the certificate is trusted', LIMIT, async (t) => {
    const server = await wssServer();
    // The test's certificate is self-signed; Node reads this variable on every TLS connect.
    const previous = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    t.after(() => {
      if (previous === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = previous;
    });
    const warn = t.mock.method(process, 'emitWarning', () => {});
    const { ws, recorder } = await connect(server.url);
    assert.equal(ws.open, true);
    const peer = await server.next();
    const got = new Promise<string>((resolve) => peer.once('message', (data) => resolve(data.toString())));
    await ws.send('{"op":1,"d":null}');
    assert.equal(await got, '{"op":1,"d":null}');
    peer.send('x'.repeat(100_000));
    await recorder.received(1);
    assert.equal(recorder.texts[0], 'x'.repeat(100_000));
    assert.ok(warn.mock.callCount() <= 1);
  });

  test('close() before the handshake completes aborts it and reports our code once', LIMIT, async () => {
    const url = await rawServer(() => {});
    const recorder = new Recorder();
    const ws = new GatewayWebSocket(url, recorder, 1024);
    ws.close(4900, 'changed my mind');
    assert.deepEqual(recorder.closes, [{ code: 4900, reason: 'changed my mind' }]);
    await tick(50);
    assert.equal(recorder.closes.length, 1);
    assert.equal(ws.open, false);
  });

  test('header names in any case and a Connection list naming Upgrade are accepted', LIMIT, async () => {
    const url = await rawServer((peer) => peer.socket.write(frame(0x1, '{"op":10}')), {
      answer: (accept) => `HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\nCONNECTION: keep-alive, Upgrade\r\nsec-websocket-accept:${accept}\r\nX-Extra: a:b\r\n\r\n`,
    });
    const { ws, recorder } = await connect(url);
    assert.equal(ws.open, true);
    await recorder.received(1);
    assert.deepEqual(recorder.texts, ['{"op":10}']);
  });

  const refusedAnswers: [string, (accept: string) => string, RegExp][] = [
    ['no Connection header', (accept) => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`, /^Invalid Connection header/],
    ['no Upgrade header', (accept) => `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`, /^Invalid Upgrade header/],
    ['an extension the client did not offer', (accept) => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n`, /extension that was not offered/],
    ['a subprotocol the client did not offer', (accept) => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: chat\r\n\r\n`, /subprotocol that was not offered/],
    ['a header line without a colon', (accept) => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nnonsense\r\n\r\n`, /^Malformed header line/],
    ['something other than HTTP', () => 'SSH-2.0-OpenSSH_9.6\r\n\r\n', /^Not an HTTP answer/],
    ['a head that never ends', () => `HTTP/1.1 101 Switching Protocols\r\nX-Padding: ${'p'.repeat(20_000)}`, /^Handshake answer over 16384 bytes/],
  ];
  for (const [what, answer, reason] of refusedAnswers) {
    test(`a handshake answer with ${what} fails with 1006 and delivers nothing`, LIMIT, async () => {
      const url = await rawServer(() => {}, { answer, head: frame(0x1, '{"op":10}') });
      const { ws, recorder } = await connect(url);
      const end = await recorder.ended;
      assert.equal(end.code, 1006);
      assert.match(end.reason, reason);
      await tick();
      assert.equal(ws.open, false);
      assert.deepEqual(recorder.messages, []);
      assert.equal(recorder.closes.length, 1);
    });
  }

  test('a server that hangs up halfway through its answer is reported once as 1006', LIMIT, async () => {
    const server = net.createServer((socket) => socket.once('data', () => socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgr')));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { recorder } = await connect(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    assert.deepEqual(await recorder.ended, { code: 1006, reason: 'Connection closed during the handshake' });
    await tick();
    assert.equal(recorder.closes.length, 1);
  });
});

describe('GatewayWebSocket messages', () => {
  test('connections reading at once each get their own messages whole (they share one read buffer)', LIMIT, async () => {
    const server = await wsServer();
    const a = await connect(server.url);
    const peerA = await server.next();
    const b = await connect(server.url);
    const peerB = await server.next();
    const expectA: string[] = [];
    const expectB: string[] = [];
    for (let i = 0; i < 40; i++) {
      // Large messages span reads and are carried; small ones are read in place among them.
      const textA = i % 4 === 0 ? `${i}`.padEnd(300_000, 'a') : `{"a":${i}}`;
      const textB = i % 3 === 0 ? `${i}`.padEnd(200_000, 'b') : `{"b":${i}}`;
      peerA.send(textA);
      peerB.send(textB);
      expectA.push(textA);
      expectB.push(textB);
    }
    await Promise.all([a.recorder.received(40), b.recorder.received(40)]);
    assert.deepEqual(a.recorder.texts, expectA);
    assert.deepEqual(b.recorder.texts, expectB);
  });

  test('text and binary messages from a ws server', LIMIT, async () => {
    const server = await wsServer();
    const { recorder } = await connect(server.url);
    const peer = await server.next();
    peer.send('{"op":10,"d":{"heartbeat_interval":41250}}');
    peer.send(Buffer.from([0, 1, 2, 250, 255]));
    peer.send('');
    peer.send('héllo wörld ✓ 😀');
    await recorder.received(4);
    assert.deepEqual(recorder.messages, [
      { binary: false, data: '{"op":10,"d":{"heartbeat_interval":41250}}' },
      { binary: true, data: Buffer.from([0, 1, 2, 250, 255]) },
      { binary: false, data: '' },
      { binary: false, data: 'héllo wörld ✓ 😀' },
    ]);
  });

  test('16- and 64-bit lengths: 126 B, 1 KB, 65,535 B, 65,536 B, 70 KB and 200 KB texts', LIMIT, async () => {
    const server = await wsServer();
    const { recorder } = await connect(server.url);
    const peer = await server.next();
    const sizes = [125, 126, 1024, 65_535, 65_536, 70 * 1024, 200 * 1024];
    const texts = sizes.map((size, i) => JSON.stringify({ op: 0, i, pad: 'x'.repeat(size) }).slice(0, size).padEnd(size, 'y'));
    for (const text of texts) peer.send(text);
    await recorder.received(texts.length);
    assert.deepEqual(recorder.texts.map((t) => t.length), sizes);
    assert.deepEqual(recorder.texts, texts);
  });

  test('several frames in one chunk, a control frame among them', LIMIT, async () => {
    const { raw, recorder } = await connectRaw();
    raw.socket.write(Buffer.concat([frame(0x1, 'a'), frame(0x2, Buffer.from([7, 8])), frame(0x9, 'p'), frame(0x1, 'b'.repeat(300)), frame(0x1, 'c')]));
    await recorder.received(4);
    assert.deepEqual(recorder.texts, ['a', '<binary 2>', 'b'.repeat(300), 'c']);
    await until(() => raw.client.frames.length > 0, 'the pong');
    assert.deepEqual(raw.client.frames[0], { opcode: 0xa, fin: true, payload: Buffer.from('p') });
  });

  test('frames written one byte at a time arrive whole', LIMIT, async () => {
    const { raw, recorder } = await connectRaw();
    const big = 'z'.repeat(300);
    const bytes = Buffer.concat([frame(0x1, '{"op":11}'), frame(0x1, big), frame(0x2, Buffer.from([1, 2, 3])), frame(0x9, 'hi'), frame(0x1, 'é😀')]);
    for (const byte of bytes) {
      raw.socket.write(Buffer.from([byte]));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await recorder.received(4);
    assert.deepEqual(recorder.texts, ['{"op":11}', big, '<binary 3>', 'é😀']);
    await until(() => raw.client.frames.length > 0, 'the pong');
    assert.equal(raw.client.frames[0].payload.toString(), 'hi');
  });

  test('a stream split at every byte boundary of headers and payloads parses the same', LIMIT, async () => {
    const url = await rawServer(() => {});
    // The peer stays silent: the test feeds the reader itself, so every split is exact.
    const { ws, recorder } = await connect(url);
    const texts = ['{"op":1}', 'm'.repeat(200), 'n'.repeat(70_000)];
    const stream = Buffer.concat([...texts.map((t) => frame(0x1, t)), frame(0x2, Buffer.from([9, 9])), frame(0x1, 'fr', { fin: false }), frame(0x9), frame(0x0, 'ag')]);
    const expected = [...texts, '<binary 2>', 'frag'];
    const cuts = [];
    for (let i = 1; i < 220; i++) cuts.push(i);
    for (let i = 70_000; i < stream.length; i += 1) cuts.push(i);
    let delivered = 0;
    for (const cut of cuts) {
      feed(ws, stream.subarray(0, cut));
      feed(ws, stream.subarray(cut));
      delivered += expected.length;
      assert.equal(recorder.messages.length, delivered, `cut at ${cut}`);
      assert.deepEqual(recorder.texts.slice(-expected.length), expected, `cut at ${cut}`);
    }
    // Three pieces: every header split from its payload and the payload split again.
    for (let a = 1; a < 40; a++) {
      for (let b = a + 1; b < 60; b += 3) {
        feed(ws, stream.subarray(0, a));
        feed(ws, stream.subarray(a, b));
        feed(ws, stream.subarray(b));
        delivered += expected.length;
        assert.deepEqual(recorder.texts.slice(-expected.length), expected, `cuts at ${a}, ${b}`);
      }
    }
    // One byte per read.
    for (let i = 0; i < stream.length; i++) feed(ws, stream.subarray(i, i + 1));
    assert.deepEqual(recorder.texts.slice(-expected.length), expected);
    assert.equal(recorder.closes.length, 0);
  });

  test('the read buffer is reused through a burst of large frames and given back by the next small read', LIMIT, async () => {
    const url = await rawServer(() => {});
    const { ws, recorder } = await connect(url);
    const carried = (): number => (ws as unknown as { carry: Buffer }).carry.length;
    const large = frame(0x1, 'L'.repeat(100_000));
    feed(ws, large.subarray(0, 60_000));
    assert.ok(carried() >= large.length, 'the frame is assembled in one buffer of its size');
    const buffer = (ws as unknown as { carry: Buffer }).carry;
    // A large read that ends on a frame boundary (mid-burst) keeps the buffer for the next frame.
    feed(ws, Buffer.concat([large.subarray(60_000), large.subarray(0, 30_000)]));
    feed(ws, large.subarray(30_000));
    assert.equal((ws as unknown as { carry: Buffer }).carry, buffer);
    feed(ws, frame(0x1, '{"op":11}'));
    assert.ok(carried() <= 16 * 1024, `a quiet connection keeps at most 16 KB, not ${carried()}`);
    assert.equal(recorder.messages.length, 3);
  });

  test('fragmented text and binary messages, with a ping between fragments', LIMIT, async () => {
    const { raw, recorder } = await connectRaw();
    raw.socket.write(Buffer.concat([frame(0x1, '{"op":', { fin: false }), frame(0x9, 'between'), frame(0x0, '0,"d":', { fin: false })]));
    await tick();
    raw.socket.write(Buffer.concat([frame(0x0, 'null}'), frame(0x2, Buffer.from([1]), { fin: false }), frame(0x0, Buffer.from([2]))]));
    await recorder.received(2);
    assert.deepEqual(recorder.messages, [{ binary: false, data: '{"op":0,"d":null}' }, { binary: true, data: Buffer.from([1, 2]) }]);
    await until(() => raw.client.frames.length > 0, 'the pong');
    assert.deepEqual(raw.client.frames[0], { opcode: 0xa, fin: true, payload: Buffer.from('between') });
  });
});

describe('GatewayWebSocket limits and protocol errors', () => {
  test('a message over maxPayload closes with 1009', LIMIT, async () => {
    const server = await wsServer();
    const { recorder } = await connect(server.url, new Recorder(), 1000);
    const peer = await server.next();
    const seen = new Promise<number>((resolve) => peer.once('close', (code) => resolve(code)));
    peer.send('a'.repeat(1000));
    peer.send('b'.repeat(1001));
    const end = await recorder.ended;
    assert.equal(end.code, 1009);
    assert.equal(await seen, 1009);
    assert.deepEqual(recorder.texts, ['a'.repeat(1000)]);
  });

  test('fragments adding up to more than maxPayload close with 1009', LIMIT, async () => {
    const { raw, recorder } = await connectRaw(new Recorder(), 100);
    raw.socket.write(Buffer.concat([frame(0x1, 'x'.repeat(60), { fin: false }), frame(0x0, 'y'.repeat(60))]));
    assert.equal((await recorder.ended).code, 1009);
    await until(() => raw.client.closeCode() !== undefined, 'the close frame');
    assert.equal(raw.client.closeCode(), 1009);
    assert.deepEqual(recorder.messages, []);
  });

  const violations: [string, () => Buffer][] = [
    ['a masked server frame', () => frame(0x1, 'hi', { mask: true })],
    ['an RSV1 bit (no extension was negotiated)', () => frame(0x1, 'hi', { rsv: 4 })],
    ['an RSV3 bit', () => frame(0x2, 'hi', { rsv: 1 })],
    ['an unknown data opcode', () => frame(0x3, 'hi')],
    ['an unknown control opcode', () => frame(0xb)],
    ['a control frame over 125 bytes', () => frame(0x9, 'p'.repeat(126))],
    ['a fragmented control frame', () => frame(0x9, 'p', { fin: false })],
    ['a continuation without a message', () => frame(0x0, 'hi')],
    ['a new message inside a fragmented one', () => Buffer.concat([frame(0x1, 'a', { fin: false }), frame(0x1, 'b')])],
    ['an invalid close code', () => closeFrame(1005)],
    ['a close frame with a 1-byte body', () => frame(0x8, Buffer.from([3]))],
  ];
  for (const [what, bytes] of violations) {
    test(`${what} closes with 1002`, LIMIT, async () => {
      const { raw, recorder } = await connectRaw();
      raw.socket.write(Buffer.concat([frame(0x1, 'before'), bytes(), frame(0x1, 'after')]));
      assert.equal((await recorder.ended).code, 1002);
      await until(() => raw.client.closeCode() !== undefined, 'the close frame');
      assert.equal(raw.client.closeCode(), 1002);
      assert.deepEqual(recorder.texts, ['before']);
      await tick();
      assert.equal(recorder.closes.length, 1);
    });
  }
});

describe('GatewayWebSocket control frames and closing', () => {
  test('a ping is answered with a pong carrying the same payload', LIMIT, async () => {
    const server = await wsServer();
    await connect(server.url);
    const peer = await server.next();
    const pong = new Promise<Buffer>((resolve) => peer.once('pong', resolve));
    peer.ping(Buffer.from('are you there'));
    assert.equal((await pong).toString(), 'are you there');
  });

  test("the server's close is echoed with its code and reported once with its reason", LIMIT, async () => {
    const server = await wsServer();
    const { recorder } = await connect(server.url);
    const peer = await server.next();
    const echoed = new Promise<number>((resolve) => peer.once('close', (code) => resolve(code)));
    peer.close(4004, 'Authentication failed.');
    assert.deepEqual(await recorder.ended, { code: 4004, reason: 'Authentication failed.' });
    assert.equal(await echoed, 4004);
    await tick(50);
    assert.equal(recorder.closes.length, 1);
  });

  test('a close frame without a code is reported as 1005 and echoed empty', LIMIT, async () => {
    const { raw, recorder } = await connectRaw();
    raw.socket.write(frame(0x8));
    assert.deepEqual(await recorder.ended, { code: 1005, reason: '' });
    await until(() => raw.client.frames.length > 0, 'the echo');
    assert.deepEqual(raw.client.frames[0], { opcode: 0x8, fin: true, payload: Buffer.alloc(0) });
  });

  test('our close(4900) reaches the server and is reported once with our code', LIMIT, async () => {
    const server = await wsServer();
    const { ws, recorder } = await connect(server.url);
    const peer = await server.next();
    const seen = new Promise<[number, string]>((resolve) => peer.once('close', (code, reason) => resolve([code, reason.toString()])));
    ws.close(4900, 'resuming');
    assert.equal(ws.open, false);
    await assert.rejects(ws.send('late'), /not open/);
    assert.deepEqual(await seen, [4900, 'resuming']);
    assert.deepEqual(await recorder.ended, { code: 4900, reason: 'resuming' });
    await tick(50);
    assert.equal(recorder.closes.length, 1);
  });

  test('a long close reason is cut to fit the control frame at a character boundary', LIMIT, async () => {
    const server = await wsServer();
    const { ws, recorder } = await connect(server.url);
    const peer = await server.next();
    const seen = new Promise<string>((resolve) => peer.once('close', (_code, reason) => resolve(reason.toString())));
    ws.close(4000, 'é'.repeat(100));
    assert.equal(await seen, 'é'.repeat(61));
    await recorder.ended;
  });

  test('a server that never answers our close is dropped after the close timeout', LIMIT, async (t) => {
    const { raw, ws, recorder } = await connectRaw();
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const turns = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
    };
    try {
      ws.close(4900, 'bye');
      await turns(20);
      t.mock.timers.tick(CLOSE_TIMEOUT_MS - 1);
      await turns(20);
      assert.equal(recorder.closes.length, 0, 'still waiting for the answer');
      t.mock.timers.tick(1);
      assert.deepEqual(await recorder.ended, { code: 4900, reason: 'bye' });
    } finally {
      t.mock.timers.reset();
    }
    await until(() => raw.client.closeCode() === 4900, 'the close frame');
  });

  test('a connection dropped without a close frame is reported as 1006', LIMIT, async () => {
    const server = await wsServer();
    const { recorder } = await connect(server.url);
    const peer = await server.next();
    peer.terminate();
    assert.equal((await recorder.ended).code, 1006);
    await tick();
    assert.equal(recorder.closes.length, 1);
  });

  test('terminate() reports 1006 at once, and only once', LIMIT, async () => {
    const server = await wsServer();
    const { ws, recorder } = await connect(server.url);
    const peer = await server.next();
    const gone = new Promise<number>((resolve) => peer.once('close', (code) => resolve(code)));
    ws.terminate();
    assert.deepEqual(recorder.closes, [{ code: 1006, reason: '' }]);
    ws.close(1000);
    ws.terminate();
    assert.equal(await gone, 1006);
    await tick();
    assert.equal(recorder.closes.length, 1);
  });
});

describe('GatewayWebSocket sending', () => {
  test('sends arrive in order and each promise resolves once written', LIMIT, async () => {
    const server = await wsServer();
    const { ws } = await connect(server.url);
    const peer = await server.next();
    const got: string[] = [];
    peer.on('message', (data) => got.push(data.toString()));
    const texts = Array.from({ length: 200 }, (_, i) => JSON.stringify({ op: 1, d: i }));
    const results = await Promise.all(texts.map((text) => ws.send(text)));
    assert.deepEqual(results, texts.map(() => undefined));
    await until(() => got.length === texts.length, 'every message');
    assert.deepEqual(got, texts);
  });

  test('a send on a closed socket rejects', LIMIT, async () => {
    const server = await wsServer();
    const { ws } = await connect(server.url);
    ws.terminate();
    await assert.rejects(ws.send('x'), /not open/);
  });

  test('masking: the ws server decodes 1,000 random texts, multi-byte UTF-8 and 16/64-bit lengths included', LIMIT, async () => {
    const server = await wsServer();
    const { ws, recorder } = await connect(server.url);
    const peer = await server.next();
    const got: string[] = [];
    peer.on('message', (data, isBinary) => got.push(isBinary ? '<binary>' : data.toString()));
    const alphabet = ['a', 'Z', '0', ' ', '"', '\\', 'é', 'ß', '✓', '中', '😀', '\u{10ffff}'];
    let seed = 12345;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const texts = Array.from({ length: 1000 }, (_, i) => {
      const length = i === 0 ? 0 : i % 250 === 0 ? 30_000 + random(40_000) : random(300);
      let text = '';
      for (let k = 0; k < length; k++) text += alphabet[random(alphabet.length)];
      return text;
    });
    await Promise.all(texts.map((text) => ws.send(text)));
    await until(() => got.length === texts.length, 'every message');
    assert.deepEqual(got, texts);
    assert.deepEqual(recorder.closes, []);
  });
});
