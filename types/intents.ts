import { GatewayIntentBits } from 'discord-api-types/v10';

export { GatewayIntentBits };

/**
 * Intents Discord treats as privileged: they must be enabled in the developer portal.
 *
 * @category Gateway vocabulary
 */
export const PRIVILEGED_INTENTS: number =
  GatewayIntentBits.GuildMembers | GatewayIntentBits.GuildPresences | GatewayIntentBits.MessageContent;

/**
 * Every intent bit defined by Discord (sum 53608447, protocol §6).
 *
 * @category Gateway vocabulary
 */
export const ALL_INTENTS = 53608447;

/**
 * Every non-privileged intent bit.
 *
 * @category Gateway vocabulary
 */
export const ALL_NON_PRIVILEGED_INTENTS: number = ALL_INTENTS & ~PRIVILEGED_INTENTS;

/**
 * Display names of the intent bits (the reverse enum map gives deprecated aliases, protocol §6).
 *
 * @category Gateway vocabulary
 */
export const INTENT_NAMES: Readonly<Record<number, string>> = {
  [GatewayIntentBits.Guilds]: 'GUILDS',
  [GatewayIntentBits.GuildMembers]: 'GUILD_MEMBERS',
  [GatewayIntentBits.GuildModeration]: 'GUILD_MODERATION',
  [GatewayIntentBits.GuildExpressions]: 'GUILD_EXPRESSIONS',
  [GatewayIntentBits.GuildIntegrations]: 'GUILD_INTEGRATIONS',
  [GatewayIntentBits.GuildWebhooks]: 'GUILD_WEBHOOKS',
  [GatewayIntentBits.GuildInvites]: 'GUILD_INVITES',
  [GatewayIntentBits.GuildVoiceStates]: 'GUILD_VOICE_STATES',
  [GatewayIntentBits.GuildPresences]: 'GUILD_PRESENCES',
  [GatewayIntentBits.GuildMessages]: 'GUILD_MESSAGES',
  [GatewayIntentBits.GuildMessageReactions]: 'GUILD_MESSAGE_REACTIONS',
  [GatewayIntentBits.GuildMessageTyping]: 'GUILD_MESSAGE_TYPING',
  [GatewayIntentBits.DirectMessages]: 'DIRECT_MESSAGES',
  [GatewayIntentBits.DirectMessageReactions]: 'DIRECT_MESSAGE_REACTIONS',
  [GatewayIntentBits.DirectMessageTyping]: 'DIRECT_MESSAGE_TYPING',
  [GatewayIntentBits.MessageContent]: 'MESSAGE_CONTENT',
  [GatewayIntentBits.GuildScheduledEvents]: 'GUILD_SCHEDULED_EVENTS',
  [GatewayIntentBits.AutoModerationConfiguration]: 'AUTO_MODERATION_CONFIGURATION',
  [GatewayIntentBits.AutoModerationExecution]: 'AUTO_MODERATION_EXECUTION',
  [GatewayIntentBits.GuildMessagePolls]: 'GUILD_MESSAGE_POLLS',
  [GatewayIntentBits.DirectMessagePolls]: 'DIRECT_MESSAGE_POLLS',
};

/**
 * Names of every bit set in `intents`, e.g. `['GUILDS', 'GUILD_MEMBERS']`.
 *
 * @param intents - an intent bitfield
 *
 * @example
 * ```ts
 * intentNames(GatewayIntentBits.Guilds | GatewayIntentBits.GuildMembers); // ['GUILDS', 'GUILD_MEMBERS']
 * ```
 *
 * @category Gateway vocabulary
 */
export function intentNames(intents: number): string[] {
  const names: string[] = [];
  for (const [bit, name] of Object.entries(INTENT_NAMES)) if (intents & Number(bit)) names.push(name);
  return names;
}
