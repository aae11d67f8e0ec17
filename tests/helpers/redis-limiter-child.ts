/**
 * A separate process sharing a Redis bucket, for tests/lib/ratelimit/redis.test.ts.
 * argv: url bucketId limit interval count. Prints `ready`, waits for a line on stdin, takes
 * `count` units at once, prints the grant times (JSON array of epoch ms) and exits.
 */
import { Redis } from 'ioredis';
import { RedisRateLimiter } from '../../lib/ratelimit/redis.js';

const [url = '', id = '', limit = '1', interval = '1000', count = '1'] = process.argv.slice(2);
const redis = new Redis(url, { lazyConnect: true });
await redis.connect();
const limiter = new RedisRateLimiter({ redis });
const rule = { id, limit: Number(limit), interval: Number(interval) };
process.stdout.write('ready\n');
process.stdin.once('data', () => {
  void Promise.all(Array.from({ length: Number(count) }, () => limiter.acquire(rule).then(() => Date.now()))).then((times) => {
    process.stdout.write(`${JSON.stringify(times)}\n`);
    redis.disconnect();
    process.stdin.destroy();
  });
});
