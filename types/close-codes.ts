import { GatewayCloseCodes } from 'discord-api-types/v10';

export { GatewayCloseCodes };

/**
 * What the library does after the gateway closes the connection with a given code.
 *
 * @category Gateway vocabulary
 */
export interface CloseCodePolicy {
  /** Discord's name for the code. */
  readonly description: string;
  /** May the library connect again? `false` is fatal: the session ends with a typed error. */
  readonly reconnect: boolean;
  /** Must the next connection identify afresh instead of resuming? */
  readonly newSession: boolean;
}

/**
 * Close-code policy as data (protocol §3). Codes not listed (network drops, 1006, other
 * 1xxx/4xxx codes) reconnect and resume.
 *
 * @example
 * ```ts
 * import { CLOSE_CODES } from 'disgate';
 * CLOSE_CODES[4004].reconnect; // false: bad token, never retry
 * ```
 *
 * @category Gateway vocabulary
 */
export const CLOSE_CODES: Readonly<Record<number, CloseCodePolicy>> = {
  [GatewayCloseCodes.UnknownError]: { description: 'Unknown error', reconnect: true, newSession: false },
  [GatewayCloseCodes.UnknownOpcode]: { description: 'Unknown opcode', reconnect: true, newSession: false },
  [GatewayCloseCodes.DecodeError]: { description: 'Decode error', reconnect: true, newSession: false },
  [GatewayCloseCodes.NotAuthenticated]: { description: 'Not authenticated', reconnect: true, newSession: true },
  [GatewayCloseCodes.AuthenticationFailed]: { description: 'Authentication failed', reconnect: false, newSession: true },
  [GatewayCloseCodes.AlreadyAuthenticated]: { description: 'Already authenticated', reconnect: true, newSession: false },
  [GatewayCloseCodes.InvalidSeq]: { description: 'Invalid seq', reconnect: true, newSession: true },
  [GatewayCloseCodes.RateLimited]: { description: 'Rate limited', reconnect: true, newSession: false },
  [GatewayCloseCodes.SessionTimedOut]: { description: 'Session timed out', reconnect: true, newSession: true },
  [GatewayCloseCodes.InvalidShard]: { description: 'Invalid shard', reconnect: false, newSession: true },
  [GatewayCloseCodes.ShardingRequired]: { description: 'Sharding required', reconnect: false, newSession: true },
  [GatewayCloseCodes.InvalidAPIVersion]: { description: 'Invalid API version', reconnect: false, newSession: true },
  [GatewayCloseCodes.InvalidIntents]: { description: 'Invalid intent(s)', reconnect: false, newSession: true },
  [GatewayCloseCodes.DisallowedIntents]: { description: 'Disallowed intent(s)', reconnect: false, newSession: true },
  // Only a client's 1000/1001 invalidates the session (protocol §1.11); from the gateway (a node
  // going away) they leave it resumable, and a resume of a session that is gone gets op 9.
  1000: { description: 'Normal closure', reconnect: true, newSession: false },
  1001: { description: 'Going away', reconnect: true, newSession: false },
};

/**
 * Policy for codes absent from the table: a dropped connection is resumable.
 *
 * @category Gateway vocabulary
 */
export const DEFAULT_CLOSE_POLICY: CloseCodePolicy = { description: 'Connection lost', reconnect: true, newSession: false };

/**
 * Looks up the policy for a close code; codes absent from {@link CLOSE_CODES} get
 * {@link DEFAULT_CLOSE_POLICY} (reconnect and resume).
 *
 * @param code - the WebSocket close code
 *
 * @example
 * ```ts
 * closeCodePolicy(4009); // { description: 'Session timed out', reconnect: true, newSession: true }
 * closeCodePolicy(1006); // { description: 'Connection lost', reconnect: true, newSession: false }
 * ```
 *
 * @category Gateway vocabulary
 */
export function closeCodePolicy(code: number): CloseCodePolicy {
  return CLOSE_CODES[code] ?? DEFAULT_CLOSE_POLICY;
}

/**
 * Codes disgate itself closes with when it wants to resume afterwards: every code but
 * 1000/1001 keeps the session alive on Discord's side (protocol §1.5, §1.11).
 *
 * @category Gateway vocabulary
 */
export const RESUMABLE_CLIENT_CLOSE = 4900;
