import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Heartbeat } from '../../../lib/events/heartbeat.js';
import { encodeFrame, frameSize } from '../../../lib/events/frame.js';
import type { GatewayHeartbeatData } from 'discord-api-types/v10';
import { assertInvalid, fakeBot, fakeSession } from './helpers.js';

describe('Heartbeat', () => {
  it('has op 1, static and on the instance', () => {
    assert.equal(Heartbeat.op, 1);
    assert.equal(new Heartbeat(null).op, 1);
  });

  it("serializes to Discord's example: d is the number itself", () => {
    assert.equal(JSON.stringify(new Heartbeat(251)), '251');
    assert.equal(encodeFrame(new Heartbeat(251)), '{"op":1,"d":251}');
    assert.equal(frameSize(new Heartbeat(251)), 16);
  });

  it('sends null before the first dispatch', () => {
    assert.equal(new Heartbeat(null).toJSON(), null);
    assert.equal(encodeFrame(new Heartbeat(null)), '{"op":1,"d":null}');
  });

  it('refuses a negative seq', () => assertInvalid(() => new Heartbeat(-1), 'd'));
  it('refuses a fractional seq', () => assertInvalid(() => new Heartbeat(1.5), 'd'));
  it('refuses undefined (null must be explicit)', () => assertInvalid(() => new Heartbeat(undefined as unknown as GatewayHeartbeatData), 'd'));

  it('sendEvent transmits without the identify bucket', async () => {
    const { session, frames } = fakeSession();
    const fake = fakeBot(0);
    await new Heartbeat(7).sendEvent(fake.bot, session);
    assert.deepEqual(frames, ['{"op":1,"d":7}']);
    assert.deepEqual(fake.identified, []);
  });
});
