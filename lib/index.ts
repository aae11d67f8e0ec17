/**
 * disgate: a Discord Gateway (API v10) client. Send events are data classes mirroring Discord's
 * payloads; every frame goes through a pluggable {@link RateLimiter}.
 *
 * @categoryDescription Client and Session
 * The bot ({@link Client}: token, intents, handlers, app-wide buckets) and its gateway
 * connections ({@link Session}: one per shard, kept alive through heartbeats, resumes and close codes).
 *
 * @categoryDescription Send events
 * One data class per client-sent payload, fields exactly as in Discord's docs, validated in the
 * constructor; `sendEvent(bot, session)` waits for the buckets, then writes the frame.
 *
 * @categoryDescription Rate limiting
 * The {@link RateLimiter} interface, its in-memory and Redis implementations, and the buckets
 * disgate fills: 120 frames per 60 s per connection (less the heartbeat reserve) and
 * `identify:<shard_id % max_concurrency>` (1 per 5 s).
 *
 * @categoryDescription Sharding
 * Running many shards: routing guilds to shards and slicing a bot over processes.
 *
 * @categoryDescription Stores and forwarding
 * Resume state that survives a restart ({@link SessionStore}) and dispatches sent to other
 * processes ({@link GatewayForwarder}, {@link RedisStreamSink}).
 *
 * @categoryDescription Gateway vocabulary
 * Opcodes, close codes and their policy, intents, dispatch names and payload types, built on
 * `discord-api-types/v10`.
 *
 * @categoryDescription Errors
 * Every error disgate throws or reports; each names what went wrong in fields, never the token.
 *
 * @packageDocumentation
 * @module disgate
 */
export { Client, IDENTIFY_INTERVAL_MS } from './client.js';
export { shardForGuild } from './sharding/shard-for-guild.js';
export type { ClientOptions, ClientEvents, DispatchHandler, AnyDispatchListener, ShardsOption, ShardSlice, IdentifyProperties } from './client.js';
export { Session } from './session.js';
export type { SessionOptions, SessionStatus, RateLimitStatus, SessionCloseEvent, FrameLimit } from './session.js';
export * from './events/index.js';
export * from './forwarding/index.js';
export { MemberChunkCollector, MEMBER_REQUEST_TIMEOUT_MS } from './members.js';
export type { GuildMembersResult, CollectOptions, Collection } from './members.js';
export { MemoryRateLimiter } from './ratelimit/memory.js';
export type { RateLimiter, Bucket, BucketRule, AcquireOptions } from './ratelimit/types.js';
export { RedisRateLimiter } from './ratelimit/redis.js';
export type { RedisRateLimiterOptions, RedisScriptClient } from './ratelimit/redis.js';
export type { SessionStore } from './store/types.js';
export { MemorySessionStore } from './store/memory.js';
export { RedisSessionStore } from './store/redis.js';
export type { RedisSessionStoreOptions, RedisStoreClient } from './store/redis.js';
export { heartbeatReserve } from './heartbeat.js';
export { HAS_ZSTD } from './compression.js';
export type { Compression } from './compression.js';
export {
  DisgateError, InvalidOptionError, ValidationError, PayloadTooLargeError, MissingIntentError, SessionClosedError,
  FatalCloseError, ReconnectLimitError, GatewayProtocolError, RateLimitedError, MemberRequestTimeoutError, HTTPError, BackendError,
} from './errors.js';
export * from '../types/index.js';
