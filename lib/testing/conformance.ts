import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it, type TestContext } from 'node:test';
import type { BucketRule, RateLimiter } from '../ratelimit/types.js';

/**
 * Options of {@link testRateLimiter}.
 *
 * @category Testing
 */
export interface RateLimiterConformanceOptions<L extends RateLimiter = RateLimiter> {
  /**
   * Run in virtual time (node:test `mock.timers` for `setTimeout`, `setInterval` and `Date`),
   * advanced 1 ms at a time. Only for limiters whose clock and timers are this process's
   * (e.g. `MemoryRateLimiter`). Default false: real time.
   */
  fakeTimers?: boolean;
  /** Called after each case with the limiter the factory made (close clients, servers, ...). */
  cleanup?: (limiter: L) => void | Promise<void>;
  /**
   * Window length of the rules the cases use, in ms. Default 1000 with fake timers, 300 in real
   * time (every case takes at most about three windows, so the real-time suite stays short).
   */
  interval?: number;
  /**
   * How far, in ms, an observed grant time may be from the ideal one. Default 0 with fake
   * timers; in real time `max(20, interval / 4)`, because a grant is observed when its promise
   * settles, which trails the limiter's own decision (e.g. a Redis round trip) by a varying
   * amount. Any limiter that ignores the limit is still caught: it grants whole bursts at once,
   * a full window earlier than allowed.
   */
  tolerance?: number;
}

/** What the harness knows about one `acquire` call. */
interface Call {
  readonly index: number;
  /** Observed time of settlement (Date.now()), NaN while pending. */
  at: number;
  status: 'pending' | 'granted' | 'rejected';
  reason: unknown;
}

const VIRTUAL_START = 1_700_000_000_000;

/**
 * Registers node:test cases (`describe`/`it`) that check a {@link RateLimiter} against the
 * contract: never more than `limit` grants within any `interval` window, waiters of a bucket
 * served in request order, aborts that remove a waiter (rejecting with the signal's reason)
 * without delaying the rest, already-aborted signals rejected at once, independent buckets,
 * `getBucket` snapshots, and many concurrent callers. Each case uses fresh, randomly named
 * bucket ids, so a shared backend (e.g. one Redis) may be reused across cases and runs.
 *
 * @param name - names the `describe` block
 * @param factory - makes a fresh limiter for each case (called after fake timers are enabled)
 * @param options - see {@link RateLimiterConformanceOptions}
 *
 * @example
 * ```ts
 * // tests/my-limiter.test.ts, run with `node --test`
 * import { testRateLimiter } from 'disgate/testing';
 * testRateLimiter('MyLimiter', () => new MyLimiter(), { cleanup: (l) => l.close() });
 * ```
 *
 * @category Testing
 */
