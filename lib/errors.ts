/**
 * Typed errors. Messages never contain the bot token: {@link redactToken} scrubs any text
 * that came from outside before it becomes part of an error.
 */

/**
 * Base class of every error disgate throws or reports (except {@link InvalidOptionError}, a
 * `TypeError` because it is a programming mistake). Subclasses carry the details as fields.
 *
 * @example
 * ```ts
 * bot.on('error', (err, session) => {
 *   if (err instanceof FatalCloseError) console.error(`shard ${err.shardId} stopped: ${err.code}`);
 *   else if (err instanceof DisgateError) console.warn(err.name, err.message);
 * });
 * ```
 *
 * @category Errors
 */
export class DisgateError extends Error {
  /** The class name (`'DisgateError'` or the subclass's), so logs tell the errors apart. */
  override readonly name: string = 'DisgateError';
}

/**
 * An option passed to `Client` or `Session` is invalid.
 *
 * @example
 * ```ts
 * try { new Client({ token: '', intents: 0 }); } catch (e) { (e as InvalidOptionError).option; } // 'token'
 * ```
 *
 * @category Errors
 */
export class InvalidOptionError extends TypeError {
  /** Always `'InvalidOptionError'`. */
  override readonly name = 'InvalidOptionError';
  /**
   * @param option - the option's name, e.g. `'largeThreshold'`
   * @param rule - what the value must be, e.g. `'an integer from 50 to 250'`
   */
  constructor(readonly option: string, readonly rule: string) {
    super(`Invalid option "${option}": must be ${rule}`);
  }
}

/**
 * A send event's field breaks one of Discord's rules; thrown by the event's constructor.
 *
 * @category Errors
 */
export class ValidationError extends DisgateError {
  /** Always `'ValidationError'`. */
  override readonly name = 'ValidationError';
  /**
   * @param field - the payload field, e.g. `'nonce'`
   * @param rule - the rule it breaks, e.g. `'at most 32 bytes'`
   */
  constructor(readonly field: string, readonly rule: string) {
    super(`Invalid field "${field}": ${rule}`);
  }
}

/**
 * A frame would exceed Discord's 4096-byte limit; it was not sent.
 *
 * @category Errors
 */
export class PayloadTooLargeError extends DisgateError {
  /** Always `'PayloadTooLargeError'`. */
  override readonly name = 'PayloadTooLargeError';
  /**
   * @param op - the opcode of the refused frame
   * @param size - the frame's size in bytes of UTF-8 JSON
   * @param limit - the most Discord accepts (4096)
   */
  constructor(readonly op: number, readonly size: number, readonly limit: number) {
    super(`Payload of op ${op} is ${size} bytes; Discord accepts at most ${limit}. Nothing was sent.`);
  }
}

/**
 * The bot lacks an intent the request needs; Discord would close the connection, so nothing was sent.
 *
 * @category Errors
 */
export class MissingIntentError extends DisgateError {
  /** Always `'MissingIntentError'`. */
  override readonly name = 'MissingIntentError';
  /**
   * @param intent - the missing intent's name, e.g. `'GUILD_MEMBERS'`
   * @param reason - what in the request needs it
   */
  constructor(readonly intent: string, readonly reason: string) {
    super(`Missing intent ${intent}: ${reason}. Nothing was sent.`);
  }
}

/**
 * The session was closed (by `disconnect()`, `bot.close()` or a fatal close code).
 *
 * @category Errors
 */
export class SessionClosedError extends DisgateError {
  /** Always `'SessionClosedError'`. */
  override readonly name = 'SessionClosedError';
  /**
   * @param shardId - the shard of the closed session
   * @param reason - why it is closed, for the message
   */
  constructor(readonly shardId: number, reason = 'the session is closed') {
    super(`Shard ${shardId}: ${reason}`);
  }
}

/**
 * The gateway closed with a code that must not be retried (4004, 4010–4014).
 *
 * @category Errors
 */
