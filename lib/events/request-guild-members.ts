import { GatewayIntentBits, GatewayOpcodes } from 'discord-api-types/v10';
import type { GatewayRequestGuildMembersData, Snowflake } from 'discord-api-types/v10';
import type { Client } from '../client.js';
import type { Session } from '../session.js';
import { MissingIntentError, ValidationError } from '../errors.js';
import { INTENT_NAMES } from '../../types/intents.js';
import { shardForGuild } from '../sharding/shard-for-guild.js';
import { SendEvent, type SendOptions } from './send-event.js';
import { arrayOf, boolean, integer, isSnowflake, maxBytes, object, optional, required, rule, string } from './validate.js';
import type { Check } from './validate.js';

/**
 * Most user ids (and most members a prefix query returns) per request.
 *
 * @category Send events
 */
export const MAX_REQUESTED_MEMBERS = 100;

/**
 * Longest nonce Discord echoes back, in UTF-8 bytes; a longer one is silently dropped.
 *
 * @category Send events
 */
export const MAX_NONCE_BYTES = 32;

/** Both forms of the request in one shape; the refinement below enforces "exactly one of". */
interface RequestGuildMembersFields {
  guild_id: Snowflake;
  query?: string;
  limit?: number;
  user_ids?: Snowflake | Snowflake[];
  presences?: boolean;
  nonce?: string;
}

const USER_IDS_RULE = `a snowflake or an array of 1 to ${MAX_REQUESTED_MEMBERS} snowflakes`;

const userIds: Check<Snowflake | Snowflake[]> = (value, path) => {
  if (Array.isArray(value)) return arrayOf(rule(USER_IDS_RULE, isSnowflake), { min: 1, max: MAX_REQUESTED_MEMBERS })(value, path);
  if (isSnowflake(value)) return value;
  throw new ValidationError(path, USER_IDS_RULE);
};

const request = object<RequestGuildMembersFields>(
  {
    guild_id: required(rule('a single snowflake (one guild per request)', isSnowflake)),
    query: optional(string),
    limit: optional(integer(0, MAX_REQUESTED_MEMBERS)),
    user_ids: optional(userIds),
    presences: optional(boolean),
    nonce: optional(maxBytes(MAX_NONCE_BYTES)),
  },
  {
    refine(d) {
      const byQuery = d.query !== undefined;
      const byIds = d.user_ids !== undefined;
      if (!byQuery && !byIds) throw new ValidationError('query', 'exactly one of query and user_ids is required');
      if (byQuery && byIds) throw new ValidationError('user_ids', 'not allowed together with query (exactly one of the two)');
      if (byQuery && d.limit === undefined) throw new ValidationError('limit', 'required with query');
      if (byIds && d.limit !== undefined) throw new ValidationError('limit', 'only allowed with query');
    },
  },
);

/** Intents a request needs, as data: Discord closes the connection (or ignores fields) without them. */
const INTENT_RULES: readonly { intent: GatewayIntentBits; applies: (r: RequestGuildMembers) => boolean; reason: string }[] = [
  {
    intent: GatewayIntentBits.GuildPresences,
    applies: (r) => r.presences === true,
    reason: 'requesting presences (presences: true) needs it',
  },
  {
    intent: GatewayIntentBits.GuildMembers,
    // Discord's docs write the whole list as query "" with limit 0 <= n: every limit, not only 0.
    applies: (r) => r.query === '',
    reason: 'listing members without a name prefix (query "") needs it',
  },
];

/**
 * Request Guild Members (op 8): asks for members of one guild, by username prefix (`query` +
 * `limit`; `query: ''` with `limit: 0` is every member) or by id (`user_ids`, up to 100).
 * Discord answers with `GUILD_MEMBERS_CHUNK` dispatches carrying the `nonce`; `bot.requestGuildMembers`
 * collects them for you. All-members requests are limited to 1 per guild per 30 s (a
 * `RATE_LIMITED` dispatch answers the excess).
 *
 * @example
 * ```ts
 * await new RequestGuildMembers({ guild_id: '81384788765712384', query: '', limit: 0 }).sendEvent(bot, session);
 * await new RequestGuildMembers({ guild_id, user_ids: ['80351110224678912'], presences: true, nonce: 'abc' })
 *   .sendEvent(bot, session);
 * ```
 *
 * @category Send events
 */
