import type { APIGatewaySessionStartLimit } from '../types/payloads.js';
import { sleep } from './sleep.js';

/** What the budget needs from its bot. */
export interface SessionStartBudgetHooks {
  /** Fetches the current limit from `GET /gateway/bot` (after a reset). */
  refresh(): Promise<APIGatewaySessionStartLimit>;
  /** Says, once per occurrence, that identifies are waiting for the daily reset. */
  warn(message: string): void;
}

/**
 * The daily session-start budget (protocol §4.2): spending it past zero terminates every
 * session and resets the bot's token, so an identify with nothing left waits for the reset
 * instead. Seeded and re-seeded from `session_start_limit` of `GET /gateway/bot`; until then
 * (e.g. a custom `gatewayURL` with no API) it does not limit.
 */
export class SessionStartBudget {
  private remaining: number | undefined;
  private resetAt = 0;
  /** The one refetch every waiter woken by the reset shares. */
  #refreshing: Promise<void> | undefined;
  /** Session starts per day, as Discord last reported (undefined before it did). */
  total: number | undefined;

  constructor(private readonly hooks: SessionStartBudgetHooks) {}

  /** Takes the numbers Discord reported. */
  update(limit: APIGatewaySessionStartLimit, now = Date.now()): void {
    this.remaining = limit.remaining;
    this.resetAt = now + limit.reset_after;
    this.total = limit.total;
  }

  /** Session starts known to be left, or undefined before Discord said. */
  get left(): number | undefined {
    return this.remaining;
  }

  /** Takes one session start, waiting for the daily reset when none is left. */
  async take(signal?: AbortSignal): Promise<void> {
    await this.available(signal);
    if (this.remaining !== undefined) this.remaining--;
  }

  /**
   * Waits, without taking one, until a session start is left: sessions wait here before they
   * open a socket, so none idles unidentified until the reset.
   */
  async available(signal?: AbortSignal): Promise<void> {
    while (this.remaining !== undefined && this.remaining <= 0) {
      const wait = Math.max(0, this.resetAt - Date.now());
      this.hooks.warn(`daily session start limit spent; identifies wait ${Math.ceil(wait / 1000)} s for the reset at ${new Date(this.resetAt).toISOString()}`);
      await sleep(wait, signal);
      // Every waiter wakes at the reset: one fetch serves them all, and no answer undoes the starts taken since.
      this.#refreshing ??= this.#refresh().finally(() => { this.#refreshing = undefined; });
      await this.#refreshing;
    }
  }

  async #refresh(): Promise<void> {
    try {
      this.update(await this.hooks.refresh());
    } catch {
      // Without fresh numbers, trust the reset Discord announced.
      this.remaining = undefined;
    }
  }
}
