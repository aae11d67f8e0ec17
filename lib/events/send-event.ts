import type { Client } from '../client.js';
import type { Session } from '../session.js';

/** Options of {@link SendEvent.sendEvent}. */
export interface SendOptions {
  /** Aborting before the frame is written withdraws it; nothing is sent. */
  signal?: AbortSignal;
}

/**
 * Base of every client-sent gateway payload. Subclasses declare Discord's fields (snake_case)
 * as plain instance properties, so `JSON.stringify(event)` is exactly the frame's `d`.
 *
 * @typeParam D - the `d` object this event serializes to
 */
export abstract class SendEvent<D extends object = object> {
  /** The gateway opcode this event is sent with. */
  abstract readonly op: number;

  /** Returns the `d` of the frame: the instance's own fields, without `op`. */
  toJSON(): D {
    const d: Record<string, unknown> = {};
    for (const key of Object.keys(this)) {
      if (key === 'op') continue;
      const value = (this as Record<string, unknown>)[key];
      if (value !== undefined) d[key] = value;
    }
    return d as D;
  }

  /**
   * Checks what only the bot can tell (e.g. intents). Throws a {@link DisgateError} subclass;
   * nothing is sent then. Called by {@link SendEvent.sendEvent} before queuing.
   */
  protected checkBot(_bot: Client): void {}

  /**
   * Sends this event on one session: waits for the session's bucket (and, for `Identify`, the
   * bot's identify bucket), then writes the frame. While the session reconnects the frame waits
   * its turn; on a closed session it rejects with `SessionClosedError`.
   *
   * @throws `PayloadTooLargeError` when the frame exceeds 4096 bytes (nothing is sent)
   * @throws `MissingIntentError` when the bot's intents do not allow the request
   * @throws `SessionClosedError` when the session is closed
   */
  async sendEvent(bot: Client, session: Session, options?: SendOptions): Promise<void> {
    this.checkBot(bot);
    await session.transmit(this, options);
  }

  /**
   * Sends this event on every session of the bot, each in its own order and bucket.
   * Resolves once every frame is written; rejects with the first failure.
   */
  async sendEvents(bot: Client, options?: SendOptions): Promise<void> {
    this.checkBot(bot);
    await Promise.all([...bot.sessions.values()].map((session) => session.transmit(this, options)));
  }
}
