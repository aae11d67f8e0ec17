import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { GatewayIntentBits } from 'discord-api-types/v10';
import type { GatewayIdentifyData } from 'discord-api-types/v10';
import { Identify } from '../../../lib/events/identify.js';
import type { IdentifyInput } from '../../../lib/events/identify.js';
import { encodeFrame } from '../../../lib/events/frame.js';
import { UpdateStatusData } from '../../../lib/events/update-status.js';
import { ALL_INTENTS } from '../../../types/intents.js';
import { assertInvalid, fakeBot, fakeSession } from './helpers.js';

const properties = { os: 'linux', browser: 'disgate', device: 'disgate' };
const base: IdentifyInput = { token: 'my_token', properties, intents: GatewayIntentBits.Guilds };
const bad = (patch: Record<string, unknown>): (() => Identify) => () => new Identify({ ...base, ...patch } as unknown as IdentifyInput);

describe('Identify', () => {
  it('has op 2, static and on the instance', () => {
    assert.equal(Identify.op, 2);
    assert.equal(new Identify(base).op, 2);
  });

  it("serializes to Discord's minimal example (protocol §1.6)", () => {
    const d = { token: '…', intents: 513, properties: { os: 'linux', browser: 'my_library', device: 'my_library' } };
    assert.equal(
      encodeFrame(new Identify(d)),
      '{"op":2,"d":{"token":"…","intents":513,"properties":{"os":"linux","browser":"my_library","device":"my_library"}}}',
    );
  });

  it("serializes to Discord's full example, presence included", () => {
    const d: GatewayIdentifyData = JSON.parse(`{
      "token": "my_token",
      "properties": { "os": "linux", "browser": "disco", "device": "disco" },
      "compress": true,
      "large_threshold": 250,
      "shard": [0, 1],
      "presence": {
        "activities": [{ "name": "Cards Against Humanity", "type": 0 }],
        "status": "dnd",
        "since": 91879201,
        "afk": false
      },
      "intents": 7
    }`);
    assert.equal(JSON.stringify(new Identify(d)), JSON.stringify(d));
  });

  it('toJSON returns a plain object without op', () => {
    assert.deepEqual(new Identify(base).toJSON(), { token: 'my_token', properties, intents: 1 });
  });

  it('accepts a plain string presence status', () => {
    const identify = new Identify({ ...base, presence: { since: null, activities: [], status: 'idle', afk: false } });
    assert.equal(identify.presence?.status, 'idle');
  });

  it('takes an UpdateStatusData as its presence', () => {
    const presence = new UpdateStatusData({ since: null, activities: [{ name: 'x', type: 0 }], status: 'dnd', afk: false });
    assert.equal(JSON.stringify(new Identify({ ...base, presence }).presence), JSON.stringify(presence));
  });

  describe('validation', () => {
    it('token must be a non-empty string', () => assertInvalid(bad({ token: '' }), 'token'));
    it('token is required', () => assertInvalid(bad({ token: undefined }), 'token'));
    it('properties is required', () => assertInvalid(bad({ properties: undefined }), 'properties'));
    it('properties.os must be a string', () => assertInvalid(bad({ properties: { ...properties, os: 1 } }), 'properties.os'));
    it('properties.device is required', () => assertInvalid(bad({ properties: { os: 'linux', browser: 'x' } }), 'properties.device'));
    it('properties refuses the deprecated $-prefixed names', () => assertInvalid(bad({ properties: { ...properties, $os: 'linux' } }), 'properties.$os'));
    it('compress must be a boolean', () => assertInvalid(bad({ compress: 'yes' }), 'compress'));
    it('large_threshold is at least 50', () => assertInvalid(bad({ large_threshold: 49 }), 'large_threshold'));
    it('large_threshold is at most 250', () => assertInvalid(bad({ large_threshold: 251 }), 'large_threshold'));
    it('large_threshold is an integer', () => assertInvalid(bad({ large_threshold: 60.5 }), 'large_threshold'));
    it('shard has exactly two items', () => assertInvalid(bad({ shard: [0] }), 'shard'));
    it('shard ids are non-negative integers', () => assertInvalid(bad({ shard: [-1, 2] }), 'shard[0]'));
    it('shard_id is below num_shards', () => assertInvalid(bad({ shard: [2, 2] }), 'shard'));
    it('num_shards is at least 1', () => assertInvalid(bad({ shard: [0, 0] }), 'shard'));
    it('presence is validated like op 3', () => assertInvalid(bad({ presence: { since: null, activities: [], status: 'away', afk: false } }), 'presence.status'));
    it('intents is required', () => assertInvalid(bad({ intents: undefined }), 'intents'));
    it('intents is non-negative', () => assertInvalid(bad({ intents: -1 }), 'intents'));
    it('intents uses only defined bits', () => assertInvalid(bad({ intents: 1 << 17 }), 'intents'));
    it('intents past 32 bits is refused (no silent truncation)', () => assertInvalid(bad({ intents: 2 ** 32 + 1 }), 'intents'));
    it('capabilities is a non-negative integer', () => assertInvalid(bad({ capabilities: -1 }), 'capabilities'));
    it('unknown fields are refused', () => assertInvalid(bad({ largeThreshold: 100 }), 'largeThreshold'));
    it('every defined intent is accepted', () => assert.equal(new Identify({ ...base, intents: ALL_INTENTS }).intents, ALL_INTENTS));
    it('shard [0, 1] and capabilities 1 << 15 are accepted', () => {
      const identify = new Identify({ ...base, shard: [0, 1], capabilities: 1 << 15 });
      assert.deepEqual(identify.shard, [0, 1]);
    });
  });

  it('hides the token from util.inspect', () => {
    const shown = inspect(new Identify({ ...base, token: 'secret-token' }), { depth: 5 });
    assert.ok(!shown.includes('secret-token'));
    assert.ok(shown.includes('[REDACTED]'));
  });

  it('keeps a copy: later changes to the input do not reach the event', () => {
    const input = { ...base, shard: [0, 2] as [number, number] };
    const identify = new Identify(input);
    input.shard[0] = 5;
    assert.deepEqual(identify.shard, [0, 2]);
  });

  describe('sendEvent', () => {
    it('takes the identify bucket of its shard before writing', async () => {
      const { session, frames } = fakeSession();
      const fake = fakeBot(0);
      await new Identify({ ...base, shard: [3, 4] }).sendEvent(fake.bot, session);
      assert.deepEqual(fake.identified, [3]);
      assert.equal(frames.length, 1);
    });

    it('uses shard 0 without a shard field', async () => {
      const { session } = fakeSession();
      const fake = fakeBot(0);
      await new Identify(base).sendEvent(fake.bot, session);
      assert.deepEqual(fake.identified, [0]);
    });

    it('writes nothing when the identify wait is aborted', async () => {
      const { session, frames } = fakeSession();
      const controller = new AbortController();
      controller.abort();
      await assert.rejects(new Identify(base).sendEvent(fakeBot(0).bot, session, { signal: controller.signal }), { name: 'AbortError' });
      assert.equal(frames.length, 0);
    });

    it('sendEvents also goes through the identify bucket, per session', async () => {
      const a = fakeSession();
      const b = fakeSession();
      const fake = fakeBot(0, [a.session, b.session]);
      await new Identify({ ...base, shard: [1, 2] }).sendEvents(fake.bot);
      assert.deepEqual(fake.identified, [1, 1]);
    });
  });
});
