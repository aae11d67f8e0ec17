import { createHash } from 'node:crypto';
import type { Session } from '../session.js';
import { shardForGuild } from './shard-for-guild.js';

/**
 * How many dispatches of one set a reshard remembers, waiting for their copies from the other
 * set. Past it the oldest are forgotten (their copies, should they still come, go through).
 */
export const MAX_REMEMBERED_DISPATCHES = 200_000;

/**
 * How long a dispatch one set delivered waits for its copy from the other set. Both sets get an
 * event on their own socket, so one copy can trail the other; a copy later than this is taken
 * for a new event. It is also how long the seam outlives the swap.
 */
export const RESHARD_DRAIN_MS = 10_000;

/** Bounds of a {@link ReshardSeam}. */
export interface ReshardSeamLimits {
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

/** A remembered dispatch: how many copies are still due, and when it was first delivered. */
interface Remembered {
  count: number;
  readonly at: number;
}

/** Dispatches one set delivered, in delivery order (Map order), by digest. */
type Ledger = Map<string, Remembered>;

/**
 * The seam between two shard sets during a reshard. While both run, Discord sends an event to
 * both sets once the new session of its guild has identified (before that, to the old set
 * only): whichever set delivers an event first delivers it, and the other set's copy, arriving
 * within {@link RESHARD_DRAIN_MS}, is dropped. The same name and payload make the same event.
 * After the swap the old set is gone, and the new set's late copies of what the old set
 * delivered are still dropped until they are due no more. Only used while resharding, so its
 * cost (one serialization per dispatch) never touches the normal path.
 *
 * Old-set events are remembered only once their guild's new session has identified, and until
 * it loses that session: of anything earlier, no copy comes, so an event that merely repeats an
 * earlier one's payload (a reaction added again) is never taken for a copy.
 */
export class ReshardSeam {
  readonly #fresh: ReadonlySet<Session>;
  /** The new set by shard id, and its shard count: which new session gets a guild's events. */
  readonly #freshByShard = new Map<number, Session>();
  readonly #total: number;
  /** New sessions whose current session Discord sends their guilds' events to. */
  readonly #identified = new Set<Session>();
  /** What the old set delivered, waiting for the new set's copies. */
  readonly #oldLedger: Ledger = new Map();
  /** What the new set delivered, waiting for the old set's copies (until the swap). */
  readonly #newLedger: Ledger = new Map();
  readonly #maxRemembered: number;
  /** A seam still draining when this reshard began: its new set is this one's old set. */
  #previous: ReshardSeam | undefined;
  #swapped = false;

  /**
   * @param fresh - the new set's sessions
   * @param limits - bounds on what is remembered
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
    this.#maxRemembered = limits.maxRemembered ?? MAX_REMEMBERED_DISPATCHES;
    this.#previous = previous?.finished === false ? previous : undefined;
  }

  /** Whether the swap is done and no old-set dispatch waits for its copy any more. */
  get finished(): boolean {
    if (!this.#swapped) return false;
    expire(this.#oldLedger, Date.now());
    return this.#oldLedger.size === 0;
  }

  /** Whether `session` belongs to the new set and the swap is still ahead. */
  isStarting(session: Session): boolean {
    return !this.#swapped && this.#fresh.has(session);
  }

  /** A new session has its identify slot: Discord sends it its guilds' events from now on. */
  identifying(session: Session): void {
    if (this.#fresh.has(session)) this.#identified.add(session);
  }

  /** A new session lost its session (it must identify again): until then, no copies come to it. */
  lost(session: Session): void {
    this.#identified.delete(session);
  }

  /** Decides what to do with a dispatch: `true` = deliver it. */
  route(event: string, payload: unknown, session: Session): boolean {
    if (CONNECTION_EVENTS.has(event)) return true;
    const now = Date.now();
    if (this.#fresh.has(session)) {
      expire(this.#oldLedger, now);
      if (this.#swapped && this.#oldLedger.size === 0) return true;
      const key = keyOf(event, payload);
      if (take(this.#oldLedger, key)) return false;
      if (!this.#swapped) this.#remember(this.#newLedger, key, now);
      return true;
    }
    if (this.#swapped) return true;
    if (this.#previous !== undefined && !this.#previous.route(event, payload, session)) return false;
    if (!this.#copyComing(event, payload)) return true;
    expire(this.#newLedger, now);
    const key = keyOf(event, payload);
    if (take(this.#newLedger, key)) return false;
    this.#remember(this.#oldLedger, key, now);
    return true;
  }

  /** The old set stops delivering: from now on only the new set's late copies are dropped. */
  swap(): void {
    this.#swapped = true;
    this.#previous = undefined;
    this.#newLedger.clear();
  }

  /** Whether the new session that gets this event's guild has identified (guildless events go to shard 0). */
  #copyComing(event: string, payload: unknown): boolean {
    const d = payload as { guild_id?: unknown; id?: unknown } | null;
    const guildId = typeof d?.guild_id === 'string' ? d.guild_id : GUILD_IS_ID.has(event) && typeof d?.id === 'string' ? d.id : undefined;
    const target = this.#freshByShard.get(guildId === undefined ? 0 : shardForGuild(guildId, this.#total));
    return target !== undefined && this.#identified.has(target);
  }

  #remember(ledger: Ledger, key: string, now: number): void {
    const entry = ledger.get(key);
    if (entry !== undefined) {
      entry.count++;
      return;
    }
    if (ledger.size >= this.#maxRemembered) ledger.delete(ledger.keys().next().value!);
    ledger.set(key, { count: 1, at: now });
  }
}

/** Forgets what has waited longer than {@link RESHARD_DRAIN_MS} for its copy (the oldest come first). */
function expire(ledger: Ledger, now: number): void {
  for (const [key, entry] of ledger) {
    if (now - entry.at < RESHARD_DRAIN_MS) return;
    ledger.delete(key);
  }
}

/** Whether `key` is in `ledger` (and counts one copy off). */
function take(ledger: Ledger, key: string): boolean {
  const entry = ledger.get(key);
  if (entry === undefined) return false;
  if (--entry.count === 0) ledger.delete(key);
  return true;
}

/** Same name and payload, same key; a digest, so a remembered GUILD_CREATE costs 44 bytes, not megabytes. */
function keyOf(event: string, payload: unknown): string {
  return createHash('sha256').update(event).update('\u0000').update(JSON.stringify(payload) ?? '').digest('base64');
}
