import { createHash } from 'node:crypto';
import type { Session } from '../session.js';
import { shardForGuild } from './shard-for-guild.js';

/** How many old-set dispatches a reshard remembers at once, waiting for their copies; past it, no copy is expected. */
export const MAX_REMEMBERED_DISPATCHES = 200_000;

/** How many new-set dispatches wait for the old set's copy at most; past it the oldest goes out early (never dropped). */
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
/** The guild key of dispatches without a guild (DMs, the bot's user): Discord sends them to shard 0. */
const NO_GUILD = '';

/** A dispatch one set delivered, waiting for the other set's copy. */
interface Entry {
  readonly key: string;
  readonly at: number;
}

/** A new-set dispatch waiting for the old set's copy. */
interface Held extends Entry {
  readonly event: string;
  readonly payload: unknown;
  readonly session: Session;
  readonly guild: string;
  /** Matched by the old set's copy, or delivered: it waits no more (only the all-arrivals line keeps such entries). */
  done: boolean;
}

/** A first-in first-out list that drops from its front without shifting (compacted as it goes). */
class Line<T> {
  items: T[] = [];
  head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** Drops the first `count` items. */
  drop(count: number): void {
    this.head += count;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

/**
 * The seam between two shard sets during a reshard: handlers see every event once, in each
 * guild's order, whichever set got it. Discord sends a guild's events to both sets once the
 * guild's new session has identified, each set in the guild's order; the same name and payload
 * make the same event.
 *
 * Until the swap the old set delivers. A new-set dispatch waits for the old set's copy (then it
 * is dropped), at most {@link RESHARD_HOLD_MS} (then it goes out: the old set missed it or is
 * stalled, and its later copy, a replay after it resumes, is dropped). When the old set delivers
 * a guild's event, the new set's earlier dispatches of that guild still waiting are ones it
 * missed: they go out first. A guild whose old session has ended gets the new set's dispatches
 * at once. A new session's initial GUILD_CREATEs (the guilds its READY lists) are its own and go
 * out at once. At the swap what still waits goes out in arrival order; after it, the new set's
 * copies of what the old set delivered are dropped.
 *
 * Old-set dispatches of a guild wait for a copy only while its new session is identified (from
 * its identify slot until it loses its session): Discord sends no copy of anything earlier, so
 * an event that merely repeats an earlier payload (a reaction added again) is not taken for a
 * copy. A match also ends the wait of the same guild's earlier entries: their copies will not
 * come. Copies are matched for {@link RESHARD_REPLAY_MS}. Only used while resharding, so its cost
 * (one serialization per dispatch) never touches the normal path.
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
  /** Guilds whose initial GUILD_CREATE each new session still has to receive (from its READY). */
  readonly #loading = new Map<Session, Set<string>>();
  /** What the old set delivered, per guild in its order, waiting for the new set's copies. */
  readonly #oldPending = new Map<string, Line<Entry>>();
  #oldPendingCount = 0;
  #lastOldPendingAt = 0;
  /** What the new set delivered before the old set's copy came, per guild. */
  readonly #newDelivered = new Map<string, Line<Entry>>();
  /** The new set's waiting dispatches: all in arrival order, and per guild. */
  #held = new Line<Held>();
  readonly #heldByGuild = new Map<string, Line<Held>>();
  #heldCount = 0;
  #timer: NodeJS.Timeout | undefined;
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
    return this.#swapped && (this.#oldPendingCount === 0 || Date.now() - this.#lastOldPendingAt >= RESHARD_REPLAY_MS);
  }

  /** Whether `session` belongs to the new set and the swap is still ahead. */
  isStarting(session: Session): boolean {
    return !this.#swapped && this.#fresh.has(session);
  }

