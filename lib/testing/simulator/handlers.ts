/**
 * What the simulator does with each client opcode, as a table. Payloads reach these handlers
 * already shape-checked by `validate.ts`; each handler applies the protocol's remaining rules.
 */
import { randomBytes } from 'node:crypto';
import {
  ApplicationFlags,
  GatewayCloseCodes,
  GatewayIntentBits,
  GatewayOpcodes,
  type GatewayChannelInfoDispatchData,
  type GatewayGuildMembersChunkDispatchData,
  type GatewayGuildMembersChunkPresence,
  type GatewayIdentifyData,
  type GatewayPresenceUpdateData,
  type GatewayRateLimitedDispatchData,
  type GatewayReadyDispatchData,
  type GatewayRequestChannelInfoData,
  type GatewayRequestGuildMembersData,
  type GatewayRequestSoundboardSoundsData,
  type GatewayResumeData,
  type GatewaySoundboardSoundsDispatchData,
  type GatewayVoiceServerUpdateDispatchData,
  type GatewayVoiceStateUpdateData,
  type GatewayVoiceStateUpdateDispatchData,
} from 'discord-api-types/v10';
import { ALL_INTENTS, PRIVILEGED_INTENTS } from '../../../types/intents.js';
import type { SimulatorConnection } from './connection.js';
import type { SimulatorCore } from './core.js';
import { guildCreatePayload, presenceOf, shardForGuild, type SimulatedGuild, type SimulatedMember } from './guilds.js';
import { SimulatedSession } from './session.js';

/** How the simulator answers one client opcode. */
export interface OpHandler {
  /** Whether the opcode is refused (4003) before identify/resume. */
  readonly needsSession: boolean;
  /** Handles a shape-checked payload. */
  handle(core: SimulatorCore, conn: SimulatorConnection, d: unknown): void;
}

/** Members per GUILD_MEMBERS_CHUNK (protocol §5.1). */
export const MEMBERS_PER_CHUNK = 1000;
/** Most members a prefix query or a `user_ids` request returns (protocol §5.1). */
const MAX_QUERY_MEMBERS = 100;
const MAX_NONCE_BYTES = 32;
/** Where VOICE_SERVER_UPDATE points; no voice server is simulated. */
export const SIMULATED_VOICE_ENDPOINT = 'voice.simulator.invalid:443';

/** Application flags matching the granted privileged intents (the "limited" ones, as for bots under the review threshold). */
const PRIVILEGED_FLAGS: readonly [intent: number, flag: number][] = [
  [GatewayIntentBits.GuildPresences, ApplicationFlags.GatewayPresenceLimited],
  [GatewayIntentBits.GuildMembers, ApplicationFlags.GatewayGuildMembersLimited],
  [GatewayIntentBits.MessageContent, ApplicationFlags.GatewayMessageContentLimited],
];

function applicationFlags(granted: number): number {
  let flags = 0;
  for (const [intent, flag] of PRIVILEGED_FLAGS) if (granted & intent) flags |= flag;
  return flags;
}

/** The guild if it is on the session's shard (requests for other guilds get no answer). */
function guildOnShard(core: SimulatorCore, session: SimulatedSession, guildId: string): SimulatedGuild | undefined {
  const guild = core.guilds.find((g) => g.id === guildId);
  return guild && shardForGuild(guild.id, session.shard[1]) === session.shard[0] ? guild : undefined;
}

function validShard(shard: unknown): shard is [number, number] {
  if (!Array.isArray(shard) || shard.length !== 2) return false;
  const [id, count]: unknown[] = shard;
  return Number.isSafeInteger(id) && Number.isSafeInteger(count) && Number(count) >= 1 && Number(id) >= 0 && Number(id) < Number(count);
}

/** Key of `[id, count]` in {@link SimulatorCore.startedShards}. */
export function shardKey(id: number, count: number): string {
  return `${id}/${count}`;
}

/**
 * Whether identifying `shard` keeps max_concurrency groups in order: with `identifyOrder`, shard
 * `s - maxConcurrency` of the same count must have identified before (protocol §4.2).
 */
function startedInOrder(core: SimulatorCore, shard: readonly [number, number]): boolean {
  const previous = shard[0] - core.options.maxConcurrency;
  return !core.options.identifyOrder || previous < 0 || core.startedShards.has(shardKey(previous, shard[1]));
}

function validIntents(intents: number): boolean {
  return Number.isSafeInteger(intents) && intents >= 0 && intents <= ALL_INTENTS && (intents & ~ALL_INTENTS) === 0;
}