export function testRateLimiter<L extends RateLimiter>(
  name: string,
  factory: () => L | Promise<L>,
  options: RateLimiterConformanceOptions<L> = {},
): void {
  const fake = options.fakeTimers ?? false;
  const interval = options.interval ?? (fake ? 1000 : 300);
  const tolerance = options.tolerance ?? (fake ? 0 : Math.max(20, interval / 4));
  const runId = randomUUID().slice(0, 8);

  const test = (title: string, body: (h: Harness) => Promise<void>): void => {
    it(title, async (t) => {
      if (fake) t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: VIRTUAL_START });
      const limiter = await factory();
      try {
        await body(new Harness(t, limiter, fake, interval, tolerance, `conformance:${runId}:${randomUUID().slice(0, 8)}`));
      } finally {
        await options.cleanup?.(limiter);
      }
    });
  };

  describe(`RateLimiter conformance: ${name}`, () => {
    test('getBucket returns undefined for a bucket never used', async (h) => {
      assert.equal(await h.limiter.getBucket(h.id('unused')), undefined);
    });

    test('grants at once while the bucket has capacity', async (h) => {
      const rule = h.rule('burst', 3);
      const calls = [0, 1, 2].map((i) => h.acquire(rule, i));
      await h.within(h.tolerance, calls);
      assert.deepEqual(calls.map((c) => c.status), ['granted', 'granted', 'granted']);
    });

    test('never grants more than limit units within any window', async (h) => {
      const limit = 4;
      const rule = h.rule('window', limit);
      const start = Date.now();
      const calls = Array.from({ length: 3 * limit + 1 }, (_, i) => h.acquire(rule, i));
      await h.within(3 * interval + h.slack, calls);
      h.assertWindow(calls, limit);
      const last = Math.max(...calls.map((c) => c.at));
      assert.ok(last - start <= 3 * interval + h.slack, `the last grant came ${last - start} ms after the first request; expected about ${3 * interval}`);
    });

    test('serves the waiters of a bucket in request order', async (h) => {
      const rule = h.rule('order', 2);
      const order: number[] = [];
      const calls = Array.from({ length: 8 }, (_, i) => h.acquire(rule, i, undefined, () => order.push(i)));
      await h.within(3 * interval + h.slack, calls);
      assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7]);
    });

    test('abort removes a waiter, rejects it with the reason, and serves the others on time', async (h) => {
      const rule = h.rule('abort', 1);
      const first = h.acquire(rule, 0);
      await h.within(h.tolerance, [first]);
      const controller = new AbortController();
      const order: number[] = [];
      const second = h.acquire(rule, 1, undefined, () => order.push(1));
      const aborted = h.acquire(rule, 2, controller.signal, () => order.push(2));
      const fourth = h.acquire(rule, 3, undefined, () => order.push(3));
      await h.settle();
      assert.equal((await h.limiter.getBucket(rule.id))?.pending, 3);
      const reason = new Error('no longer needed');
      controller.abort(reason);
      await h.within(h.tolerance, [aborted]);
      assert.equal(aborted.status, 'rejected');
      assert.equal(aborted.reason, reason, 'rejects with exactly signal.reason');
      assert.equal((await h.limiter.getBucket(rule.id))?.pending, 2);
      await h.within(2 * interval + h.slack, [second, fourth]);
      assert.deepEqual(order, [1, 3]);
      h.assertNear(second.at - first.at, interval, 'second waiter');
      h.assertNear(fourth.at - first.at, 2 * interval, 'waiter behind the aborted one');
    });

    test('aborting the first waiter does not delay the next one', async (h) => {
      const rule = h.rule('abort-head', 1);
      const first = h.acquire(rule, 0);
      await h.within(h.tolerance, [first]);
      const controller = new AbortController();
      const head = h.acquire(rule, 1, controller.signal);
      const next = h.acquire(rule, 2);
      await h.sleep(interval / 2);
      controller.abort(new Error('gone'));
      await h.within(interval + h.slack, [head, next]);
      assert.equal(head.status, 'rejected');
      assert.equal(next.status, 'granted');
      h.assertNear(next.at - first.at, interval, 'waiter behind an aborted head');
    });

    test('an already-aborted signal rejects at once and takes no unit', async (h) => {
      const rule = h.rule('pre-aborted', 1);
      const reason = new Error('aborted before the call');
      const controller = new AbortController();
      controller.abort(reason);
      const aborted = h.acquire(rule, 0, controller.signal);
      await h.within(h.tolerance, [aborted]);
      assert.equal(aborted.status, 'rejected');
      assert.equal(aborted.reason, reason);
      const after = h.acquire(rule, 1);
      await h.within(h.tolerance, [after]);
      assert.equal(after.status, 'granted', 'the unit is still free');
    });

    test('independent buckets do not block each other', async (h) => {
      const a = h.rule('independent-a', 1);
      const b = h.rule('independent-b', 1);
      const a1 = h.acquire(a, 0);
      const a2 = h.acquire(a, 1);
      const b1 = h.acquire(b, 2);
      await h.within(h.tolerance, [a1, b1]);
      assert.equal(a2.status, 'pending', 'the second unit of bucket a waits for its window');
      await h.within(interval + h.slack, [a2]);
    });

    test('getBucket reports limit, remaining, pending and reset', async (h) => {
      const rule = h.rule('snapshot', 3);
      assert.equal(await h.limiter.getBucket(rule.id), undefined);
      const start = Date.now();
      const taken = [h.acquire(rule, 0), h.acquire(rule, 1)];
      await h.within(h.tolerance, taken);
      const partial = await h.limiter.getBucket(rule.id);
      assert.ok(partial, 'a used bucket has a snapshot');
      assert.equal(partial.id, rule.id);
      assert.equal(partial.limit, 3);
      assert.equal(partial.remaining, 1);
      assert.equal(partial.pending, 0);
      h.assertNear(partial.reset - start, interval, 'reset (epoch ms when the oldest grant leaves the window)');

      const more = [h.acquire(rule, 2), h.acquire(rule, 3), h.acquire(rule, 4)];
      await h.within(h.tolerance, [more[0]!]);
      await h.settle();
      const full = await h.limiter.getBucket(rule.id);
      assert.equal(full?.remaining, 0);
      assert.equal(full?.pending, 2);

      await h.within(interval + h.slack, more);
      await h.sleep(interval + h.slack);
      const idle = await h.limiter.getBucket(rule.id);
      if (idle !== undefined) {
        assert.equal(idle.remaining, idle.limit, 'an idle bucket has every unit free');
        assert.equal(idle.pending, 0);
        assert.equal(idle.reset, 0, 'reset is 0 when nothing was taken within the window');
      }
    });

    test('many concurrent acquirers over several buckets', async (h) => {
      const limit = 5;
      const rules = [0, 1, 2, 3].map((b) => h.rule(`many-${b}`, limit));
      const orders: number[][] = rules.map(() => []);
      const perBucket: Call[][] = rules.map(() => []);
      for (let i = 0; i < 3 * limit * rules.length; i++) {
        const b = i % rules.length;
        perBucket[b]!.push(h.acquire(rules[b]!, i, undefined, () => orders[b]!.push(i)));
      }
      await h.within(2 * interval + h.slack, perBucket.flat());
      perBucket.forEach((calls, b) => {
        h.assertWindow(calls, limit);
        assert.deepEqual(orders[b], calls.map((c) => c.index), `bucket ${b} served in request order`);
      });
    });
  });
}

