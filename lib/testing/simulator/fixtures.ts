/**
 * Payload factories for dispatches tests commonly push through the simulator, filled in from its
 * guild fixtures so ids line up with what the client saw in GUILD_CREATE.
 */
import { MessageType, type APIUser, type GatewayMessageCreateDispatchData } from 'discord-api-types/v10';
import { SnowflakeSequence, type SimulatedGuild } from './guilds.js';

/** Milliseconds since the Discord epoch of generated message ids: 2024, after every fixture entity. */
const MESSAGE_EPOCH_OFFSET = 290_000_000_000;

/**
 * Fields of a generated message; everything else gets a realistic default.
 *
 * @category Testing
 */
export interface MessageInit {
  /** Guild of the message; `null` for a DM. Default: the first guild fixture (a DM if there is none). */
  guild_id?: string | null;
  /** Channel id. Default: the guild's first text channel (a made-up id for DMs). */
  channel_id?: string;
  /** Text. Default `'hello'`. */
  content?: string;
  /** Author. Default: the guild's first member that is not the bot. */
  author?: APIUser;
  /**
   * Users mentioned. Default none. Mentioning {@link SimulatorFixtures.bot} lets a bot without
   * MESSAGE_CONTENT read the message, as on Discord.
   */
  mentions?: readonly APIUser[];
}

/**
 * Builds dispatch payloads matching the simulator's fixtures.
 *
 * @example
 * ```ts
 * sim.dispatch('MESSAGE_CREATE', sim.fixtures.message({ content: 'ping' }));
 * ```
 *
 * @category Testing
 */
export class SimulatorFixtures {
  private readonly ids = new SnowflakeSequence(MESSAGE_EPOCH_OFFSET);

  /**
   * @param guilds - the simulator's guild fixtures
   * @param bot - the bot user (never the default author)
   */
  constructor(
    private readonly guilds: readonly SimulatedGuild[],
    /** The bot user READY announces: an `author` for the bot's own messages, or one of `mentions`. */
    readonly bot: APIUser,
  ) {}

  /**
   * A `MESSAGE_CREATE` payload.
   *
   * @param init - the fields to set; the rest (ids, author, channel, timestamps) is generated
   */
  message(init: MessageInit = {}): GatewayMessageCreateDispatchData {
    const guildId = init.guild_id === undefined ? (this.guilds[0]?.id ?? null) : init.guild_id;
    const guild = guildId === null ? undefined : this.guilds.find((g) => g.id === guildId);
    const authorMember = init.author ? guild?.memberById.get(init.author.id) : guild?.members.find((m) => m.member.user.id !== this.bot.id);
    const author: APIUser = init.author ?? authorMember?.member.user ?? { id: this.ids.next(), username: 'someone', discriminator: '0', global_name: null, avatar: null };
    const message: GatewayMessageCreateDispatchData = {
      id: this.ids.next(),
      channel_id: init.channel_id ?? guild?.textChannels[0]?.id ?? this.ids.next(),
      author,
      content: init.content ?? 'hello',
      timestamp: new Date(Date.now()).toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: init.mentions ? [...init.mentions] : [],
      mention_roles: [],
      attachments: [],
      embeds: [],
      pinned: false,
      type: MessageType.Default,
    };
    if (guildId !== null) message.guild_id = guildId;
    if (authorMember) {
      const { user: _user, ...member } = authorMember.member;
      message.member = { ...member, joined_at: member.joined_at ?? new Date(0).toISOString() };
    }
    return message;
  }
}
