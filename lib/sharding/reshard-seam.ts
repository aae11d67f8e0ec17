import { createHash } from 'node:crypto';
import type { Session } from '../session.js';
import { shardForGuild } from './shard-for-guild.js';

/**
 * How many dispatches of one set a reshard remembers, waiting for their copies from the other
 * set. Past it the oldest are forgotten (their copies, should they still come, go through).
 */
export const MAX_REMEMBERED_DISPATCHES = 200_000;

/**
 * How many of the new set's dispatches wait for the old set's copy at most. Past it the oldest
 * goes out at once, without waiting (never dropped).
 */
export const MAX_HELD_DISPATCHES = 100_000;

/**
 * How long a new-set dispatch waits for the old set's copy before it goes out on its own (the
 * old set missed it, or its connection is stalled and will replay it later).
 */
export const RESHARD_HOLD_MS = 10_000;

/**
 * How long a delivered dispatch is remembered, waiting for the other set's copy. A stalled
 * connection is noticed within two heartbeat intervals (82.5 s on Discord) and then resumes,
 * replaying what it missed: copies can trail by that much. A copy later than this is taken for
 * a new event. The seam outlives the swap until nothing it remembers is due any more.
 */
export const RESHARD_REPLAY_MS = 120_000;

/** Bounds of a {@link ReshardSeam}. */
export interface ReshardSeamLimits {
  /** Default {@link MAX_REMEMBERED_DISPATCHES}. */
  maxRemembered?: number;
  /** Default {@link MAX_HELD_DISPATCHES}. */
  maxHeld?: number;
}

/** Hands a dispatch to the handlers, past the seam. */
export type SeamDelivery = (event: string, payload: unknown, session: Session) => void;

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

/** A new-set dispatch waiting for the old set's copy. */
interface Held {
  readonly event: string;
  readonly payload: unknown;
  readonly session: Session;
  readonly key: string;
  readonly at: number;
  /** The old set delivered it: it goes nowhere. */
  matched: boolean;
}

/**
 * The seam between two shard sets during a reshard. Until the swap the old set delivers, in its
 * order; the new set's dispatches wait, each until the old set's copy arrives (then it is
 * dropped) or for {@link RESHARD_HOLD_MS} (then it goes out, and a later copy from the old set,
 * such as a replay after it resumes, is dropped). At the swap what still waits goes out in
 * arrival order; after it the new set's late copies of what the old set delivered are dropped.
 * Copies are matched for {@link RESHARD_REPLAY_MS}. The same name and payload make
 * the same event. So handlers see every event once, in each guild's order, whichever set got it.
 *
 * Discord sends an event to both sets only once the new session of its guild has identified:
 * the old set's dispatches wait for a copy only from then on, and until that session is lost,
 * so an event that merely repeats an earlier payload (a reaction added again) is never taken
 * for a copy. Dispatches of a guild whose old session has ended go out at once. Only used while
 * resharding, so its cost (one serialization per dispatch) never touches the normal path.
 */
export class ReshardSeam {
  readonly #deliver: SeamDelivery;
  readonly #fresh: ReadonlySet<Session>;
  /** The new set by shard id, and its shard count: which new session gets a guild's events. */
  readonly #freshByShard = new Map<number, Session>();
  readonly #total: number;
  /** The old set by shard id, and its shard count: which old session gets a guild's events. */
  readonly #old: ReadonlyMap<number, Session>;
  readonly #oldTotal: number;
  /** New sessions whose current session Discord sends their guilds' events to. */
  readonly #identified = new Set<Session>();
  /** What the old set delivered, waiting for the new set's copies. */
  readonly #oldLedger: Ledger = new Map();
  /** What the new set delivered before the old set's copy came (it was late or missing). */
  readonly #newLedger: Ledger = new Map();
  /** The new set's waiting dispatches in arrival order, from `#heldHead` on, and by digest. */
  #held: Held[] = [];
  #heldHead = 0;
  readonly #heldByKey = new Map<string, Held[]>();
  readonly #maxRemembered: number;
  readonly #maxHeld: number;
  /** A seam still draining when this reshard began: its new set is this one's old set. */
  #previous: ReshardSeam | undefined;
  #swapped = false;

