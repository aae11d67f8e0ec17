import type { Client } from '../client.js';
import type { Session } from '../session.js';

/**
 * Options of {@link SendEvent.sendEvent}.
 *
 * @category Send events
 */
export interface SendOptions {
  /** Aborting before the frame is written withdraws it; nothing is sent. */
  signal?: AbortSignal;
  /**
   * @internal Called synchronously as the frame is handed to the socket, before the write
   * completes: an answer can be read before the send's promise settles.
   */
  onWrite?: () => void;
}

/** Where a send event keeps its opcode: on the class, so it is never an own (serialized) field. */
interface SendEventClass {
  readonly op: number;
}

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/**
 * Base of every client-sent gateway payload. Subclasses declare Discord's fields (snake_case)
 * as plain instance properties, so `JSON.stringify(event)` is exactly the frame's `d`.
 * The opcode lives on the class (`static readonly op`); the instance `op` is a prototype getter
 * reading it, so it never shows up among the fields.
 *
 * @typeParam D - the `d` this event serializes to (an object, or `number | null` for `Heartbeat`)
 *
 * @example
 * ```ts
 * const event = new RequestGuildMembers({ guild_id: '81384788765712384', query: '', limit: 0 });
 * event.op;                 // 8, same as RequestGuildMembers.op
 * JSON.stringify(event);    // '{"guild_id":"81384788765712384","query":"","limit":0}'
 * await event.sendEvent(bot, session);
 * ```
 *
 * @category Send events
 */
export abstract class SendEvent<D = unknown> {
  /** The gateway opcode this class is sent with; every subclass defines it. */
  declare static readonly op: number;

  /** The gateway opcode this event is sent with (the class's static `op`). */
  get op(): number {
    return (this.constructor as unknown as SendEventClass).op;
  }

  /** Returns the `d` of the frame: a plain copy of the instance's own fields, undefined ones left out. */
  toJSON(): D {
    const d: Record<string, unknown> = {};
    for (const key of Object.keys(this)) {
      const value = (this as Record<string, unknown>)[key];
      if (value !== undefined) d[key] = value;
    }
    return d as D;
  }

  /**
   * Checks what only the bot can tell (e.g. intents). Throws a `DisgateError` subclass;
   * nothing is sent then. Called once by {@link SendEvent.sendEvent} and {@link SendEvent.sendEvents}
   * before anything is queued.
   *
   * @param _bot - the bot the event is about to be sent for
   */
  protected checkBot(_bot: Client): void {}

  /**
   * Puts this event on one session's wire. The default hands it to the session, which waits for
   * the session's bucket, encodes the frame and refuses oversized ones; `Identify` overrides it
   * to take the bot's identify bucket first.
   *
   * @param _bot - the bot sending the event
   * @param session - the session to write on
   * @param options - `signal` withdraws the frame while it waits
   */
  protected deliver(_bot: Client, session: Session, options?: SendOptions): Promise<void> {
    return session.transmit(this, options);
  }

  /**
   * Sends this event on one session: waits for the session's bucket (and, for `Identify`, the
   * bot's identify bucket), then writes the frame. While the session reconnects the frame waits
   * its turn; on a closed session it rejects with `SessionClosedError`.
   *
   * @param bot - the bot sending it (its intents and, for `Identify`, its identify bucket)
   * @param session - the session (shard) to send on
   * @param options - `signal`: aborting before the frame is written withdraws it
   *
   * @throws `PayloadTooLargeError` when the frame exceeds 4096 bytes (nothing is sent)
   * @throws `MissingIntentError` when the bot's intents do not allow the request
   * @throws `SessionClosedError` when the session is closed
   */
  sendEvent(bot: Client, session: Session, options?: SendOptions): Promise<void> {
    // Not `async`: the send path is hot, and every async layer costs a promise and a tick.
    try {
      this.checkBot(bot);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.deliver(bot, session, options);
  }

  /**
   * Sends this event on every session of the bot, each in its own order and bucket.
   * Resolves once every frame is written; rejects with the first failure.
   *
   * @param bot - the bot whose sessions all get the event
   * @param options - `signal`: aborting withdraws the frames not yet written
   *
   * @throws the same errors as {@link SendEvent.sendEvent}
   */
  async sendEvents(bot: Client, options?: SendOptions): Promise<void> {
    this.checkBot(bot);
    await Promise.all([...bot.sessions.values()].map((session) => this.deliver(bot, session, options)));
  }

  /**
   * What `console.log` and `util.inspect` show: the opcode and fields, with any `token`
   * replaced by `[REDACTED]` so logging an `Identify` or `Resume` never leaks it.
   */
  [INSPECT](): object {
    const d: unknown = this.toJSON();
    const shown = typeof d === 'object' && d !== null && 'token' in d ? { ...d, token: '[REDACTED]' } : d;
    return Object.defineProperty({ op: this.op, d: shown }, Symbol.toStringTag, { value: this.constructor.name });
  }
}
