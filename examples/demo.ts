/**
 * The demo `npm start` runs. With DISCORD_TOKEN set it connects to Discord; without it, it starts
 * disgate's built-in GatewaySimulator and shows a session connecting, receiving events (without
 * the MESSAGE_CONTENT intent, so only messages mentioning the bot carry text), surviving an
 * injected op 7 and a dropped socket, and disconnecting.
 */
import { once } from 'node:events';
import { Client, GatewayIntentBits, Session, UpdateStatusData } from '../lib/index.js';
import { log, runExample } from './support/example.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

runExample({ guilds: 3, heartbeatInterval: 5000 }, async ({ simulator, connection }) => {
  const bot = new Client({ ...connection, intents: GatewayIntentBits.Guilds | GatewayIntentBits.GuildMessages });
  bot.on('close', (event) => log(`connection closed (${event.code}${event.reason ? ` ${event.reason}` : ''}); ${event.reconnect ? (event.resumable ? 'resuming' : 'identifying anew') : 'not reconnecting'}`));
  bot.on('ready', (_session, how) => log(how === 'ready' ? 'READY: new session' : 'RESUMED: no event missed'));
  bot.on('error', (error) => log(`error: ${error.message}`));
  bot.on('warn', (message) => log(`warning: ${message}`));
  bot.handle('GUILD_CREATE', (guild) => log(`GUILD_CREATE ${guild.name} (${guild.member_count} members)`));
  bot.handle('MESSAGE_CREATE', (message, session) => log(`MESSAGE_CREATE on shard ${session.shard[0]} seq ${session.seq}: ${JSON.stringify(message.content)}`));

  const session = new Session({ shard: [0, 1] });
  log('connecting...');
  await session.connect(bot);
  log(`connected as session ${session.id}`);
  await new UpdateStatusData({ since: null, activities: [{ name: 'the demo', type: 0 }], status: 'online', afk: false }).sendEvent(bot, session);
  log('presence updated');

  if (simulator) {
    const guild = simulator.guilds[0]!;
    const me = simulator.fixtures.bot;
    // Without MESSAGE_CONTENT only messages mentioning the bot (or DMs, or its own) keep their text.
    const message = (content: string, mention = true): void => {
      const mentions = mention ? [me] : [];
      simulator.dispatch('MESSAGE_CREATE', simulator.fixtures.message({ guild_id: guild.id, content: mention ? `<@${me.id}> ${content}` : content, mentions }));
    };
    log('a member writes in a guild: without MESSAGE_CONTENT the bot gets empty content');
    message('hello from the simulator', false);
    await sleep(200);
    log('a member mentions the bot: the content arrives');
    message('hello, bot');
    await sleep(200);

    log('simulator sends op 7 Reconnect');
    let resumed = once(bot, 'ready');
    simulator.reconnect();
    message('sent while the bot reconnects');
    await resumed;
    await sleep(200);

    log('simulator drops the TCP connection without a close frame');
    resumed = once(bot, 'ready');
    simulator.dropSocket();
    message('sent while the socket is down');
    await resumed;
    await sleep(200);
    log(`rate limit status: ${JSON.stringify(session.getRateLimitStatus())}`);
  } else {
    log('connected to Discord; waiting 10 s for events');
    await sleep(10_000);
  }

  await bot.close();
  log(`disconnected (status ${session.status})`);
});
