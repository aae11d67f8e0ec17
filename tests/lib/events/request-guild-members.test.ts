import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayIntentBits } from 'discord-api-types/v10';
import type { GatewayRequestGuildMembersData } from 'discord-api-types/v10';
import { RequestGuildMembers } from '../../../lib/events/request-guild-members.js';
import { encodeFrame, frameSize } from '../../../lib/events/frame.js';
import { MissingIntentError } from '../../../lib/errors.js';
import { assertInvalid, fakeBot, fakeSession } from './helpers.js';

const guild_id = '41771983444115456';
const bad = (d: Record<string, unknown>): (() => RequestGuildMembers) =>
  () => new RequestGuildMembers({ guild_id, ...d } as unknown as GatewayRequestGuildMembersData);
const MEMBERS = GatewayIntentBits.GuildMembers;
const PRESENCES = GatewayIntentBits.GuildPresences;

describe('RequestGuildMembers', () => {
  it('has op 8, static and on the instance', () => {
    assert.equal(RequestGuildMembers.op, 8);
    assert.equal(new RequestGuildMembers({ guild_id, query: '', limit: 0 }).op, 8);
  });

  it("serializes to Discord's example", () => {
    assert.equal(
      encodeFrame(new RequestGuildMembers({ guild_id, query: '', limit: 0 })),
      '{"op":8,"d":{"guild_id":"41771983444115456","query":"","limit":0}}',
    );
  });

  it('serializes the user_ids form with presences and nonce, in input order', () => {
    const d = { guild_id, user_ids: ['80351110224678912'], presences: true, nonce: 'abc' };
    assert.equal(JSON.stringify(new RequestGuildMembers(d)), JSON.stringify(d));
  });

  it('accepts a single user id (Discord takes a snowflake or an array)', () => {
    assert.equal(new RequestGuildMembers({ guild_id, user_ids: '80351110224678912' }).user_ids, '80351110224678912');
  });

  it('tells an all-members request apart', () => {
    assert.equal(new RequestGuildMembers({ guild_id, query: '', limit: 0 }).requestsAllMembers, true);
    assert.equal(new RequestGuildMembers({ guild_id, query: '', limit: 10 }).requestsAllMembers, false);
    assert.equal(new RequestGuildMembers({ guild_id, query: 'a', limit: 0 }).requestsAllMembers, false);
  });

  describe('validation', () => {
    it('guild_id is a single snowflake, not a list', () => assertInvalid(bad({ guild_id: [guild_id], query: '', limit: 0 }), 'guild_id'));
    it('guild_id must be a snowflake', () => assertInvalid(bad({ guild_id: 'abc', query: '', limit: 0 }), 'guild_id'));
    it('needs one of query and user_ids', () => assertInvalid(bad({ limit: 0 }), 'query'));
    it('refuses query and user_ids together', () => assertInvalid(bad({ query: '', limit: 0, user_ids: ['1'] }), 'user_ids'));
    it('limit is required with query', () => assertInvalid(bad({ query: 'ab' }), 'limit'));
    it('limit is at most 100', () => assertInvalid(bad({ query: 'ab', limit: 101 }), 'limit'));
    it('limit is not negative', () => assertInvalid(bad({ query: 'ab', limit: -1 }), 'limit'));
    it('limit is an integer', () => assertInvalid(bad({ query: 'ab', limit: 2.5 }), 'limit'));
    it('limit is not allowed with user_ids', () => assertInvalid(bad({ user_ids: ['1'], limit: 1 }), 'limit'));
    it('query must be a string', () => assertInvalid(bad({ query: 5, limit: 1 }), 'query'));
    it('user_ids must not be empty', () => assertInvalid(bad({ user_ids: [] }), 'user_ids'));
    it('user_ids holds at most 100 ids', () => assertInvalid(bad({ user_ids: Array.from({ length: 101 }, (_, i) => String(i + 1)) }), 'user_ids'));
    it('every user id must be a snowflake', () => assertInvalid(bad({ user_ids: ['1', 'two'] }), 'user_ids[1]'));
    it('a single user id must be a snowflake', () => assertInvalid(bad({ user_ids: 'me' }), 'user_ids'));
    it('presences must be a boolean', () => assertInvalid(bad({ query: '', limit: 0, presences: 'yes' }), 'presences'));
    it('nonce is at most 32 bytes', () => assertInvalid(bad({ query: '', limit: 0, nonce: 'n'.repeat(33) }), 'nonce'));
    it('nonce length counts UTF-8 bytes', () => assertInvalid(bad({ query: '', limit: 0, nonce: '€'.repeat(11) }), 'nonce'));
    it('nonce must be a string', () => assertInvalid(bad({ query: '', limit: 0, nonce: 42 }), 'nonce'));
    it('a 32-byte nonce is accepted', () => assert.equal(new RequestGuildMembers({ guild_id, query: '', limit: 0, nonce: 'n'.repeat(32) }).nonce?.length, 32));
  });

  it('the largest valid request (100 ids of 20 digits, 32-byte nonce) fits in one frame', () => {
    const user_ids = Array.from({ length: 100 }, (_, i) => String(18446744073709551515n + BigInt(i)));
    const event = new RequestGuildMembers({ guild_id: '18446744073709551615', user_ids, presences: true, nonce: '€'.repeat(10) + 'ab' });
    const text = encodeFrame(event);
    assert.equal(frameSize(event), Buffer.byteLength(text));
    // {"op":8,"d":{ 13 + "guild_id":"<20>", 34 + "user_ids":[ 12 + 100 × 22 + 99 commas + ], 2
    // + "presences":true, 17 + "nonce":" 9 + 32 bytes + "}} 3
    assert.equal(frameSize(event), 13 + 34 + 12 + 2299 + 2 + 17 + 9 + 32 + 3);
  });

  describe('intents', () => {
    it('presences: true needs GUILD_PRESENCES', async () => {
      const { session, frames } = fakeSession();
      const event = new RequestGuildMembers({ guild_id, user_ids: ['1'], presences: true });
      await assert.rejects(event.sendEvent(fakeBot(MEMBERS).bot, session), (e: unknown) => e instanceof MissingIntentError && e.intent === 'GUILD_PRESENCES');
      assert.equal(frames.length, 0);
    });

    it('an all-members request needs GUILD_MEMBERS', async () => {
      const { session, frames } = fakeSession();
      const event = new RequestGuildMembers({ guild_id, query: '', limit: 0 });
      await assert.rejects(event.sendEvent(fakeBot(PRESENCES).bot, session), (e: unknown) => e instanceof MissingIntentError && e.intent === 'GUILD_MEMBERS');
      assert.equal(frames.length, 0);
    });

    it('sends when the bot has the intents', async () => {
      const { session, frames } = fakeSession();
      await new RequestGuildMembers({ guild_id, query: '', limit: 0, presences: true }).sendEvent(fakeBot(MEMBERS | PRESENCES).bot, session);
      assert.equal(frames.length, 1);
    });

    it('prefix and id requests without presences need no privileged intent', async () => {
      const { session, frames } = fakeSession();
      const { bot } = fakeBot(GatewayIntentBits.Guilds);
      await new RequestGuildMembers({ guild_id, query: 'ab', limit: 10 }).sendEvent(bot, session);
      await new RequestGuildMembers({ guild_id, user_ids: ['1'], presences: false }).sendEvent(bot, session);
      assert.equal(frames.length, 2);
    });

    it('sendEvents checks once and writes on no session', async () => {
      const a = fakeSession();
      const b = fakeSession();
      const { bot } = fakeBot(0, [a.session, b.session]);
      await assert.rejects(new RequestGuildMembers({ guild_id, query: '', limit: 0 }).sendEvents(bot), MissingIntentError);
      assert.equal(a.frames.length + b.frames.length, 0);
    });
  });
});
