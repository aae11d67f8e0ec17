/**
 * Guild fixtures of the gateway simulator: deterministic snowflakes, members, channels and
 * soundboard sounds, and the payloads built from them (GUILD_CREATE, member search).
 */
import {
  ChannelType,
  GuildDefaultMessageNotifications,
  GuildExplicitContentFilter,
  GuildMFALevel,
  GuildNSFWLevel,
  GuildPremiumTier,
  GuildSystemChannelFlags,
  GuildVerificationLevel,
  Locale,
  PresenceUpdateStatus,
  type GuildMemberFlags,
  type RoleFlags,
  type PresenceUpdateReceiveStatus,
  type GatewayPresenceUpdate,
  type APIGuildMember,
  type APIGuildVoiceChannel,
  type APIRole,
  type APISoundboardSound,
  type APITextChannel,
  type APIUser,
  type GatewayGuildCreateDispatchData,
  type GatewayGuildMembersChunkPresence,
} from 'discord-api-types/v10';

/**
 * Presence status of a simulated member, as reported in presences.
 *
 * @category Testing
 */
export type SimulatedStatus = 'online' | 'idle' | 'dnd' | 'offline';

/**
 * A member to put in a simulated guild; every field has a generated default.
 *
 * @category Testing
 */
export interface SimulatedMemberInit {
  /** User id (snowflake string). */
  id?: string;
  /** Username; prefix queries of Request Guild Members match it (case-insensitively). */
  username?: string;
  /** Display name. */
  globalName?: string | null;
  /** Guild nickname. */
  nick?: string | null;
  /** Role ids. */
  roles?: string[];
  /** Presence status; members that are not `offline` appear in presences. */
  status?: SimulatedStatus;
}

/**
 * A voice channel of a simulated guild, with the ephemeral data Request Channel Info returns.
 *
 * @category Testing
 */
export interface SimulatedVoiceChannelInit {
  /** Channel id (snowflake string). */
  id?: string;
  /** Channel name. */
  name?: string;
  /** Voice channel status text (`CHANNEL_INFO` field `status`). */
  status?: string | null;
  /** Unix seconds when the current voice session started (`CHANNEL_INFO` field `voice_start_time`). */
  voiceStartTime?: number | null;
}

/**
 * A soundboard sound of a simulated guild.
 *
 * @category Testing
 */
export interface SimulatedSoundInit {
  /** Sound id (snowflake string). */
  id?: string;
  /** Sound name. */
  name?: string;
  /** Volume from 0 to 1. */
  volume?: number;
  /** Unicode emoji shown with the sound. */
  emojiName?: string | null;
}

/**
 * A guild fixture. Every field is optional: `{}` is a small guild with a generated id.
 *
 * @example
 * ```ts
 * new GatewaySimulator({ guilds: [{ name: 'Big', members: 2500 }, { name: 'Small' }] });
 * ```
 *
 * @category Testing
 */
export interface SimulatedGuildInit {
  /** Guild id (snowflake string). Generated ids route guild `i` to shard `i % shards` for small shard counts. */
  id?: string;
  /** Guild name. */
  name?: string;
  /**
   * Members. A number is the guild's `member_count`, the bot included (generated users `user1`,
   * `user2`, ...); a list is used as given and the bot is added in front. Default 10.
   */
  members?: number | SimulatedMemberInit[];
  /** Text channels: a count or their names. Default 2. */
  textChannels?: number | string[];
  /** Voice channels: a count or their descriptions. Default 1. */
  voiceChannels?: number | SimulatedVoiceChannelInit[];
  /** Soundboard sounds: a count or their descriptions. Default 1. */
  soundboardSounds?: number | SimulatedSoundInit[];
  /** Listed in READY but never sent as GUILD_CREATE, as during an outage. */
  unavailable?: boolean;
}

/**
 * A guild member object that always carries its user.
 *
 * @category Testing
 */
export type SimulatedGuildMember = APIGuildMember & Required<Pick<APIGuildMember, 'user'>>;

/**
 * One member of a simulated guild.
 *
 * @category Testing
 */
