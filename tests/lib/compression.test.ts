import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { createDecompressor } from '../../lib/compression.js';
import { GatewayProtocolError } from '../../lib/errors.js';

type Encoder = zlib.Deflate | zlib.ZstdCompress;

async function encodeAll(encoder: Encoder, flush: number, messages: string[]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const m of messages) {
    const chunks: Buffer[] = [];
    const onData = (c: Buffer): void => { chunks.push(c); };
    encoder.on('data', onData);
    encoder.write(m);
    await new Promise<void>((resolve) => encoder.flush(flush, () => resolve()));
    encoder.off('data', onData);
    out.push(Buffer.concat(chunks));
  }
  return out;
}

const messages = [
  JSON.stringify({ op: 10, d: { heartbeat_interval: 41250 } }),
  JSON.stringify({ op: 0, t: 'GUILD_CREATE', s: 1, d: { name: 'ünïcødé ✓ 𝄞', members: Array.from({ length: 3000 }, (_, i) => ({ id: String(i) })) } }),
  JSON.stringify({ op: 11 }),
];

describe('decompressors', () => {
  it('zlib-stream: one context across messages, partial frames buffered until 00 00 ff ff', async () => {
    const frames = await encodeAll(zlib.createDeflate(), zlib.constants.Z_SYNC_FLUSH, messages);
    const d = createDecompressor('zlib-stream');
    assert.equal(d.push(frames[0]!), messages[0]);
    const big = frames[1]!;
    assert.ok(big.length > 100);
    assert.equal(d.push(big.subarray(0, 40)), null);
    assert.equal(d.push(big.subarray(40, 80)), null);
    assert.equal(d.push(big.subarray(80)), messages[1]);
    assert.equal(d.push(frames[2]!), messages[2]);
    d.close();
  });

  it('zstd-stream: each frame continues the one stream', async () => {
    const frames = await encodeAll(zlib.createZstdCompress(), zlib.constants.ZSTD_e_flush, messages);
    const d = createDecompressor('zstd-stream');
    assert.deepEqual(frames.map((f) => d.push(f)), messages);
    d.close();
  });

  it('none: frames are the text', () => {
    assert.equal(createDecompressor('none').push(Buffer.from('{"op":11}')), '{"op":11}');
  });

  for (const kind of ['zlib-stream', 'zstd-stream'] as const) {
    it(`${kind}: a corrupt stream throws GatewayProtocolError, not a crash`, () => {
      const d = createDecompressor(kind);
      assert.throws(() => d.push(Buffer.from('garbage that is not compressed\x00\x00\xff\xff', 'latin1')), GatewayProtocolError);
      d.close();
    });

    it(`${kind}: output beyond the cap is refused (decompression bomb)`, async () => {
      const encoder = kind === 'zlib-stream' ? zlib.createDeflate() : zlib.createZstdCompress();
      const flush = kind === 'zlib-stream' ? zlib.constants.Z_SYNC_FLUSH : zlib.constants.ZSTD_e_flush;
      const [frame] = await encodeAll(encoder, flush, ['x'.repeat(4 * 1024 * 1024)]);
      assert.ok(frame!.length < 64 * 1024, 'highly compressible');
      const d = createDecompressor(kind, 1024 * 1024);
      assert.throws(() => d.push(frame!), GatewayProtocolError);
      d.close();
    });
  }
});
