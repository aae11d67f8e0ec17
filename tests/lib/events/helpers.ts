/** Shared test doubles and assertions for the send-event tests. */
import assert from 'node:assert/strict';
import { ValidationError } from '../../../lib/errors.js';
import type { Client } from '../../../lib/client.js';
import type { Session } from '../../../lib/session.js';
import type { SendEvent, SendOptions } from '../../../lib/events/send-event.js';
import { encodeFrame } from '../../../lib/events/frame.js';
import { MemberListCooldown } from '../../../lib/member-list-cooldown.js';

/** Asserts that `build` throws a ValidationError naming `field`. */
export function assertInvalid(build: () => unknown, field: string): void {
  assert.throws(build, (err: unknown) => err instanceof ValidationError && err.field === field);
}

/** A session double that records the frames `transmit` would write. */
export interface FakeSession {
  session: Session;
  frames: string[];
}

/** A session whose `transmit` encodes the frame (refusing oversize ones) and records it. */
export function fakeSession(): FakeSession {
  const frames: string[] = [];
  const session = {
    shard: [0, 1],
    async transmit(event: SendEvent, options?: SendOptions): Promise<void> {
      options?.signal?.throwIfAborted();
      frames.push(encodeFrame(event));
    },
  } as unknown as Session;
  return { session, frames };
}

/** What a fake bot saw: the shards it was asked to let identify. */
export interface FakeBot {
  bot: Client;
  identified: number[];
  /** Everything that happened, in order: `identify:<shard>` and `frame:<op>` entries. */
  log: string[];
}

/** A minimal bot: intents, sessions and an identify gate that records its callers. */
export function fakeBot(intents: number, sessions: Session[] = []): FakeBot {
  const identified: number[] = [];
  const log: string[] = [];
  const bot = {
    intents,
    sessions: new Map(sessions.map((s, i) => [i, s])),
    memberListCooldown: new MemberListCooldown(),
    async acquireIdentify(shardId: number, signal?: AbortSignal): Promise<void> {
      signal?.throwIfAborted();
      identified.push(shardId);
      log.push(`identify:${shardId}`);
    },
  } as unknown as Client;
  return { bot, identified, log };
}
