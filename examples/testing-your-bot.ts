/**
 * Testing your own bot against GatewaySimulator, offline, with node:test. Run it directly
 * (`npx tsx examples/testing-your-bot.ts`): node:test runs the tests in this file, prints the
 * results and exits non-zero if one fails.
 *
 * The "bot" under test answers `!ping` by setting its presence: a stand-in for your own logic,
 * wired to a Client the test points at the simulator.
 */
import { once } from 'node:events';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, GatewayIntentBits, Session, UpdateStatusData } from '../lib/index.js';
import { GatewaySimulator } from '../lib/testing/index.js';

/** The bot under test: on `!ping`, it shows `pong` as its status on that shard. */
function installPingBot(bot: Client): void {
  bot.handle('MESSAGE_CREATE', async (message, session) => {
    if (message.content !== '!ping') return;
    await new UpdateStatusData({ since: null, activities: [{ name: 'pong', type: 4, state: 'pong' }], status: 'online', afk: false })
      .sendEvent(bot, session);
  });
}

async function startBot(): Promise<{ sim: GatewaySimulator; bot: Client; session: Session }> {
  const sim = await GatewaySimulator.create({ guilds: 2 });
  const bot = new Client({
    token: 'test-token',
    intents: GatewayIntentBits.Guilds | GatewayIntentBits.GuildMessages | GatewayIntentBits.MessageContent,
    apiURL: sim.apiURL,
  });
  installPingBot(bot);
  const session = new Session();
  await session.connect(bot);
  return { sim, bot, session };
}

test('answers !ping by setting its presence', async (t) => {
  const { sim, bot } = await startBot();
  t.after(async () => { await bot.close(); await sim.close(); });
  const presence = sim.waitFor('presence');
  sim.dispatch('MESSAGE_CREATE', sim.fixtures.message({ guild_id: sim.guilds[0]!.id, content: '!ping' }));
  const { presence: set } = await presence;
  assert.equal(set.activities[0]?.state, 'pong');
});

test('still answers a !ping sent while its connection was down', async (t) => {
  const { sim, bot } = await startBot();
  t.after(async () => { await bot.close(); await sim.close(); });
  const resumed = once(bot, 'ready');
  sim.dropSocket();
  sim.dispatch('MESSAGE_CREATE', sim.fixtures.message({ guild_id: sim.guilds[0]!.id, content: '!ping' }));
  const presence = sim.waitFor('presence');
  const [, how] = await resumed;
  assert.equal(how, 'resumed');
  assert.equal((await presence).presence.activities[0]?.state, 'pong');
});

test('ignores other messages', async (t) => {
  const { sim, bot, session } = await startBot();
  t.after(async () => { await bot.close(); await sim.close(); });
  sim.dispatch('MESSAGE_CREATE', sim.fixtures.message({ guild_id: sim.guilds[0]!.id, content: 'hello' }));
  // Frames are handled in order: once the resume that follows the message is done, the bot
  // has seen the message and had its chance to answer.
  const resumed = once(bot, 'ready');
  sim.reconnect();
  await resumed;
  assert.equal(sim.frames.filter((f) => f.direction === 'in' && f.op === 3).length, 0);
  assert.equal(session.status, 'ready');
});
