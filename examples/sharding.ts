/**
 * Sharding in one process. `bot.connect()` without a `shards` option asks `GET /gateway/bot`
 * how many shards to run and how many may identify per 5 s (`max_concurrency`), then starts
 * them bucket by bucket (`shard_id % max_concurrency`), reporting progress. Every guild's events
 * arrive on shard `(guild_id >> 22) % shards`; `bot.sessionForGuild(id)` finds that session, e.g.
 * to send a Request Guild Members on the right connection.
 *
 * Run: `npx tsx examples/sharding.ts`. Without DISCORD_TOKEN it starts the built-in
 * GatewaySimulator recommending 8 shards with `max_concurrency` 4: shards 0-3 identify at once,
 * 4-7 five seconds later. With DISCORD_TOKEN it runs your bot's recommended shard count.
 */
import { Client, GatewayIntentBits } from '../lib/index.js';
import { exampleGateway, log } from './support/example.js';

const { simulator, connection } = await exampleGateway({ shards: 8, maxConcurrency: 4, guilds: 12 });

const bot = new Client({
  ...connection,
  intents: GatewayIntentBits.Guilds | GatewayIntentBits.GuildMessages | GatewayIntentBits.MessageContent,
});
bot.on('error', (error) => log(`error: ${error.message}`));
bot.on('close', (event) => log(`shard ${event.shard} connection closed (${event.code} ${event.reason}); ${event.resumable ? 'resuming' : 'identifying again'}`));

const info = await bot.getGatewayBot();
log(`GET /gateway/bot: ${info.shards} shards recommended, max_concurrency ${info.session_start_limit.max_concurrency}, `
  + `${info.session_start_limit.remaining}/${info.session_start_limit.total} session starts left today`);

const guilds = new Map<string, string>();
bot.handle('GUILD_CREATE', (guild) => { guilds.set(guild.id, guild.name); });
bot.on('ready', (session) => log(`shard ${session.shard[0]}/${session.shard[1]} READY (bucket identify:${session.shard[0] % info.session_start_limit.max_concurrency})`));
bot.on('progress', (ready, total) => log(`progress: ${ready}/${total} shards ready`));

await bot.connect();
log(`all ${bot.sessions.size} shards are up`);
// GUILD_CREATE follows READY; give the last shard a moment to send its guilds.
await new Promise((resolve) => setTimeout(resolve, 200));

log('routing: guild -> shard (guild_id >> 22) % shards');
for (const [id, name] of guilds) {
  const session = bot.sessionForGuild(id);
  console.log(`         ${name.padEnd(20)} ${id} -> shard ${session?.shard[0]}`);
}

if (simulator) {
  // Each message arrives on the shard holding its guild: the same one sessionForGuild names.
  const arrivals: Array<{ guild: string; shard: number }> = [];
  bot.handle('MESSAGE_CREATE', (message, session) => { arrivals.push({ guild: message.guild_id!, shard: session.shard[0] }); });
  for (const guild of simulator.guilds) simulator.dispatch('MESSAGE_CREATE', simulator.fixtures.message({ guild_id: guild.id }));
  while (arrivals.length < simulator.guilds.length) await new Promise((resolve) => setTimeout(resolve, 10));
  const agree = arrivals.every((a) => bot.sessionForGuild(a.guild)?.shard[0] === a.shard);
  log(`${arrivals.length} messages, each on the shard sessionForGuild predicted: ${agree}`);
  if (!agree) process.exitCode = 1;
}

await bot.close();
await simulator?.close();
log('closed');
