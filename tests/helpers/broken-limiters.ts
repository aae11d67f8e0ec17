/**
 * Runs the RateLimiter conformance suite against deliberately broken limiters, so
 * tests/lib/testing/conformance.test.ts can check that each flaw makes the suite fail.
 * argv[2] names the flaw.
 */
import { MemoryRateLimiter } from '../../lib/ratelimit/memory.js';
import type { AcquireOptions, BucketRule } from '../../lib/ratelimit/types.js';
import { testRateLimiter } from '../../lib/testing/conformance.js';

/** Grants one unit more per window than the rule allows. */
class OverGranting extends MemoryRateLimiter {
  override acquire(rule: BucketRule, options?: AcquireOptions): Promise<void> {
    return super.acquire({ ...rule, limit: rule.limit + 1 }, options);
  }
}

/** Ignores abort signals. */
class Unabortable extends MemoryRateLimiter {
  override acquire(rule: BucketRule): Promise<void> {
    return super.acquire(rule);
  }
}

/** Serves a bucket's waiters newest first. */
class LastInFirstOut extends MemoryRateLimiter {
  readonly #stacks = new Map<string, (() => void)[]>();
  override acquire(rule: BucketRule, options?: AcquireOptions): Promise<void> {
    const stack = this.#stacks.get(rule.id) ?? [];
    this.#stacks.set(rule.id, stack);
    return new Promise<void>((resolve, reject) => {
      stack.push(resolve);
      super.acquire(rule, options).then(() => stack.pop()?.(), reject);
    });
  }
}

/** Shares one bucket among all ids. */
class SingleBucket extends MemoryRateLimiter {
  override acquire(rule: BucketRule, options?: AcquireOptions): Promise<void> {
    return super.acquire({ ...rule, id: 'everything' }, options);
  }
}

const flaws = { OverGranting, Unabortable, LastInFirstOut, SingleBucket };
const name = process.argv[2] ?? '';
const Limiter = flaws[name as keyof typeof flaws];
if (Limiter === undefined) throw new Error(`unknown flaw ${name}`);
testRateLimiter(name, () => new Limiter(), { fakeTimers: true });
