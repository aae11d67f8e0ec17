import { GatewayOpcodes } from 'discord-api-types/v10';
import type { GatewayRateLimitedDispatchData } from 'discord-api-types/v10';
import { RateLimitedError } from './errors.js';

/** Discord's limit on whole-list member requests: 1 per guild per 30 s (protocol §4.3). */
const WINDOW_MS = 30_000;
/** Discord counts from the request's arrival, the client from its write: the window is kept this much longer. */
const MARGIN_MS = 1_000;
/** Past this many remembered guilds, expired entries are swept on the next claim. */
const SWEEP_AT = 1024;

/**
 * When each guild may get its next whole-list Request Guild Members (`query: ""`, `limit: 0`):
 * 30 s after the last one was written, or the `retry_after` of a `RATE_LIMITED` Discord sent.
 * A request inside that window is refused before it is queued, with the same
 * {@link RateLimitedError} Discord's answer would bring, and costs no frame.
 */
export class MemberListCooldown {
  /** Guild id → epoch ms until which a whole-list request is refused; Infinity while one is being written. */
  readonly #until = new Map<string, number>();

  /**
   * Claims the guild's window for a request about to be queued.
   *
   * @param guildId - the guild
   * @param nonce - the request's nonce, for the error's `meta`
   * @returns undoes the claim, for a request that was not written after all
   * @throws {@link RateLimitedError} (opcode 8, `retry_after` in seconds) when the window is closed
   */
  claim(guildId: string, nonce: string | undefined, now = Date.now()): () => void {
    if (this.#until.size >= SWEEP_AT) this.#sweep(now);
    const until = this.#until.get(guildId);
    if (until !== undefined && until > now) {
      const retryAfter = until === Infinity ? WINDOW_MS / 1000 : (until - now) / 1000;
      throw new RateLimitedError(GatewayOpcodes.RequestGuildMembers, retryAfter, { guild_id: guildId, ...(nonce !== undefined && { nonce }) });
    }
    this.#until.set(guildId, Infinity);
    return () => {
      if (this.#until.get(guildId) === Infinity) this.#until.delete(guildId);
    };
  }

  /** The claimed request was written at `now`: the window runs from there. */
  written(guildId: string, now = Date.now()): void {
    this.#until.set(guildId, now + WINDOW_MS + MARGIN_MS);
  }

  /**
   * Takes Discord's word: a `RATE_LIMITED` for op 8 sets the guild's window to `retry_after`,
   * also when the refused request had (as a write) started a longer one.
   */
  limited(d: GatewayRateLimitedDispatchData, now = Date.now()): void {
    if (d.opcode !== GatewayOpcodes.RequestGuildMembers || !(d.retry_after >= 0)) return;
    this.#until.set(d.meta.guild_id, now + d.retry_after * 1000 + MARGIN_MS);
  }

  #sweep(now: number): void {
    for (const [guildId, until] of this.#until) if (until <= now) this.#until.delete(guildId);
  }
}
