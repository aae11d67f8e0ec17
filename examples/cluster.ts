// needs: redis
/**
 * Shards spread over processes (or machines): each process runs a slice `{ ids, total }` of the
 * shard set, and all of them share two things through Redis:
 *
 * - the identify buckets (`RedisRateLimiter`): `identify:<shard_id % max_concurrency>` allows one
 *   identify per 5 s across every process, so slices started together still start bucket by
 *   bucket;
 * - the sessions (`RedisSessionStore`): a process that stops with a resumable close code (not
 *   1000/1001) leaves its sessions in Redis, and its replacement resumes them instead of
 *   identifying again, receiving what it missed meanwhile.
 *
 * This script is the coordinator: it starts a GatewaySimulator (4 shards, max_concurrency 2) and
 * two worker processes (this same file with the argument `worker`), A with shards 0 and 1, B with
 * 2 and 3. Both want buckets 0 and 1 at once, so one of them waits 5 s. Then A is replaced by a
 * new process, which resumes. Redis: `REDIS_URL` if set, else a `redis-server` from PATH.
 *
 * Run: `npx tsx examples/cluster.ts`
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { Client, GatewayIntentBits, RedisRateLimiter, RedisSessionStore, type ShardsOption } from '../lib/index.js';
import { GatewaySimulator } from '../lib/testing/index.js';
import { logger } from './support/example.js';
import { exampleRedis } from './support/redis.js';

/** What the coordinator tells a worker. */
interface WorkerConfig {
  name: string;
  redisURL: string;
  apiURL: string;
  token: string;
  shards: ShardsOption;
  /** Prefix of this run's keys, so runs sharing a Redis do not meet. */
  prefix: string;
  /** Epoch ms the log's clock starts at (the same in every process). */
  started: number;
}

/** Messages over the IPC channel. */
type ToWorker = { type: 'stop'; code: number };
type FromWorker = { type: 'connected' } | { type: 'stopped' };

const TOKEN = 'cluster-demo-token';

// ---- worker --------------------------------------------------------------------------------

async function worker(config: WorkerConfig): Promise<void> {
  const log = logger(`${config.name.padEnd(11)} `, config.started);
  const send = (message: FromWorker): void => void process.send?.(message);
  const redis = new Redis(config.redisURL);
  const store = new RedisSessionStore({ redis, prefix: `${config.prefix}session:` });
  const bot = new Client({
    token: config.token,
    intents: GatewayIntentBits.Guilds | GatewayIntentBits.GuildMessages | GatewayIntentBits.MessageContent,
    apiURL: config.apiURL,
    shards: config.shards,
    rateLimiter: new RedisRateLimiter({ redis, prefix: `${config.prefix}rl:` }),
    store,
  });
  bot.on('ready', (session, how) => log(`shard ${session.shard[0]} ${how === 'ready' ? 'READY (identified)' : 'RESUMED (no identify)'}`));
  bot.on('error', (error) => log(`error: ${error.message}`));
  bot.on('close', (event) => log(`shard ${event.shard} closed (${event.code} ${event.reason})`));
  bot.handle('MESSAGE_CREATE', (message, session) => log(`shard ${session.shard[0]} seq ${session.seq}: ${message.content}`));

  process.on('message', (message: ToWorker) => {
    if (message.type !== 'stop') return;
    void (async () => {
      // 1000 ends the sessions (and deletes them from the store); any other code keeps them resumable.
      await bot.close(message.code);
      await store.flush();
      redis.disconnect();
      log(`closed with ${message.code}${message.code === 1000 ? '' : ': sessions left resumable in Redis'}`);
      send({ type: 'stopped' });
      process.disconnect();
    })();
  });
  log(`starting shards ${JSON.stringify(config.shards)}`);
  await bot.connect();
  send({ type: 'connected' });
}

// ---- coordinator ---------------------------------------------------------------------------

class Worker {
  readonly child: ChildProcess;

  constructor(config: WorkerConfig) {
    this.child = fork(fileURLToPath(import.meta.url), ['worker', JSON.stringify(config)], { stdio: 'inherit' });
  }

  next(type: FromWorker['type']): Promise<void> {
    return new Promise((resolve, reject) => {
      const onMessage = (message: FromWorker): void => {
        if (message.type !== type) return;
        this.child.off('message', onMessage);
        this.child.off('exit', onExit);
        resolve();
      };
      const onExit = (code: number | null): void => reject(new Error(`worker exited (${code}) before '${type}'`));
      this.child.on('message', onMessage);
      this.child.once('exit', onExit);
    });
  }

  async stop(code: number): Promise<void> {
    const exited = once(this.child, 'exit');
    this.child.send({ type: 'stop', code } satisfies ToWorker);
    await exited;
  }
}

async function coordinator(): Promise<void> {
  const started = Date.now();
  const log = logger('coordinator ', started);
  const redis = await exampleRedis();
  log(`Redis from ${redis.origin}: ${redis.url}`);
  const sim = await GatewaySimulator.create({ token: TOKEN, shards: 4, maxConcurrency: 2, guilds: 8 });
  sim.on('identify', (e) => log(`gateway: identify of shard ${e.shard[0]} (bucket ${e.shard[0] % 2})`));
  sim.on('resume', (e) => log(`gateway: resume from seq ${e.seq}, ${e.replayed} missed dispatches replayed`));
  const workers: Worker[] = [];
  try {
    const base = { redisURL: redis.url, apiURL: sim.apiURL, token: TOKEN, prefix: `cluster-example:${randomUUID().slice(0, 8)}:`, started };
    const configA = { ...base, name: 'worker A', shards: { ids: [0, 1], total: 4 } };
    const a = new Worker(configA);
    const b = new Worker({ ...base, name: 'worker B', shards: { ids: [2, 3], total: 4 } });
    workers.push(a, b);
    await Promise.all([a.next('connected'), b.next('connected')]);
    log('all 4 shards are up');

    const say = (content: string): void => {
      for (const guild of sim.guilds) sim.dispatch('MESSAGE_CREATE', sim.fixtures.message({ guild_id: guild.id, content: `${content} (${guild.name})` }));
    };
    say('hello');
    await new Promise((resolve) => setTimeout(resolve, 300));

    log('replacing worker A (e.g. a deploy): it closes with 4000, so its sessions stay resumable');
    await a.stop(4000);
    say('sent while worker A is down');
    const replacement = new Worker({ ...configA, name: 'worker A2' });
    workers.push(replacement);
    await replacement.next('connected');
    await new Promise((resolve) => setTimeout(resolve, 300));

    log('shutting down: close with 1000 ends the sessions');
    await Promise.all([b.stop(1000), replacement.stop(1000)]);
  } finally {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill();
    await sim.close();
    await redis.stop();
  }
  log('done');
}

if (process.argv[2] === 'worker') await worker(JSON.parse(process.argv[3] ?? '{}') as WorkerConfig);
else await coordinator();
