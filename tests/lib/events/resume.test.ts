import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import type { GatewayResumeData } from 'discord-api-types/v10';
import { Resume } from '../../../lib/events/resume.js';
import { encodeFrame } from '../../../lib/events/frame.js';
import { assertInvalid, fakeBot, fakeSession } from './helpers.js';

const example: GatewayResumeData = { token: 'randomstring', session_id: 'evenmorerandomstring', seq: 1337 };
const bad = (patch: Record<string, unknown>): (() => Resume) => () => new Resume({ ...example, ...patch } as unknown as GatewayResumeData);

describe('Resume', () => {
  it('has op 6, static and on the instance', () => {
    assert.equal(Resume.op, 6);
    assert.equal(new Resume(example).op, 6);
  });

  it("serializes to Discord's example", () => {
    assert.equal(encodeFrame(new Resume(example)), '{"op":6,"d":{"token":"randomstring","session_id":"evenmorerandomstring","seq":1337}}');
  });

  it('token must be a non-empty string', () => assertInvalid(bad({ token: '' }), 'token'));
  it('session_id must be a non-empty string', () => assertInvalid(bad({ session_id: '' }), 'session_id'));
  it('seq is required', () => assertInvalid(bad({ seq: undefined }), 'seq'));
  it('seq is a non-negative integer', () => assertInvalid(bad({ seq: -1 }), 'seq'));
  it('seq cannot be null (resume needs a sequence number)', () => assertInvalid(bad({ seq: null }), 'seq'));

  it('hides the token from util.inspect', () => assert.ok(!inspect(new Resume({ ...example, token: 'tok-secret' })).includes('tok-secret')));

  it('sendEvent transmits without the identify bucket', async () => {
    const { session, frames } = fakeSession();
    const fake = fakeBot(0);
    await new Resume(example).sendEvent(fake.bot, session);
    assert.deepEqual(fake.identified, []);
    assert.equal(frames.length, 1);
  });
});
