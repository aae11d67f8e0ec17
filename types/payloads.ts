/**
 * The payload vocabulary disgate uses, taken from `discord-api-types/v10` rather than rewritten.
 */
export type {
  APIGatewayBotInfo,
  APIGatewaySessionStartLimit,
  GatewayReceivePayload,
  GatewaySendPayload,
  GatewayDispatchPayload,
  GatewayHelloData,
  GatewayReadyDispatchData,
  GatewayIdentifyData,
  GatewayIdentifyProperties,
  GatewayResumeData,
  GatewayHeartbeatData,
  GatewayPresenceUpdateData,
  GatewayActivityUpdateData,
  GatewayVoiceStateUpdateData,
  GatewayRequestGuildMembersData,
  GatewayRequestSoundboardSoundsData,
  GatewayRequestChannelInfoData,
  GatewayGuildMembersChunkDispatchData,
  GatewayRateLimitedDispatchData,
  APIGuildMember,
} from 'discord-api-types/v10';
export { GatewayRequestChannelInfoField, ActivityType, PresenceUpdateStatus } from 'discord-api-types/v10';

/**
 * A raw gateway frame as it travels on the wire (protocol §1.3).
 *
 * @category Gateway vocabulary
 */
export interface GatewayFrame {
  op: number;
  d?: unknown;
  s?: number | null;
  t?: string | null;
}

/**
 * What a session needs to resume after a restart: saved by a `SessionStore`.
 *
 * @category Gateway vocabulary
 */
export interface SessionInfo {
  session_id: string;
  seq: number;
  resume_gateway_url: string;
}
