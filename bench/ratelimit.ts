/**
 * Acquire latency of MemoryRateLimiter vs RedisRateLimiter (against a local redis-server this
 * script starts itself). Run: `npx tsx bench/ratelimit.ts [runs]`.
 *
 * "sequential": one caller awaiting each acquire in turn (the cost a single send pays).
 * "burst": that many callers at once on one bucket (Redis grants a whole queue per script call).
 * Every bucket has capacity to spare, so this measures the limiter, not waiting.
 */
import { Redis } from 'ioredis';
import { MemoryRateLimiter } from '../lib/ratelimit/memory.js';
import { RedisRateLimiter } from '../lib/ratelimit/redis.js';
import type { RateLimiter } from '../lib/ratelimit/types.js';
import { startRedisServer } from '../tests/helpers/redis-server.js';

interface Case {
  name: string;
  limiter: RateLimiter;
  ops: number;
  burst: boolean;
}

const runs = Number(process.argv[2] ?? 7);
let bucketCounter = 0;

/** Ns per acquire for one run, on a fresh bucket with room for every op. */
async function run({ limiter, ops, burst }: Case): Promise<number> {
  const rule = { id: `bench:${process.pid}:${bucketCounter++}`, limit: ops, interval: 60_000 };
  const start = process.hrtime.bigint();
  if (burst) {
    await Promise.all(Array.from({ length: ops }, () => limiter.acquire(rule)));
  } else {
    for (let i = 0; i < ops; i++) await limiter.acquire(rule);
  }
  return Number(process.hrtime.bigint() - start) / ops;
}

function format(ns: number): string {
  return ns >= 1_000_000 ? `${(ns / 1_000_000).toFixed(2)} ms` : ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(0)} ns`;
}

const server = await startRedisServer();
const redis = new Redis(server.url);
try {
  const memory = new MemoryRateLimiter();
  const shared = new RedisRateLimiter({ redis });
  const cases: Case[] = [
    { name: 'memory  sequential', limiter: memory, ops: 100_000, burst: false },
    { name: 'memory  burst 1000', limiter: memory, ops: 1000, burst: true },
    { name: 'redis   sequential', limiter: shared, ops: 2000, burst: false },
    { name: 'redis   burst 1000', limiter: shared, ops: 1000, burst: true },
  ];
  console.log(`acquire latency, ${runs} runs each (per acquire: median / min)`);
  for (const c of cases) {
    await run({ ...c, ops: Math.min(c.ops, 500) }); // warm-up: JIT, script load, connection
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) samples.push(await run(c));
    samples.sort((a, b) => a - b);
    const median = samples[Math.floor(samples.length / 2)] ?? 0;
    console.log(`${c.name.padEnd(20)} ${format(median).padStart(10)} / ${format(samples[0] ?? 0).padStart(10)}   (${c.ops} acquires per run)`);
  }
} finally {
  redis.disconnect();
  await server.stop();
}
