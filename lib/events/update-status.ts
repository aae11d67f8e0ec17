import { ActivityType, GatewayOpcodes, PresenceUpdateStatus } from 'discord-api-types/v10';
import type { GatewayActivityUpdateData, GatewayPresenceUpdateData } from 'discord-api-types/v10';
import { ValidationError } from '../errors.js';
import { SendEvent } from './send-event.js';
import { arrayOf, at, boolean, integer, nullable, object, oneOf, optional, required, string } from './validate.js';
import type { Check } from './validate.js';

/**
 * A presence as users write it: `GatewayPresenceUpdateData`, except that `status` may also be
 * the plain string (`'idle'`), not only the `PresenceUpdateStatus` enum member.
 *
 * @category Send events
 */
export interface UpdateStatusInput extends Omit<GatewayPresenceUpdateData, 'status'> {
  /** `online`, `dnd`, `idle`, `invisible` (shown as offline) or `offline`. */
  status: PresenceUpdateStatus | `${PresenceUpdateStatus}`;
}

const ACTIVITY_TYPES = Object.values(ActivityType).filter((v): v is ActivityType => typeof v === 'number');

/** One activity a bot sets: only `name`, `state`, `type` and `url` are accepted from bots. */
const activity = object<GatewayActivityUpdateData>(
  {
    name: required(string),
    type: required(oneOf(ACTIVITY_TYPES)),
    url: optional(nullable(string)),
    state: optional(nullable(string)),
  },
  {
    unknownKey: 'bots may only set name, state, type and url',
    refine(a, path) {
      // Discord only uses (and validates) the URL of a stream.
      if (a.url != null && a.type !== ActivityType.Streaming) {
        throw new ValidationError(at(path, 'url'), 'only allowed with type 1 (Streaming)');
      }
      // A custom status shows `state`; without it the activity renders empty.
      if (a.type === ActivityType.Custom && (a.state == null || a.state === '')) {
        throw new ValidationError(at(path, 'state'), 'required with type 4 (Custom): it is the status text');
      }
    },
  },
);

/**
 * Checks a presence payload (op 3's `d`, also Identify's `presence`) and returns a copy.
 *
 * @throws {@link ValidationError} naming the field, e.g. `activities[0].type`
 */
export const presence: Check<GatewayPresenceUpdateData> = object<GatewayPresenceUpdateData>({
  since: required(nullable(integer(0))),
  activities: required(arrayOf(activity)),
  status: required(oneOf(Object.values(PresenceUpdateStatus))),
  afk: required(boolean),
});

/**
 * Update Presence (op 3): sets the bot's status and activities on a session.
 * Clearing the activities takes an empty array, not `null`.
 *
 * @example
 * ```ts
 * await new UpdateStatusData({
 *   since: null,
 *   activities: [{ name: 'Custom Status', type: ActivityType.Custom, state: 'Sorting members' }],
 *   status: 'online',
 *   afk: false,
 * }).sendEvents(bot);
 * ```
 *
 * @category Send events
 */
export class UpdateStatusData extends SendEvent<GatewayPresenceUpdateData> implements GatewayPresenceUpdateData {
  /** Opcode 3, Presence Update. */
  static override readonly op = GatewayOpcodes.PresenceUpdate;

  /** Unix time (ms) the bot went idle, or `null` when it is not idle. */
  declare readonly since: number | null;
  /** What the bot is doing; empty to clear. */
  declare readonly activities: GatewayActivityUpdateData[];
  /** The bot's status. */
  declare readonly status: PresenceUpdateStatus;
  /** Whether the bot is away from keyboard. */
  declare readonly afk: boolean;

  /**
   * @param data - the presence, as in Discord's docs
   * @throws {@link ValidationError} when a field breaks a rule: `status` not one of online, dnd,
   * idle, invisible, offline; an activity type other than 0–5; an activity field other than
   * name, state, type, url; `url` without type 1 (Streaming); type 4 (Custom) without `state`
   */
  constructor(data: UpdateStatusInput) {
    super();
    Object.assign(this, presence(data, ''));
  }
}