export class FatalCloseError extends DisgateError {
  /** Always `'FatalCloseError'`. */
  override readonly name = 'FatalCloseError';
  /**
   * @param code - the gateway close code, e.g. 4004 (authentication failed)
   * @param description - Discord's name for the code (from {@link CLOSE_CODES})
   * @param shardId - the shard whose session ended
   */
  constructor(readonly code: number, readonly description: string, readonly shardId: number) {
    super(`Shard ${shardId}: gateway closed with ${code} (${description}); not reconnecting`);
  }
}

/**
 * `maxReconnectAttempts` consecutive connection attempts failed.
 *
 * @category Errors
 */
export class ReconnectLimitError extends DisgateError {
  /** Always `'ReconnectLimitError'`. */
  override readonly name = 'ReconnectLimitError';
  /**
   * @param attempts - consecutive failed connection attempts
   * @param shardId - the shard that gave up
   * @param lastError - the last attempt's error, when known
   */
  constructor(readonly attempts: number, readonly shardId: number, readonly lastError?: Error) {
    super(`Shard ${shardId}: gave up after ${attempts} failed reconnect attempts`);
  }
}

/**
 * The gateway sent something the protocol does not allow (bad JSON, corrupt compression, unknown op).
 *
 * @category Errors
 */
export class GatewayProtocolError extends DisgateError {
  /** Always `'GatewayProtocolError'`. */
  override readonly name = 'GatewayProtocolError';
}

/**
 * A request is over Discord's limit (protocol §4.3): Discord answered it with a `RATE_LIMITED`
 * dispatch, or disgate refused it unsent because Discord would have (a whole-list Request Guild
 * Members inside its guild's window).
 *
 * @category Errors
 */
export class RateLimitedError extends DisgateError {
  /** Always `'RateLimitedError'`. */
  override readonly name = 'RateLimitedError';
  /**
   * @param opcode - the limited opcode (8 for Request Guild Members)
   * @param retry_after - seconds to wait before trying again
   * @param meta - what was limited, as in the dispatch's `meta` (for op 8: `guild_id` and `nonce`)
   */
  constructor(readonly opcode: number, readonly retry_after: number, readonly meta: Readonly<Record<string, unknown>>) {
    super(`Opcode ${opcode} is rate limited by Discord's limits; retry after ${retry_after}s`);
  }
}

/**
 * A Request Guild Members (op 8) got no `GUILD_MEMBERS_CHUNK` for `timeoutMs` after it was
 * written (or since its last chunk). Discord answers nothing for a guild the session does not
 * hold, for one still unavailable, or when the answer was lost with a connection.
 *
 * @category Errors
 */
export class MemberRequestTimeoutError extends DisgateError {
  /** Always `'MemberRequestTimeoutError'`. */
  override readonly name = 'MemberRequestTimeoutError';
  /**
   * @param guild_id - the guild of the request
   * @param nonce - the request's nonce
   * @param timeoutMs - how long it waited for a chunk
   */
  constructor(readonly guild_id: string, readonly nonce: string, readonly timeoutMs: number) {
    super(`Request Guild Members for guild ${guild_id} (nonce ${nonce}) got no chunk for ${timeoutMs} ms`);
  }
}

/**
 * An HTTP request to Discord's API (e.g. `GET /gateway/bot`) failed.
 *
 * @category Errors
 */
export class HTTPError extends DisgateError {
  /** Always `'HTTPError'`. */
  override readonly name = 'HTTPError';
  /**
   * @param status - the HTTP status code (0 when no response arrived)
   * @param url - the requested URL
   * @param message - what failed
   */
  constructor(readonly status: number, readonly url: string, message: string) {
    super(`${message} (HTTP ${status} from ${url})`);
  }
}

/**
 * A shared rate limiter or store (e.g. Redis) failed; the waiting call was not granted.
 *
 * @category Errors
 */
export class BackendError extends DisgateError {
  /** Always `'BackendError'`. */
  override readonly name = 'BackendError';
  /**
   * @param message - what failed
   * @param options - `cause`: the backend's own error
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Replaces every occurrence of `token` (and its `Bot `-prefixed form) in `text`. */
export function redactToken(text: string, token: string | undefined): string {
  if (!token) return text;
  return text.split(token).join('[REDACTED]');
}
