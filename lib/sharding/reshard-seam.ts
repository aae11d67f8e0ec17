import { createHash } from 'node:crypto';
import type { Session } from '../session.js';
import { shardForGuild } from './shard-for-guild.js';

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
 * Dispatches that answer one connection (its session, its own requests) rather than copy an
 * event to every session of a guild: never matched against the other set's, whatever their payload.
 */
const CONNECTION_EVENTS: ReadonlySet<string> = new Set([
  'READY', 'RESUMED', 'GUILD_MEMBERS_CHUNK', 'RATE_LIMITED', 'SOUNDBOARD_SOUNDS', 'CHANNEL_INFO', 'VOICE_SERVER_UPDATE',
]);
/** Dispatches whose guild is their `id`; the others name it `guild_id`, and those with neither go to shard 0. */
const GUILD_IS_ID: ReadonlySet<string> = new Set(['GUILD_CREATE', 'GUILD_UPDATE', 'GUILD_DELETE']);

/**
 * The seam between two shard sets during a reshard. Until the swap the old set delivers as
 * usual and the new set's dispatches are held. At the swap the held ones are delivered unless
 * the old set already delivered the same event (same name and payload), and for
 * {@link RESHARD_DRAIN_MS} after it the new set's late copies of what the old set delivered are
 * dropped too. Discord sends an event to both sets once the new session of its guild has
 * identified, and before that to the old set only, so the old set's dispatches are remembered
 * only from then on: an event that merely repeats an earlier one's payload (a reaction added
 * again) is not taken for a copy. Only used while resharding, so its cost (one serialization
 * per dispatch) never touches the normal path.
 */
export class ReshardSeam {
  readonly #fresh: ReadonlySet<Session>;
  /** The new set by shard id, and its shard count: which new session gets a guild's events. */
  readonly #freshByShard = new Map<number, Session>();
  readonly #total: number;
  /** New sessions that have their identify slot: Discord sends them their guilds' events. */
  readonly #identified = new Set<Session>();
  /** Digests of the old set's dispatches (fixed size, whatever the payload's), with counts. */
  readonly #seenOld = new Map<string, number>();
  readonly #maxHeld: number;
  readonly #maxRemembered: number;
  /** A seam still draining when this reshard began: its set is this one's old set. */
  #previous: ReshardSeam | undefined;
  #held: Held[] = [];
  /** Index of the oldest held dispatch still kept: dropping at the bound costs no array shift. */
  #heldHead = 0;
  #dropped = 0;
  /** Epoch ms until which the new set's copies are checked; 0 until {@link release}. */
  #drainUntil = 0;

  /**
   * @param fresh - the new set's sessions
   * @param limits - bounds on what is held and remembered
   * @param previous - the seam of a reshard still draining, whose new set is this one's old set
   */
  constructor(fresh: Iterable<Session>, limits: ReshardSeamLimits = {}, previous?: ReshardSeam) {
    this.#fresh = new Set(fresh);
    let total = 1;
    for (const session of this.#fresh) {
      this.#freshByShard.set(session.shard[0], session);
      total = session.shard[1];
    }
    this.#total = total;
    this.#maxHeld = limits.maxHeld ?? MAX_HELD_DISPATCHES;
    this.#maxRemembered = limits.maxRemembered ?? MAX_REMEMBERED_DISPATCHES;
    this.#previous = previous?.finished === false ? previous : undefined;
  }

  /** Dispatches the seam held back and dropped over its bound. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Whether the drain after the swap is over (nothing left to match, or its time is up). */
  get finished(): boolean {
    return this.#drainUntil !== 0 && (this.#seenOld.size === 0 || Date.now() >= this.#drainUntil);
  }

  /** Whether `session` belongs to the new set and the swap is still ahead. */
  holds(session: Session): boolean {
    return this.#drainUntil === 0 && this.#fresh.has(session);
  }

  /** A new session has its identify slot: from now on the old set's events of its guilds have copies coming. */
  identifying(session: Session): void {
    if (this.#fresh.has(session)) this.#identified.add(session);
  }

  /** Decides what to do with a dispatch: `true` = deliver it now. */
  route(event: string, payload: unknown, session: Session): boolean {
    const fresh = this.#fresh.has(session);
    if (this.#drainUntil !== 0) return !fresh || CONNECTION_EVENTS.has(event) || !this.#takeSeen(event, payload);
    if (fresh) {
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
    if (this.#previous !== undefined && !this.#previous.route(event, payload, session)) return false;
    if (!CONNECTION_EVENTS.has(event) && this.#copyComing(event, payload)) this.#remember(keyOf(event, payload));
    return true;
  }

  /**
   * Delivers, in arrival order, the held dispatches the old set did not deliver. From then on,
   * for {@link RESHARD_DRAIN_MS}, {@link route} lets the new set's dispatches through, less the
   * copies of what the old set delivered that have not arrived yet.
   */
  release(deliver: (event: string, payload: unknown, session: Session) => void): void {
    const held = this.#held.slice(this.#heldHead);
    this.#held = [];
    this.#heldHead = 0;
    this.#previous = undefined;
    this.#drainUntil = Date.now() + RESHARD_DRAIN_MS;
    for (const { event, payload, session } of held) {
      if (CONNECTION_EVENTS.has(event) || !this.#takeSeen(event, payload)) deliver(event, payload, session);
    }
  }

  /** Whether the new session that gets this event's guild has identified (DMs and other guildless events go to shard 0). */
  #copyComing(event: string, payload: unknown): boolean {
    const d = payload as { guild_id?: unknown; id?: unknown } | null;
    const guildId = typeof d?.guild_id === 'string' ? d.guild_id : GUILD_IS_ID.has(event) && typeof d?.id === 'string' ? d.id : undefined;
    const target = this.#freshByShard.get(guildId === undefined ? 0 : shardForGuild(guildId, this.#total));
    return target !== undefined && this.#identified.has(target);
  }

  #remember(key: string): void {
    const seen = this.#seenOld.get(key);
    if (seen === undefined && this.#seenOld.size >= this.#maxRemembered) {
      this.#seenOld.delete(this.#seenOld.keys().next().value!);
    }
    this.#seenOld.set(key, (seen ?? 0) + 1);
  }

  /** Whether the old set delivered this event and no copy has matched it yet (and counts the match). */
  #takeSeen(event: string, payload: unknown): boolean {
    if (this.#seenOld.size === 0 || (this.#drainUntil !== 0 && Date.now() >= this.#drainUntil)) return false;
    const key = keyOf(event, payload);
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
