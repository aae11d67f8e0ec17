/**
 * Realistic dispatch payloads for the benchmarks, typed against `discord-api-types` so every field
 * has Discord's real shape. They are generated from a seeded PRNG: every run of every contender sees
 * byte-identical input, yet no two messages are equal (ids, text and mentions vary), so compression
 * ratios look like a live gateway stream rather than one message repeated.
 */
import {
  ButtonStyle,
  ChannelType,
  ComponentType,
  EmbedType,
  GuildDefaultMessageNotifications,
  GuildExplicitContentFilter,
  GuildFeature,
  GuildMFALevel,
  GuildNSFWLevel,
  GuildPremiumTier,
  GuildSystemChannelFlags,
  GuildVerificationLevel,
  Locale,
  MessageType,
  OverwriteType,
  type APIEmbed,
  type APIGuildMember,
  type APIRole,
  type APIUser,
  type APIActionRowComponent,
  type APIComponentInMessageActionRow,
  type GatewayGuildCreateDispatchData,
  type GatewayMessageCreateDispatchData,
  type GatewayReadyDispatchData,
} from 'discord-api-types/v10';

/** The two payload kinds the ingest benchmark streams. */
export type PayloadKind = 'message' | 'guild';

/** The dispatch name each payload kind is sent as. */
export const DISPATCH_NAME: Readonly<Record<PayloadKind, string>> = {
  message: 'MESSAGE_CREATE',
  guild: 'GUILD_CREATE',
};

/** Discord's epoch (2015-01-01), the base of snowflake timestamps. */
const DISCORD_EPOCH = 1420070400000n;
/** All fixture timestamps sit in one fixed week so output never depends on the clock. */
const BASE_TIME = Date.UTC(2026, 5, 1);

/**
 * Discord sends `flags: 0` everywhere; the flag enums have no 0 member, and TypeScript refuses the
 * literal 0 for them but accepts a plain `number`.
 */
const NO_FLAGS: number = 0;

/** mulberry32: tiny, fast, and good enough to vary fixture fields deterministically. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Helpers over one PRNG stream. */
class Dice {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  int(max: number): number {
    return Math.floor(this.next() * max);
  }
  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new RangeError('pick from an empty list');
    return item;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  hex(length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += '0123456789abcdef'[this.int(16)];
    return out;
  }
  /** A snowflake minted at `ms` (epoch ms), as Discord sends it: a decimal string. */
  snowflake(ms: number): string {
    const ts = BigInt(ms) - DISCORD_EPOCH;
    return ((ts << 22n) | BigInt(this.int(1 << 22))).toString();
  }
  iso(ms: number): string {
    return new Date(ms).toISOString().replace('Z', '000+00:00');
  }
}

const WORDS = [
  'the', 'gateway', 'shard', 'resume', 'anyone', 'know', 'why', 'my', 'bot', 'keeps', 'going', 'offline',
  'lol', 'yeah', 'that', 'is', 'a', 'rate', 'limit', 'thing', 'try', 'again', 'in', 'five', 'minutes',
  'nice', 'screenshot', 'patch', 'notes', 'are', 'out', 'for', 'tonight', 'raid', 'who', 'wants', 'to',
  'join', 'voice', 'channel', 'later', 'thanks', 'everyone', 'welcome', 'new', 'people', 'check', 'pins',
];
const NAMES = [
  'nebula', 'quartz', 'mossy', 'pixelfox', 'tundra', 'ember', 'kettle', 'orbit', 'juniper', 'sable',
  'marlow', 'cinder', 'wren', 'basil', 'yonder', 'lumen', 'fable', 'pebble', 'rook', 'saffron',
];

function sentence(dice: Dice, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(dice.pick(WORDS));
  return out.join(' ');
}

function user(dice: Dice, id: string): APIUser {
  const name = `${dice.pick(NAMES)}${dice.int(10000)}`;
  return {
    id,
    username: name,
    global_name: dice.chance(0.7) ? name.replace(/\d+$/, '') : null,
    discriminator: '0',
    avatar: dice.chance(0.85) ? (dice.chance(0.1) ? 'a_' : '') + dice.hex(32) : null,
    public_flags: dice.pick<number>([0, 0, 0, 64, 128, 256, 4194304]),
    avatar_decoration_data: dice.chance(0.1) ? { asset: `a_${dice.hex(32)}`, sku_id: dice.snowflake(BASE_TIME - 9e9) } : null,
    collectibles: null,
    primary_guild: null,
  };
}

