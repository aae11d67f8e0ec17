/**
 * Field rules of the send events, as small composable checks. A payload's shape is a table of
 * fields (see {@link object}); each check throws a {@link ValidationError} that names the exact
 * path (`activities[0].url`) and the rule it breaks, or returns the value to store.
 */
import { ValidationError } from '../errors.js';

/**
 * Validates `value` found at `path` and returns what the event stores (a fresh copy for objects
 * and arrays, so later changes to the caller's input cannot bypass validation).
 *
 * @throws {@link ValidationError} naming `path` and the rule
 */
export type Check<T> = (value: unknown, path: string) => T;

/** Builds a check from a type guard and the rule's wording (used in the error). */
export function rule<T>(description: string, test: (value: unknown) => value is T): Check<T> {
  return (value, path) => {
    if (!test(value)) throw new ValidationError(path, description);
    return value;
  };
}

/** Largest snowflake: snowflakes are unsigned 64-bit integers written in decimal. */
const MAX_SNOWFLAKE = '18446744073709551615';
const DIGITS = /^[0-9]{1,20}$/;

/**
 * Whether `value` is a snowflake: a decimal string of 1 to 20 digits that fits in 64 bits.
 *
 * @param value - anything
 *
 * @example
 * ```ts
 * isSnowflake('81384788765712384'); // true
 * isSnowflake(81384788765712384);   // false: numbers lose precision past 2^53
 * ```
 *
 * @category Send events
 */
export function isSnowflake(value: unknown): value is string {
  if (typeof value !== 'string' || !DIGITS.test(value)) return false;
  // Equal-length digit strings compare like the numbers they spell.
  return value.length < MAX_SNOWFLAKE.length || value <= MAX_SNOWFLAKE;
}

/** A snowflake (see {@link isSnowflake}). */
export const snowflake: Check<string> = rule('a snowflake: a decimal string of up to 20 digits that fits in 64 bits', isSnowflake);

/** A boolean. */
export const boolean: Check<boolean> = rule('a boolean', (v): v is boolean => typeof v === 'boolean');

/** Any string, the empty string included. */
export const string: Check<string> = rule('a string', (v): v is string => typeof v === 'string');

/** A string with at least one character. */
export const nonEmptyString: Check<string> = rule('a non-empty string', (v): v is string => typeof v === 'string' && v.length > 0);

/**
 * An integer from `min` to `max`, both included.
 *
 * @example
 * ```ts
 * integer(50, 250)(251, 'large_threshold'); // throws ValidationError('large_threshold', 'an integer from 50 to 250')
 * ```
 */
export function integer(min: number, max: number = Number.MAX_SAFE_INTEGER): Check<number> {
  const description = max === Number.MAX_SAFE_INTEGER ? `an integer of at least ${min}` : `an integer from ${min} to ${max}`;
  return rule(description, (v): v is number => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max);
}

/** One of `values`, compared with `===`. */
export function oneOf<T extends string | number>(values: readonly T[]): Check<T> {
  const allowed = new Set<unknown>(values);
  const list = values.map((v) => JSON.stringify(v)).join(', ');
  return rule(`one of ${list}`, (v): v is T => allowed.has(v));
}

/** A string of at most `max` bytes once encoded as UTF-8 (Discord counts bytes, not characters). */
export function maxBytes(max: number): Check<string> {
  return rule(`a string of at most ${max} bytes (UTF-8)`, (v): v is string => typeof v === 'string' && Buffer.byteLength(v, 'utf8') <= max);
}

/** `null`, or what `check` accepts. */
export function nullable<T>(check: Check<T>): Check<T | null> {
  return (value, path) => (value === null ? null : check(value, path));
}

/** Options of {@link arrayOf}. */
export interface ArrayBounds {
  /** Fewest items allowed (default 0). */
  min?: number;
  /** Most items allowed (default unbounded). */
  max?: number;
  /** Refuse repeated items (compared with `===`). */
  unique?: boolean;
}

/**
 * An array whose every item passes `item`; items are reported as `path[i]`.
 * Returns a new array of the checked items.
 */
export function arrayOf<T>(item: Check<T>, bounds: ArrayBounds = {}): Check<T[]> {
  const { min = 0, max = Infinity, unique = false } = bounds;
  const size = max === Infinity ? `at least ${min}` : min === max ? `exactly ${min}` : `${min} to ${max}`;
  const description = `an array of ${size} items`;
  return (value, path) => {
    if (!Array.isArray(value) || value.length < min || value.length > max) throw new ValidationError(path, description);
    const out = value.map((v: unknown, i) => item(v, `${path}[${i}]`));
    if (unique && new Set(out).size !== out.length) throw new ValidationError(path, 'an array without repeated items');
    return out;
  };
}

/** One field of an {@link object} shape. */
export interface Field<T> {
  /** The field's check. */
  readonly check: Check<T>;
  /** Whether the field may be left out (or set to `undefined`). */
  readonly optional: boolean;
}

/** A field that must be present. */
export function required<T>(check: Check<T>): Field<T> {
  return { check, optional: false };
}

/** A field that may be left out; `undefined` counts as left out. */
export function optional<T>(check: Check<T>): Field<T | undefined> {
  return { check, optional: true };
}

/** The fields of an object shape `T`, one {@link Field} per key. */
export type Shape<T> = { readonly [K in keyof T]-?: Field<T[K]> };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The path of `key` inside the object at `path` (`''` is the payload itself). */
export function at(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** Options of {@link object}. */
export interface ObjectOptions<T> {
  /** Rules across fields, run on the checked copy; throw {@link ValidationError}. */
  refine?: (value: T, path: string) => void;
  /** The rule an unknown key breaks (default: names the allowed fields). */
  unknownKey?: string;
}

/**
 * An object with exactly the fields of `shape`. The copy keeps the input's key order (so an
 * event built from Discord's example serializes to the same text) and leaves out undefined fields.
 * Unknown keys are refused: a misspelt field would otherwise be silently dropped or sent.
 *
 * @param shape - the fields and their checks
 * @param options - cross-field rules and the wording for unknown keys
 *
 * @example
 * ```ts
 * const voice = object<{ guild_id: string; self_mute: boolean }>({
 *   guild_id: required(snowflake),
 *   self_mute: required(boolean),
 * });
 * voice({ guild_id: '1', self_mute: 'yes' }, ''); // throws ValidationError('self_mute', 'a boolean')
 * ```
 */
export function object<T extends object>(shape: Shape<T>, options: ObjectOptions<T> = {}): Check<T> {
  const fields: ReadonlyMap<string, Field<unknown>> = new Map(Object.entries(shape) as [string, Field<unknown>][]);
  const requiredKeys = [...fields].filter(([, f]) => !f.optional).map(([k]) => k);
  const { refine, unknownKey = `not a field of this payload (allowed: ${[...fields.keys()].join(', ')})` } = options;
  return (value, path) => {
    if (!isRecord(value)) throw new ValidationError(path === '' ? 'd' : path, 'an object');
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      const field = fields.get(key);
      if (field === undefined) throw new ValidationError(at(path, key), unknownKey);
      const v = value[key];
      if (v === undefined) {
        if (field.optional) continue;
        throw new ValidationError(at(path, key), 'required');
      }
      out[key] = field.check(v, at(path, key));
    }
    for (const key of requiredKeys) if (!(key in out)) throw new ValidationError(at(path, key), 'required');
    refine?.(out as T, path);
    return out as T;
  };
}