/** Per-case helpers: bucket ids, recorded calls, and time that works the same faked or real. */
class Harness {
  /** Extra time allowed for a whole sequence to finish (late timers, round trips). */
  readonly slack: number;

  constructor(
    private readonly t: TestContext,
    readonly limiter: RateLimiter,
    private readonly fake: boolean,
    private readonly interval: number,
    readonly tolerance: number,
    private readonly prefix: string,
  ) {
    this.slack = fake ? Math.ceil(interval / 10) : interval;
  }

  id(label: string): string {
    return `${this.prefix}:${label}`;
  }

  rule(label: string, limit: number): BucketRule {
    return { id: this.id(label), limit, interval: this.interval };
  }

  acquire(rule: BucketRule, index: number, signal?: AbortSignal, onGrant?: () => void): Call {
    const call: Call = { index, at: Number.NaN, status: 'pending', reason: undefined };
    this.limiter.acquire(rule, signal ? { signal } : undefined).then(
      () => {
        call.at = Date.now();
        call.status = 'granted';
        onGrant?.();
      },
      (reason: unknown) => {
        call.at = Date.now();
        call.status = 'rejected';
        call.reason = reason;
      },
    );
    return call;
  }

  /** Lets pending promise callbacks (and, in real time, I/O) run without moving virtual time. */
  async settle(): Promise<void> {
    for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** Lets `ms` of time pass: virtual time moves 1 ms at a time so timers fire at their exact ms. */
  async sleep(ms: number): Promise<void> {
    if (!this.fake) {
      await new Promise<void>((resolve) => setTimeout(resolve, ms));
      return;
    }
    await this.settle();
    for (let i = 0; i < ms; i++) {
      this.t.mock.timers.tick(1);
      await this.settle();
    }
  }

  /** Waits until every call has settled, failing the case if that takes longer than `ms`. */
  async within(ms: number, calls: readonly Call[]): Promise<void> {
    const done = (): boolean => calls.every((c) => c.status !== 'pending');
    await this.settle();
    if (this.fake) {
      for (let i = 0; i < ms && !done(); i++) {
        this.t.mock.timers.tick(1);
        await this.settle();
      }
    } else {
      const deadline = Date.now() + ms + 50;
      while (!done() && Date.now() < deadline) await new Promise<void>((resolve) => setTimeout(resolve, 5));
    }
    const open = calls.filter((c) => c.status === 'pending').map((c) => c.index);
    assert.deepEqual(open, [], `calls still pending after ${ms} ms`);
  }

  /** Asserts that no `interval` window (as observed, minus the tolerance) holds more than `limit` grants. */
  assertWindow(calls: readonly Call[], limit: number): void {
    const times = calls.filter((c) => c.status === 'granted').map((c) => c.at).sort((a, b) => a - b);
    for (let i = 0; i + limit < times.length; i++) {
      const gap = times[i + limit]! - times[i]!;
      assert.ok(
        gap >= this.interval - this.tolerance,
        `grants ${i} and ${i + limit} are ${gap} ms apart: ${limit + 1} grants within one ${this.interval} ms window`,
      );
    }
  }

  /** Asserts that an observed duration is `expected` ms, within the tolerance (and a timer's ms). */
  assertNear(actual: number, expected: number, what: string): void {
    const low = expected - this.tolerance;
    const high = expected + this.tolerance + (this.fake ? 1 : this.interval / 4);
    assert.ok(actual >= low && actual <= high, `${what}: ${actual} ms, expected ${expected} ms (${low} to ${high})`);
  }
}
