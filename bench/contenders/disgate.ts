/**
 * disgate, used the way its README shows: one `Client` with the blast server as `gatewayURL` and
 * `apiURL` (so `max_concurrency` comes from `GET /gateway/bot`, as in production), one
 * `bot.handle(name, handler)` per benchmarked dispatch, one `Session` per shard connected with
 * `session.connect(bot)`.
 *
 * The send path goes through `UpdateStatusData.sendEvent(bot, session)` on shard 0, whose
 * session is given a `frameLimit` far above Discord's 120 per 60 s: its per-connection bucket
 * (in the real default `MemoryRateLimiter`) and its send log do their full bookkeeping on every
 * send but never wait. That is the cost the send benchmark is about; the 120-per-minute wait
 * itself is not.
 */
import { GatewayDispatchEvents } from 'discord-api-types/v10';
import { Client, Session, UpdateStatusData } from '../../lib/index.js';
import type { Target } from '../scenario.js';
import type { ConnectOptions, Connection, Contender } from './contender.js';

/** Far above any send loop the benchmark runs. */
const UNLIMITED = { frames: 1_000_000, windowMs: 60_000 };

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
      (_, i) => new Session({ shard: [firstShard + i, total], ...(i === 0 && { frameLimit: UNLIMITED }) }),
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
