import type { SessionInfo } from '../../types/payloads.js';

/**
 * A copy of a session's fields only, so a store never keeps (or hands out) the caller's object
 * or its extra properties.
 */
export function copySessionInfo(info: SessionInfo): SessionInfo {
  const { session_id, seq, resume_gateway_url, shard } = info;
  return shard === undefined ? { session_id, seq, resume_gateway_url } : { session_id, seq, resume_gateway_url, shard: [shard[0], shard[1]] };
}

/** A value read back from a store, if it still has the shape of a session; undefined otherwise. */
export function readSessionInfo(value: unknown): SessionInfo | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { session_id, seq, resume_gateway_url, shard } = value as Record<string, unknown>;
  if (typeof session_id !== 'string' || typeof seq !== 'number' || typeof resume_gateway_url !== 'string') return undefined;
  if (shard === undefined) return { session_id, seq, resume_gateway_url };
  if (!isShard(shard)) return undefined;
  return { session_id, seq, resume_gateway_url, shard: [shard[0], shard[1]] };
}

function isShard(value: unknown): value is readonly [number, number] {
  return Array.isArray(value) && value.length === 2 && value.every((n) => Number.isInteger(n) && n >= 0) && value[0] < value[1];
}