function member(dice: Dice, roles: readonly string[], joinedMs: number): Omit<APIGuildMember, 'user'> {
  const roleCount = dice.int(4);
  const mine: string[] = [];
  for (let i = 0; i < roleCount; i++) mine.push(dice.pick(roles));
  return {
    roles: mine,
    nick: dice.chance(0.3) ? dice.pick(NAMES) : null,
    avatar: null,
    banner: null,
    joined_at: dice.iso(joinedMs),
    premium_since: dice.chance(0.05) ? dice.iso(joinedMs + 86_400_000) : null,
    deaf: false,
    mute: false,
    flags: NO_FLAGS,
    pending: false,
    communication_disabled_until: null,
  };
}

function embed(dice: Dice, ms: number): APIEmbed {
  return {
    type: EmbedType.Rich,
    title: sentence(dice, 3 + dice.int(4)),
    description: sentence(dice, 12 + dice.int(20)),
    url: `https://example.com/posts/${dice.int(1e6)}`,
    color: dice.int(0xffffff),
    timestamp: new Date(ms).toISOString(),
    footer: { text: sentence(dice, 3) },
    fields: [
      { name: 'Status', value: dice.pick(['open', 'closed', 'pending']), inline: true },
      { name: 'Owner', value: `<@${dice.snowflake(ms - 5e9)}>`, inline: true },
    ],
  };
}

function buttons(dice: Dice): APIActionRowComponent<APIComponentInMessageActionRow> {
  return {
    type: ComponentType.ActionRow,
    components: [
      { type: ComponentType.Button, style: ButtonStyle.Primary, label: 'Accept', custom_id: `accept:${dice.hex(12)}` },
      { type: ComponentType.Button, style: ButtonStyle.Secondary, label: 'Decline', custom_id: `decline:${dice.hex(12)}` },
      { type: ComponentType.Button, style: ButtonStyle.Link, label: 'Open', url: `https://example.com/t/${dice.int(1e6)}` },
    ],
  };
}

/** Shared context for one stream of messages: a guild, its channels, roles and regular posters. */
interface MessageWorld {
  guildId: string;
  channels: string[];
  roles: string[];
  posters: { user: APIUser; member: Omit<APIGuildMember, 'user'> }[];
}

function messageWorld(): MessageWorld {
  const dice = new Dice(7);
  const roles = Array.from({ length: 12 }, () => dice.snowflake(BASE_TIME - 8e9));
  return {
    guildId: dice.snowflake(BASE_TIME - 9e10),
    channels: Array.from({ length: 8 }, () => dice.snowflake(BASE_TIME - 6e10)),
    roles,
    posters: Array.from({ length: 200 }, () => ({
      user: user(dice, dice.snowflake(BASE_TIME - 5e10)),
      member: member(dice, roles, BASE_TIME - 3e10 + dice.int(1e10)),
    })),
  };
}

/**
 * The `d` of the `index`-th MESSAGE_CREATE of a stream: a guild text message as a bot with the
 * MESSAGE_CONTENT intent receives it (author, member, mentions with members, and sometimes an
 * embed, a button row or a reply). Averages about 1 KB of JSON.
 *
 * @param index - position in the stream; the same index always yields the same message
 */
