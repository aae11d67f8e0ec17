import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from '../../lib/backoff.js';

describe('Backoff', () => {
  it('doubles from 1 s to a 60 s cap, each delay between half and all of the nominal one', () => {
    const nominal = [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000];
    for (const r of [0, 0.5, 1]) {
      const b = new Backoff(1000, 60_000, () => r);
      const delays = nominal.map(() => b.next());
      assert.deepEqual(delays, nominal.map((n) => Math.round(n / 2 + (n / 2) * r)));
    }
  });

  it('counts failures and starts over after reset', () => {
    const b = new Backoff(1000, 60_000, () => 1);
    b.next();
    b.next();
    assert.equal(b.attempts, 2);
    b.reset();
    assert.equal(b.attempts, 0);
    assert.equal(b.next(), 1000);
  });
});
