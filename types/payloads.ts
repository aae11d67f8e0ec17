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
  /** The opcode. */
  op: number;
  /** The payload data; its shape depends on `op` (and `t` for dispatches). */
  d?: unknown;
  /** Sequence number of a dispatch (op 0); `null` otherwise. */
  s?: number | null;
  /** Event name of a dispatch (op 0), e.g. `'MESSAGE_CREATE'`; `null` otherwise. */
  t?: string | null;
}

/**
 * What a session needs to resume after a restart: saved by a `SessionStore`.
 *
 * @category Gateway vocabulary
 */
export interface SessionInfo {
  /** `session_id` from READY. */
  session_id: string;
  /** The last sequence number received: a resume replays everything after it. */
  seq: number;
  /** `resume_gateway_url` from READY: where the resume must connect. */
  resume_gateway_url: string;
  /**
   * The `shard` (`[shard_id, num_shards]`) the session identified with. A resume does not
   * restate it, so Discord would go on routing the old set's guilds to a session resumed under
   * another shard count; a session saved under another count is therefore not resumed.
   * Absent in values saved by disgate 0.1, which are resumed as before.
   */
  shard?: readonly [number, number];
}
