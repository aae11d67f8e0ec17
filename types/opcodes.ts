import { GatewayOpcodes } from 'discord-api-types/v10';

/**
 * Gateway opcodes (Discord API v10), re-exported from `discord-api-types`.
 *
 * @example
 * ```ts
 * import { GatewayOpcodes } from 'disgate';
 * GatewayOpcodes.RequestGuildMembers; // 8
 * ```
 */
export { GatewayOpcodes };

/**
 * Opcodes a client may send, by the name of the disgate class that sends each.
 *
 * @category Gateway vocabulary
 */
export const SendOpcodes = {
  Heartbeat: GatewayOpcodes.Heartbeat,
  Identify: GatewayOpcodes.Identify,
  UpdateStatusData: GatewayOpcodes.PresenceUpdate,
  UpdateVoiceStateData: GatewayOpcodes.VoiceStateUpdate,
  Resume: GatewayOpcodes.Resume,
  RequestGuildMembers: GatewayOpcodes.RequestGuildMembers,
  RequestSoundboardSounds: GatewayOpcodes.RequestSoundboardSounds,
  RequestChannelInfo: GatewayOpcodes.RequestChannelInfo,
} as const;

/**
 * Largest frame, in bytes of UTF-8 JSON, that Discord accepts from a client (larger closes with 4002).
 *
 * @category Gateway vocabulary
 */
export const MAX_SEND_FRAME_BYTES = 4096;
