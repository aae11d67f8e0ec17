/**
 * Request Soundboard Sounds (op 31): one request names several guilds; Discord answers with one
 * SOUNDBOARD_SOUNDS dispatch per guild, on the shard that holds it. `sendEvents` sends the
 * request on every shard, and each shard answers for its own guilds.
 *
 * Run it: `npx tsx examples/soundboard.ts`. Without DISCORD_TOKEN it starts the built-in
 * GatewaySimulator with two shards and three guilds that have sounds.
 */
import { Client, GatewayIntentBits, RequestSoundboardSounds } from '../lib/index.js';
import type { DispatchPayloads } from '../lib/index.js';
import { log, runExample, type SimulatedWorld } from './support/example.js';

/** The simulator's world when DISCORD_TOKEN is unset: two shards, three guilds with sounds. */
const world: SimulatedWorld = {
  shards: 2,
  maxConcurrency: 2,
  guilds: [
    { name: 'Memes', soundboardSounds: [{ name: 'airhorn', emojiName: '📯' }, { name: 'crickets', emojiName: '🦗' }] },
    { name: 'Music', soundboardSounds: [{ name: 'drumroll', emojiName: '🥁', volume: 0.5 }] },
    { name: 'Quiet', soundboardSounds: 0 },
  ],
};

runExample(world, async ({ connection }) => {
  const bot = new Client({
    ...connection,
    // SOUNDBOARD_SOUNDS, the answer to op 31, needs no intent; GUILDS brings the guild list.
    intents: GatewayIntentBits.Guilds,
  });
  bot.on('error', (error) => log(`error: ${error.message}`));
  // READY lists each shard's guilds as unavailable; a GUILD_CREATE follows for each one.
  const expected = new Set<string>();
  const guilds = new Map<string, string>();
  let allGuilds!: () => void;
  const guildsArrived = new Promise<void>((resolve) => { allGuilds = resolve; });
  const check = (): void => { if ([...expected].every((id) => guilds.has(id))) allGuilds(); };
  bot.handle('READY', (ready) => { for (const g of ready.guilds) expected.add(g.id); check(); });
  bot.handle('GUILD_CREATE', (guild) => { guilds.set(guild.id, guild.name); check(); });
  await bot.connect();
  await Promise.race([guildsArrived, new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
  log(`${bot.sessions.size} shards ready, ${guilds.size} guilds`);

  const answers = new Map<string, DispatchPayloads['SOUNDBOARD_SOUNDS']>();
  const all = new Promise<void>((resolve) => {
    const off = bot.handle('SOUNDBOARD_SOUNDS', (sounds, session) => {
      answers.set(sounds.guild_id, sounds);
      const list = sounds.soundboard_sounds.map((s) => `${s.emoji_name ?? ''} ${s.name} (volume ${s.volume})`.trim());
      log(`SOUNDBOARD_SOUNDS on shard ${session.shard[0]} for ${guilds.get(sounds.guild_id) ?? sounds.guild_id}: ${list.join(', ') || 'no sounds'}`);
      if (answers.size === guilds.size) { off(); resolve(); }
    });
  });
  // Each shard answers only for its own guilds, so the request goes to all of them.
  await new RequestSoundboardSounds({ guild_ids: [...guilds.keys()] }).sendEvents(bot);
  await Promise.race([all, new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
  log(`${answers.size} of ${guilds.size} guilds answered`);

  await bot.close();
});