function onHeartbeat(core: SimulatorCore, conn: SimulatorConnection, d: unknown): void {
  const seq = typeof d === 'number' ? d : null;
  const session = conn.session;
  if (session && seq !== null && seq > session.seq) {
    core.close(conn, GatewayCloseCodes.InvalidSeq, `Invalid seq: heartbeat ${seq} is past the last sent ${session.seq}`);
    return;
  }
  core.armHeartbeat(conn);
  const acked = !core.acksPaused(conn);
  if (acked) core.sendOp(conn, GatewayOpcodes.HeartbeatAck, null);
  core.events.emit('heartbeat', { connection: conn.id, seq, acked });
}

function onIdentify(core: SimulatorCore, conn: SimulatorConnection, payload: unknown): void {
  const d = payload as GatewayIdentifyData;
  const now = Date.now();
  if (conn.session || conn.resumed) return core.close(conn, GatewayCloseCodes.AlreadyAuthenticated, 'Already authenticated');
  if (!core.validToken(d.token)) return core.close(conn, GatewayCloseCodes.AuthenticationFailed, 'Authentication failed');
  const shard: unknown = d.shard ?? [0, 1];
  if (!validShard(shard)) return core.close(conn, GatewayCloseCodes.InvalidShard, `Invalid shard ${JSON.stringify(shard)}`);
  if (!validIntents(d.intents)) return core.close(conn, GatewayCloseCodes.InvalidIntents, `Invalid intent(s) ${d.intents}`);
  const denied = d.intents & PRIVILEGED_INTENTS & ~core.options.grantedIntents;
  if (denied) return core.close(conn, GatewayCloseCodes.DisallowedIntents, `Disallowed intent(s) ${denied}`);
  const shardGuilds = core.guildsForShard(shard);
  if (shardGuilds.length > core.options.maxGuildsPerShard) {
    return core.close(conn, GatewayCloseCodes.ShardingRequired, `Sharding required: shard ${shard[0]} would hold ${shardGuilds.length} guilds`);
  }
  if (!startedInOrder(core, shard)) {
    // A later max_concurrency group before the one ahead of it (protocol §4.2); checked before the
    // bucket so a refused identify does not use the bucket's 5 s slot.
    core.sendOp(conn, GatewayOpcodes.InvalidSession, false);
    return;
  }
  if (core.identifyGate.take(String(shard[0] % core.options.maxConcurrency), now) > 0) {
    // Over max_concurrency for this bucket in the 5 s window (protocol §4.2).
    core.sendOp(conn, GatewayOpcodes.InvalidSession, false);
    return;
  }
  if (!core.startBudget.take(now)) {
    // Discord terminates every session and resets the token (protocol §4.2).
    core.tokensRevoked = true;
    for (const c of [...core.connections.values()]) {
      core.close(c, GatewayCloseCodes.AuthenticationFailed, 'Authentication failed: session start limit exhausted, token reset');
    }
    return;
  }
  const session = new SimulatedSession({
    id: randomBytes(16).toString('hex'),
    shard,
    intents: d.intents,
    largeThreshold: d.large_threshold ?? 50,
    presence: d.presence ?? null,
    replayLimit: core.options.replayBufferSize,
  });
  core.sessions.set(session.id, session);
  core.startedShards.add(shardKey(shard[0], shard[1]));
  core.attach(session, conn);
  const flags = applicationFlags(core.options.grantedIntents);
  const ready: GatewayReadyDispatchData = {
    v: 10,
    user: core.user,
    guilds: shardGuilds.map((g) => ({ id: g.id, unavailable: true })),
    session_id: session.id,
    resume_gateway_url: core.resumeURL,
    application: { id: core.user.id, flags, flags_new: String(flags) },
  };
  if (d.shard) ready.shard = shard;
  core.dispatch(session, 'READY', ready);
  const presences = (d.intents & GatewayIntentBits.GuildPresences) !== 0;
  for (const guild of shardGuilds) {
    if (guild.unavailable) continue;
    core.dispatch(session, 'GUILD_CREATE', guildCreatePayload(guild, { largeThreshold: session.largeThreshold, presences }));
  }
  core.events.emit('identify', {
    connection: conn.id,
    sessionId: session.id,
    shard: session.shard,
    intents: session.intents,
    properties: d.properties,
    largeThreshold: session.largeThreshold,
  });
}

