/**
 * MESSAGE_CONTENT in the simulator (protocol §6): sessions identified without the intent get
 * message content withheld, except DMs, the bot's own messages and messages mentioning the bot.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { GatewaySimulator, type GatewaySimulatorOptions, type MessageInit } from '../../../../lib/testing/index.js';
import { CONTENT_RULES, ContentViews, withheldContent } from '../../../../lib/testing/simulator/message-content.js';
import { CONTENT_INTENT_DISPATCHES } from '../../../../types/dispatch.js';
import { RawGatewayClient, type Frame } from '../raw-gateway-client.js';

const GUILDS = 1 << 0;
const GUILD_MESSAGES = 1 << 9;
const DIRECT_MESSAGES = 1 << 12;
const MESSAGE_CONTENT = 1 << 15;
const AUTO_MODERATION_EXECUTION = 1 << 21;
const WITHOUT = GUILDS | GUILD_MESSAGES | DIRECT_MESSAGES | AUTO_MODERATION_EXECUTION;
const WITH = WITHOUT | MESSAGE_CONTENT;
const BOT_ID = '1000000000000000001';

type Message = Record<string, unknown>;

async function simulator(t: TestContext, options: GatewaySimulatorOptions = {}): Promise<GatewaySimulator> {
  const sim = await GatewaySimulator.create(options);
  t.after(() => sim.close());
  return sim;
}

/** Identifies a raw client on shard 0 with `intents`, after stepping over the 5 s identify window. */
async function ready(t: TestContext, sim: GatewaySimulator, intents: number): Promise<{ client: RawGatewayClient; sessionId: string }> {
  t.mock.timers.tick(5000);
  const client = await RawGatewayClient.connect(sim.url);
  t.after(() => client.close());
  await client.next((f) => f.op === 10);
  client.identify({ intents });
  const frame = await client.dispatch('READY');
  return { client, sessionId: (frame.d as { session_id: string }).session_id };
}