export interface SimulatedMember {
  /** The member object sent in chunks and GUILD_CREATE (always with its user). */
  readonly member: SimulatedGuildMember;
  /** Presence status. */
  readonly status: SimulatedStatus;
}

/**
 * A voice channel of a simulated guild; `status` and `voiceStartTime` may be changed by tests.
 *
 * @category Testing
 */
export interface SimulatedVoiceChannel {
  /** Channel id. */
  readonly id: string;
  /** Channel name. */
  readonly name: string;
  /** Voice channel status text, as Request Channel Info reports it. */
  status: string | null;
  /** Unix seconds the voice session started, as Request Channel Info reports it. */
  voiceStartTime: number | null;
}

/**
 * A text channel of a simulated guild.
 *
 * @category Testing
 */
export interface SimulatedTextChannel {
  /** Channel id. */
  readonly id: string;
  /** Channel name. */
  readonly name: string;
}

/**
 * A resolved guild fixture.
 *
 * @category Testing
 */
export interface SimulatedGuild {
  /** Guild id. */
  readonly id: string;
  /** Guild name. */
  readonly name: string;
  /** Listed in READY only, never sent as GUILD_CREATE. */
  readonly unavailable: boolean;
  /** Every member, the bot first. */
  readonly members: readonly SimulatedMember[];
  /** Members by user id. */
  readonly memberById: ReadonlyMap<string, SimulatedMember>;
  /** Text channels. */
  readonly textChannels: readonly SimulatedTextChannel[];
  /** Voice channels. */
  readonly voiceChannels: readonly SimulatedVoiceChannel[];
  /** Soundboard sounds. */
  readonly soundboardSounds: readonly APISoundboardSound[];
}

/** Milliseconds since the Discord epoch (2015) of generated guild ids: early 2021. */
const GUILD_EPOCH_OFFSET = 189_000_000_000;
/** Generated entity ids (users, channels, sounds) are older than every generated guild. */
const ENTITY_EPOCH_OFFSET = 150_000_000_000;
const INCREMENT_SPACE = 4_194_304; // 2^22

/** Deterministic snowflakes: one simulator always generates the same ids in the same order. */
export class SnowflakeSequence {
  private n = 0;

  /** @param epochOffset - milliseconds since the Discord epoch of the first id */
  constructor(private readonly epochOffset: number = ENTITY_EPOCH_OFFSET) {}

  /** The next snowflake, as a decimal string. */
  next(): string {
    const n = this.n++;
    const ms = this.epochOffset + Math.floor(n / INCREMENT_SPACE);
    return ((BigInt(ms) << 22n) | BigInt(n % INCREMENT_SPACE)).toString();
  }
}

/**
 * The shard a guild's events go to: `(guild_id >> 22) % shardCount` (protocol §7).
 *
 * @param guildId - the guild id (a snowflake string)
 * @param shardCount - the number of shards
 *
 * @example
 * ```ts
 * shardForGuild('81384788765712384', 2); // 0
 * ```
 *
 * @category Testing
 */
export function shardForGuild(guildId: string, shardCount: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(shardCount));
}

/** The default fixture count when the `guilds` option is omitted. */
export const DEFAULT_GUILD_COUNT = 3;

// The flag enums have no member for "none"; 0 is what Discord sends.
const NO_MEMBER_FLAGS = 0 as GuildMemberFlags;
const NO_ROLE_FLAGS = 0 as RoleFlags;

/** Simulated statuses as `discord-api-types` spells them. */
const RECEIVE_STATUS: Readonly<Record<Exclude<SimulatedStatus, 'offline'>, PresenceUpdateReceiveStatus>> = {
  online: PresenceUpdateStatus.Online,
  idle: PresenceUpdateStatus.Idle,
  dnd: PresenceUpdateStatus.DoNotDisturb,
};

const STATUS_CYCLE: readonly SimulatedStatus[] = ['online', 'idle', 'dnd', 'offline', 'offline'];
const JOINED_AT = '2021-06-01T00:00:00.000000+00:00';

