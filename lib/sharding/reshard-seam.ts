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
 * The seam between two shard sets during a reshard. Until the swap the old set delivers as
 * usual and the new set's dispatches are held. At the swap the held ones are delivered unless
 * the old set already delivered the same event (same name and payload): during the overlap
 * Discord sends every event to both sets, and at the edges to only one of them, so this yields
 * each event once whichever set saw it. Only used while resharding, so its cost (one
 * serialization per dispatch) never touches the normal path.
 */
export class ReshardSeam {
  readonly #fresh: ReadonlySet<Session>;
  readonly #seenOld = new Map<string, number>();
  #held: Held[] = [];
  #dropped = 0;

  constructor(fresh: Iterable<Session>) {
    this.#fresh = new Set(fresh);
  }

  /** Dispatches the seam held back and dropped over its bound. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Whether `session` belongs to the new set. */
  isFresh(session: Session): boolean {
    return this.#fresh.has(session);
  }

  /** Decides what to do with a dispatch: `true` = deliver it now. */
  route(event: string, payload: unknown, session: Session): boolean {
    if (this.#fresh.has(session)) {
      if (this.#held.length >= MAX_HELD_DISPATCHES) {
        this.#held.shift();
        this.#dropped++;
      }
      this.#held.push({ event, payload, session });
      return false;
    }
    const key = keyOf(event, payload);
    this.#seenOld.set(key, (this.#seenOld.get(key) ?? 0) + 1);
    return true;
  }

  /** Delivers, in arrival order, the held dispatches the old set did not deliver. */
  release(deliver: (event: string, payload: unknown, session: Session) => void): void {
    const held = this.#held;
    this.#held = [];
    for (const { event, payload, session } of held) {
      const key = keyOf(event, payload);
      const seen = this.#seenOld.get(key) ?? 0;
      if (seen > 0) {
        this.#seenOld.set(key, seen - 1);
        continue;
      }
      deliver(event, payload, session);
    }
    this.#seenOld.clear();
  }
}

function keyOf(event: string, payload: unknown): string {
  return `${event}\u0000${JSON.stringify(payload)}`;
}
