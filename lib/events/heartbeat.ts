import { GatewayOpcodes } from 'discord-api-types/v10';
import type { GatewayHeartbeatData } from 'discord-api-types/v10';
import { SendEvent } from './send-event.js';
import { rule } from './validate.js';

const sequence = rule(
  'the last sequence number received (a non-negative integer) or null',
  (v): v is GatewayHeartbeatData => v === null || (Number.isSafeInteger(v) && (v as number) >= 0),
);

/**
 * Heartbeat (op 1). Unlike the other events its `d` is not an object but the last sequence
 * number (or `null` before the first dispatch), so {@link Heartbeat.toJSON} returns that number:
 * `JSON.stringify(new Heartbeat(42))` is `'42'`. `Session` sends these itself; they never wait
 * on the session's bucket (capacity is reserved for them).
 *
 * @example
 * ```ts
 * encodeFrame(new Heartbeat(session.seq)); // '{"op":1,"d":251}'
 * ```
 *
 * @category Send events
 */
export class Heartbeat extends SendEvent<GatewayHeartbeatData> {
  /** Opcode 1, Heartbeat. */
  static override readonly op = GatewayOpcodes.Heartbeat;

  /** The last sequence number received, or `null` if none yet. */
  readonly seq: GatewayHeartbeatData;

  /**
   * @param seq - the last sequence number received, or `null`
   * @throws {@link ValidationError} (field `d`) when `seq` is neither `null` nor a non-negative integer
   */
  constructor(seq: GatewayHeartbeatData) {
    super();
    this.seq = sequence(seq, 'd');
  }

  /** Returns the frame's `d`: the sequence number itself, not an object. */
  override toJSON(): GatewayHeartbeatData {
    return this.seq;
  }
}