function countOrList<T>(value: number | T[] | undefined, fallback: number, make: (index: number) => T): T[] {
  if (Array.isArray(value)) return value;
  return Array.from({ length: value ?? fallback }, (_, i) => make(i));
}

function toMember(user: APIUser, init: SimulatedMemberInit): SimulatedGuildMember {
  return {
    user,
    nick: init.nick ?? null,
    avatar: null,
    banner: null,
    roles: init.roles ?? [],
    joined_at: JOINED_AT,
    premium_since: null,
    deaf: false,
    mute: false,
    flags: NO_MEMBER_FLAGS,
    pending: false,
    communication_disabled_until: null,
  };
}

/**
 * Resolves guild fixtures: fills in ids, members (the bot first), channels and sounds.
 *
 * @param inits - a count of default guilds or their descriptions
 * @param bot - the bot user, added to every guild
 */
export function buildGuilds(inits: number | readonly SimulatedGuildInit[], bot: APIUser): SimulatedGuild[] {
  const ids = new SnowflakeSequence();
  const list = typeof inits === 'number' ? Array.from({ length: inits }, (): SimulatedGuildInit => ({})) : inits;
  return list.map((init, index) => buildGuild(init, index, bot, ids));
}

function buildGuild(init: SimulatedGuildInit, index: number, bot: APIUser, ids: SnowflakeSequence): SimulatedGuild {
  const id = init.id ?? ((BigInt(GUILD_EPOCH_OFFSET + index) << 22n).toString());
  const memberInits: SimulatedMemberInit[] = Array.isArray(init.members)
    ? init.members
    : Array.from({ length: Math.max(0, (init.members ?? 10) - 1) }, (_, i) => ({
        username: `user${i + 1}`,
        status: STATUS_CYCLE[i % STATUS_CYCLE.length],
      }));
  const members: SimulatedMember[] = [{ member: toMember(bot, {}), status: 'online' }];
  for (const [i, m] of memberInits.entries()) {
    const username = m.username ?? `user${i + 1}`;
    const user: APIUser = {
      id: m.id ?? ids.next(),
      username,
      discriminator: '0',
      global_name: m.globalName ?? null,
      avatar: null,
    };
    members.push({ member: toMember(user, m), status: m.status ?? 'offline' });
  }
  const textChannels = countOrList(init.textChannels, 2, (i) => (i === 0 ? 'general' : `text-${i + 1}`)).map((name) => ({
    id: ids.next(),
    name,
  }));
  const voiceChannels = countOrList<SimulatedVoiceChannelInit>(init.voiceChannels, 1, (i) => ({ name: `Voice ${i + 1}` })).map(
    (v, i): SimulatedVoiceChannel => ({
      id: v.id ?? ids.next(),
      name: v.name ?? `Voice ${i + 1}`,
      status: v.status ?? null,
      voiceStartTime: v.voiceStartTime ?? null,
    }),
  );
  const soundboardSounds = countOrList<SimulatedSoundInit>(init.soundboardSounds, 1, () => ({})).map(
    (s, i): APISoundboardSound => ({
      name: s.name ?? `sound-${i + 1}`,
      sound_id: s.id ?? ids.next(),
      volume: s.volume ?? 1,
      emoji_id: null,
      emoji_name: s.emojiName ?? null,
      guild_id: id,
      available: true,
      user: bot,
    }),
  );
  return {
    id,
    name: init.name ?? `Simulated Guild ${index + 1}`,
    unavailable: init.unavailable ?? false,
    members,
    memberById: new Map(members.map((m) => [m.member.user.id, m])),
    textChannels,
    voiceChannels,
    soundboardSounds,
  };
}

/** The presence of a member as chunks and GUILD_CREATE carry it, or null when offline. */
export function presenceOf(member: SimulatedMember): GatewayGuildMembersChunkPresence | null {
  if (member.status === 'offline') return null;
  const status = RECEIVE_STATUS[member.status];
  return { user: { id: member.member.user.id }, status, activities: [], client_status: { desktop: status } };
}

/** Above this many members Discord sends no presences and only the bot in GUILD_CREATE (protocol §1.12). */
const PRESENCE_CUTOFF = 75_000;

