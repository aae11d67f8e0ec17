/**
 * Transport compression on the server side (protocol §8.1): one compression context per
 * connection, every gateway message flushed so that it is one complete WebSocket message.
 */
import zlib from 'node:zlib';

/**
 * Transport compression a client asks for with the `compress` query parameter.
 *
 * @category Testing
 */
export type SimulatorCompression = 'none' | 'zlib-stream' | 'zstd-stream';

/** Turns gateway messages into WebSocket message bodies, in order. */
export interface FrameEncoder {
  /** True when the output goes out as binary WebSocket messages. */
  readonly binary: boolean;
  /** Messages accepted but not delivered yet. */
  readonly pending: number;
  /** Encodes one message; `deliver` is called with the body, in the order `encode` was called. */
  encode(text: string, deliver: (body: string | Buffer) => void): void;
  /** Calls `fn` once every message encoded so far has been delivered. */
  whenIdle(fn: () => void): void;
  /** Releases the context; pending messages are dropped. */
  close(): void;
}

/** Sends text as it is. */
class PlainEncoder implements FrameEncoder {
  readonly binary = false;
  readonly pending = 0;
  encode(text: string, deliver: (body: string | Buffer) => void): void {
    deliver(text);
  }
  whenIdle(fn: () => void): void {
    fn();
  }
  close(): void {}
}

interface Job {
  text: string;
  deliver: ((body: string | Buffer) => void) | null;
  after: (() => void) | null;
}

/**
 * Portable fallback: runs messages one at a time through a `node:zlib` stream's public API,
 * flushing after each. Each message takes one round trip through the thread pool; running them
 * one at a time makes the output of message N exactly the bytes produced between its write and
 * its flush callback.
 */
class StreamEncoder implements FrameEncoder {
  readonly binary = true;
  private readonly queue: Job[] = [];
  private busy = false;
  private chunks: Buffer[] = [];
  private closed = false;

  constructor(
    private readonly stream: zlib.Deflate | zlib.ZstdCompress,
    private readonly flushFlag: number,
  ) {
    stream.on('data', (chunk: Buffer) => this.chunks.push(chunk));
    // A destroyed context only matters to the connection it belongs to, which is closing anyway.
    stream.on('error', () => this.close());
  }

  get pending(): number {
    return this.queue.length + (this.busy ? 1 : 0);
  }

  encode(text: string, deliver: (body: string | Buffer) => void): void {
    if (this.closed) return;
    this.queue.push({ text, deliver, after: null });
    this.pump();
  }

  whenIdle(fn: () => void): void {
    if (!this.busy && this.queue.length === 0) fn();
    else this.queue.push({ text: '', deliver: null, after: fn });
  }

  private pump(): void {
    while (!this.busy && !this.closed) {
      const job = this.queue.shift();
      if (!job) return;
      if (job.after) {
        job.after();
        continue;
      }
      this.busy = true;
      this.stream.write(job.text);
      this.stream.flush(this.flushFlag, () => {
        const body = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
        this.chunks = [];
        this.busy = false;
        if (this.closed) return;
        if (body) job.deliver?.(body);
        this.pump();
      });
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.stream.destroy();
  }
}

/** The native handle behind a `node:zlib` stream, as Node's own `*Sync` helpers drive it. */
interface NativeHandle {
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
}

function isNativeHandle(value: unknown): value is NativeHandle {
  return typeof value === 'object' && value !== null && typeof Reflect.get(value, 'writeSync') === 'function';
}

const INITIAL_OUTPUT = 64 * 1024;

/**
 * Compresses each message synchronously through the stream's native handle, keeping the context
 * alive between messages (Node's public `*Sync` functions close it after one call). This is the
 * same technique disgate's decompressor uses; it costs a few microseconds per message instead of
 * a thread-pool round trip, which keeps benchmark traffic cheap. Output is delivered before
 * `encode` returns, so ordering is trivially preserved.
 */
class SyncStreamEncoder implements FrameEncoder {
  readonly binary = true;
  readonly pending = 0;
  private out = Buffer.allocUnsafe(INITIAL_OUTPUT);
  private failed = false;

  constructor(
    private readonly stream: zlib.Deflate | zlib.ZstdCompress,
    private readonly handle: NativeHandle,
    private readonly state: Uint32Array,
    private readonly flushFlag: number,
  ) {
    stream.on('error', () => {
      this.failed = true;
    });
  }

  encode(text: string, deliver: (body: string | Buffer) => void): void {
    if (this.failed || this.stream.destroyed) return;
    const input = Buffer.from(text);
    let inOff = 0;
    let inLen = input.length;
    let used = 0;
    for (;;) {
      const room = this.out.length - used;
      this.handle.writeSync(this.flushFlag, input, inOff, inLen, this.out, used, room);
      if (this.failed || this.stream.destroyed) return;
      const availOut = this.state[0] ?? 0;
      const availIn = this.state[1] ?? 0;
      used += room - availOut;
      inOff += inLen - availIn;
      inLen = availIn;
      // Output space left over means the input is consumed and the flush is complete.
      if (availOut !== 0) break;
      const grown = Buffer.allocUnsafe(this.out.length * 2);
      this.out.copy(grown, 0, 0, used);
      this.out = grown;
    }
    // A copy: the socket may still hold the body when the next message reuses `out`.
    deliver(Buffer.from(this.out.subarray(0, used)));
  }

  whenIdle(fn: () => void): void {
    fn();
  }

  close(): void {
    this.stream.close();
  }
}

/** The synchronous encoder when the native handle is reachable, else the thread-pool one. */
function streamEncoder(stream: zlib.Deflate | zlib.ZstdCompress, flushFlag: number): FrameEncoder {
  const handle: unknown = Reflect.get(stream, '_handle');
  const state: unknown = Reflect.get(stream, '_writeState');
  if (isNativeHandle(handle) && state instanceof Uint32Array) return new SyncStreamEncoder(stream, handle, state, flushFlag);
  return new StreamEncoder(stream, flushFlag);
}

/** Encoder factories by `compress` value. */
const ENCODERS: Readonly<Record<SimulatorCompression, () => FrameEncoder>> = {
  none: () => new PlainEncoder(),
  // zlib format (with header), one deflate context per connection, each message ending in 00 00 ff ff.
  'zlib-stream': () => streamEncoder(zlib.createDeflate(), zlib.constants.Z_SYNC_FLUSH),
  // One zstd stream per connection; ZSTD_e_flush ends a block, not the frame (protocol §8.1).
  'zstd-stream': () => streamEncoder(zlib.createZstdCompress(), zlib.constants.ZSTD_e_flush),
};

/** Creates the portable (thread-pool) encoder, bypassing the synchronous one; for tests. */
export function createAsyncEncoder(compression: Exclude<SimulatorCompression, 'none'>): FrameEncoder {
  return compression === 'zlib-stream'
    ? new StreamEncoder(zlib.createDeflate(), zlib.constants.Z_SYNC_FLUSH)
    : new StreamEncoder(zlib.createZstdCompress(), zlib.constants.ZSTD_e_flush);
}

/** Whether `value` is a `compress` value the simulator speaks. */
export function isSimulatorCompression(value: string): value is SimulatorCompression {
  return Object.hasOwn(ENCODERS, value);
}

/** A fresh encoder (with its own compression context) for one connection. */
export function createEncoder(compression: SimulatorCompression): FrameEncoder {
  return ENCODERS[compression]();
}
