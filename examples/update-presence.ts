/**
 * Update Presence (op 3) on every shard at once: `sendEvents(bot)` sends the same frame on each
 * session of the bot, each through its own per-connection bucket. A presence is per session on
 * Discord, so a bot that runs several shards sets it on all of them.
 *
 * Run it: `npx tsx examples/update-presence.ts`. Without DISCORD_TOKEN it starts the built-in
 * GatewaySimulator with three shards and prints the presence it holds for each session.
 */
import { ActivityType, Client, GatewayIntentBits, UpdateStatusData, ValidationError } from '../lib/index.js';
import { log, runExample, type SimulatedWorld } from './support/example.js';

/**
 * The simulator's world when DISCORD_TOKEN is unset: max_concurrency 3 lets the three shards
 * identify together instead of 5 s apart.
 */
const world: SimulatedWorld = { shards: 3, maxConcurrency: 3, guilds: 6 };

runExample(world, async ({ simulator, connection }) => {
  let presencesSeen = 0;
  if (simulator) {
    simulator.on('presence', (e) => {
      presencesSeen++;
      const shard = simulator.sessions.find((s) => s.id === e.sessionId)?.shard[0];
      const activity = e.presence.activities[0];
      log(`gateway: shard ${shard} is now ${e.presence.status}${activity ? ` (${activity.state ?? activity.name})` : ''}`);
    });
  }

  const bot = new Client({
    ...connection,
    intents: GatewayIntentBits.Guilds,
    // The presence Identify carries, so each shard comes online with it (validated like any send event).
    presence: new UpdateStatusData({ since: null, activities: [], status: 'idle', afk: false }),
  });
  bot.on('error', (error) => log(`error: ${error.message}`));
  bot.on('progress', (ready, total) => log(`${ready}/${total} shards ready`));
  await bot.connect();
  // `sendEvents` resolves once the frames are written; with the simulator, also wait until it read them.
  let expected = 0;
  const delivered = async (): Promise<void> => {
    expected += bot.sessions.size;
    while (simulator && presencesSeen < expected) await new Promise((resolve) => setTimeout(resolve, 5));
  };

  // A custom status: type 4, the text in `state`.
  await new UpdateStatusData({
    since: null,
    activities: [{ name: 'Custom Status', type: ActivityType.Custom, state: 'Counting members' }],
    status: 'online',
    afk: false,
  }).sendEvents(bot);
  log(`custom status sent to ${bot.sessions.size} shards`);
  await delivered();

  // Streaming needs a Twitch or YouTube URL; other activity types may not carry one.
  await new UpdateStatusData({
    since: null,
    activities: [{ name: 'the gateway', type: ActivityType.Streaming, url: 'https://twitch.tv/discord' }],
    status: 'dnd',
    afk: false,
  }).sendEvents(bot);
  log('streaming status sent');
  await delivered();

  // Bad presences are refused when built, before anything is sent.
  try {
    new UpdateStatusData({ since: null, activities: [{ name: 'x', type: ActivityType.Playing, url: 'https://example.com' }], status: 'online', afk: false });
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    log(`refused: ${error.field} ${error.rule}`);
  }

  // Clearing the activities takes an empty array.
  await new UpdateStatusData({ since: null, activities: [], status: 'online', afk: false }).sendEvents(bot);
  log('activities cleared');
  await delivered();

  await bot.close();
});
