import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { after, describe, test } from 'node:test';
import { WebSocketServer, type WebSocket as ServerSocket } from 'ws';
import { GatewayConnection, type ConnectionListener } from '../../lib/connection.js';
import type { GatewayProtocolError } from '../../lib/errors.js';
import type { GatewayFrame } from '../../types/payloads.js';

const LIMIT = { timeout: 10_000 };

/** Records what a connection reports. */
class Owner implements ConnectionListener {
  readonly frames: GatewayFrame[] = [];
  readonly errors: { message: string; fatal: boolean }[] = [];
  readonly closes: { code: number; reason: string }[] = [];

  connectionFrame(_conn: GatewayConnection, frame: GatewayFrame): void {
    this.frames.push(frame);
  }

  connectionError(_conn: GatewayConnection, error: GatewayProtocolError, fatal: boolean): void {
    this.errors.push({ message: error.message, fatal });
  }

  connectionClosed(_conn: GatewayConnection, code: number, reason: string): void {
    this.closes.push({ code, reason });
  }
}

const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const tick = (ms = 20): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (predicate()) return;
    await tick(5);
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** A ws server, a GatewayConnection to it, and the server side of that connection. */
async function pair(compression: 'none' | 'zlib-stream' = 'none'): Promise<{ conn: GatewayConnection; owner: Owner; peer: ServerSocket }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  cleanups.push(() => new Promise<void>((resolve) => {
    for (const client of server.clients) client.terminate();
    server.close(() => resolve());
  }));
  const peer = new Promise<ServerSocket>((resolve) => server.once('connection', resolve));
  const owner = new Owner();
  const conn = new GatewayConnection(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/?v=10&encoding=json`, compression, owner);
  cleanups.push(() => conn.terminate());
  const socket = await peer;
  await until(() => conn.open, 'the handshake');
  return { conn, owner, peer: socket };
}

/** Frames a binary message by hand so that the test decides where the TCP reads split. */
function binaryFrame(payload: Buffer): Buffer {
  assert.ok(payload.length >= 126 && payload.length < 0x10000);
  const header = Buffer.from([0x82, 126, 0, 0]);
  header.writeUInt16BE(payload.length, 2);
  return Buffer.concat([header, payload]);
}

describe('GatewayConnection', () => {
  test('text frames are parsed; undecodable ones are fatal, frames without an op are not', LIMIT, async () => {
    const { conn, owner, peer } = await pair();
    peer.send('{"op":10,"d":{"heartbeat_interval":41250}}');
    peer.send('{"op":');
    peer.send('{"d":1}');
    peer.send('{"op":11}');
    await until(() => owner.frames.length === 2, 'two frames');
    assert.deepEqual(owner.frames, [{ op: 10, d: { heartbeat_interval: 41250 } }, { op: 11 }]);
    assert.deepEqual(owner.errors.map((e) => e.fatal), [true, false]);
    assert.equal(conn.open, true);
  });

  test('zlib-stream: a message split over two WebSocket messages that each came in pieces decodes whole', LIMIT, async () => {
    const { owner, peer } = await pair('zlib-stream');
    const deflate = zlib.createDeflate();
    const compress = (text: string): Promise<Buffer> => new Promise((resolve) => {
      const out: Buffer[] = [];
      const onData = (chunk: Buffer): number => out.push(chunk);
      deflate.on('data', onData);
      deflate.write(text);
      deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        deflate.off('data', onData);
        resolve(Buffer.concat(out));
      });
    });
    cleanups.push(() => deflate.close());
    // Incompressible text, so the first WebSocket message is large and the second no larger:
    // the second reuses the read buffer the first was assembled in.
    let seed = 7;
    const noise = Array.from({ length: 3000 }, () => {
      seed = (seed * 48271) % 2147483647;
      return String.fromCharCode(33 + (seed % 90));
    }).join('').replaceAll('"', '#').replaceAll('\\', '/');
    const text = JSON.stringify({ op: 0, s: 1, t: 'MESSAGE_CREATE', d: { content: noise } });
    const compressed = await compress(text);
    const cut = Math.floor(compressed.length * 0.6);
    const raw = (peer as unknown as { _socket: import('node:net').Socket })._socket;
    const first = binaryFrame(compressed.subarray(0, cut));
    const second = binaryFrame(compressed.subarray(cut));
    for (const part of [first.subarray(0, 100), first.subarray(100), second.subarray(0, 100), second.subarray(100)]) {
      raw.write(part);
      await tick();
    }
    const next = await compress('{"op":11}');
    peer.send(next);
    await until(() => owner.frames.length === 2 || owner.errors.length > 0, 'the frames');
    assert.deepEqual(owner.errors, []);
    assert.deepEqual(owner.frames, [JSON.parse(text), { op: 11 }]);
  });

  test('close() reports our code at once and only once, though the server answers later', LIMIT, async () => {
    const { conn, owner, peer } = await pair();
    const seen = new Promise<number>((resolve) => peer.once('close', (code) => resolve(code)));
    conn.close(4900, 'zombie');
    assert.deepEqual(owner.closes, [{ code: 4900, reason: 'zombie' }]);
    assert.equal(conn.open, false);
    assert.equal(await seen, 4900);
    await tick(50);
    assert.equal(owner.closes.length, 1);
  });

  test("the server's close code reaches the owner", LIMIT, async () => {
    const { owner, peer } = await pair();
    peer.close(4014, 'Disallowed intent(s).');
    await until(() => owner.closes.length > 0, 'the close');
    assert.deepEqual(owner.closes, [{ code: 4014, reason: 'Disallowed intent(s).' }]);
  });

  test('terminate() reports 1006 once', LIMIT, async () => {
    const { conn, owner } = await pair();
    conn.terminate();
    conn.close(1000);
    await tick(50);
    assert.deepEqual(owner.closes, [{ code: 1006, reason: 'terminated' }]);
  });
});
