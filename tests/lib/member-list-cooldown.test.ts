import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { GatewayRateLimitedDispatchData } from 'discord-api-types/v10';
import { MemberListCooldown } from '../../lib/member-list-cooldown.js';
import { RateLimitedError } from '../../lib/errors.js';

const guild = '81384788765712384';
const refused = (cooldown: MemberListCooldown, now: number): RateLimitedError | undefined => {
  try {
    cooldown.claim(guild, 'n1', now);
    return undefined;
  } catch (err) {
    assert.ok(err instanceof RateLimitedError);
    return err;
  }
};
const rateLimited = (retry_after: number, opcode = 8): GatewayRateLimitedDispatchData =>
  ({ opcode, retry_after, meta: { guild_id: guild } }) as GatewayRateLimitedDispatchData;

describe('MemberListCooldown', () => {
  it('refuses a guild\'s next whole-list request until 31 s after the last one was written', () => {
    const cooldown = new MemberListCooldown();
    cooldown.claim(guild, undefined, 0);
    cooldown.written(guild, 100);
    const error = refused(cooldown, 10_100);
    assert.equal(error?.opcode, 8);
    assert.equal(error?.retry_after, 21);
    assert.deepEqual(error?.meta, { guild_id: guild, nonce: 'n1' });
    assert.ok(refused(cooldown, 31_099));
    assert.equal(refused(cooldown, 31_100), undefined);
    assert.equal(refused(cooldown, 31_101)?.retry_after, 30, 'the claim at 31.1 s is pending: a full window');
  });

  it('other guilds are independent; an undone claim (never written) frees the guild at once', () => {
    const cooldown = new MemberListCooldown();
    const undo = cooldown.claim(guild, undefined, 0);
    assert.doesNotThrow(() => cooldown.claim('175928847299117063', undefined, 0));
    assert.ok(refused(cooldown, 1));
    undo();
    assert.equal(refused(cooldown, 2), undefined);
  });

  it('takes Discord\'s retry_after over its own window, for op 8 only', () => {
    const cooldown = new MemberListCooldown();
    cooldown.claim(guild, undefined, 0);
    cooldown.written(guild, 0);
    cooldown.limited(rateLimited(5.5), 1000);
    assert.equal(refused(cooldown, 7_499)?.retry_after, 0.001);
    assert.equal(refused(cooldown, 7_500), undefined);
    const other = new MemberListCooldown();
    other.limited(rateLimited(20, 31), 0);
    assert.equal(refused(other, 1), undefined, 'another opcode\'s limit does not apply');
  });
});
