import { GatewayOpcodes, GatewayRequestChannelInfoField } from 'discord-api-types/v10';
import type { GatewayRequestChannelInfoData, Snowflake } from 'discord-api-types/v10';
import { SendEvent } from './send-event.js';
import { arrayOf, object, oneOf, required, snowflake } from './validate.js';

const request = object<GatewayRequestChannelInfoData>({
  guild_id: required(snowflake),
  fields: required(arrayOf(oneOf(Object.values(GatewayRequestChannelInfoField)), { min: 1, unique: true })),
});

/**
 * Request Channel Info (op 43): asks for a guild's ephemeral channel data (voice channel status,
 * voice start time), answered by one `CHANNEL_INFO` dispatch.
 *
 * @example
 * ```ts
 * await new RequestChannelInfo({ guild_id, fields: ['status', 'voice_start_time'] }).sendEvent(bot, session);
 * ```
 *
 * @category Send events
 */
export class RequestChannelInfo extends SendEvent<GatewayRequestChannelInfoData> implements GatewayRequestChannelInfoData {
  /** Opcode 43, Request Channel Info. */
  static override readonly op = GatewayOpcodes.RequestChannelInfo;

  /** The guild. */
  declare readonly guild_id: Snowflake;
  /** Which data to send: a non-empty set of `'status'` and `'voice_start_time'`. */
  declare readonly fields: GatewayRequestChannelInfoField[];

  /**
   * @param data - the request, as in Discord's docs
   * @throws {@link ValidationError} when `guild_id` is not a snowflake, or `fields` is empty,
   * repeats a field or names one other than `status` and `voice_start_time`
   */
  constructor(data: GatewayRequestChannelInfoData) {
    super();
    Object.assign(this, request(data, ''));
  }
}