function onResume(core: SimulatorCore, conn: SimulatorConnection, payload: unknown): void {
  const d = payload as GatewayResumeData;
  if (conn.session || conn.resumed) return core.close(conn, GatewayCloseCodes.AlreadyAuthenticated, 'Already authenticated');
  if (!core.validToken(d.token)) return core.close(conn, GatewayCloseCodes.AuthenticationFailed, 'Authentication failed');
  const session = core.liveSession(d.session_id);
  if (!session) {
    core.sendOp(conn, GatewayOpcodes.InvalidSession, false);
    return;
  }
  if (d.seq > session.seq) {
    core.sessions.delete(session.id);
    return core.close(conn, GatewayCloseCodes.InvalidSeq, `Invalid seq: ${d.seq} is past the last sent ${session.seq}`);
  }
  const missed = session.replayAfter(d.seq);
  if (!missed) {
    // The events since `seq` are no longer buffered: the session cannot be resumed faithfully.
    core.sessions.delete(session.id);
    core.sendOp(conn, GatewayOpcodes.InvalidSession, false);
    return;
  }
  const previous = session.attached ? core.connections.get(session.attached.id) : undefined;
  if (previous && previous !== conn) {
    core.detach(previous, false);
    core.close(previous, GatewayCloseCodes.UnknownError, 'Session resumed on another connection');
  }
  core.attach(session, conn);
  conn.resumed = true;
  core.replay(conn, missed);
  core.dispatch(session, 'RESUMED', null);
  core.events.emit('resume', { connection: conn.id, sessionId: session.id, seq: d.seq, replayed: missed.length });
}

function onPresence(core: SimulatorCore, conn: SimulatorConnection, payload: unknown): void {
  const session = conn.session;
  if (!session) return;
  const presence = payload as GatewayPresenceUpdateData;
  session.presence = presence;
  core.events.emit('presence', { connection: conn.id, sessionId: session.id, presence });
}

function onVoiceState(core: SimulatorCore, conn: SimulatorConnection, payload: unknown): void {
  const session = conn.session;
  if (!session) return;
  const d = payload as GatewayVoiceStateUpdateData;
  const guild = guildOnShard(core, session, d.guild_id);
  // Joining a guild or channel the bot cannot see gets no answer, as on Discord.
  if (!guild || (d.channel_id !== null && !guild.voiceChannels.some((c) => c.id === d.channel_id))) return;
  session.voiceStates.set(guild.id, { channel_id: d.channel_id, self_mute: d.self_mute, self_deaf: d.self_deaf });
  const bot = guild.members[0];
  const state: GatewayVoiceStateUpdateDispatchData = {
    guild_id: guild.id,
    channel_id: d.channel_id,
    user_id: core.user.id,
    session_id: session.id,
    deaf: false,
    mute: false,
    self_deaf: d.self_deaf,
    self_mute: d.self_mute,
    self_video: false,
    suppress: false,
    request_to_speak_timestamp: null,
  };
  if (bot) state.member = bot.member;
  core.dispatch(session, 'VOICE_STATE_UPDATE', state);
  if (d.channel_id === null) return;
  const server: GatewayVoiceServerUpdateDispatchData = {
    token: randomBytes(8).toString('hex'),
    guild_id: guild.id,
    endpoint: SIMULATED_VOICE_ENDPOINT,
  };
  core.dispatch(session, 'VOICE_SERVER_UPDATE', server);
}

/** Members matching a request, and the requested ids that are not members. */
function selectMembers(guild: SimulatedGuild, d: GatewayRequestGuildMembersData): { members: SimulatedMember[]; notFound?: string[] } {
  if ('user_ids' in d && d.user_ids !== undefined) {
    const ids = Array.isArray(d.user_ids) ? d.user_ids : [d.user_ids];
    const members: SimulatedMember[] = [];
    const notFound: string[] = [];
    for (const id of new Set(ids)) {
      const m = guild.memberById.get(id);
      if (m) members.push(m);
      else notFound.push(id);
    }
    return { members, notFound };
  }
  const query = ('query' in d ? d.query : '') ?? '';
  const limit = ('limit' in d ? d.limit : 0) ?? 0;
  if (query === '' && limit === 0) return { members: [...guild.members] };
  const cap = Math.min(limit === 0 ? MAX_QUERY_MEMBERS : limit, MAX_QUERY_MEMBERS);
  const prefix = query.toLowerCase();
  const members: SimulatedMember[] = [];
  for (const m of guild.members) {
    if (members.length >= cap) break;
    if (m.member.user.username.toLowerCase().startsWith(prefix)) members.push(m);
  }
  return { members };
}