  /** A new session has its identify slot: Discord sends it its guilds' events from now on. */
  identifying(session: Session): void {
    if (this.#fresh.has(session)) this.#identified.add(session);
  }

  /** A new session lost its session (it must identify again): no copies come to it of what its guilds had meanwhile. */
  lost(session: Session): void {
    if (!this.#identified.delete(session)) return;
    for (const [guild, line] of this.#oldPending) {
      if (this.#shardOf(guild, this.#total) !== session.shard[0]) continue;
      this.#oldPendingCount -= line.size;
      this.#oldPending.delete(guild);
    }
  }

  /** An old session ended: its guilds' waiting new-set dispatches go out now, in order, and later ones at once. */
  oldEnded(session: Session): void {
    if (this.#swapped) return;
    for (const guild of [...this.#heldByGuild.keys()]) {
      if (this.#old.get(this.#shardOf(guild, this.#oldTotal)) === session) this.#releaseGuild(guild, this.#heldByGuild.get(guild)?.size ?? 0);
    }
  }

  /**
   * Decides what to do with a dispatch: `true` = deliver it now. Dispatches it held may be
   * delivered from here, before this one.
   */
  route(event: string, payload: unknown, session: Session): boolean {
    const fresh = this.#fresh.has(session);
    if (CONNECTION_EVENTS.has(event)) {
      if (fresh && event === 'READY') this.#loading.set(session, new Set(guildIds(payload)));
      return true;
    }
    if (fresh && event === 'GUILD_CREATE' && this.#loading.get(session)?.delete(guildOf(event, payload)) === true) return true;
    const now = Date.now();
    const guild = guildOf(event, payload);
    if (this.#swapped) {
      if (!fresh || this.#oldPendingCount === 0) return true;
      const pending = this.#oldPending.get(guild);
      return pending === undefined || !this.#takeThrough(pending, guild, keyOf(event, payload), now);
    }
    this.#releaseOverdue(now);
    if (fresh) {
      const key = keyOf(event, payload);
      const pending = this.#oldPending.get(guild);
      if (pending !== undefined && this.#takeThrough(pending, guild, key, now)) {
        // The old set delivered this without the guild's events the new set holds from before it, nor
        // those the new set already released: it missed them.
        this.#releaseGuild(guild, this.#heldByGuild.get(guild)?.size ?? 0);
        this.#newDelivered.delete(guild);
        return false;
      }
      if (!this.#oldOwnerAlive(guild)) {
        const held = this.#heldByGuild.get(guild);
        if (held !== undefined) this.#releaseGuild(guild, held.size);
        return true;
      }
      this.#hold({ key, at: now, event, payload, session, guild, done: false });
      return false;
    }
    if (this.#previous !== undefined && !this.#previous.route(event, payload, session)) return false;
    // A guild becoming available sends GUILD_CREATE to both sets: the new set's is then a copy, not its own.
    const owner = this.#freshByShard.get(this.#shardOf(guild, this.#total));
    if (event === 'GUILD_CREATE' && owner !== undefined) this.#loading.get(owner)?.delete(guild);
    // Discord sends the new set copies only once the guild's new session has identified.
    const coming = owner !== undefined && this.#identified.has(owner);
    const delivered = this.#newDelivered.get(guild);
    const held = this.#heldByGuild.get(guild);
    if (!coming && delivered === undefined && held === undefined) return true;
    const key = keyOf(event, payload);
    if (delivered !== undefined && this.#takeNewDelivered(delivered, guild, key, now)) return false;
    if (held !== undefined) {
      const at = indexOf(held, key);
      if (at >= 0) {
        // The old set delivers in the guild's order: what the new set holds from before this, the
        // old set missed, and what it remembered or released before this, the other set passed.
        const missed = held.items.slice(held.head, held.head + at);
        held.items[held.head + at]!.done = true;
        this.#dropHeld(guild, at + 1);
        this.#forgetGuild(guild);
        this.#deliverAll(missed);
        return true;
      }
    }
    if (coming && this.#oldPendingCount < this.#maxRemembered) {
      let pending = this.#oldPending.get(guild);
      if (pending === undefined) this.#oldPending.set(guild, (pending = new Line()));
      pending.push({ key, at: now });
      this.#oldPendingCount++;
      this.#lastOldPendingAt = now;
    }
    return true;
  }

  /** The old set stops delivering: what the new set holds goes out in arrival order, then only its late copies are dropped. */
  swap(): void {
    this.#swapped = true;
    this.#previous = undefined;
    this.#stopTimer();
    const held = this.#held;
    this.#held = new Line();
    this.#heldByGuild.clear();
    this.#heldCount = 0;
    this.#newDelivered.clear();
    for (let i = held.head; i < held.items.length; i++) {
      const h = held.items[i]!;
      if (!h.done) this.#deliver(h.event, h.payload, h.session);
    }
  }

  /**
   * The reshard was abandoned: the old set goes on alone, and nothing waits any more. What the
   * new set held is dropped: the old set, still running, delivers it or missed it as it would
   * have without a reshard.
   */
  abandon(): void {
    this.#stopTimer();
    this.#held = new Line();
    this.#heldByGuild.clear();
    this.#heldCount = 0;
  }

  #hold(held: Held): void {
    if (this.#heldCount >= this.#maxHeld) this.#releaseOldest(held.at);
    this.#held.push(held);
    let line = this.#heldByGuild.get(held.guild);
    if (line === undefined) this.#heldByGuild.set(held.guild, (line = new Line()));
    line.push(held);
    this.#heldCount++;
    this.#timer ??= setTimeout(() => this.#onTimer(), RESHARD_HOLD_MS).unref();
  }

  #onTimer(): void {
    this.#timer = undefined;
    if (this.#swapped) return;
    const now = Date.now();
    this.#releaseOverdue(now);
    const next = this.#oldestHeld();
    if (next !== undefined) this.#timer = setTimeout(() => this.#onTimer(), Math.max(1, next.at + RESHARD_HOLD_MS - now)).unref();
  }

  #stopTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #oldestHeld(): Held | undefined {
    const line = this.#held;
    while (line.size > 0 && line.items[line.head]!.done) line.drop(1);
    return line.size > 0 ? line.items[line.head] : undefined;
  }

  /** Delivers what has waited for the old set's copy longer than {@link RESHARD_HOLD_MS}, in arrival order. */
  #releaseOverdue(now: number): void {
    for (let oldest = this.#oldestHeld(); oldest !== undefined && now - oldest.at >= RESHARD_HOLD_MS; oldest = this.#oldestHeld()) {
      this.#releaseOldest(now);
    }
  }

  /** Delivers the oldest waiting dispatch; the old set's copy, should it come (a replay), is then dropped. */
  #releaseOldest(now: number): void {
    const oldest = this.#oldestHeld();
    if (oldest === undefined) return;
    let delivered = this.#newDelivered.get(oldest.guild);
    if (delivered === undefined) this.#newDelivered.set(oldest.guild, (delivered = new Line()));
    delivered.push({ key: oldest.key, at: now });
    this.#releaseGuild(oldest.guild, 1);
  }

  /** Delivers, in order, the first `count` waiting dispatches of `guild`. */
  #releaseGuild(guild: string, count: number): void {
    const line = this.#heldByGuild.get(guild);
    if (line === undefined || count === 0) return;
    const out = line.items.slice(line.head, line.head + count);
    this.#dropHeld(guild, count);
    this.#deliverAll(out);
  }

  /**
   * Delivers dispatches already taken off the lines. The books are settled first: a handler may
   * end a session (`close()`), which comes back here through {@link oldEnded}.
   */
  #deliverAll(out: readonly Held[]): void {
    for (const h of out) h.done = true;
    for (const h of out) this.#deliver(h.event, h.payload, h.session);
  }

  /** The other set has passed `guild`'s remembered entries: their copies are not coming. */
  #forgetGuild(guild: string): void {
    const pending = this.#oldPending.get(guild);
    if (pending !== undefined) {
      this.#oldPendingCount -= pending.size;
      this.#oldPending.delete(guild);
    }
    this.#newDelivered.delete(guild);
  }

  #dropHeld(guild: string, count: number): void {
    const line = this.#heldByGuild.get(guild)!;
    line.drop(count);
    this.#heldCount -= count;
    if (line.size === 0) this.#heldByGuild.delete(guild);
  }

  /**
   * Whether the old set delivered `key` in `guild` (its copy is due no more). The guild's
   * entries before it are dropped too: the new set has the guild in the same order, so their
   * copies are not coming.
   */
  #takeThrough(pending: Line<Entry>, guild: string, key: string, now: number): boolean {
    const expired = countExpired(pending, now);
    if (expired > 0) {
      pending.drop(expired);
      this.#oldPendingCount -= expired;
    }
    const at = indexOf(pending, key);
    if (at < 0) {
      if (pending.size === 0) this.#oldPending.delete(guild);
      return false;
    }
    pending.drop(at + 1);
    this.#oldPendingCount -= at + 1;
    if (pending.size === 0) this.#oldPending.delete(guild);
    return true;
  }

  /** Whether the new set delivered `key` in `guild` before the old set's copy (this one) came. */
  #takeNewDelivered(delivered: Line<Entry>, guild: string, key: string, now: number): boolean {
    delivered.drop(countExpired(delivered, now));
    const at = indexOf(delivered, key);
    if (at >= 0) delivered.drop(at + 1);
    if (delivered.size === 0) this.#newDelivered.delete(guild);
    return at >= 0;
  }

  /** Whether the old session that gets `guild`'s events may still deliver them (it has not ended). */
  #oldOwnerAlive(guild: string): boolean {
    const owner = this.#old.get(this.#shardOf(guild, this.#oldTotal));
    return owner !== undefined && owner.status !== 'closed';
  }

