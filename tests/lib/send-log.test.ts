import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SendLog } from '../../lib/send-log.js';

describe('SendLog', () => {
  it('counts the frames of the last window and when the oldest leaves it, keeping at most capacity', () => {
    const log = new SendLog(120, 60_000);
    assert.equal(log.count(0), 0);
    assert.equal(log.resetTime(0), 0);
    // 150 frames, one every 100 ms, all within one window: only the newest 120 are kept.
    for (let i = 0; i < 150; i++) log.record(1000 + i * 100);
    const now = 1000 + 149 * 100;
    assert.equal(log.count(now), 120, 'keeps the newest 120');
    assert.equal(log.resetTime(now), 1000 + 30 * 100 + 60_000, 'the oldest kept is frame 30');
    assert.equal(log.count(1000 + 30 * 100 + 60_000), 119, 'frame 30 has left the window');
    assert.equal(log.count(now + 60_000), 0);
  });

  it('keeps exact counts below capacity, and forgets everything on clear', () => {
    const log = new SendLog(120, 60_000);
    for (let i = 0; i < 20; i++) log.record(i);
    assert.equal(log.count(19), 20);
    assert.equal(log.resetTime(19), 60_000);
    log.clear();
    assert.equal(log.count(19), 0);
  });

  it('keeps only the frames inside the window, so a long-lived idle connection stays small', () => {
    const log = new SendLog(120, 60_000);
    // A day of heartbeats every 41.25 s: at most two of them are ever inside one window.
    for (let t = 0; t < 86_400_000; t += 41_250) {
      log.record(t);
      assert.ok(log.count(t) <= 2);
    }
    const kept = (log as unknown as { times: number[]; head: number });
    assert.ok(kept.times.length - kept.head <= 2, `kept ${kept.times.length - kept.head} frames`);
    assert.ok(kept.times.length <= 40, `the backing array grew to ${kept.times.length}`);
  });

  it('after the wall clock stepped backwards, counts frames as written no earlier than the one before', () => {
    const log = new SendLog(120, 60_000);
    log.record(100_000);
    log.record(40_000); // the clock stepped back 60 s: counted as written at 100 000
    log.record(41_000);
    assert.equal(log.count(41_000), 3, 'frames "from the future" still count');
    assert.equal(log.resetTime(41_000), 100_000 + 60_000, 'and leave the window no sooner than the newest');
    assert.equal(log.count(160_000), 0);
  });

  it('stays cheap with a budget of a million frames a minute', () => {
    const log = new SendLog(1_000_000, 60_000);
    for (let i = 0; i < 200_000; i++) {
      assert.ok(log.fits(i, i + 41_250, 41_250));
      log.record(i);
    }
    assert.equal(log.count(199_999), 60_000);
  });
});
