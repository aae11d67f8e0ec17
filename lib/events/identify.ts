import { GatewayOpcodes } from 'discord-api-types/v10';
import type { GatewayIdentifyData, GatewayIdentifyProperties, GatewayPresenceUpdateData } from 'discord-api-types/v10';
import type { Client } from '../client.js';
import type { Session } from '../session.js';
import { ValidationError } from '../errors.js';
import { ALL_INTENTS } from '../../types/intents.js';
import { SendEvent } from './send-event.js';
import type { SendOptions } from './send-event.js';
import { presence } from './update-status.js';
import type { UpdateStatusInput } from './update-status.js';
import { arrayOf, boolean, integer, nonEmptyString, object, optional, required, rule, string } from './validate.js';
import type { Check } from './validate.js';

/**
 * Identify's fields as users write them: `presence.status` may be a plain string.
 *
 * @category Send events
 */
export interface IdentifyInput extends Omit<GatewayIdentifyData, 'presence'> {
  /** Initial presence. */
  presence?: UpdateStatusInput;
}

const properties = object<GatewayIdentifyProperties>({
  os: required(string),
  browser: required(string),
  device: required(string),
});

const SHARD_RULE = '[shard_id, num_shards] with 0 <= shard_id < num_shards';

const shard: Check<[number, number]> = (value, path) => {
  const [id, count] = arrayOf(integer(0), { min: 2, max: 2 })(value, path) as [number, number];
  if (id >= count) throw new ValidationError(path, SHARD_RULE);
  return [id, count];
};

/** Bit operations work on 32-bit integers; every defined intent is below bit 26. */
const intents = rule(
  'a non-negative integer using only defined intent bits (ALL_INTENTS)',
  (v): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= ALL_INTENTS && ((v as number) & ~ALL_INTENTS) === 0,
);

const identify = object<GatewayIdentifyData>({
  token: required(nonEmptyString),
  properties: required(properties),
  compress: optional(boolean),
  large_threshold: optional(integer(50, 250)),
  shard: optional(shard),
  presence: optional(presence),
  intents: required(intents),
  capabilities: optional(integer(0, 0x7fffffff)),
});

/**
 * Identify (op 2): starts a new session. `Session` builds and sends it; sending it waits for the
 * bot's identify bucket (`identify:<shard_id % max_concurrency>`, 1 per 5 s) and its daily
 * session-start budget. A second Identify on one connection closes it with 4005, so
 * {@link SendEvent.sendEvents} is almost never what you want here.
 *
 * @example
 * ```ts
 * const identify = new Identify({
 *   token,
 *   intents: GatewayIntentBits.Guilds | GatewayIntentBits.GuildMessages,
 *   properties: { os: 'linux', browser: 'disgate', device: 'disgate' },
 *   shard: [0, 1],
 * });
 * await identify.sendEvent(bot, session);
 * ```
 *
 * @category Send events
 */
export class Identify extends SendEvent<GatewayIdentifyData> implements GatewayIdentifyData {
  /** Opcode 2, Identify. */
  static override readonly op = GatewayOpcodes.Identify;

  /** The bot token (hidden from `util.inspect`). */
  declare readonly token: string;
  /** Connection properties: `os`, and the library's name as `browser` and `device`. */
  declare readonly properties: GatewayIdentifyProperties;
  /** Per-message (payload) compression; JSON only, and never with transport compression. */
  declare readonly compress?: boolean;
  /** Member count (50–250) above which offline members are not sent. */
  declare readonly large_threshold?: number;
  /** `[shard_id, num_shards]`. */
  declare readonly shard?: [shard_id: number, shard_count: number];
  /** Initial presence. */
  declare readonly presence?: GatewayPresenceUpdateData;
  /** Intent bitfield. */
  declare readonly intents: number;
  /** Capability bitfield (unstable, types-only; see protocol §1.6). */
  declare readonly capabilities?: number;

  /**
   * @param data - Identify's `d`, as in Discord's docs
   * @throws {@link ValidationError} when a field breaks a rule: empty `token`; `properties` not
   * three strings; `large_threshold` outside 50–250; `shard` not `[id, n]` with `0 <= id < n`;
   * an invalid `presence`; `intents` with undefined bits
   */
  constructor(data: IdentifyInput) {
    super();
    Object.assign(this, identify(data, ''));
  }

  /** The shard this Identify starts (0 without `shard`): picks the identify bucket. */
  get shardId(): number {
    return this.shard?.[0] ?? 0;
  }

  /**
   * Waits for the bot's identify bucket and daily budget, then writes the frame.
   *
   * @param bot - the bot whose identify bucket and daily budget are taken
   * @param session - the session to write on
   * @param options - `signal` withdraws the frame while it waits
   */
  protected override async deliver(bot: Client, session: Session, options?: SendOptions): Promise<void> {
    await bot.acquireIdentify(this.shardId, options?.signal, session);
    await session.transmit(this, options);
  }
}