  #shardOf(guild: string, total: number): number {
    return guild === NO_GUILD ? 0 : shardForGuild(guild, total);
  }
}

function totalOf(sessions: Iterable<Session>): number {
  for (const session of sessions) return session.shard[1];
  return 1;
}

/** The guild a dispatch belongs to, or {@link NO_GUILD}. */
function guildOf(event: string, payload: unknown): string {
  const d = payload as { guild_id?: unknown; id?: unknown } | null;
  if (typeof d?.guild_id === 'string') return d.guild_id;
  return GUILD_IS_ID.has(event) && typeof d?.id === 'string' ? d.id : NO_GUILD;
}

/** The guild ids a READY lists. */
function guildIds(ready: unknown): string[] {
  const guilds = (ready as { guilds?: unknown } | null)?.guilds;
  if (!Array.isArray(guilds)) return [];
  return guilds.flatMap((g: unknown) => (typeof (g as { id?: unknown } | null)?.id === 'string' ? [(g as { id: string }).id] : []));
}

/** The position (from the line's head) of the first entry with `key`, or -1. */
function indexOf(line: Line<Entry>, key: string): number {
  for (let i = line.head; i < line.items.length; i++) {
    if (line.items[i]!.key === key) return i - line.head;
  }
  return -1;
}

/** How many entries at the line's front are older than {@link RESHARD_REPLAY_MS}. */
function countExpired(line: Line<Entry>, now: number): number {
  let count = 0;
  while (count < line.size && now - line.items[line.head + count]!.at >= RESHARD_REPLAY_MS) count++;
  return count;
}

/** Same name and payload, same key; a digest, so a remembered GUILD_CREATE costs 44 bytes, not megabytes. */
function keyOf(event: string, payload: unknown): string {
  return createHash('sha256').update(event).update('\u0000').update(JSON.stringify(payload) ?? '').digest('base64');
}
