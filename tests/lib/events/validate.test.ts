import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../../lib/errors.js';
import {
  arrayOf, boolean, integer, isSnowflake, maxBytes, nonEmptyString, nullable, object, oneOf, optional, required, snowflake, string,
} from '../../../lib/events/validate.js';
import { assertInvalid } from './helpers.js';

describe('isSnowflake', () => {
  it('accepts decimal strings up to 2^64 - 1', () => {
    assert.equal(isSnowflake('0'), true);
    assert.equal(isSnowflake('81384788765712384'), true);
    assert.equal(isSnowflake('18446744073709551615'), true);
  });
  it('refuses 20-digit strings past 2^64 - 1', () => assert.equal(isSnowflake('18446744073709551616'), false));
  it('refuses 21 digits', () => assert.equal(isSnowflake('100000000000000000000'), false));
  it('refuses numbers (they lose precision past 2^53)', () => assert.equal(isSnowflake(81384788765712384), false));
  it('refuses the empty string', () => assert.equal(isSnowflake(''), false));
  it('refuses signs, spaces and hex', () => {
    assert.equal(isSnowflake('-1'), false);
    assert.equal(isSnowflake(' 1'), false);
    assert.equal(isSnowflake('0x1f'), false);
  });
});

describe('checks', () => {
  it('rule errors name the path and the rule', () => {
    assert.throws(() => snowflake('x', 'guild_id'), (e: unknown) => e instanceof ValidationError && e.field === 'guild_id' && /snowflake/.test(e.rule));
  });
  it('boolean refuses truthy non-booleans', () => assertInvalid(() => boolean(1, 'afk'), 'afk'));
  it('string accepts the empty string', () => assert.equal(string('', 'query'), ''));
  it('nonEmptyString refuses the empty string', () => assertInvalid(() => nonEmptyString('', 'token'), 'token'));
  it('integer bounds are inclusive', () => {
    const check = integer(50, 250);
    assert.equal(check(50, 'n'), 50);
    assert.equal(check(250, 'n'), 250);
    assertInvalid(() => check(49, 'n'), 'n');
    assertInvalid(() => check(251, 'n'), 'n');
  });
  it('integer refuses fractions, NaN and numeric strings', () => {
    assertInvalid(() => integer(0)(1.5, 'n'), 'n');
    assertInvalid(() => integer(0)(Number.NaN, 'n'), 'n');
    assertInvalid(() => integer(0)('5', 'n'), 'n');
  });
  it('oneOf lists the allowed values in its rule', () => {
    assert.throws(() => oneOf(['a', 'b'])('c', 'f'), (e: unknown) => e instanceof ValidationError && e.rule === 'one of "a", "b"');
  });
  it('maxBytes counts UTF-8 bytes, not characters', () => {
    const check = maxBytes(4);
    assert.equal(check('abcd', 'nonce'), 'abcd');
    assertInvalid(() => check('é€', 'nonce'), 'nonce'); // 2 characters, 5 bytes
  });
  it('nullable passes null through and checks the rest', () => {
    assert.equal(nullable(snowflake)(null, 'c'), null);
    assertInvalid(() => nullable(snowflake)('x', 'c'), 'c');
  });
});

describe('arrayOf', () => {
  it('refuses non-arrays', () => assertInvalid(() => arrayOf(snowflake)('1', 'ids'), 'ids'));
  it('enforces the minimum length', () => assertInvalid(() => arrayOf(snowflake, { min: 1 })([], 'ids'), 'ids'));
  it('enforces the maximum length', () => assertInvalid(() => arrayOf(snowflake, { max: 2 })(['1', '2', '3'], 'ids'), 'ids'));
  it('names the failing item by index', () => assertInvalid(() => arrayOf(snowflake)(['1', 'x'], 'ids'), 'ids[1]'));
  it('refuses repeats when unique', () => assertInvalid(() => arrayOf(string, { unique: true })(['a', 'a'], 'fields'), 'fields'));
  it('returns a copy', () => {
    const input = ['1'];
    const out = arrayOf(snowflake)(input, 'ids');
    assert.deepEqual(out, input);
    assert.notEqual(out, input);
  });
});

describe('object', () => {
  interface Shape { a: string; b?: boolean; c?: number }
  const check = object<Shape>(
    { a: required(string), b: optional(boolean), c: optional(integer(0)) },
    { refine: (v) => { if (v.c === 7) throw new ValidationError('c', 'not seven'); } },
  );

  it('keeps the input key order', () => {
    assert.equal(JSON.stringify(check({ c: 1, a: 'x', b: true }, '')), '{"c":1,"a":"x","b":true}');
  });
  it('leaves out undefined optional fields', () => assert.deepEqual(check({ a: 'x', b: undefined }, ''), { a: 'x' }));
  it('refuses a missing required field', () => assertInvalid(() => check({ b: true }, ''), 'a'));
  it('refuses an undefined required field', () => assertInvalid(() => check({ a: undefined }, ''), 'a'));
  it('refuses unknown keys', () => assertInvalid(() => check({ a: 'x', guildId: '1' }, ''), 'guildId'));
  it('refuses __proto__ as an unknown key instead of assigning a prototype', () => {
    assertInvalid(() => check(JSON.parse('{"a":"x","__proto__":{"b":1}}'), ''), '__proto__');
  });
  it('prefixes nested paths', () => assertInvalid(() => check({ a: 1 }, 'presence'), 'presence.a'));
  it('refuses non-objects', () => {
    assertInvalid(() => check(null, ''), 'd');
    assertInvalid(() => check([], 'presence'), 'presence');
  });
  it('runs the cross-field refinement', () => assertInvalid(() => check({ a: 'x', c: 7 }, ''), 'c'));
});
