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
  /** 1: keeps the connection alive; carries the last sequence number. */
  Heartbeat: GatewayOpcodes.Heartbeat,
  /** 2: starts a new session. */
  Identify: GatewayOpcodes.Identify,
  /** 3: Presence Update. */
  UpdateStatusData: GatewayOpcodes.PresenceUpdate,
  /** 4: Voice State Update (join, move or leave a voice channel). */
  UpdateVoiceStateData: GatewayOpcodes.VoiceStateUpdate,
  /** 6: resumes a dropped session. */
  Resume: GatewayOpcodes.Resume,
  /** 8: asks for guild members; answered by `GUILD_MEMBERS_CHUNK` dispatches. */
  RequestGuildMembers: GatewayOpcodes.RequestGuildMembers,
  /** 31: asks for guilds' soundboard sounds; answered by `SOUNDBOARD_SOUNDS` dispatches. */
  RequestSoundboardSounds: GatewayOpcodes.RequestSoundboardSounds,
  /** 43: asks for ephemeral channel fields; answered by `CHANNEL_INFO` dispatches. */
  RequestChannelInfo: GatewayOpcodes.RequestChannelInfo,
} as const;

/**
 * Largest frame, in bytes of UTF-8 JSON, that Discord accepts from a client (larger closes with 4002).
 *
 * @category Gateway vocabulary
 */
export const MAX_SEND_FRAME_BYTES = 4096;
