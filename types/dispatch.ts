import { GatewayIntentBits as I, type GatewayDispatchPayload } from 'discord-api-types/v10';

/**
 * Discord's dispatch event names (`t` of op 0), e.g. `'MESSAGE_CREATE'`.
 *
 * @category Gateway vocabulary
 */
export type DispatchName = `${GatewayDispatchPayload['t']}`;

/**
 * Payload (`d`) of every dispatch, by event name, from `discord-api-types`.
 *
 * @example
 * ```ts
 * import type { DispatchPayloads } from 'disgate';
 * type Chunk = DispatchPayloads['GUILD_MEMBERS_CHUNK'];
 * ```
 *
 * @category Gateway vocabulary
 */
export type DispatchPayloads = {
  [P in GatewayDispatchPayload as `${P['t']}`]: P['d'];
};

/**
 * Intents that deliver each dispatch: the event arrives when the bot has **any** of the bits.
 * Dispatches absent from this table are not gated by an intent (READY, INTERACTION_CREATE, ...).
 * Source: protocol §6.
 *
 * @category Gateway vocabulary
 */
export const DISPATCH_INTENTS: Readonly<Partial<Record<DispatchName, number>>> = {
  GUILD_CREATE: I.Guilds, GUILD_UPDATE: I.Guilds, GUILD_DELETE: I.Guilds,
  GUILD_ROLE_CREATE: I.Guilds, GUILD_ROLE_UPDATE: I.Guilds, GUILD_ROLE_DELETE: I.Guilds,
  CHANNEL_CREATE: I.Guilds, CHANNEL_UPDATE: I.Guilds, CHANNEL_DELETE: I.Guilds,
  CHANNEL_PINS_UPDATE: I.Guilds | I.DirectMessages,
  THREAD_CREATE: I.Guilds, THREAD_UPDATE: I.Guilds, THREAD_DELETE: I.Guilds,
  THREAD_LIST_SYNC: I.Guilds, THREAD_MEMBER_UPDATE: I.Guilds,
  THREAD_MEMBERS_UPDATE: I.Guilds | I.GuildMembers,
  STAGE_INSTANCE_CREATE: I.Guilds, STAGE_INSTANCE_UPDATE: I.Guilds, STAGE_INSTANCE_DELETE: I.Guilds,
  VOICE_CHANNEL_STATUS_UPDATE: I.Guilds, VOICE_CHANNEL_START_TIME_UPDATE: I.Guilds,
  GUILD_MEMBER_ADD: I.GuildMembers, GUILD_MEMBER_UPDATE: I.GuildMembers, GUILD_MEMBER_REMOVE: I.GuildMembers,
  GUILD_AUDIT_LOG_ENTRY_CREATE: I.GuildModeration, GUILD_BAN_ADD: I.GuildModeration, GUILD_BAN_REMOVE: I.GuildModeration,
  GUILD_EMOJIS_UPDATE: I.GuildExpressions, GUILD_STICKERS_UPDATE: I.GuildExpressions,
  GUILD_SOUNDBOARD_SOUND_CREATE: I.GuildExpressions, GUILD_SOUNDBOARD_SOUND_UPDATE: I.GuildExpressions,
  GUILD_SOUNDBOARD_SOUND_DELETE: I.GuildExpressions, GUILD_SOUNDBOARD_SOUNDS_UPDATE: I.GuildExpressions,
  GUILD_INTEGRATIONS_UPDATE: I.GuildIntegrations, INTEGRATION_CREATE: I.GuildIntegrations,
  INTEGRATION_UPDATE: I.GuildIntegrations, INTEGRATION_DELETE: I.GuildIntegrations,
  WEBHOOKS_UPDATE: I.GuildWebhooks,
  INVITE_CREATE: I.GuildInvites, INVITE_DELETE: I.GuildInvites,
  VOICE_CHANNEL_EFFECT_SEND: I.GuildVoiceStates, VOICE_STATE_UPDATE: I.GuildVoiceStates,
  PRESENCE_UPDATE: I.GuildPresences,
  MESSAGE_CREATE: I.GuildMessages | I.DirectMessages, MESSAGE_UPDATE: I.GuildMessages | I.DirectMessages,
  MESSAGE_DELETE: I.GuildMessages | I.DirectMessages, MESSAGE_DELETE_BULK: I.GuildMessages,
  MESSAGE_REACTION_ADD: I.GuildMessageReactions | I.DirectMessageReactions,
  MESSAGE_REACTION_REMOVE: I.GuildMessageReactions | I.DirectMessageReactions,
  MESSAGE_REACTION_REMOVE_ALL: I.GuildMessageReactions | I.DirectMessageReactions,
  MESSAGE_REACTION_REMOVE_EMOJI: I.GuildMessageReactions | I.DirectMessageReactions,
  TYPING_START: I.GuildMessageTyping | I.DirectMessageTyping,
  GUILD_SCHEDULED_EVENT_CREATE: I.GuildScheduledEvents, GUILD_SCHEDULED_EVENT_UPDATE: I.GuildScheduledEvents,
  GUILD_SCHEDULED_EVENT_DELETE: I.GuildScheduledEvents, GUILD_SCHEDULED_EVENT_USER_ADD: I.GuildScheduledEvents,
  GUILD_SCHEDULED_EVENT_USER_REMOVE: I.GuildScheduledEvents,
  AUTO_MODERATION_RULE_CREATE: I.AutoModerationConfiguration, AUTO_MODERATION_RULE_UPDATE: I.AutoModerationConfiguration,
  AUTO_MODERATION_RULE_DELETE: I.AutoModerationConfiguration,
  AUTO_MODERATION_ACTION_EXECUTION: I.AutoModerationExecution,
  MESSAGE_POLL_VOTE_ADD: I.GuildMessagePolls | I.DirectMessagePolls,
  MESSAGE_POLL_VOTE_REMOVE: I.GuildMessagePolls | I.DirectMessagePolls,
};

/**
 * Dispatches whose message content (`content`, `embeds`, `attachments`, `components`, `poll`,
 * AutoMod `content`) arrives empty without MESSAGE_CONTENT, except in DMs, mentions and the
 * bot's own messages (protocol §6).
 *
 * @category Gateway vocabulary
 */
export const CONTENT_INTENT_DISPATCHES: ReadonlySet<DispatchName> = new Set<DispatchName>([
  'MESSAGE_CREATE', 'MESSAGE_UPDATE', 'AUTO_MODERATION_ACTION_EXECUTION',
]);
