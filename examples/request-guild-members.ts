/**
 * Request Guild Members (op 8), two ways:
 *
 * 1. Send only: `new RequestGuildMembers(...).sendEvent(bot, session)` resolves once the frame is
 *    written; the answer comes as GUILD_MEMBERS_CHUNK dispatches to your handler.
 * 2. Collect: `bot.requestGuildMembers(request)` gathers every chunk of that request (matched by
 *    nonce) and resolves `{ members, presences, not_found }`; Discord's RATE_LIMITED answer
 *    (one whole-list request per guild per 30 s) rejects with `RateLimitedError` and `retry_after`.
 *
 * Run it: `npx tsx examples/request-guild-members.ts`. Without DISCORD_TOKEN it starts the
 * built-in GatewaySimulator with a 2,500-member guild. With a token, the bot needs the privileged
 * GUILD_MEMBERS intent enabled in the developer portal.
 */
import { Client, GatewayIntentBits, RateLimitedError, RequestGuildMembers, Session } from '../lib/index.js';
import type { DispatchPayloads } from '../lib/index.js';
import { log, runExample, type SimulatedWorld } from './support/example.js';

/** The simulator's guild when DISCORD_TOKEN is unset. */
const world: SimulatedWorld = { guilds: [{ name: 'Big Guild', members: 2500 }] };

runExample(world, async ({ connection }) => {
  const bot = new Client({ ...connection, intents: GatewayIntentBits.Guilds | GatewayIntentBits.GuildMembers });
  bot.on('error', (error) => log(`error: ${error.message}`));
  const firstGuild = new Promise<DispatchPayloads['GUILD_CREATE']>((resolve) => {
    const off = bot.handle('GUILD_CREATE', (guild) => { off(); resolve(guild); });
  });

  const session = new Session({ shard: [0, 1] });
  await session.connect(bot);
  const guild = await firstGuild;
  log(`READY; guild ${guild.name} has ${guild.member_count} members`);

  // 1. Send only, and read the chunks in a handler.
  let received = 0;
  const allChunks = new Promise<void>((resolve) => {
    const off = bot.handle('GUILD_MEMBERS_CHUNK', (chunk) => {
      if (chunk.nonce !== 'send-only') return;
      received += chunk.members.length;
      log(`GUILD_MEMBERS_CHUNK ${chunk.chunk_index + 1}/${chunk.chunk_count}: ${chunk.members.length} members (${received} so far)`);
      if (chunk.chunk_index === chunk.chunk_count - 1) { off(); resolve(); }
    });
  });
  await new RequestGuildMembers({ guild_id: guild.id, query: '', limit: 0, nonce: 'send-only' }).sendEvent(bot, session);
  log('request written (send only); chunks arrive as dispatches');
  await allChunks;

  // 2. Collect: a prefix search, and a lookup by id with one id that is not a member.
  const search = await bot.requestGuildMembers(new RequestGuildMembers({ guild_id: guild.id, query: 'user1', limit: 5 }));
  log(`query "user1" (limit 5): ${search.members.map((m) => m.user.username).join(', ')}`);
  const someone = search.members[0]?.user.id ?? guild.id;
  const byId = await bot.requestGuildMembers(new RequestGuildMembers({ guild_id: guild.id, user_ids: [someone, '1234567890123456789'] }));
  log(`user_ids: found ${byId.members.length} (${byId.members[0]?.user.username ?? '-'}), not found: ${byId.not_found.join(', ')}`);

  // A second whole-list request within 30 s of the first is refused by Discord.
  try {
    await bot.requestGuildMembers(new RequestGuildMembers({ guild_id: guild.id, query: '', limit: 0 }));
    log('whole member list collected again (the 30 s window had passed)');
  } catch (error) {
    if (!(error instanceof RateLimitedError)) throw error;
    log(`whole member list again: RATE_LIMITED, retry after ${error.retry_after.toFixed(1)} s`);
  }

  // Collecting with a deadline: abort gives up on the answer.
  const deadline = AbortSignal.timeout(10_000);
  const online = await bot.requestGuildMembers(new RequestGuildMembers({ guild_id: guild.id, query: 'user2', limit: 100 }), { signal: deadline });
  log(`query "user2": ${online.members.length} members`);

  await bot.close();
});
