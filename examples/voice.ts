/**
 * Joining and leaving a voice channel with Update Voice State (op 4). Joining answers with two
 * dispatches, and a voice connection needs both: VOICE_STATE_UPDATE (carrying this voice
 * session's `session_id`) and VOICE_SERVER_UPDATE (the voice server's `endpoint` and `token`).
 * Leaving is the same event with `channel_id: null`.
 *
 * Run it: `npx tsx examples/voice.ts`. Without DISCORD_TOKEN it starts the built-in
 * GatewaySimulator (which answers op 4 but runs no voice server). With a token, the bot joins
 * the first voice channel of the first guild it sees.
 */
import { ChannelType } from 'discord-api-types/v10';
import { Client, GatewayIntentBits, Session, UpdateVoiceStateData } from '../lib/index.js';
import type { DispatchPayloads } from '../lib/index.js';
import { log, runExample, type SimulatedWorld } from './support/example.js';

type VoiceState = DispatchPayloads['VOICE_STATE_UPDATE'];
type VoiceServer = DispatchPayloads['VOICE_SERVER_UPDATE'];

/** Resolves with the first dispatch `event` of this bot that passes `filter`, or rejects after `ms`. */
function next<E extends 'GUILD_CREATE' | 'VOICE_STATE_UPDATE' | 'VOICE_SERVER_UPDATE'>(
  bot: Client, event: E, filter: (payload: DispatchPayloads[E]) => boolean, ms = 10_000,
): Promise<DispatchPayloads[E]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error(`no ${event} within ${ms} ms`)); }, ms);
    const off = bot.handle(event, (payload) => {
      if (!filter(payload)) return;
      clearTimeout(timer);
      off();
      resolve(payload);
    });
  });
}

/** The simulator's guild when DISCORD_TOKEN is unset. */
const world: SimulatedWorld = { guilds: [{ name: 'Voice Guild', voiceChannels: 2 }] };

runExample(world, async ({ connection }) => {
  const bot = new Client({
    ...connection,
    // VOICE_STATE_UPDATE needs GUILD_VOICE_STATES; VOICE_SERVER_UPDATE needs no intent.
    intents: GatewayIntentBits.Guilds | GatewayIntentBits.GuildVoiceStates,
  });
  bot.on('error', (error) => log(`error: ${error.message}`));
  const firstGuild = next(bot, 'GUILD_CREATE', () => true);
  const session = new Session({ shard: [0, 1] });
  await session.connect(bot);
  const guild = await firstGuild;
  const channel = guild.channels.find((c) => c.type === ChannelType.GuildVoice);
  if (!channel) throw new Error(`guild ${guild.name} has no voice channel`);
  const me = (state: VoiceState): boolean => state.guild_id === guild.id;

  // Join: listen first, then send; wait for both answers.
  const joined = Promise.all([
    next(bot, 'VOICE_STATE_UPDATE', (s) => me(s) && s.channel_id === channel.id),
    next(bot, 'VOICE_SERVER_UPDATE', (s: VoiceServer) => s.guild_id === guild.id),
  ]);
  await new UpdateVoiceStateData({ guild_id: guild.id, channel_id: channel.id, self_mute: false, self_deaf: true }).sendEvent(bot, session);
  log(`joining ${channel.name ?? channel.id} in ${guild.name}...`);
  const [state, server] = await joined;
  log(`VOICE_STATE_UPDATE: in channel ${state.channel_id}, voice session ${state.session_id}, self_deaf ${state.self_deaf}`);
  log(`VOICE_SERVER_UPDATE: endpoint ${server.endpoint ?? '(none yet)'}, token ${server.token.slice(0, 4)}...`);
  log('a voice library would now connect to the endpoint with session_id and token');

  // Leave: channel_id null. Only VOICE_STATE_UPDATE answers.
  const left = next(bot, 'VOICE_STATE_UPDATE', (s) => me(s) && s.channel_id === null);
  await new UpdateVoiceStateData({ guild_id: guild.id, channel_id: null, self_mute: false, self_deaf: false }).sendEvent(bot, session);
  await left;
  log('left the voice channel (channel_id null)');

  await bot.close();
});