/** What a session's identify decides about each GUILD_CREATE it receives. */
export interface GuildCreateOptions {
  /** Identify `large_threshold` (50–250). */
  largeThreshold: number;
  /** Whether the session has GUILD_PRESENCES. */
  presences: boolean;
}

function everyoneRole(guildId: string): APIRole {
  return {
    id: guildId,
    name: '@everyone',
    color: 0,
    colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
    hoist: false,
    icon: null,
    unicode_emoji: null,
    position: 0,
    permissions: '2248473465835073',
    managed: false,
    mentionable: false,
    flags: NO_ROLE_FLAGS,
  };
}

/**
 * The GUILD_CREATE payload a session receives for a guild. Member lists follow the
 * `large_threshold` rules loosely (protocol §1.12, §5.1): small guilds list every member; large
 * ones list online members with GUILD_PRESENCES and only the bot without it.
 */
export function guildCreatePayload(guild: SimulatedGuild, options: GuildCreateOptions): GatewayGuildCreateDispatchData {
  const large = guild.members.length > options.largeThreshold;
  const withPresences = options.presences && guild.members.length <= PRESENCE_CUTOFF;
  const bot = guild.members[0];
  const listed = !large ? guild.members : withPresences ? guild.members.filter((m) => m.status !== 'offline') : bot ? [bot] : [];
  const presences: GatewayPresenceUpdate[] = [];
  if (withPresences) {
    for (const m of listed) {
      const p = presenceOf(m);
      if (p) presences.push({ ...p, guild_id: guild.id });
    }
  }
  const textChannels = guild.textChannels.map(
    (c, i): APITextChannel => ({
      id: c.id,
      type: ChannelType.GuildText,
      name: c.name,
      position: i,
      parent_id: null,
      nsfw: false,
      topic: null,
      last_message_id: null,
      rate_limit_per_user: 0,
      permission_overwrites: [],
    }),
  );
  const voiceChannels = guild.voiceChannels.map(
    (c, i): APIGuildVoiceChannel => ({
      id: c.id,
      type: ChannelType.GuildVoice,
      name: c.name,
      position: textChannels.length + i,
      parent_id: null,
      nsfw: false,
      bitrate: 64000,
      user_limit: 0,
      rtc_region: null,
      last_message_id: null,
      rate_limit_per_user: 0,
      permission_overwrites: [],
    }),
  );
  const owner = guild.members[1] ?? bot;
  return {
    id: guild.id,
    name: guild.name,
    icon: null,
    splash: null,
    discovery_splash: null,
    banner: null,
    description: null,
    owner_id: owner ? owner.member.user.id : guild.id,
    afk_channel_id: null,
    afk_timeout: 300,
    widget_enabled: false,
    widget_channel_id: null,
    verification_level: GuildVerificationLevel.None,
    default_message_notifications: GuildDefaultMessageNotifications.OnlyMentions,
    explicit_content_filter: GuildExplicitContentFilter.Disabled,
    roles: [everyoneRole(guild.id)],
    emojis: [],
    stickers: [],
    features: [],
    mfa_level: GuildMFALevel.None,
    application_id: null,
    system_channel_id: textChannels[0]?.id ?? null,
    system_channel_flags: GuildSystemChannelFlags.SuppressJoinNotificationReplies,
    rules_channel_id: null,
    max_presences: null,
    max_members: 500_000,
    vanity_url_code: null,
    premium_tier: GuildPremiumTier.None,
    premium_subscription_count: 0,
    preferred_locale: Locale.EnglishUS,
    public_updates_channel_id: null,
    max_video_channel_users: 25,
    max_stage_video_channel_users: 50,
    nsfw_level: GuildNSFWLevel.Default,
    premium_progress_bar_enabled: false,
    hub_type: null,
    safety_alerts_channel_id: null,
    incidents_data: null,
    joined_at: JOINED_AT,
    large,
    unavailable: false,
    member_count: guild.members.length,
    voice_states: [],
    members: listed.map((m) => m.member),
    channels: [...textChannels, ...voiceChannels],
    threads: [],
    presences,
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [...guild.soundboardSounds],
  };
}
