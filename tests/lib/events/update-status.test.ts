import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ActivityType, PresenceUpdateStatus } from 'discord-api-types/v10';
import { UpdateStatusData } from '../../../lib/events/update-status.js';
import type { UpdateStatusInput } from '../../../lib/events/update-status.js';
import { encodeFrame } from '../../../lib/events/frame.js';
import { PayloadTooLargeError } from '../../../lib/errors.js';
import { assertInvalid, fakeBot, fakeSession } from './helpers.js';

const base: UpdateStatusInput = { since: null, activities: [], status: 'online', afk: false };
const bad = (patch: Record<string, unknown>): (() => UpdateStatusData) =>
  () => new UpdateStatusData({ ...base, ...patch } as unknown as UpdateStatusInput);
const badActivity = (activity: Record<string, unknown>): (() => UpdateStatusData) => bad({ activities: [activity] });

describe('UpdateStatusData', () => {
  it('has op 3, static and on the instance', () => {
    assert.equal(UpdateStatusData.op, 3);
    assert.equal(new UpdateStatusData(base).op, 3);
  });

  it("serializes to Discord's example", () => {
    const d: UpdateStatusInput = { since: 91879201, activities: [{ name: 'Save the Oxford Comma', type: 0 }], status: 'online', afk: false };
    assert.equal(
      encodeFrame(new UpdateStatusData(d)),
      '{"op":3,"d":{"since":91879201,"activities":[{"name":"Save the Oxford Comma","type":0}],"status":"online","afk":false}}',
    );
  });

  it('takes status as a plain string or the enum', () => {
    assert.equal(new UpdateStatusData({ ...base, status: 'idle' }).status, PresenceUpdateStatus.Idle);
    assert.equal(new UpdateStatusData({ ...base, status: PresenceUpdateStatus.DoNotDisturb }).status, 'dnd');
  });

  it('accepts every status Discord lists', () => {
    for (const status of ['online', 'dnd', 'idle', 'invisible', 'offline'] as const) {
      assert.equal(new UpdateStatusData({ ...base, status }).status, status);
    }
  });

  it('clears activities with an empty array', () => assert.equal(JSON.stringify(new UpdateStatusData(base)), '{"since":null,"activities":[],"status":"online","afk":false}'));

  it('accepts a custom status (type 4 with state) and a stream (type 1 with url)', () => {
    const event = new UpdateStatusData({
      ...base,
      activities: [
        { name: 'Custom Status', type: ActivityType.Custom, state: 'Sorting members' },
        { name: 'Live', type: ActivityType.Streaming, url: 'https://twitch.tv/discord' },
      ],
    });
    assert.equal(event.activities.length, 2);
  });

  describe('validation', () => {
    it('since is a non-negative integer or null', () => assertInvalid(bad({ since: -5 }), 'since'));
    it('since is required (null, not missing)', () => assertInvalid(bad({ since: undefined }), 'since'));
    it('activities must be an array', () => assertInvalid(bad({ activities: null }), 'activities'));
    it('status must be one of online, dnd, idle, invisible, offline', () => assertInvalid(bad({ status: 'away' }), 'status'));
    it('afk must be a boolean', () => assertInvalid(bad({ afk: 'no' }), 'afk'));
    it('unknown top-level fields are refused', () => assertInvalid(bad({ activity: [] }), 'activity'));
    it('an activity needs a name', () => assertInvalid(badActivity({ type: 0 }), 'activities[0].name'));
    it('an activity type is 0 to 5', () => assertInvalid(badActivity({ name: 'x', type: 6 }), 'activities[0].type'));
    it('an activity type is an integer', () => assertInvalid(badActivity({ name: 'x', type: 1.5 }), 'activities[0].type'));
    it('bots may only set name, state, type and url', () => assertInvalid(badActivity({ name: 'x', type: 0, details: 'd' }), 'activities[0].details'));
    it('url only with type 1 (Streaming)', () => assertInvalid(badActivity({ name: 'x', type: 0, url: 'https://twitch.tv/x' }), 'activities[0].url'));
    it('url must be a string', () => assertInvalid(badActivity({ name: 'x', type: 1, url: 5 }), 'activities[0].url'));
    it('type 4 (Custom) needs state', () => assertInvalid(badActivity({ name: 'Custom Status', type: 4 }), 'activities[0].state'));
    it('state must be a string', () => assertInvalid(badActivity({ name: 'x', type: 0, state: 3 }), 'activities[0].state'));
    it('names the failing activity by index', () => assertInvalid(bad({ activities: [{ name: 'a', type: 0 }, { name: 'b', type: 9 }] }), 'activities[1].type'));
  });

  describe('oversized presence', () => {
    const huge = new UpdateStatusData({ ...base, activities: [{ name: 'é'.repeat(2100), type: 0 }] });

    it('is refused with the real UTF-8 size', () => {
      // 2100 two-byte characters: the string is only ~2.2k characters but ~4.3k bytes.
      const expected = Buffer.byteLength(`{"op":3,"d":${JSON.stringify(huge)}}`);
      assert.ok(expected > 4096);
      assert.throws(() => encodeFrame(huge), (e: unknown) => e instanceof PayloadTooLargeError && e.size === expected && e.op === 3 && e.limit === 4096);
    });

    it('sendEvent rejects and writes nothing', async () => {
      const { session, frames } = fakeSession();
      await assert.rejects(huge.sendEvent(fakeBot(0).bot, session), PayloadTooLargeError);
      assert.equal(frames.length, 0);
    });
  });
});
