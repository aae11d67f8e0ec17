import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SendLog } from '../../lib/send-log.js';

describe('SendLog', () => {
  it('counts the frames of the last window and when the oldest leaves it, while growing to capacity', () => {
    const log = new SendLog(120, 60_000);
    assert.equal(log.count(0), 0);
    assert.equal(log.resetTime(0), 0);
    // 150 frames, one every 100 ms: the ring grows 8 -> 16 -> ... -> 120, then wraps.
    for (let i = 0; i < 150; i++) log.record(1000 + i * 100);
    const now = 1000 + 149 * 100;
    assert.equal(log.count(now), 120, 'keeps the newest 120');
    assert.equal(log.resetTime(now), 1000 + 30 * 100 + 60_000, 'the oldest kept is frame 30');
    assert.equal(log.count(1000 + 30 * 100 + 60_000), 119, 'frame 30 has left the window');
    assert.equal(log.count(now + 60_000), 0);
  });

  it('keeps exact counts below capacity across growth', () => {
    const log = new SendLog(120, 60_000);
    for (let i = 0; i < 20; i++) log.record(i);
    assert.equal(log.count(19), 20);
    assert.equal(log.resetTime(19), 60_000);
    log.clear();
    assert.equal(log.count(19), 0);
  });
});
