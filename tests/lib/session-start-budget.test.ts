import { describe, it, mock, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { SessionStartBudget } from '../../lib/session-start-budget.js';

const flush = async (): Promise<void> => { for (let i = 0; i < 10; i++) await Promise.resolve(); };

describe('SessionStartBudget', () => {
  afterEach(() => mock.timers.reset());

  function budget(remainingAfterReset: number) {
    let refreshes = 0;
    const warnings: string[] = [];
    const b = new SessionStartBudget({
      refresh: async () => { refreshes++; return { total: 1000, remaining: remainingAfterReset, reset_after: 86_400_000, max_concurrency: 1 }; },
      warn: (m) => warnings.push(m),
    });
    return { b, refreshes: () => refreshes, warnings };
  }

  it('takes one start per identify and waits for the reset when none is left', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    const { b, warnings } = budget(1000);
    b.update({ total: 1000, remaining: 1, reset_after: 60_000, max_concurrency: 1 }, 0);
    await b.take();
    assert.equal(b.left, 0);
    let taken = false;
    void b.take().then(() => { taken = true; });
    await flush();
    assert.equal(taken, false);
    assert.match(warnings[0]!, /wait 60 s/);
    mock.timers.tick(60_000);
    await flush();
    assert.equal(taken, true);
    assert.equal(b.left, 999);
  });

  it('available() waits like take() but takes nothing', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    const { b } = budget(5);
    b.update({ total: 1000, remaining: 2, reset_after: 60_000, max_concurrency: 1 }, 0);
    await b.available();
    await b.available();
    assert.equal(b.left, 2);
  });

  it('waiters woken by the reset share one refetch, and every one of them is counted', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    const { b, refreshes } = budget(5);
    b.update({ total: 1000, remaining: 0, reset_after: 60_000, max_concurrency: 1 }, 0);
    const takes = Array.from({ length: 5 }, () => b.take());
    await flush();
    mock.timers.tick(60_000);
    await Promise.all(takes);
    assert.equal(refreshes(), 1);
    assert.equal(b.left, 0, 'five fresh starts, five taken');
  });
});
