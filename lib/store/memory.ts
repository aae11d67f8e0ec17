import type { SessionInfo } from '../../types/payloads.js';
import { copySessionInfo } from './session-info.js';
import type { SessionStore } from './types.js';

/**
 * A {@link SessionStore} in this process's memory: a new `Session` for the same shard in this
 * process resumes from it (e.g. after `disconnect(4000)`), but nothing survives a restart (use
 * `RedisSessionStore` for that). A client has no store unless one is passed as its `store` option.
 * Values are copied in and out; changing an object after `set` does not change the store.
 *
 * @example
 * ```ts
 * const store = new MemorySessionStore();
 * await store.set(0, { session_id: 'abc', seq: 42, resume_gateway_url: 'wss://gateway-us-east1-b.discord.gg' });
 * (await store.get(0))?.seq; // 42
 * ```
 *
 * @category Stores and forwarding
 */
export class MemorySessionStore implements SessionStore {
  readonly #sessions = new Map<number, SessionInfo>();

  /**
   * Reads a shard's session.
   *
   * @param shardId - the shard
   * @returns a copy of the shard's saved session, or undefined
   */
  get(shardId: number): Promise<SessionInfo | undefined> {
    const info = this.#sessions.get(shardId);
    return Promise.resolve(info === undefined ? undefined : copySessionInfo(info));
  }

  /**
   * Saves a shard's session.
   *
   * @param shardId - the shard
   * @param info - its session; a copy of its fields is kept
   */
  set(shardId: number, info: SessionInfo): Promise<void> {
    this.#sessions.set(shardId, copySessionInfo(info));
    return Promise.resolve();
  }

  /**
   * Forgets a shard's session.
   *
   * @param shardId - the shard
   */
  delete(shardId: number): Promise<void> {
    this.#sessions.delete(shardId);
    return Promise.resolve();
  }

  /** Nothing is batched in memory; resolves at once. */
  flush(): Promise<void> {
    return Promise.resolve();
  }
}
