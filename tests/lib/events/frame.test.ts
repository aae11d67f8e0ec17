import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFrame, frameSize } from '../../../lib/events/frame.js';
import { UpdateStatusData } from '../../../lib/events/update-status.js';
import { Heartbeat } from '../../../lib/events/heartbeat.js';
import { PayloadTooLargeError } from '../../../lib/errors.js';
import { MAX_SEND_FRAME_BYTES } from '../../../types/opcodes.js';

/** A presence whose frame is `bytes` long, padded with `unit` (1, 2, 3 or 4 UTF-8 bytes each). */
function presenceOfSize(bytes: number, unit = 'a'): UpdateStatusData {
  const make = (name: string): UpdateStatusData => new UpdateStatusData({ since: null, activities: [{ name, type: 0 }], status: 'online', afk: false });
  const overhead = frameSize(make(''));
  const unitBytes = Buffer.byteLength(unit);
  const rest = bytes - overhead;
  const name = unit.repeat(Math.floor(rest / unitBytes)) + 'a'.repeat(rest % unitBytes);
  const event = make(name);
  assert.equal(frameSize(event), bytes);
  return event;
}

describe('encodeFrame', () => {
  it('writes {"op":N,"d":...} in one go', () => assert.equal(encodeFrame(new Heartbeat(3)), '{"op":1,"d":3}'));

  it('accepts a frame of exactly 4096 bytes', () => {
    assert.equal(Buffer.byteLength(encodeFrame(presenceOfSize(MAX_SEND_FRAME_BYTES))), 4096);
  });

  it('refuses a frame of 4097 bytes, reporting op, size and limit', () => {
    assert.throws(() => encodeFrame(presenceOfSize(4097)), (e: unknown) =>
      e instanceof PayloadTooLargeError && e.op === 3 && e.size === 4097 && e.limit === 4096);
  });

  it('counts 3-byte characters: 1366 of them are too many', () => {
    assert.throws(() => encodeFrame(presenceOfSize(4097, '€')), PayloadTooLargeError);
    assert.equal(Buffer.byteLength(encodeFrame(presenceOfSize(4096, '€'))), 4096);
  });

  it('counts surrogate pairs as 4 bytes', () => {
    assert.throws(() => encodeFrame(presenceOfSize(4097, '😀')), PayloadTooLargeError);
    assert.equal(Buffer.byteLength(encodeFrame(presenceOfSize(4096, '😀'))), 4096);
  });

  it('refuses frames longer than 4096 characters', () => {
    assert.throws(() => encodeFrame(presenceOfSize(10_000)), (e: unknown) => e instanceof PayloadTooLargeError && e.size === 10_000);
  });
});

describe('frameSize', () => {
  it('measures without refusing', () => assert.equal(frameSize(presenceOfSize(5000)), 5000));
});
