/**
 * disgate: a Discord Gateway (API v10) client. Send events are data classes mirroring Discord's
 * payloads; every frame goes through a pluggable {@link RateLimiter}.
 *
 * @packageDocumentation
 */
export { Client, shardForGuild } from './client.js';
export type { ClientOptions, ClientEvents, DispatchHandler, AnyDispatchListener, ShardsOption, ShardSlice, IdentifyProperties } from './client.js';
export { Session } from './session.js';
export type { SessionOptions, SessionStatus, RateLimitStatus, SessionCloseEvent } from './session.js';
export * from './events/index.js';
export * from './forwarding/index.js';
export { MemberChunkCollector } from './members.js';
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
  FatalCloseError, ReconnectLimitError, GatewayProtocolError, RateLimitedError, HTTPError, BackendError,
} from './errors.js';
export * from '../types/index.js';