/** A guild message from another member with every field MESSAGE_CONTENT governs filled in. */
function richMessage(sim: GatewaySimulator, init: MessageInit = {}): Message {
  return {
    ...sim.fixtures.message({ content: 'secret', ...init }),
    embeds: [{ title: 'an embed' }],
    attachments: [{ id: '5', filename: 'a.png', size: 1, url: 'https://x/a.png', proxy_url: 'https://x/a.png' }],
    components: [{ type: 1, components: [{ type: 2, style: 1, label: 'press', custom_id: 'b' }] }],
    poll: { question: { text: 'q?' }, answers: [], expiry: null, allow_multiselect: false, layout_type: 1 },
  };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** The fields MESSAGE_CONTENT governs, as a session received them. */
function contentOf(frame: Frame): Message {
  const d = frame.d as Message;
  return { content: d['content'], embeds: d['embeds'], attachments: d['attachments'], components: d['components'], poll: d['poll'] };
}

const WITHHELD = { content: '', embeds: [], attachments: [], components: [], poll: undefined };

describe('simulator MESSAGE_CONTENT rule (unit)', () => {
  it('covers exactly the dispatches the Client warns about', () => {
    assert.deepEqual(Object.keys(CONTENT_RULES).sort(), [...CONTENT_INTENT_DISPATCHES].sort());
  });

  it('withholds content from a copy and leaves the caller object alone', () => {
    const d = deepFreeze({ guild_id: '1', author: { id: '2' }, mentions: [], content: 'x', embeds: [{}], attachments: [{}], components: [{}], poll: {}, id: '9' });
    const copy = withheldContent('MESSAGE_CREATE', d, BOT_ID);
    assert.deepEqual(copy, { guild_id: '1', author: { id: '2' }, mentions: [], content: '', embeds: [], attachments: [], components: [], id: '9' });
    assert.equal(d.content, 'x');
    assert.equal(withheldContent('MESSAGE_DELETE', d, BOT_ID), null, 'a dispatch without content is sent as is');
    assert.equal(withheldContent('MESSAGE_CREATE', { ...d, guild_id: undefined }, BOT_ID), null, 'DM');
    assert.equal(withheldContent('MESSAGE_CREATE', { ...d, author: { id: BOT_ID } }, BOT_ID), null, "the bot's own");
    assert.equal(withheldContent('MESSAGE_CREATE', { ...d, mentions: [{ id: '7' }, { id: BOT_ID }] }, BOT_ID), null, 'mentions the bot');
  });

  it('sessions with the intent get the caller object itself; each form is serialized once', () => {
    const d = { guild_id: '1', author: { id: '2' }, content: 'x' };
    const views = new ContentViews('MESSAGE_CREATE', d, BOT_ID);
    assert.equal(views.for(WITH).d, d, 'no copy with the intent');
    assert.equal(views.for(WITH), views.for(WITH));
    const withheld = views.for(WITHOUT);
    assert.notEqual(withheld.d, d);
    assert.equal(views.for(WITHOUT), withheld);
    assert.equal(JSON.parse(withheld.dJson).content, '');
    const ungated = new ContentViews('TYPING_START', d, BOT_ID);
    assert.equal(ungated.for(WITHOUT).d, d, 'no copy for a dispatch without content');
    const dm = new ContentViews('MESSAGE_CREATE', { content: 'x' }, BOT_ID);
    assert.equal(dm.for(WITHOUT), dm.for(WITH), 'an exempt message shares the full form');
  });
});

describe('simulator MESSAGE_CONTENT over the wire', () => {
  it('withholds a guild message from another user only from the session without the intent', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
    const sim = await simulator(t, { guilds: 1 });
    const without = await ready(t, sim, WITHOUT);
    const withIntent = await ready(t, sim, WITH);
    const message = deepFreeze(richMessage(sim));
    const before = structuredClone(message);

    for (const name of ['MESSAGE_CREATE', 'MESSAGE_UPDATE']) {
      assert.equal(sim.dispatch(name, message), 2);
      const blank = await without.client.dispatch(name);
      assert.deepEqual(contentOf(blank), WITHHELD, name);
      assert.equal('poll' in (blank.d as Message), false, 'no poll field at all');
      assert.equal((blank.d as Message)['id'], message['id'], 'the rest of the message is kept');
      assert.deepEqual((await withIntent.client.dispatch(name)).d, before, `${name} with the intent is complete`);
    }
    assert.deepEqual(message, before, "the caller's object is unchanged");
    const logged = sim.frames.filter((f) => f.t === 'MESSAGE_CREATE').map((f) => (f.d as Message)['content']);
    assert.deepEqual(logged.sort(), ['', 'secret'], 'the frame log shows what each session got');
  });

  it('keeps the content of DMs, of messages mentioning the bot and of the bot’s own messages', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
    const sim = await simulator(t, { guilds: 1 });
    const { client } = await ready(t, sim, WITHOUT);
    assert.equal(sim.fixtures.bot.id, BOT_ID);
    const dm = richMessage(sim, { guild_id: null });
    const mention = richMessage(sim, { mentions: [sim.guilds[0]!.members[2]!.member.user, sim.fixtures.bot] });
    const own = richMessage(sim, { author: sim.fixtures.bot });
    for (const [label, message] of [['DM', dm], ['mention', mention], ['own', own]] as const) {
      assert.equal(sim.dispatch('MESSAGE_CREATE', message), 1, label);
      assert.deepEqual((await client.dispatch('MESSAGE_CREATE')).d, message, label);
    }
  });

  it('blanks AUTO_MODERATION_ACTION_EXECUTION content and matched_content without the intent', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
    const sim = await simulator(t, { guilds: 1 });
    const without = await ready(t, sim, WITHOUT);
    const withIntent = await ready(t, sim, WITH);
    const execution = {
      guild_id: sim.guilds[0]!.id, action: { type: 1 }, rule_id: '3', rule_trigger_type: 1, user_id: '4',
      content: 'a bad word', matched_keyword: 'bad', matched_content: 'bad',
    };
    assert.equal(sim.dispatch('AUTO_MODERATION_ACTION_EXECUTION', execution), 2);
    const blank = (await without.client.dispatch('AUTO_MODERATION_ACTION_EXECUTION')).d as Message;
    assert.deepEqual([blank['content'], blank['matched_content'], blank['matched_keyword']], ['', '', 'bad']);
    assert.deepEqual((await withIntent.client.dispatch('AUTO_MODERATION_ACTION_EXECUTION')).d, execution);
  });

  it('a resume replays each session’s own form: withheld without the intent, complete with it', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
    const sim = await simulator(t, { guilds: 1 });
    const without = await ready(t, sim, WITHOUT);
    const withIntent = await ready(t, sim, WITH);
    await without.client.close(4900);
    await withIntent.client.close(4900);
    const message = deepFreeze(richMessage(sim));
    assert.equal(sim.dispatch('MESSAGE_CREATE', message), 2, 'both detached sessions buffer it');

    const resume = async (sessionId: string): Promise<Frame> => {
      const client = await RawGatewayClient.connect(sim.url, { path: '/resume' });
      t.after(() => client.close());
      await client.next((f) => f.op === 10);
      client.send({ op: 6, d: { token: 'test-token', session_id: sessionId, seq: 2 } });
      const replayed = await client.dispatch('MESSAGE_CREATE');
      await client.dispatch('RESUMED');
      return replayed;
    };
    const blank = await resume(without.sessionId);
    assert.deepEqual(contentOf(blank), WITHHELD);
    assert.equal(blank.s, 3);
    const full = await resume(withIntent.sessionId);
    assert.deepEqual(full.d, structuredClone(message));
  });
});
