import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import zlib from 'node:zlib';
import { createAsyncEncoder, createEncoder, type FrameEncoder } from '../../../../lib/testing/simulator/encoders.js';

/** Decodes each body through one long-lived decompression context, in order. */
function decoder(compression: 'zlib-stream' | 'zstd-stream'): (body: Buffer) => Promise<string> {
  const stream = compression === 'zlib-stream' ? zlib.createInflate() : zlib.createZstdDecompress();
  let chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return (body) =>
    new Promise((resolve, reject) =>
      stream.write(body, (error) => {
        if (error) return reject(error);
        resolve(Buffer.concat(chunks).toString('utf8'));
        chunks = [];
      }),
    );
}

/** Encodes every message and collects the bodies in delivery order. */
function encodeAll(encoder: FrameEncoder, messages: readonly string[]): Promise<Buffer[]> {
  const bodies: Buffer[] = [];
  for (const m of messages) {
    encoder.encode(m, (body) => {
      assert.ok(Buffer.isBuffer(body), 'compressed bodies are binary');
      bodies.push(body);
    });
  }
  return new Promise((resolve) => encoder.whenIdle(() => resolve(bodies)));
}

const FACTORIES = { sync: createEncoder, async: createAsyncEncoder } as const;

describe('simulator transport encoders', () => {
  for (const compression of ['zlib-stream', 'zstd-stream'] as const) {
    for (const [kind, create] of Object.entries(FACTORIES)) {
      it(`${kind} ${compression}: one body per message, each decodable on its own through one context`, async () => {
        // Small, repetitive and one incompressible 300 KB message (larger than the output buffer).
        const messages = Array.from({ length: 200 }, (_, i) => JSON.stringify({ op: 0, s: i, t: 'X', d: { n: i, text: 'hello '.repeat(i % 7) } }));
        messages.splice(100, 0, JSON.stringify({ op: 0, s: -1, t: 'BIG', d: randomBytes(225_000).toString('base64') }));
        const encoder = create(compression);
        assert.equal(encoder.binary, true);
        const bodies = await encodeAll(encoder, messages);
        encoder.close();
        assert.equal(bodies.length, messages.length);
        if (compression === 'zlib-stream') {
          assert.ok(bodies.every((b) => b.subarray(-4).equals(Buffer.from([0, 0, 0xff, 0xff]))));
        }
        const decode = decoder(compression);
        for (const [i, body] of bodies.entries()) assert.equal(await decode(body), messages[i]);
        // The shared context pays off: later repetitive messages compress far below their size.
        const last = bodies.at(-1);
        assert.ok(last && last.length < (messages.at(-1)?.length ?? 0));
      });
    }
  }

  it('none: text passes through unchanged, synchronously', () => {
    const encoder = createEncoder('none');
    const out: (string | Buffer)[] = [];
    encoder.encode('{"op":11}', (b) => out.push(b));
    let idle = false;
    encoder.whenIdle(() => (idle = true));
    assert.deepEqual(out, ['{"op":11}']);
    assert.equal(idle, true);
    assert.equal(encoder.binary, false);
  });

  it('a closed encoder drops further messages', async () => {
    const encoder = createAsyncEncoder('zlib-stream');
    encoder.close();
    const bodies = await encodeAll(encoder, ['{"op":11}']);
    assert.equal(bodies.length, 0);
  });
});