export class RequestGuildMembers extends SendEvent<GatewayRequestGuildMembersData> {
  /** Opcode 8, Request Guild Members. */
  static override readonly op = GatewayOpcodes.RequestGuildMembers;

  /** The guild (a single id). */
  declare readonly guild_id: Snowflake;
  /** Username prefix; `''` matches everyone. Exclusive with `user_ids`. */
  declare readonly query?: string;
  /** Most members to send (0–100); with `query: ''`, `0` means all. Required with `query`. */
  declare readonly limit?: number;
  /** The users to send (1–100 ids). Exclusive with `query`. */
  declare readonly user_ids?: Snowflake | Snowflake[];
  /** Whether to send the members' presences (needs GUILD_PRESENCES). */
  declare readonly presences?: boolean;
  /** Echoed in every chunk of the reply; at most 32 bytes. */
  declare readonly nonce?: string;

  /**
   * @param data - the request, as in Discord's docs
   * @throws {@link ValidationError} when `guild_id` is not a single snowflake; not exactly one of
   * `query` and `user_ids` is given; `limit` is missing with `query`, given with `user_ids`, or not
   * an integer from 0 to 100; `user_ids` is not 1–100 snowflakes; `nonce` exceeds 32 bytes
   */
  constructor(data: GatewayRequestGuildMembersData) {
    super();
    Object.assign(this, request(data, ''));
  }

  /** Whether this asks for every member (`query: ''`, `limit: 0`): needs GUILD_MEMBERS, rate limited per guild. */
  get requestsAllMembers(): boolean {
    return this.query === '' && this.limit === 0;
  }

  /**
   * Refuses requests the bot's intents do not allow.
   *
   * @param bot - the bot whose intents are checked
   *
   * @throws {@link MissingIntentError} for `presences: true` without GUILD_PRESENCES, or
   * `query: ''` (with any limit) without GUILD_MEMBERS
   */
  protected override checkBot(bot: Client): void {
    for (const { intent, applies, reason } of INTENT_RULES) {
      if (applies(this) && (bot.intents & intent) === 0) throw new MissingIntentError(INTENT_NAMES[intent] ?? String(intent), reason);
    }
  }

  /**
   * Besides the connection's bucket, a whole-list request needs its guild's 30 s window: inside it (since the
   * last one was written, or for a `RATE_LIMITED`'s `retry_after`) it is refused unsent with
   * `RateLimitedError`, as Discord would answer it.
   *
   * @param bot - the bot sending it (its per-guild windows)
   * @param session - the session to write on
   * @param options - `signal` withdraws the frame while it waits
   */
  protected override deliver(bot: Client, session: Session, options?: SendOptions): Promise<void> {
    // A session that does not hold the guild (a `sendEvents` broadcast) gets no answer and counts nothing.
    if (!this.requestsAllMembers || shardForGuild(this.guild_id, session.shard[1]) !== session.shard[0]) return super.deliver(bot, session, options);
    let undo: () => void;
    try {
      undo = bot.memberListCooldown.claim(this.guild_id, this.nonce);
    } catch (err) {
      return Promise.reject(err);
    }
    // The window starts as the frame is handed to the socket: Discord's RATE_LIMITED may be read
    // before the write completes, and must not then be replaced by a full window.
    const onWrite = (): void => {
      bot.memberListCooldown.written(this.guild_id);
      options?.onWrite?.();
    };
    return super.deliver(bot, session, { ...options, onWrite }).catch((err: unknown) => {
      undo();
      throw err;
    });
  }
}
