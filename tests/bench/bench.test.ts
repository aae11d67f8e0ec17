import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import zlib from 'node:zlib';
import { dispatchBodies, guildCreate, messageCreate } from '../../bench/fixtures.js';
import { endsWithSyncFlush, syncStep } from '../../bench/sync-zlib.js';
import { pairedRatio, type Series } from '../../bench/series.js';
import { median } from '../../bench/table.js';

describe('bench/sync-zlib syncStep', () => {
  const messages = [guildCreate(0, 400), ...dispatchBodies('message', 50).map((d) => JSON.parse(d)), guildCreate(1, 400)].map((d) => JSON.stringify(d));

  it('round-trips a zlib-stream (one context, Z_SYNC_FLUSH per message), messages larger than the initial buffer included', () => {
    const deflate = syncStep(zlib.createDeflate(), zlib.constants.Z_SYNC_FLUSH);
    const inflate = syncStep(zlib.createInflate(), zlib.constants.Z_SYNC_FLUSH);
    for (const message of messages) {
      const frame = Buffer.from(deflate(Buffer.from(message)));
      assert.ok(endsWithSyncFlush(frame));
      assert.equal(inflate(frame).toString(), message);
    }
    assert.ok(messages[0] !== undefined && messages[0].length > 128 * 1024);
  });

  it('keeps the context between steps: later frames do not decode on a fresh context', () => {
    const deflate = syncStep(zlib.createDeflate(), zlib.constants.Z_SYNC_FLUSH);
    deflate(Buffer.from(messages[1] ?? ''));
    const second = Buffer.from(deflate(Buffer.from(messages[2] ?? '')));
    const fresh = syncStep(zlib.createInflate(), zlib.constants.Z_SYNC_FLUSH);
    assert.throws(() => fresh(second));
  });

  it('round-trips a zstd-stream (one context, flush per message)', () => {
    const compress = syncStep(zlib.createZstdCompress(), zlib.constants.ZSTD_e_flush);
    const decompress = syncStep(zlib.createZstdDecompress(), zlib.constants.ZSTD_e_continue);
    for (const message of messages) {
      assert.equal(decompress(Buffer.from(compress(Buffer.from(message)))).toString(), message);
    }
  });

  it('recognizes the zlib-stream suffix only at the end', () => {
    assert.equal(endsWithSyncFlush(Uint8Array.from([1, 0, 0, 0xff, 0xff])), true);
    assert.equal(endsWithSyncFlush(Uint8Array.from([0, 0, 0xff, 0xff, 1])), false);
    assert.equal(endsWithSyncFlush(Uint8Array.from([0, 0xff, 0xff])), false);
  });
});

describe('bench/fixtures', () => {
  it('is deterministic and varied', () => {
    assert.deepEqual(messageCreate(7), messageCreate(7));
    assert.notEqual(messageCreate(7).id, messageCreate(8).id);
    assert.deepEqual(dispatchBodies('guild', 2), dispatchBodies('guild', 2));
  });

  it('has the sizes the README states: MESSAGE_CREATE about 1 KB, GUILD_CREATE about 170 KB', () => {
    const messages = dispatchBodies('message', 2000);
    const mean = messages.reduce((sum, m) => sum + Buffer.byteLength(m), 0) / messages.length;
    assert.ok(mean > 900 && mean < 1500, `mean MESSAGE_CREATE ${mean} bytes`);
    const guild = Buffer.byteLength(JSON.stringify(guildCreate(0)));
    assert.ok(guild > 120_000 && guild < 250_000, `GUILD_CREATE ${guild} bytes`);
  });
});

describe('bench statistics', () => {
  it('takes the median of odd and even counts', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.ok(Number.isNaN(median([])));
  });

  it('pairs ratios by run and skips runs where either side failed', () => {
    const series: Series<number> = {
      runs: new Map([
        ['raw', [100, 100, undefined, 200]],
        ['x', [90, 50, 70, 220]],
      ]),
      errors: new Map(),
    };
    // Ratios 0.9, 0.5, 1.1 (run 3 has no raw figure): median 0.9.
    assert.equal(pairedRatio(series, 'x', 'raw', (v) => v), 0.9);
  });
});
