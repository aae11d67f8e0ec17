import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { GatewayRequestSoundboardSoundsData } from 'discord-api-types/v10';
import { RequestSoundboardSounds } from '../../../lib/events/request-soundboard-sounds.js';
import { encodeFrame } from '../../../lib/events/frame.js';
import { assertInvalid } from './helpers.js';

const bad = (d: unknown): (() => RequestSoundboardSounds) => () => new RequestSoundboardSounds(d as GatewayRequestSoundboardSoundsData);

describe('RequestSoundboardSounds', () => {
  const example = { guild_ids: ['613425648685547541', '81384788765712384'] };

  it('has op 31, static and on the instance', () => {
    assert.equal(RequestSoundboardSounds.op, 31);
    assert.equal(new RequestSoundboardSounds(example).op, 31);
  });

  it("serializes to Discord's example", () => {
    assert.equal(encodeFrame(new RequestSoundboardSounds(example)), '{"op":31,"d":{"guild_ids":["613425648685547541","81384788765712384"]}}');
  });

  it('guild_ids is required', () => assertInvalid(bad({}), 'guild_ids'));
  it('guild_ids must not be empty', () => assertInvalid(bad({ guild_ids: [] }), 'guild_ids'));
  it('guild_ids must be an array', () => assertInvalid(bad({ guild_ids: '613425648685547541' }), 'guild_ids'));
  it('every guild id must be a snowflake', () => assertInvalid(bad({ guild_ids: ['613425648685547541', 'nope'] }), 'guild_ids[1]'));
});