function onRequestGuildMembers(core: SimulatorCore, conn: SimulatorConnection, payload: unknown): void {
  const session = conn.session;
  if (!session) return;
  const d = payload as GatewayRequestGuildMembersData;
  const nonce = typeof d.nonce === 'string' && Buffer.byteLength(d.nonce) <= MAX_NONCE_BYTES ? d.nonce : undefined;
  const wholeList = 'query' in d && d.query === '' && d.limit === 0;
  if ('query' in d && d.query === '' && (session.intents & GatewayIntentBits.GuildMembers) === 0) {
    return core.close(conn, GatewayCloseCodes.UnknownOpcode, 'Requesting the whole member list requires the GUILD_MEMBERS intent');
  }
  const guild = guildOnShard(core, session, d.guild_id);
  if (!guild) return;
  if (wholeList) {
    const waitMs = core.memberListGate.take(guild.id, Date.now());
    if (waitMs > 0) {
      const limited: GatewayRateLimitedDispatchData = {
        opcode: GatewayOpcodes.RequestGuildMembers,
        retry_after: waitMs / 1000,
        meta: nonce === undefined || !core.options.rateLimitedNonce ? { guild_id: guild.id } : { guild_id: guild.id, nonce },
      };
      core.dispatch(session, 'RATE_LIMITED', limited);
      return;
    }
  }
  // GUILD_PRESENCES is required for presences; without it the flag is treated as false (protocol §5.1).
  const withPresences = d.presences === true && (session.intents & GatewayIntentBits.GuildPresences) !== 0;
  const { members, notFound } = selectMembers(guild, d);
  const chunkCount = Math.max(1, Math.ceil(members.length / MEMBERS_PER_CHUNK));
  for (let index = 0; index < chunkCount; index++) {
    const slice = members.slice(index * MEMBERS_PER_CHUNK, (index + 1) * MEMBERS_PER_CHUNK);
    const chunk: GatewayGuildMembersChunkDispatchData = {
      guild_id: guild.id,
      members: slice.map((m) => m.member),
      chunk_index: index,
      chunk_count: chunkCount,
    };
    if (notFound && notFound.length > 0 && index === 0) chunk.not_found = notFound;
    if (withPresences) chunk.presences = slice.map(presenceOf).filter((p): p is GatewayGuildMembersChunkPresence => p !== null);
    if (nonce !== undefined) chunk.nonce = nonce;
    core.dispatch(session, 'GUILD_MEMBERS_CHUNK', chunk);
  }
}

function onRequestSoundboardSounds(core: SimulatorCore, conn: SimulatorConnection, payload: unknown): void {
  const session = conn.session;
  if (!session) return;
  const d = payload as GatewayRequestSoundboardSoundsData;
  for (const id of new Set(d.guild_ids)) {
    const guild = guildOnShard(core, session, id);
    if (!guild) continue;
    const sounds: GatewaySoundboardSoundsDispatchData = { guild_id: guild.id, soundboard_sounds: [...guild.soundboardSounds] };
    core.dispatch(session, 'SOUNDBOARD_SOUNDS', sounds);
  }
}

function onRequestChannelInfo(core: SimulatorCore, conn: SimulatorConnection, payload: unknown): void {
  const session = conn.session;
  if (!session) return;
  const d = payload as GatewayRequestChannelInfoData;
  const guild = guildOnShard(core, session, d.guild_id);
  if (!guild) return;
  const fields = new Set<string>(d.fields);
  const info: GatewayChannelInfoDispatchData = {
    guild_id: guild.id,
    channels: guild.voiceChannels.map((c) => ({
      id: c.id,
      ...(fields.has('status') ? { status: c.status } : {}),
      ...(fields.has('voice_start_time') ? { voice_start_time: c.voiceStartTime } : {}),
    })),
  };
  core.dispatch(session, 'CHANNEL_INFO', info);
}

/** Handler per client opcode; opcodes absent here close with 4001. */
export const HANDLERS: Readonly<Record<number, OpHandler>> = {
  [GatewayOpcodes.Heartbeat]: { needsSession: false, handle: onHeartbeat },
  [GatewayOpcodes.Identify]: { needsSession: false, handle: onIdentify },
  [GatewayOpcodes.PresenceUpdate]: { needsSession: true, handle: onPresence },
  [GatewayOpcodes.VoiceStateUpdate]: { needsSession: true, handle: onVoiceState },
  [GatewayOpcodes.Resume]: { needsSession: false, handle: onResume },
  [GatewayOpcodes.RequestGuildMembers]: { needsSession: true, handle: onRequestGuildMembers },
  [GatewayOpcodes.RequestSoundboardSounds]: { needsSession: true, handle: onRequestSoundboardSounds },
  [GatewayOpcodes.RequestChannelInfo]: { needsSession: true, handle: onRequestChannelInfo },
};