export function messageCreate(index: number, world: MessageWorld = defaultWorld()): GatewayMessageCreateDispatchData {
  const dice = new Dice(1000 + index);
  const ms = BASE_TIME + index * 137;
  const poster = dice.pick(world.posters);
  const mentions: GatewayMessageCreateDispatchData['mentions'] = [];
  const mentionCount = dice.chance(0.2) ? 1 + dice.int(2) : 0;
  for (let i = 0; i < mentionCount; i++) {
    const target = dice.pick(world.posters);
    mentions.push({ ...target.user, member: target.member });
  }
  const words = 3 + dice.int(22);
  const content = (mentions.length > 0 ? `<@${mentions[0]?.id}> ` : '') + sentence(dice, words);
  const channelId = dice.pick(world.channels);
  const message: GatewayMessageCreateDispatchData = {
    type: MessageType.Default,
    tts: false,
    timestamp: dice.iso(ms),
    pinned: false,
    nonce: dice.snowflake(ms),
    mentions,
    mention_roles: dice.chance(0.05) ? [dice.pick(world.roles)] : [],
    mention_everyone: false,
    member: poster.member,
    id: dice.snowflake(ms),
    flags: NO_FLAGS,
    embeds: [],
    edited_timestamp: null,
    content,
    components: [],
    channel_id: channelId,
    author: poster.user,
    attachments: [],
    guild_id: world.guildId,
  };
  if (dice.chance(0.2)) message.embeds.push(embed(dice, ms));
  if (dice.chance(0.1)) message.components?.push(buttons(dice));
  if (dice.chance(0.1)) {
    message.type = MessageType.Reply;
    message.message_reference = { type: 0, channel_id: channelId, message_id: dice.snowflake(ms - 60_000), guild_id: world.guildId };
  }
  return message;
}

let cachedWorld: MessageWorld | undefined;
function defaultWorld(): MessageWorld {
  cachedWorld ??= messageWorld();
  return cachedWorld;
}

function role(dice: Dice, id: string, position: number): APIRole {
  return {
    id,
    name: position === 0 ? '@everyone' : `${dice.pick(NAMES)} ${dice.pick(['team', 'fans', 'mods', 'crew', 'guild'])}`,
    color: dice.int(0xffffff),
    colors: { primary_color: dice.int(0xffffff), secondary_color: null, tertiary_color: null },
    hoist: dice.chance(0.2),
    icon: null,
    unicode_emoji: null,
    position,
    permissions: String(dice.int(2 ** 31)),
    managed: false,
    mentionable: dice.chance(0.3),
    flags: NO_FLAGS,
  };
}

/** One channel as GUILD_CREATE carries it. */
type GuildChannel = GatewayGuildCreateDispatchData['channels'][number];

function channel(dice: Dice, guildId: string, id: string, position: number, parentId: string | null, everyone: string): GuildChannel {
  const overwrites = [{ id: everyone, type: OverwriteType.Role, allow: '0', deny: String(dice.pick([0, 1024, 2048])) }];
  if (parentId === null) {
    return { id, type: ChannelType.GuildCategory, guild_id: guildId, name: sentence(dice, 2), position, permission_overwrites: overwrites, flags: NO_FLAGS, nsfw: false, parent_id: null };
  }
  if (dice.chance(0.2)) {
    return {
      id, type: ChannelType.GuildVoice, guild_id: guildId, name: `voice ${position}`, position, parent_id: parentId,
      permission_overwrites: overwrites, flags: NO_FLAGS, nsfw: false, bitrate: 64000, user_limit: 0, rtc_region: null,
      last_message_id: null, rate_limit_per_user: 0,
    };
  }
  return {
    id, type: ChannelType.GuildText, guild_id: guildId, name: sentence(dice, 2).replace(' ', '-'), position, parent_id: parentId,
    permission_overwrites: overwrites, flags: NO_FLAGS, nsfw: false, topic: dice.chance(0.6) ? sentence(dice, 10) : null,
    last_message_id: dice.snowflake(BASE_TIME - dice.int(1e9)), rate_limit_per_user: dice.pick([0, 0, 0, 5, 30]),
    default_thread_rate_limit_per_user: 0,
  };
}

/**
 * The `d` of the `index`-th GUILD_CREATE of a stream: a large guild as sent on connect, with
 * hundreds of members, about a hundred channels, dozens of roles and emojis, some threads.
 * About 170 KB of JSON.
 *
 * @param index - position in the stream; the same index always yields the same guild
 * @param members - how many members the guild carries (default 250)
 */
