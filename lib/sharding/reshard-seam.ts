import { createHash } from 'node:crypto';
import type { Session } from '../session.js';

/** A dispatch a new shard set received before the swap. */
interface Held {
  readonly event: string;
  readonly payload: unknown;
  readonly session: Session;
}

/** How many held dispatches a reshard keeps before it reports and drops the oldest. */
export const MAX_HELD_DISPATCHES = 100_000;

/**
 * How many of the old set's dispatches a reshard remembers to recognise their copies among the
 * held ones. Past it the oldest are forgotten: the copies of those, if still held, were received
 * long before the swap and are the oldest held too.
 */
export const MAX_REMEMBERED_DISPATCHES = 200_000;

/**
 * How long after the swap the new set's dispatches are still checked against what the old set
 * delivered. Both sets get each event on their own socket, so a copy the old set delivered just
 * before the swap can reach the new set just after it; this covers that skew.
 */
export const RESHARD_DRAIN_MS = 10_000;

/** Bounds of a {@link ReshardSeam}. */
export interface ReshardSeamLimits {
  /** Default {@link MAX_HELD_DISPATCHES}. */
  maxHeld?: number;
  /** Default {@link MAX_REMEMBERED_DISPATCHES}. */
  maxRemembered?: number;
}

/**
 * The seam between two shard sets during a reshard. Until the swap the old set delivers as
 * usual and the new set's dispatches are held. At the swap the held ones are delivered unless
 * the old set already delivered the same event (same name and payload): during the overlap
 * Discord sends every event to both sets, and at the edges to only one of them, so this yields
 * each event once whichever set saw it. After the swap, for {@link RESHARD_DRAIN_MS}, the new
 * set's late copies of what the old set delivered are dropped too. Only used while resharding,
 * so its cost (one serialization per dispatch) never touches the normal path.
 */
export class ReshardSeam {
  readonly #fresh: ReadonlySet<Session>;
  /** Digests of the old set's dispatches (fixed size, whatever the payload's), with counts. */
  readonly #seenOld = new Map<string, number>();
  readonly #maxHeld: number;
  readonly #maxRemembered: number;
  #held: Held[] = [];
  /** Index of the oldest held dispatch still kept: dropping at the bound costs no array shift. */
  #heldHead = 0;
  #dropped = 0;
  /** After {@link release}: the new set delivers, except copies of what the old set delivered. */
  #released = false;

  constructor(fresh: Iterable<Session>, limits: ReshardSeamLimits = {}) {
    this.#fresh = new Set(fresh);
    this.#maxHeld = limits.maxHeld ?? MAX_HELD_DISPATCHES;
    this.#maxRemembered = limits.maxRemembered ?? MAX_REMEMBERED_DISPATCHES;
  }

  /** Dispatches the seam held back and dropped over its bound. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Whether `session` belongs to the new set and the swap is still ahead. */
  holds(session: Session): boolean {
    return !this.#released && this.#fresh.has(session);
  }

  /** Decides what to do with a dispatch: `true` = deliver it now. */
  route(event: string, payload: unknown, session: Session): boolean {
    if (this.#released) return !this.#fresh.has(session) || !this.#takeSeen(keyOf(event, payload));
    if (this.#fresh.has(session)) {
      if (this.#held.length - this.#heldHead >= this.#maxHeld) {
        this.#heldHead++;
        this.#dropped++;
        if (this.#heldHead * 2 > this.#held.length) {
          this.#held.splice(0, this.#heldHead);
          this.#heldHead = 0;
        }
      }
      this.#held.push({ event, payload, session });
      return false;
    }
    const key = keyOf(event, payload);
    const seen = this.#seenOld.get(key);
    if (seen === undefined && this.#seenOld.size >= this.#maxRemembered) {
      this.#seenOld.delete(this.#seenOld.keys().next().value!);
    }
    this.#seenOld.set(key, (seen ?? 0) + 1);
    return true;
  }

  /**
   * Delivers, in arrival order, the held dispatches the old set did not deliver. From then on
   * {@link route} lets the new set's dispatches through, less the copies of what the old set
   * delivered and the new set has not matched yet.
   */
  release(deliver: (event: string, payload: unknown, session: Session) => void): void {
    const held = this.#held.slice(this.#heldHead);
    this.#held = [];
    this.#heldHead = 0;
    this.#released = true;
    for (const { event, payload, session } of held) {
      if (!this.#takeSeen(keyOf(event, payload))) deliver(event, payload, session);
    }
  }

  /** Whether the old set delivered this event and no copy has matched it yet (and counts the match). */
  #takeSeen(key: string): boolean {
    if (this.#seenOld.size === 0) return false;
    const seen = this.#seenOld.get(key);
    if (seen === undefined) return false;
    if (seen > 1) this.#seenOld.set(key, seen - 1);
    else this.#seenOld.delete(key);
    return true;
  }
}

/** Same name and payload, same key; a digest, so a remembered GUILD_CREATE costs 44 bytes, not megabytes. */
function keyOf(event: string, payload: unknown): string {
  return createHash('sha256').update(event).update('\u0000').update(JSON.stringify(payload) ?? '').digest('base64');
}
