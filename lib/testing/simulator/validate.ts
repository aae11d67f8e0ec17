/**
 * Shape checks for client payloads (protocol §1.6, §1.8, §5). A failed check closes the
 * connection with 4001, except where the protocol names another code (shard 4010, intents 4013),
 * which the identify handler checks itself.
 */

/** A JSON object as parsed from a frame. */
export type JsonObject = Record<string, unknown>;

/** One field rule: a predicate and the rule's wording for the close reason. */
interface FieldRule {
  readonly required: boolean;
  readonly check: (value: unknown) => boolean;
  readonly rule: string;
}

/** Whether `value` is a plain JSON object. */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isInt = (v: unknown): v is number => Number.isSafeInteger(v);
const isUint = (v: unknown): v is number => isInt(v) && v >= 0;
/** Snowflakes travel as decimal strings. */
export const isSnowflake = (v: unknown): v is string => typeof v === 'string' && /^\d{1,20}$/.test(v);

const need = (check: (v: unknown) => boolean, rule: string): FieldRule => ({ required: true, check, rule });
const may = (check: (v: unknown) => boolean, rule: string): FieldRule => ({ required: false, check, rule });

/** Checks `d` against `rules`; returns the first broken rule as `field: rule`, or null. */
function checkFields(d: unknown, rules: Readonly<Record<string, FieldRule>>): string | null {
  if (!isObject(d)) return 'd: must be an object';
  for (const [field, r] of Object.entries(rules)) {
    const value = d[field];
    if (value === undefined) {
      if (r.required) return `${field}: is required`;
      continue;
    }
    if (!r.check(value)) return `${field}: ${r.rule}`;
  }
  return null;
}

/** Presence statuses a client may set (protocol §5.2). */
export const PRESENCE_STATUSES: ReadonlySet<string> = new Set(['online', 'dnd', 'idle', 'invisible', 'offline']);

const ACTIVITY_RULES: Readonly<Record<string, FieldRule>> = {
  name: need(isString, 'must be a string'),
  type: need((v) => isInt(v) && v >= 0 && v <= 5, 'must be an activity type 0-5'),
  url: may((v) => v === null || isString(v), 'must be a string or null'),
  state: may((v) => v === null || isString(v), 'must be a string or null'),
};

const PRESENCE_RULES: Readonly<Record<string, FieldRule>> = {
  since: need((v) => v === null || isUint(v), 'must be unix ms or null'),
  activities: need(
    (v) => Array.isArray(v) && v.every((a) => checkFields(a, ACTIVITY_RULES) === null),
    'must be an array of activities {name, type, url?, state?}',
  ),
  status: need((v) => isString(v) && PRESENCE_STATUSES.has(v), 'must be online, dnd, idle, invisible or offline'),
  afk: need(isBool, 'must be a boolean'),
};

const PROPERTIES_RULES: Readonly<Record<string, FieldRule>> = {
  os: need(isString, 'must be a string'),
  browser: need(isString, 'must be a string'),
  device: need(isString, 'must be a string'),
};

/** Accepts the deprecated `$os`/`$browser`/`$device` spellings as well (protocol §1.6). */
function validProperties(v: unknown): boolean {
  if (!isObject(v)) return false;
  const plain = { os: v['os'] ?? v['$os'], browser: v['browser'] ?? v['$browser'], device: v['device'] ?? v['$device'] };
  return checkFields(plain, PROPERTIES_RULES) === null;
}

// `shard` and `intents` are only shape-checked here; their values get their own close codes.
const IDENTIFY_RULES: Readonly<Record<string, FieldRule>> = {
  token: need(isString, 'must be a string'),
  properties: need(validProperties, 'must be {os, browser, device} strings'),
  intents: need((v) => typeof v === 'number', 'must be an integer bitfield'),
  compress: may(isBool, 'must be a boolean'),
  large_threshold: may((v) => isInt(v) && v >= 50 && v <= 250, 'must be an integer from 50 to 250'),
  presence: may((v) => checkFields(v, PRESENCE_RULES) === null, 'must be a valid presence update'),
  capabilities: may(isUint, 'must be an integer bitfield'),
};

const RESUME_RULES: Readonly<Record<string, FieldRule>> = {
  token: need(isString, 'must be a string'),
  session_id: need(isString, 'must be a string'),
  seq: need(isUint, 'must be a non-negative integer'),
};

const VOICE_RULES: Readonly<Record<string, FieldRule>> = {
  guild_id: need(isSnowflake, 'must be a snowflake'),
  channel_id: need((v) => v === null || isSnowflake(v), 'must be a snowflake or null'),
  self_mute: need(isBool, 'must be a boolean'),
  self_deaf: need(isBool, 'must be a boolean'),
};

const MAX_USER_IDS = 100;

const MEMBERS_RULES: Readonly<Record<string, FieldRule>> = {
  guild_id: need(isSnowflake, 'must be one snowflake'),
  query: may(isString, 'must be a string'),
  limit: may(isUint, 'must be a non-negative integer'),
  presences: may(isBool, 'must be a boolean'),
  user_ids: may(
    (v) => isSnowflake(v) || (Array.isArray(v) && v.length <= MAX_USER_IDS && v.every(isSnowflake)),
    `must be a snowflake or at most ${MAX_USER_IDS} snowflakes`,
  ),
  // Invalid nonces are ignored, not refused (protocol §5.1), so any value passes here.
};

function validateMembers(d: unknown): string | null {
  const problem = checkFields(d, MEMBERS_RULES);
  if (problem || !isObject(d)) return problem;
  const hasQuery = d['query'] !== undefined;
  if (hasQuery === (d['user_ids'] !== undefined)) return 'query/user_ids: exactly one of them is required';
  if (hasQuery && d['limit'] === undefined) return 'limit: is required with query';
  return null;
}

const SOUNDBOARD_RULES: Readonly<Record<string, FieldRule>> = {
  guild_ids: need((v) => Array.isArray(v) && v.every(isSnowflake), 'must be an array of snowflakes'),
};

/** Fields Request Channel Info accepts (protocol §5.5). */
export const CHANNEL_INFO_FIELDS: ReadonlySet<string> = new Set(['status', 'voice_start_time']);

const CHANNEL_INFO_RULES: Readonly<Record<string, FieldRule>> = {
  guild_id: need(isSnowflake, 'must be a snowflake'),
  fields: need(
    (v) => Array.isArray(v) && v.length > 0 && v.every((f) => isString(f) && CHANNEL_INFO_FIELDS.has(f)),
    'must be a non-empty array of "status" / "voice_start_time"',
  ),
};

const HEARTBEAT_RULE = (d: unknown): string | null => (d === null || isUint(d) ? null : 'd: must be the last seq or null');

/** Payload check per client opcode; returns the broken rule, or null when `d` is valid. */
export const VALIDATORS: Readonly<Record<number, (d: unknown) => string | null>> = {
  1: HEARTBEAT_RULE,
  2: (d) => checkFields(d, IDENTIFY_RULES),
  3: (d) => checkFields(d, PRESENCE_RULES),
  4: (d) => checkFields(d, VOICE_RULES),
  6: (d) => checkFields(d, RESUME_RULES),
  8: validateMembers,
  31: (d) => checkFields(d, SOUNDBOARD_RULES),
  43: (d) => checkFields(d, CHANNEL_INFO_RULES),
};
