/**
 * disgate, used the way its README shows: one `Client` with the blast server as `gatewayURL` and
 * `apiURL` (so `max_concurrency` comes from `GET /gateway/bot`, as in production), one
 * `bot.handle(name, handler)` per benchmarked dispatch, one `Session` per shard connected with
 * `session.connect(bot)`.
 *
 * The send path goes through `UpdateStatusData.sendEvent(bot, session)` on shard 0, whose
 * session is given a {@link NonLimitingRateLimiter}: the real `MemoryRateLimiter` with the
 * per-connection limit raised, so every acquire does its full bookkeeping but never waits.
 * That is the cost the send benchmark is about; the 120-per-minute wait itself is not.
 */
import { GatewayDispatchEvents } from 'discord-api-types/v10';
import { Client, MemoryRateLimiter, Session, UpdateStatusData, type AcquireOptions, type Bucket, type BucketRule, type RateLimiter } from '../../lib/index.js';
import type { Target } from '../scenario.js';
import type { ConnectOptions, Connection, Contender } from './contender.js';

/** Far above any send loop the benchmark runs. */
const UNLIMITED = 1_000_000;

/** The real in-memory limiter, with every bucket's limit raised so it grants without waiting. */
class NonLimitingRateLimiter implements RateLimiter {
  readonly #inner = new MemoryRateLimiter();

  acquire(rule: BucketRule, options?: AcquireOptions): Promise<void> {
    return this.#inner.acquire({ ...rule, limit: UNLIMITED }, options);
  }

  getBucket(id: string): Promise<Bucket | undefined> {
    return this.#inner.getBucket(id);
  }
}

const DISPATCH_NAMES: ReadonlySet<string> = new Set(Object.values(GatewayDispatchEvents));

function isDispatchName(name: string): name is GatewayDispatchEvents {
  return DISPATCH_NAMES.has(name);
}

const disgate: Contender = {
  label: 'disgate',
  compressions: ['none', 'zlib-stream', 'zstd-stream'],
  sendPath: true,
  async connect(target: Target, options: ConnectOptions): Promise<Connection> {
    const bot = new Client({
      token: target.token,
      intents: target.intents,
      gatewayURL: target.gatewayURL,
      apiURL: target.apiURL,
      compression: target.compression,
    });
    // Errors would otherwise become process warnings; in a benchmark they are failures to see.
    bot.on('error', (error) => process.stderr.write(`disgate error: ${error.message}\n`));
    for (const name of options.events) {
      if (!isDispatchName(name)) throw new Error(`not a dispatch name: ${name}`);
      bot.handle(name, (data) => options.onDispatch(name, data));
    }
    const firstShard = options.firstShard ?? 0;
    const total = firstShard + options.shards;
    const sessions = Array.from(
      { length: options.shards },
      (_, i) => new Session({ shard: [firstShard + i, total], ...(i === 0 && { rateLimiter: new NonLimitingRateLimiter() }) }),
    );
    await Promise.all(sessions.map((session) => session.connect(bot)));
    const first = sessions[0];
    return {
      sendPresence:
        first === undefined ? undefined : () => new UpdateStatusData({ since: null, activities: [], status: 'online', afk: false }).sendEvent(bot, first),
      close: async () => {
        await Promise.all(sessions.map((session) => session.disconnect()));
      },
    };
  },
};

export default disgate;
