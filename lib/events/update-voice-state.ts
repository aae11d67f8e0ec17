import { GatewayOpcodes } from 'discord-api-types/v10';
import type { GatewayVoiceStateUpdateData, Snowflake } from 'discord-api-types/v10';
import { SendEvent } from './send-event.js';
import { boolean, nullable, object, required, snowflake } from './validate.js';

const voiceState = object<GatewayVoiceStateUpdateData>({
  guild_id: required(snowflake),
  channel_id: required(nullable(snowflake)),
  self_mute: required(boolean),
  self_deaf: required(boolean),
});

/**
 * Update Voice State (op 4): joins, moves between or leaves (`channel_id: null`) voice channels.
 * Discord answers with two dispatches, `VOICE_STATE_UPDATE` and `VOICE_SERVER_UPDATE`; a voice
 * connection needs both. Send it on the session that holds the guild (`bot.sessionForGuild`).
 *
 * @example
 * ```ts
 * await new UpdateVoiceStateData({ guild_id, channel_id: null, self_mute: false, self_deaf: false })
 *   .sendEvent(bot, bot.sessionForGuild(guild_id));
 * ```
 *
 * @category Send events
 */
export class UpdateVoiceStateData extends SendEvent<GatewayVoiceStateUpdateData> implements GatewayVoiceStateUpdateData {
  /** Opcode 4, Voice State Update. */
  static override readonly op = GatewayOpcodes.VoiceStateUpdate;

  /** The guild. */
  declare readonly guild_id: Snowflake;
  /** The voice channel to join, or `null` to leave. */
  declare readonly channel_id: Snowflake | null;
  /** Whether the bot mutes itself. */
  declare readonly self_mute: boolean;
  /** Whether the bot deafens itself. */
  declare readonly self_deaf: boolean;

  /**
   * @param data - the voice state, as in Discord's docs
   * @throws {@link ValidationError} when `guild_id` is not a snowflake, `channel_id` is neither a
   * snowflake nor `null`, or `self_mute`/`self_deaf` is not a boolean
   */
  constructor(data: GatewayVoiceStateUpdateData) {
    super();
    Object.assign(this, voiceState(data, ''));
  }
}
