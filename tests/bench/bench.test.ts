import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import zlib from 'node:zlib';
import { dispatchBodies, guildCreate, messageCreate } from '../../bench/fixtures.js';
import { endsWithSyncFlush, syncStep } from '../../bench/sync-zlib.js';
import { idleTable, parseIdleReport, type IdleOptions } from '../../bench/idle.js';
import type { IdleReport } from '../../bench/scenario.js';
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

describe('bench/idle marginal figures', () => {
  const report = (rss: number, heap: number, marginal: IdleReport['marginal']): IdleReport => ({
    sessions: 100, readyMs: 50, rssPerSessionKB: rss, heapPerSessionKB: heap, marginal,
  });
  const options: IdleOptions = {
    runs: 2, sessions: 100, heartbeatInterval: 2000, settleMs: 5000, compressions: ['none'], timeoutMs: 1000,
    contenders: [
      { name: 'raw', label: 'raw', compressions: ['none'], sendPath: true },
      { name: 'lib', label: 'lib', compressions: ['none'], sendPath: true },
      { name: 'old', label: 'old', compressions: ['none'], sendPath: false },
    ],
  };

  it('parses a report with and without a second batch, and rejects one without the first batch', () => {
    const base = { sessions: 100, readyMs: 50, rssPerSessionKB: 100, heapPerSessionKB: 12 };
    assert.deepEqual(parseIdleReport({ ...base, marginal: { ok: true, rssPerSessionKB: 60, heapPerSessionKB: 4 } }).marginal, {
      ok: true, rssPerSessionKB: 60, heapPerSessionKB: 4,
    });
    assert.deepEqual(parseIdleReport({ ...base, marginal: { ok: false, error: 'no' } }).marginal, { ok: false, error: 'no' });
    assert.throws(() => parseIdleReport({ ...base, marginal: { ok: true, rssPerSessionKB: 60 } }), TypeError);
    assert.throws(() => parseIdleReport({ sessions: 100, readyMs: 50, rssPerSessionKB: 100, marginal: { ok: false, error: 'no' } }), TypeError);
  });

  it('shows marginal figures and their ratio to raw beside the first-batch ones, and says where one is missing', () => {
    const series: Series<IdleReport> = {
      runs: new Map([
        ['raw', [report(100, 10, { ok: true, rssPerSessionKB: 40, heapPerSessionKB: 2 }), report(100, 10, { ok: true, rssPerSessionKB: 40, heapPerSessionKB: 2 })]],
        ['lib', [report(120, 15, { ok: true, rssPerSessionKB: 60, heapPerSessionKB: 3 }), report(120, 15, { ok: true, rssPerSessionKB: 60, heapPerSessionKB: 3 })]],
        ['old', [report(110, 20, { ok: false, error: 'cannot connect twice' }), report(110, 20, { ok: false, error: 'cannot connect twice' })]],
      ]),
      errors: new Map(),
    };
    const lines = idleTable({ compression: 'none', series }, options).split('\n');
    const cells = (label: string): string[] => (lines.find((l) => l.startsWith(`| ${label} `)) ?? '').split('|').slice(1, -1).map((c) => c.trim());
    assert.deepEqual(cells('raw').slice(7), ['1.00x', '1.00x', '40.0', '2.0', '1.00x', '1.00x']);
    assert.deepEqual(cells('lib').slice(7), ['1.20x', '1.50x', '60.0', '3.0', '1.50x', '1.50x']);
    assert.deepEqual(cells('old').slice(7), ['1.10x', '2.00x', '–', '–', '–', '–']);
    assert.ok(lines.some((l) => l.includes('old: no marginal figure in 2 of 2 runs') && l.includes('cannot connect twice')));
    assert.ok(!lines.some((l) => l.includes('lib: no marginal figure')));
  });
});