  /**
   * @param fresh - the new set's sessions
   * @param old - the running set's sessions by shard id
   * @param deliver - hands a dispatch to the handlers, past the seam
   * @param limits - bounds on what is remembered and held
   * @param previous - the seam of a reshard still draining, whose new set is this one's old set
   */
  constructor(fresh: Iterable<Session>, old: ReadonlyMap<number, Session>, deliver: SeamDelivery, limits: ReshardSeamLimits = {}, previous?: ReshardSeam) {
    this.#deliver = deliver;
    this.#fresh = new Set(fresh);
    this.#total = totalOf(this.#fresh);
    for (const session of this.#fresh) this.#freshByShard.set(session.shard[0], session);
    this.#old = new Map(old);
    this.#oldTotal = totalOf(this.#old.values());
    this.#maxRemembered = limits.maxRemembered ?? MAX_REMEMBERED_DISPATCHES;
    this.#maxHeld = limits.maxHeld ?? MAX_HELD_DISPATCHES;
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

  /**
   * Decides what to do with a dispatch: `true` = deliver it now. Dispatches it held may be
   * delivered from here, before this one, once they have waited long enough.
   */
  route(event: string, payload: unknown, session: Session): boolean {
    if (CONNECTION_EVENTS.has(event)) return true;
    const now = Date.now();
    if (!this.#swapped) this.#releaseOverdue(now);
    if (this.#fresh.has(session)) {
      expire(this.#oldLedger, now);
      if (this.#swapped && this.#oldLedger.size === 0) return true;
      const key = keyOf(event, payload);
      if (take(this.#oldLedger, key)) return false;
      if (this.#swapped || !this.#oldOwnerAlive(event, payload)) return true;
      this.#hold({ event, payload, session, key, at: now, matched: false });
      return false;
    }
    if (this.#swapped) return true;
    if (this.#previous !== undefined && !this.#previous.route(event, payload, session)) return false;
    expire(this.#newLedger, now);
    const copyComing = this.#copyComing(event, payload);
    if (!copyComing && this.#heldByKey.size === 0 && this.#newLedger.size === 0) return true;
    const key = keyOf(event, payload);
    if (take(this.#newLedger, key)) return false;
    const waiting = this.#heldByKey.get(key);
    if (waiting !== undefined) {
      waiting.shift()!.matched = true;
      if (waiting.length === 0) this.#heldByKey.delete(key);
    } else if (copyComing) {
      remember(this.#oldLedger, key, now, this.#maxRemembered);
    }
    return true;
  }

  /** The old set stops delivering: what the new set holds goes out, then only its late copies are dropped. */
  swap(): void {
    this.#swapped = true;
    this.#previous = undefined;
    const held = this.#held;
    const head = this.#heldHead;
    this.#held = [];
    this.#heldHead = 0;
    this.#heldByKey.clear();
    this.#newLedger.clear();
    for (let i = head; i < held.length; i++) {
      const h = held[i]!;
      if (!h.matched) this.#deliver(h.event, h.payload, h.session);
    }
  }

  #hold(held: Held): void {
    if (this.#held.length - this.#heldHead >= this.#maxHeld) this.#releaseHead(held.at);
    this.#held.push(held);
    const same = this.#heldByKey.get(held.key);
    if (same === undefined) this.#heldByKey.set(held.key, [held]);
    else same.push(held);
  }

  /** Delivers what has waited for the old set's copy longer than {@link RESHARD_HOLD_MS}, in order. */
  #releaseOverdue(now: number): void {
    while (this.#heldHead < this.#held.length) {
      const head = this.#held[this.#heldHead]!;
      if (!head.matched && now - head.at < RESHARD_HOLD_MS) break;
      this.#releaseHead(now);
    }
  }

  /** Takes the oldest held dispatch off the queue; unless matched, delivers it and expects the old set's copy no more. */
  #releaseHead(now: number): void {
    const head = this.#held[this.#heldHead]!;
    this.#heldHead++;
    if (this.#heldHead * 2 > this.#held.length) {
      this.#held.splice(0, this.#heldHead);
      this.#heldHead = 0;
    }
    if (head.matched) return;
    const same = this.#heldByKey.get(head.key)!;
    same.splice(same.indexOf(head), 1);
    if (same.length === 0) this.#heldByKey.delete(head.key);
    remember(this.#newLedger, head.key, now, this.#maxRemembered);
    this.#deliver(head.event, head.payload, head.session);
  }

  /** Whether the new session that gets this event's guild has identified. */
  #copyComing(event: string, payload: unknown): boolean {
    const target = this.#freshByShard.get(shardOf(event, payload, this.#total));
    return target !== undefined && this.#identified.has(target);
  }

  /** Whether the old session that gets this event's guild may still deliver it (it has not ended). */
  #oldOwnerAlive(event: string, payload: unknown): boolean {
    const owner = this.#old.get(shardOf(event, payload, this.#oldTotal));
    return owner !== undefined && owner.status !== 'closed';
  }
}

function totalOf(sessions: Iterable<Session>): number {
  for (const session of sessions) return session.shard[1];
  return 1;
}

/** The shard of `total` that gets this event: its guild's, or shard 0 for events without one (DMs). */
function shardOf(event: string, payload: unknown, total: number): number {
  const d = payload as { guild_id?: unknown; id?: unknown } | null;
  const guildId = typeof d?.guild_id === 'string' ? d.guild_id : GUILD_IS_ID.has(event) && typeof d?.id === 'string' ? d.id : undefined;
  return guildId === undefined ? 0 : shardForGuild(guildId, total);
}

function remember(ledger: Ledger, key: string, now: number, max: number): void {
  const entry = ledger.get(key);
  if (entry !== undefined) {
    entry.count++;
    return;
  }
  if (ledger.size >= max) ledger.delete(ledger.keys().next().value!);
  ledger.set(key, { count: 1, at: now });
}

/** Forgets what has waited longer than {@link RESHARD_REPLAY_MS} for its copy (the oldest come first). */
function expire(ledger: Ledger, now: number): void {
  for (const [key, entry] of ledger) {
    if (now - entry.at < RESHARD_REPLAY_MS) return;
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
