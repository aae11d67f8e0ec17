/**
 * @discordjs/ws, the gateway library most TypeScript users would pick instead, configured as its
 * docs suggest for one process: one `WebSocketManager`, the default `SimpleShardingStrategy`
 * (shards in this process, no worker threads), native `node:zlib` for zlib-stream (zlib-sync is
 * not installed, and it would be a native add-on). It has no zstd-stream support, so the runner
 * skips that column for it. Gateway information comes from the blast server's
 * `/api/v10/gateway/bot` through a real `@discordjs/rest` client, as in production.
 *
 * No send path: its per-shard send limiter cannot be replaced or widened, so a tight send loop
 * would measure its 60-second waits rather than its cost.
 */
import { REST } from '@discordjs/rest';
import { CompressionMethod, WebSocketManager, WebSocketShardEvents, version } from '@discordjs/ws';
import type { Compression, Target } from '../scenario.js';
import type { ConnectOptions, Connection, Contender } from './contender.js';

/** The manager's `compression` option for each compression it supports. */
const COMPRESSION: Readonly<Partial<Record<Compression, CompressionMethod | null>>> = {
  none: null,
  'zlib-stream': CompressionMethod.ZlibNative,
};

const discordjs: Contender = {
  label: `@discordjs/ws ${version}`,
  compressions: ['none', 'zlib-stream'],
  sendPath: false,
  async connect(target: Target, options: ConnectOptions): Promise<Connection> {
    const compression = COMPRESSION[target.compression];
    const firstShard = options.firstShard ?? 0;
    if (compression === undefined) throw new Error(`@discordjs/ws cannot use ${target.compression}`);
    // REST wants the base without the version; it appends `/v10` itself.
    const rest = new REST({ api: target.apiURL.replace(/\/v\d+$/, ''), version: '10' }).setToken(target.token);
    const manager = new WebSocketManager({
      token: target.token,
      intents: target.intents,
      rest,
      compression,
      // Each connect() has its own manager; a later batch (firstShard > 0) spawns only its own
      // ids of the larger bot.
      shardCount: firstShard + options.shards,
      shardIds: firstShard === 0 ? null : { start: firstShard, end: firstShard + options.shards - 1 },
    });
    const wanted = new Set(options.events);
    manager.on(WebSocketShardEvents.Dispatch, (payload) => {
      if (wanted.has(payload.t)) options.onDispatch(payload.t, payload.d);
    });
    await manager.connect();
    return {
      close: async () => {
        await manager.destroy();
      },
    };
  },
};

export default discordjs;
