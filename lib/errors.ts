/**
 * Typed errors. Messages never contain the bot token: {@link redactToken} scrubs any text
 * that came from outside before it becomes part of an error.
 */

/**
 * Base class of every error disgate throws or reports.
 *
 * @category Errors
 */
export class DisgateError extends Error {
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
  override readonly name = 'PayloadTooLargeError';
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
  override readonly name = 'MissingIntentError';
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
  override readonly name = 'SessionClosedError';
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
  override readonly name = 'FatalCloseError';
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
  override readonly name = 'ReconnectLimitError';
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
  override readonly name = 'GatewayProtocolError';
}

/**
 * Discord answered a request with a `RATE_LIMITED` dispatch (protocol §4.3).
 *
 * @category Errors
 */
export class RateLimitedError extends DisgateError {
  override readonly name = 'RateLimitedError';
  /**
   * @param opcode - the limited opcode (8 for Request Guild Members)
   * @param retry_after - seconds to wait before trying again
   */
  constructor(readonly opcode: number, readonly retry_after: number, readonly meta: Readonly<Record<string, unknown>>) {
    super(`Opcode ${opcode} was rate limited by Discord; retry after ${retry_after}s`);
  }
}

/**
 * An HTTP request to Discord's API (e.g. `GET /gateway/bot`) failed.
 *
 * @category Errors
 */
export class HTTPError extends DisgateError {
  override readonly name = 'HTTPError';
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
  override readonly name = 'BackendError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Replaces every occurrence of `token` (and its `Bot `-prefixed form) in `text`. */
export function redactToken(text: string, token: string | undefined): string {
  if (!token) return text;
  return text.split(token).join('[REDACTED]');
}
