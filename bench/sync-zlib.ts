/**
 * Synchronous streaming (de)compression over one long-lived `node:zlib` context.
 *
 * Node has no public API for this: `inflateSync()` starts a fresh context per call (useless for
 * zlib-stream, where every message depends on the ones before), and the stream classes run each
 * chunk through the thread pool and hand the output back in a later tick. Fast Discord clients
 * (zlib-sync, fast-zlib, the "sync inflate" patches in several libraries) therefore drive the
 * stream's native handle directly with `writeSync`, exactly as Node's own `*Sync` helpers do,
 * but without closing it afterwards. This file does the same, in one place, for the raw floor
 * (decompression) and the blast server (compression).
 */
import zlib from 'node:zlib';

/** The native handle behind a `node:zlib` stream (internal API; Node's own `*Sync` helpers use it). */
interface NativeHandle {
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
  close(): void;
}

/**
 * One synchronous step: feeds a chunk into the context and returns what came out, as a view of
 * a reused buffer that stays valid only until the next step (copy it to keep it).
 */
export type SyncStep = (chunk: Uint8Array) => Buffer;

/** Initial output buffer; it doubles until the largest message fits in one native call. */
const INITIAL_OUTPUT = 64 * 1024;

function isNativeHandle(value: unknown): value is NativeHandle {
  return typeof value === 'object' && value !== null && typeof Reflect.get(value, 'writeSync') === 'function';
}

/**
 * Wraps a `node:zlib` stream (Inflate, Deflate, ZstdCompress, ZstdDecompress) as a synchronous
 * step function that keeps the context alive between calls. Output goes to one buffer that
 * grows to the largest message seen, so a message costs one native call and no concatenation.
 *
 * @param stream - a freshly created zlib stream; it must not be written to in any other way
 * @param flush - the flush flag for every step (`Z_SYNC_FLUSH`, `ZSTD_e_flush`, ...)
 * @throws TypeError when this Node's zlib streams lack the internal handle
 * @throws Error from zlib when the input is corrupt; the context is then closed, and every later
 *   step throws too
 */
export function syncStep(stream: zlib.Inflate | zlib.Deflate | zlib.ZstdCompress | zlib.ZstdDecompress, flush: number): SyncStep {
  const handle: unknown = Reflect.get(stream, '_handle');
  const state: unknown = Reflect.get(stream, '_writeState');
  if (!isNativeHandle(handle) || !(state instanceof Uint32Array)) {
    throw new TypeError('node:zlib stream has no native handle to drive synchronously');
  }
  // A native error destroys the stream synchronously (its handle is closed; writing to it again
  // would abort the process), while the 'error' event follows a tick later: check `destroyed`.
  let failure: unknown;
  stream.on('error', (error: unknown) => {
    failure = error;
  });
  const fail = (): Error => (failure instanceof Error ? failure : new Error('corrupt compressed stream'));
  let out = Buffer.allocUnsafe(INITIAL_OUTPUT);
  return (chunk) => {
    let used = 0;
    let inOff = 0;
    let inLeft = chunk.byteLength;
    for (;;) {
      if (stream.destroyed) throw fail();
      const room = out.length - used;
      handle.writeSync(flush, chunk, inOff, inLeft, out, used, room);
      if (stream.destroyed) throw fail();
      const outLeft = state[0] ?? 0;
      const inAfter = state[1] ?? 0;
      used += room - outLeft;
      inOff += inLeft - inAfter;
      inLeft = inAfter;
      // Room left over means zlib has nothing more for this input; a full buffer means it may.
      if (outLeft !== 0) break;
      const grown = Buffer.allocUnsafe(out.length * 2);
      out.copy(grown, 0, 0, used);
      out = grown;
    }
    return out.subarray(0, used);
  };
}

/** True when this Node ships zstd in `node:zlib` (22.15+). */
export const HAS_ZSTD = typeof zlib.createZstdDecompress === 'function';

/** The zlib-stream suffix: every complete message ends with a Z_SYNC_FLUSH marker. */
export function endsWithSyncFlush(frame: Uint8Array): boolean {
  const n = frame.length;
  return n >= 4 && frame[n - 4] === 0x00 && frame[n - 3] === 0x00 && frame[n - 2] === 0xff && frame[n - 1] === 0xff;
}