export function guildCreate(index: number, members = 250): GatewayGuildCreateDispatchData {
  const dice = new Dice(500_000 + index);
  const guildId = dice.snowflake(BASE_TIME - 9e10 + index * 1000);
  const roles = [role(dice, guildId, 0)];
  for (let i = 1; i < 40; i++) roles.push(role(dice, dice.snowflake(BASE_TIME - 8e10), i));
  const roleIds = roles.map((r) => r.id);
  const channels: GuildChannel[] = [];
  let parent: string | null = null;
  for (let i = 0; i < 100; i++) {
    const id = dice.snowflake(BASE_TIME - 7e10 + i);
    if (i % 12 === 0) {
      channels.push(channel(dice, guildId, id, i, null, guildId));
      parent = id;
    } else {
      channels.push(channel(dice, guildId, id, i, parent, guildId));
    }
  }
  const memberList: APIGuildMember[] = [];
  for (let i = 0; i < members; i++) {
    const u = user(dice, dice.snowflake(BASE_TIME - 6e10 + i));
    memberList.push({ user: u, ...member(dice, roleIds, BASE_TIME - 4e10 + dice.int(3e10)) });
  }
  const firstText = channels.find((c) => c.type === ChannelType.GuildText)?.id ?? null;
  return {
    id: guildId,
    name: `${dice.pick(NAMES)} ${dice.pick(['community', 'hangout', 'guild', 'lounge'])}`,
    icon: dice.hex(32),
    icon_hash: null,
    splash: null,
    discovery_splash: null,
    owner_id: memberList[0]?.user.id ?? guildId,
    region: 'deprecated',
    afk_channel_id: null,
    afk_timeout: 300,
    widget_enabled: false,
    widget_channel_id: null,
    verification_level: GuildVerificationLevel.Medium,
    default_message_notifications: GuildDefaultMessageNotifications.OnlyMentions,
    explicit_content_filter: GuildExplicitContentFilter.AllMembers,
    roles,
    emojis: Array.from({ length: 30 }, () => ({
      id: dice.snowflake(BASE_TIME - 5e10), name: dice.pick(NAMES), roles: [], require_colons: true,
      managed: false, animated: dice.chance(0.2), available: true,
    })),
    features: [GuildFeature.Community, GuildFeature.News, GuildFeature.InviteSplash, GuildFeature.AnimatedIcon],
    mfa_level: GuildMFALevel.Elevated,
    application_id: null,
    system_channel_id: firstText,
    system_channel_flags: GuildSystemChannelFlags.SuppressJoinNotificationReplies,
    rules_channel_id: firstText,
    max_presences: null,
    max_members: 500000,
    vanity_url_code: null,
    description: sentence(dice, 15),
    banner: null,
    premium_tier: GuildPremiumTier.Tier2,
    premium_subscription_count: 9,
    preferred_locale: Locale.EnglishUS,
    public_updates_channel_id: firstText,
    max_video_channel_users: 25,
    max_stage_video_channel_users: 50,
    nsfw_level: GuildNSFWLevel.Default,
    stickers: [],
    premium_progress_bar_enabled: false,
    hub_type: null,
    safety_alerts_channel_id: null,
    incidents_data: null,
    joined_at: dice.iso(BASE_TIME - 1e10),
    large: true,
    unavailable: false,
    member_count: 5000 + dice.int(50000),
    voice_states: [],
    members: memberList,
    channels,
    threads: [],
    presences: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
  };
}

/**
 * The `d` of the READY dispatch the blast server sends.
 *
 * @param shard - the `shard` the client identified with
 * @param resumeURL - where the client should resume (the blast server itself)
 */
export function ready(shard: [number, number], resumeURL: string): GatewayReadyDispatchData {
  const dice = new Dice(42);
  return {
    v: 10,
    user: { ...user(dice, dice.snowflake(BASE_TIME - 1e10)), bot: true },
    guilds: [],
    session_id: `bench-${shard[0]}-${dice.hex(24)}`,
    resume_gateway_url: resumeURL,
    shard,
    application: { id: dice.snowflake(BASE_TIME - 1e10), flags: NO_FLAGS, flags_new: '0' },
  };
}

/**
 * The JSON text of the `d` of `count` dispatches of one kind, built once per scenario; the
 * server wraps each in its envelope (with the connection's sequence numbers) per connection.
 *
 * @param kind - which payload kind
 * @param count - how many distinct payloads
 */
export function dispatchBodies(kind: PayloadKind, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(JSON.stringify(kind === 'message' ? messageCreate(i) : guildCreate(i)));
  return out;
}
