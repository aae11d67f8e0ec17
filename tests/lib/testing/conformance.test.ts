import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const fixture = fileURLToPath(new URL('../../helpers/broken-limiters.ts', import.meta.url));

/** Runs the suite against one broken limiter in a child process; returns exit code and failed case names. */
async function runSuite(flaw: string): Promise<{ code: number | null; failed: string[] }> {
  // Without NODE_TEST_CONTEXT the child reports as a stand-alone run (TAP), not to this runner.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', '--test-reporter=tap', fixture, flaw], { stdio: ['ignore', 'pipe', 'ignore'], env });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const failed = [...output.matchAll(/^\s*not ok \d+ - (.+)$/gm)].map((m) => m[1]!.trim());
  return { code, failed };
}

// The MemoryRateLimiter passing the suite is tests/lib/ratelimit/memory.test.ts; here each flaw must be caught.
describe('testRateLimiter catches broken limiters', () => {
  const expectations: Record<string, string[]> = {
    OverGranting: ['never grants more than limit units within any window', 'getBucket reports limit, remaining, pending and reset'],
    Unabortable: [
      'abort removes a waiter, rejects it with the reason, and serves the others on time',
      'an already-aborted signal rejects at once and takes no unit',
    ],
    LastInFirstOut: ['serves the waiters of a bucket in request order'],
    SingleBucket: ['independent buckets do not block each other'],
  };
  for (const [flaw, cases] of Object.entries(expectations)) {
    it(`fails a limiter that is ${flaw}`, async () => {
      const { code, failed } = await runSuite(flaw);
      assert.notEqual(code, 0);
      for (const name of cases) assert.ok(failed.includes(name), `"${name}" failed (failed: ${failed.join('; ')})`);
    });
  }
});
