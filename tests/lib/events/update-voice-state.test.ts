import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { GatewayVoiceStateUpdateData } from 'discord-api-types/v10';
import { UpdateVoiceStateData } from '../../../lib/events/update-voice-state.js';
import { encodeFrame } from '../../../lib/events/frame.js';
import { assertInvalid } from './helpers.js';

const example: GatewayVoiceStateUpdateData = {
  guild_id: '41771983423143937',
  channel_id: '127121515262115840',
  self_mute: false,
  self_deaf: false,
};
const bad = (patch: Record<string, unknown>): (() => UpdateVoiceStateData) =>
  () => new UpdateVoiceStateData({ ...example, ...patch } as unknown as GatewayVoiceStateUpdateData);

describe('UpdateVoiceStateData', () => {
  it('has op 4, static and on the instance', () => {
    assert.equal(UpdateVoiceStateData.op, 4);
    assert.equal(new UpdateVoiceStateData(example).op, 4);
  });

  it("serializes to Discord's example", () => {
    assert.equal(
      encodeFrame(new UpdateVoiceStateData(example)),
      '{"op":4,"d":{"guild_id":"41771983423143937","channel_id":"127121515262115840","self_mute":false,"self_deaf":false}}',
    );
  });

  it('keeps channel_id: null (leave the channel) in the payload', () => {
    assert.equal(JSON.stringify(new UpdateVoiceStateData({ ...example, channel_id: null })).includes('"channel_id":null'), true);
  });

  it('guild_id must be a snowflake', () => assertInvalid(bad({ guild_id: 41771983423143937 }), 'guild_id'));
  it('channel_id must be a snowflake or null', () => assertInvalid(bad({ channel_id: 'general' }), 'channel_id'));
  it('channel_id is required (null, not missing, leaves)', () => assertInvalid(bad({ channel_id: undefined }), 'channel_id'));
  it('self_mute must be a boolean', () => assertInvalid(bad({ self_mute: 0 }), 'self_mute'));
  it('self_deaf must be a boolean', () => assertInvalid(bad({ self_deaf: undefined }), 'self_deaf'));
});
