import { GatewayOpcodes } from 'discord-api-types/v10';
import type { GatewayRequestSoundboardSoundsData, Snowflake } from 'discord-api-types/v10';
import { SendEvent } from './send-event.js';
import { arrayOf, object, required, snowflake } from './validate.js';

const request = object<GatewayRequestSoundboardSoundsData>({
  guild_ids: required(arrayOf(snowflake, { min: 1 })),
});

/**
 * Request Soundboard Sounds (op 31): Discord answers with one `SOUNDBOARD_SOUNDS` dispatch per guild.
 *
 * @example
 * ```ts
 * await new RequestSoundboardSounds({ guild_ids: ['613425648685547541'] }).sendEvent(bot, session);
 * ```
 *
 * @category Send events
 */
export class RequestSoundboardSounds extends SendEvent<GatewayRequestSoundboardSoundsData> implements GatewayRequestSoundboardSoundsData {
  /** Opcode 31, Request Soundboard Sounds. */
  static override readonly op = GatewayOpcodes.RequestSoundboardSounds;

  /** The guilds whose sounds to send (at least one). */
  declare readonly guild_ids: Snowflake[];

  /**
   * @param data - the request, as in Discord's docs
   * @throws {@link ValidationError} when `guild_ids` is empty or holds something other than snowflakes
   */
  constructor(data: GatewayRequestSoundboardSoundsData) {
    super();
    Object.assign(this, request(data, ''));
  }
}
