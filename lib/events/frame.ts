import { PayloadTooLargeError } from '../errors.js';
import { MAX_SEND_FRAME_BYTES } from '../../types/opcodes.js';
import type { SendEvent } from './send-event.js';

/*
 * A JavaScript string's UTF-8 size is bounded by its length: every UTF-16 unit takes 1 to 3
 * bytes (a surrogate pair, two units, takes 4). So `length` alone decides most frames, and the
 * exact byte count is only computed in the narrow band where it matters.
 */
const SURELY_FITS = Math.floor(MAX_SEND_FRAME_BYTES / 3);

function wire(event: SendEvent): string {
  return `{"op":${event.op},"d":${JSON.stringify(event)}}`;
}

/**
 * Size in bytes of `event`'s frame as it goes on the wire (UTF-8 JSON), without refusing it.
 *
 * @param event - the send event to measure
 *
 * @example
 * ```ts
 * frameSize(new Heartbeat(251)); // 16: {"op":1,"d":251}
 * ```
 *
 * @category Send events
 */
export function frameSize(event: SendEvent): number {
  return Buffer.byteLength(wire(event), 'utf8');
}

/**
 * Encodes `event` as the exact text frame `{"op":N,"d":...}` (one `JSON.stringify`), refusing
 * frames Discord would answer with close 4002.
 *
 * @param event - the send event to encode
 *
 * @throws {@link PayloadTooLargeError} when the frame exceeds {@link MAX_SEND_FRAME_BYTES} (4096) bytes
 *
 * @example
 * ```ts
 * encodeFrame(new Heartbeat(null)); // '{"op":1,"d":null}'
 * ```
 *
 * @category Send events
 */
export function encodeFrame(event: SendEvent): string {
  const text = wire(event);
  if (text.length > SURELY_FITS) {
    const size = Buffer.byteLength(text, 'utf8');
    if (size > MAX_SEND_FRAME_BYTES) throw new PayloadTooLargeError(event.op, size, MAX_SEND_FRAME_BYTES);
  }
  return text;
}
