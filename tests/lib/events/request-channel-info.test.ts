import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayRequestChannelInfoField } from 'discord-api-types/v10';
import type { GatewayRequestChannelInfoData } from 'discord-api-types/v10';
import { RequestChannelInfo } from '../../../lib/events/request-channel-info.js';
import { encodeFrame } from '../../../lib/events/frame.js';
import { assertInvalid } from './helpers.js';

const bad = (d: unknown): (() => RequestChannelInfo) => () => new RequestChannelInfo(d as GatewayRequestChannelInfoData);
const guild_id = '81384788765712384';

describe('RequestChannelInfo', () => {
  it('has op 43, static and on the instance', () => {
    assert.equal(RequestChannelInfo.op, 43);
    assert.equal(new RequestChannelInfo({ guild_id, fields: ['status'] }).op, 43);
  });

  it('serializes to the documented shape { guild_id, fields }', () => {
    assert.equal(
      encodeFrame(new RequestChannelInfo({ guild_id, fields: ['status', 'voice_start_time'] })),
      '{"op":43,"d":{"guild_id":"81384788765712384","fields":["status","voice_start_time"]}}',
    );
  });

  it('accepts the enum members', () => {
    const event = new RequestChannelInfo({ guild_id, fields: [GatewayRequestChannelInfoField.VoiceStartTime] });
    assert.deepEqual(event.fields, ['voice_start_time']);
  });

  it('guild_id must be a snowflake', () => assertInvalid(bad({ guild_id: 'x', fields: ['status'] }), 'guild_id'));
  it('fields must not be empty', () => assertInvalid(bad({ guild_id, fields: [] }), 'fields'));
  it('fields only names status and voice_start_time', () => assertInvalid(bad({ guild_id, fields: ['status', 'topic'] }), 'fields[1]'));
  it('fields does not repeat', () => assertInvalid(bad({ guild_id, fields: ['status', 'status'] }), 'fields'));
});
