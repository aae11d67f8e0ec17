import { GatewayOpcodes } from 'discord-api-types/v10';
import type { GatewayResumeData } from 'discord-api-types/v10';
import { SendEvent } from './send-event.js';
import { integer, nonEmptyString, object, required } from './validate.js';

const resume = object<GatewayResumeData>({
  token: required(nonEmptyString),
  session_id: required(nonEmptyString),
  seq: required(integer(0)),
});

/**
 * Resume (op 6): picks a dropped session up where it left off; Discord replays the missed
 * dispatches, then sends `RESUMED`. `Session` builds and sends it on a new connection to the
 * session's `resume_gateway_url`. Resumes do not count against the daily identify budget.
 *
 * @example
 * ```ts
 * new Resume({ token, session_id: session.id, seq: session.seq });
 * ```
 *
 * @category Send events
 */
export class Resume extends SendEvent<GatewayResumeData> implements GatewayResumeData {
  /** Opcode 6, Resume. */
  static override readonly op = GatewayOpcodes.Resume;

  /** The bot token (hidden from `util.inspect`). */
  declare readonly token: string;
  /** `session_id` from READY. */
  declare readonly session_id: string;
  /** The last sequence number received. */
  declare readonly seq: number;

  /**
   * @param data - Resume's `d`
   * @throws {@link ValidationError} when `token` or `session_id` is not a non-empty string, or
   * `seq` is not a non-negative integer
   */
  constructor(data: GatewayResumeData) {
    super();
    Object.assign(this, resume(data, ''));
  }
}
