import type { SessionInfo } from '../../types/payloads.js';

/**
 * Keeps what a shard needs to resume (`session_id`, `seq`, `resume_gateway_url`) so a restarted
 * process resumes instead of identifying. Sessions call `set` as the values change (stores may
 * batch writes; `flush` forces them out) and `delete` when the session can no longer resume.
 *
 * @example
 * ```ts
 * const bot = new Client({ token, intents, store: new MemorySessionStore() });
 * ```
 *
 * @category Stores and forwarding
 */
export interface SessionStore {
  /**
   * The saved session of a shard, or undefined.
   *
   * @param shardId - the shard
   */
  get(shardId: number): Promise<SessionInfo | undefined>;
  /**
   * Saves (or schedules saving) the session of a shard.
   *
   * @param shardId - the shard
   * @param info - the session's id, last sequence number and resume URL
   */
  set(shardId: number, info: SessionInfo): Promise<void>;
  /**
   * Forgets the session of a shard (it was invalidated or closed with 1000).
   *
   * @param shardId - the shard
   */
  delete(shardId: number): Promise<void>;
  /** Writes out anything batched. */
  flush(): Promise<void>;
}
