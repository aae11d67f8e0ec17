/**
 * Request Channel Info (op 43): the ephemeral data of a guild's voice channels (the status text
 * and when the current voice session started), which is not on channel objects. The answer is a
 * CHANNEL_INFO dispatch; later changes arrive as VOICE_CHANNEL_STATUS_UPDATE and
 * VOICE_CHANNEL_START_TIME_UPDATE.
 *
 * Run it: `npx tsx examples/channel-info.ts`. Without DISCORD_TOKEN it starts the built-in
 * GatewaySimulator with a guild whose voice channels have a status.
 */
import { Client, GatewayIntentBits, RequestChannelInfo, Session } from '../lib/index.js';
import type { DispatchPayloads } from '../lib/index.js';
import { log, runExample, type SimulatedWorld } from './support/example.js';

/** The simulator's guild when DISCORD_TOKEN is unset: voice channels with a status. */
const world: SimulatedWorld = {
  guilds: [{
    name: 'Game Night',
    voiceChannels: [
      { name: 'Lobby', status: 'Picking teams', voiceStartTime: Math.floor(Date.now() / 1000) - 600 },
      { name: 'AFK', status: null },
    ],
  }],
};

runExample(world, async ({ connection }) => {
  const bot = new Client({ ...connection, intents: GatewayIntentBits.Guilds });
  bot.on('error', (error) => log(`error: ${error.message}`));
  const channelNames = new Map<string, string>();
  const firstGuild = new Promise<DispatchPayloads['GUILD_CREATE']>((resolve) => {
    const off = bot.handle('GUILD_CREATE', (guild) => {
      for (const c of guild.channels) channelNames.set(c.id, c.name ?? c.id);
      off();
      resolve(guild);
    });
  });
  const session = new Session({ shard: [0, 1] });
  await session.connect(bot);
  const guild = await firstGuild;

  const answer = new Promise<DispatchPayloads['CHANNEL_INFO']>((resolve) => {
    const off = bot.handle('CHANNEL_INFO', (info) => {
      if (info.guild_id !== guild.id) return;
      off();
      resolve(info);
    });
  });
  await new RequestChannelInfo({ guild_id: guild.id, fields: ['status', 'voice_start_time'] }).sendEvent(bot, session);
  log(`asked for the voice channel status and start time of ${guild.name}`);
  const info = await answer;
  for (const channel of info.channels) {
    const since = channel.voice_start_time ? `voice since ${new Date(channel.voice_start_time * 1000).toISOString()}` : 'nobody talking';
    log(`CHANNEL_INFO ${channelNames.get(channel.id) ?? channel.id}: status ${JSON.stringify(channel.status ?? null)}, ${since}`);
  }

  await bot.close();
});
