/**
 * How long `bot.connect()` takes to bring N shards to READY against the GatewaySimulator with
 * `max_concurrency` 16 and Discord's real 5 s identify window, beside the theoretical minimum
 * `(ceil(N / max_concurrency) - 1) * 5 s` (the first bucket round starts at once, each further
 * round waits one window). Once with the default `MemoryRateLimiter`, once with a
 * `RedisRateLimiter` holding the identify buckets (as a cluster of processes would), against a
 * local redis-server started here. "refused" counts identifies the simulator answered with op 9
 * (too early for their bucket): each costs that shard a 1-5 s wait and another window.
 * "client floor" is the same with the client's own spacing (`IDENTIFY_INTERVAL_MS`: the window
 * plus a margin against network jitter, since the gateway measures arrivals).
 * The `memory+margin` row widens that spacing by `--margin` ms more (default 0: off), through a
 * limiter that rewrites the `identify:*` rules it is given, to try other margins.
 * Then the acquire latency of the two limiters, from `bench/ratelimit.ts`.
 *
 * Run: `npx tsx bench/shards.ts [--shards 32,64] [--limiters memory,redis] [--margin 50] [--no-acquire]`
 * (about a minute with the defaults: wall time is mostly the identify windows themselves).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import {
  Client, GatewayIntentBits, GatewayOpcodes, IDENTIFY_INTERVAL_MS, MemoryRateLimiter, RedisRateLimiter,
  type AcquireOptions, type Bucket, type BucketRule, type RateLimiter,
} from '../lib/index.js';
import { GatewaySimulator } from '../lib/testing/index.js';
import { startRedisServer, type RedisServer } from '../tests/helpers/redis-server.js';
import { renderTable } from './table.js';

const MAX_CONCURRENCY = 16;
const WINDOW_MS = 5000;
const TOKEN = 'bench-token';

const { values } = parseArgs({
  options: {
    shards: { type: 'string', default: '32,64' },
    limiters: { type: 'string', default: 'memory,redis' },
    margin: { type: 'string', default: '0' },
    'no-acquire': { type: 'boolean', default: false },
  },
});
const shardCounts = values.shards.split(',').map(Number);
if (shardCounts.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--shards: positive integers, got ${values.shards}`);
const limiterNames = values.limiters.split(',');
const LIMITERS = ['memory', 'redis', 'memory+margin'];
for (const name of limiterNames) if (!LIMITERS.includes(name)) throw new Error(`--limiters: some of ${LIMITERS.join(', ')}, got ${name}`);
const margin = Number(values.margin);
if (!Number.isFinite(margin) || margin < 0) throw new Error(`--margin: ms >= 0, got ${values.margin}`);
if (margin > 0 && !limiterNames.includes('memory+margin')) limiterNames.push('memory+margin');

/** Passes every call on, with the identify buckets' interval widened by `margin` ms. */
class IdentifyMargin implements RateLimiter {
  constructor(private readonly inner: RateLimiter, private readonly margin: number) {}

  acquire(rule: BucketRule, options?: AcquireOptions): Promise<void> {
    return this.inner.acquire(rule.id.startsWith('identify:') ? { ...rule, interval: rule.interval + this.margin } : rule, options);
  }

  getBucket(id: string): Promise<Bucket | undefined> {
    return this.inner.getBucket(id);
  }
}

function makeLimiter(name: string, run: number): RateLimiter {
  if (name === 'redis') return new RedisRateLimiter({ redis: redis!, prefix: `bench:shards:${process.pid}:${run}:` });
  if (name === 'memory+margin') return new IdentifyMargin(new MemoryRateLimiter(), margin);
  return new MemoryRateLimiter();
}

interface Result {
  ms: number;
  refused: number;
}

/** One cold start of `shards` shards; the limiter is fresh (or its keys are) every time. */
async function startAll(shards: number, limiter: RateLimiter): Promise<Result> {
  const sim = await GatewaySimulator.create({ token: TOKEN, shards, maxConcurrency: MAX_CONCURRENCY, guilds: shards, recordFrames: false });
  let refused = 0;
  sim.on('frame', (f) => { if (f.direction === 'out' && f.op === GatewayOpcodes.InvalidSession) refused++; });
  const bot = new Client({ token: TOKEN, intents: GatewayIntentBits.Guilds, apiURL: sim.apiURL, rateLimiter: limiter });
  bot.on('error', () => {});
  try {
    // The answer of /gateway/bot is fetched first, so the clock covers identifies only.
    await bot.getGatewayBot();
    const start = performance.now();
    await bot.connect();
    return { ms: performance.now() - start, refused };
  } finally {
    await bot.close();
    await sim.close();
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

let redisServer: RedisServer | undefined;
let redis: Redis | undefined;
if (limiterNames.includes('redis')) {
  try {
    redisServer = await startRedisServer();
    redis = new Redis(redisServer.url);
  } catch (error) {
    console.log(`(redis rows skipped: ${(error as Error).message})`);
  }
}

try {
  const rows: string[][] = [];
  let run = 0;
  for (const shards of shardCounts) {
    const rounds = Math.ceil(shards / MAX_CONCURRENCY) - 1;
    const minimum = rounds * WINDOW_MS;
    for (const name of limiterNames) {
      if (name === 'redis' && !redis) continue;
      const label = name === 'memory+margin' ? `memory, +${margin} ms` : name;
      process.stdout.write(`${shards} shards, ${label} limiter... `);
      const result = await startAll(shards, makeLimiter(name, run++));
      console.log(seconds(result.ms));
      const floor = rounds * (IDENTIFY_INTERVAL_MS + (name === 'memory+margin' ? margin : 0));
      rows.push([`${shards}`, label, seconds(result.ms), seconds(minimum), seconds(floor), `+${seconds(result.ms - minimum)}`, `${result.refused}`]);
    }
  }
  console.log(`\nTime until every shard is READY (max_concurrency ${MAX_CONCURRENCY}, ${WINDOW_MS / 1000} s identify window)\n`);
  console.log(renderTable(['shards', 'identify limiter', 'all READY', 'theoretical min', 'client floor', 'over min', 'refused (op 9)'], rows));
} finally {
  redis?.disconnect();
  await redisServer?.stop();
}

if (!values['no-acquire']) {
  console.log('\nAcquire latency (bench/ratelimit.ts, 3 runs):\n');
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(new URL('./ratelimit.ts', import.meta.url)), '3'], { stdio: 'inherit' });
  const [code] = await once(child, 'exit');
  if (code !== 0) process.exitCode = 1;
}
