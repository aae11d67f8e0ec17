/**
 * Options of the gateway simulator and their defaults.
 */
import type { APIUser } from 'discord-api-types/v10';
import { InvalidOptionError } from '../../errors.js';
import { PRIVILEGED_INTENTS } from '../../../types/intents.js';
import { DEFAULT_GUILD_COUNT, type SimulatedGuildInit } from './guilds.js';

/**
 * Options of {@link GatewaySimulator}; all optional.
 *
 * @category Testing
 */
export interface GatewaySimulatorOptions {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Valid bot tokens (aliases of one application). Default `'test-token'`. */
  token?: string | readonly string[];
  /** Recommended shard count reported by `/gateway/bot`. Default 1. */
  shards?: number;
  /** Identifies per 5 s, one per bucket `shard_id % maxConcurrency`; more get op 9 `false`. Default 1. */
  maxConcurrency?: number;
  /**
   * Start `maxConcurrency` groups in order, as Discord requires (protocol §4.2: with 32 shards and
   * `max_concurrency` 16, shards 0-15 first, then 16-31). When true, an identify of shard `s >=
   * maxConcurrency` gets op 9 `false` (no session, the connection may identify again, as for a
   * full bucket) unless shard `s - maxConcurrency` of the same shard count has identified
   * successfully on this simulator before. Once is enough: re-identifying one shard later (after a
   * 4009, say) is not refused. Default false (no order enforced), because a process may rightly start a
   * later group alone: one slice of a cluster, or a user `Session` of another shard count, whose
   * earlier shards run elsewhere. Turn it on to check that a bot starts its groups in order.
   */
  identifyOrder?: boolean;
  /**
   * Daily identify budget. Each successful identify spends one; an identify at 0 terminates every
   * session with 4004 and revokes the tokens, as Discord resets the token. Default total 1000,
   * remaining = total, resetAfter 24 h.
   */
  sessionStartLimit?: {
    /** Session starts per day. */
    total?: number;
    /** Starts left now. */
    remaining?: number;
    /** Milliseconds until `remaining` refills to `total`. */
    resetAfter?: number;
  };
  /** `heartbeat_interval` sent in Hello, ms. Default 41250. */
  heartbeatInterval?: number;
  /**
   * Close connections that stop heartbeating. Default true. With no heartbeat for 1.5 ×
   * `heartbeatInterval` (counted from Hello, then from each beat) the simulator closes with 4009
   * (Session timed out) and invalidates the session, as 4009 tells clients to start a new one.
   */
  enforceHeartbeat?: boolean;
  /** Privileged intents the application may use; others close with 4014. Default all three. */
  grantedIntents?: number;
  /** Guild fixtures: a count of generated guilds or their descriptions. Default 3. */
  guilds?: number | readonly SimulatedGuildInit[];
  /** Most guilds one shard may hold; an identify for a fuller shard closes with 4011. Default 2500. */
  maxGuildsPerShard?: number;
  /** How long a disconnected session stays resumable, ms. Default 120000. */
  resumeTimeout?: number;
  /** Dispatches kept per session for replay; a resume from further back gets op 9 `false`. Default 10000. */
  replayBufferSize?: number;
  /** After sending op 7, close the socket with 4000 if the client has not within this many ms; 0 = never. Default 5000. */
  reconnectCloseDelay?: number;
  /** Keep every frame in `frames`. Default true; turn off for benchmarks (the `frame` event still fires). */
  recordFrames?: boolean;
  /**
   * Whether a `RATE_LIMITED` answering a whole-list Request Guild Members carries the request's
   * `nonce` in `meta` (a valid one; an invalid nonce is always dropped, as Discord does). Default
   * true. Discord's types make `meta.nonce` optional: `false` checks how a client matches the
   * answer by guild alone.
   */
  rateLimitedNonce?: boolean;
  /** Overrides of the bot user sent in READY (the application id is the user id). */
  user?: Partial<APIUser>;
}

/** Options with every default applied. */
export interface ResolvedSimulatorOptions {
  port: number;
  tokens: ReadonlySet<string>;
  shards: number;
  maxConcurrency: number;
  identifyOrder: boolean;
  sessionStartLimit: { total: number; remaining: number; resetAfter: number };
  heartbeatInterval: number;
  enforceHeartbeat: boolean;
  grantedIntents: number;
  guilds: number | readonly SimulatedGuildInit[];
  maxGuildsPerShard: number;
  resumeTimeout: number;
  replayBufferSize: number;
  reconnectCloseDelay: number;
  recordFrames: boolean;
  rateLimitedNonce: boolean;
  user: APIUser;
}

/** A day, the window of the session-start budget. */
export const DAY_MS = 86_400_000;

function int(name: string, value: number | undefined, fallback: number, min: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < min) throw new InvalidOptionError(name, `an integer >= ${min}`);
  return v;
}

/**
 * Applies defaults and checks ranges.
 *
 * @throws InvalidOptionError naming the first invalid option
 */
export function resolveOptions(options: GatewaySimulatorOptions): ResolvedSimulatorOptions {
  const tokenList = options.token === undefined ? ['test-token'] : typeof options.token === 'string' ? [options.token] : [...options.token];
  if (tokenList.length === 0 || tokenList.some((t) => typeof t !== 'string' || t.length === 0)) {
    throw new InvalidOptionError('token', 'a non-empty string or a non-empty list of them');
  }
  const total = int('sessionStartLimit.total', options.sessionStartLimit?.total, 1000, 0);
  const guilds = options.guilds ?? DEFAULT_GUILD_COUNT;
  if (typeof guilds === 'number') int('guilds', guilds, 0, 0);
  return {
    port: int('port', options.port, 0, 0),
    tokens: new Set(tokenList),
    shards: int('shards', options.shards, 1, 1),
    maxConcurrency: int('maxConcurrency', options.maxConcurrency, 1, 1),
    identifyOrder: options.identifyOrder ?? false,
    sessionStartLimit: {
      total,
      remaining: int('sessionStartLimit.remaining', options.sessionStartLimit?.remaining, total, 0),
      resetAfter: int('sessionStartLimit.resetAfter', options.sessionStartLimit?.resetAfter, DAY_MS, 0),
    },
    heartbeatInterval: int('heartbeatInterval', options.heartbeatInterval, 41_250, 1),
    enforceHeartbeat: options.enforceHeartbeat ?? true,
    grantedIntents: int('grantedIntents', options.grantedIntents, PRIVILEGED_INTENTS, 0) & PRIVILEGED_INTENTS,
    guilds,
    maxGuildsPerShard: int('maxGuildsPerShard', options.maxGuildsPerShard, 2500, 1),
    resumeTimeout: int('resumeTimeout', options.resumeTimeout, 120_000, 0),
    replayBufferSize: int('replayBufferSize', options.replayBufferSize, 10_000, 1),
    reconnectCloseDelay: int('reconnectCloseDelay', options.reconnectCloseDelay, 5000, 0),
    recordFrames: options.recordFrames ?? true,
    rateLimitedNonce: options.rateLimitedNonce ?? true,
    user: {
      id: '1000000000000000001',
      username: 'Simulated Bot',
      discriminator: '0',
      global_name: null,
      avatar: null,
      bot: true,
      verified: true,
      mfa_enabled: false,
      ...options.user,
    },
  };
}
