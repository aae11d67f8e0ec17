import zlib from 'node:zlib';
import { GatewayProtocolError } from './errors.js';

/** Transport compression of the gateway connection (the `compress` query parameter). */
export type Compression = 'zstd-stream' | 'zlib-stream' | 'none';

/** Every supported {@link Compression}, for option validation. */
export const COMPRESSIONS: readonly Compression[] = ['zstd-stream', 'zlib-stream', 'none'];

/**
 * Turns the frames of one connection into message text. One instance per connection: the
 * streaming codecs keep their dictionary across messages (protocol §8.1).
 */
export interface Decompressor {
  /**
   * Feeds one WebSocket message; returns the complete gateway message it ends, or `null`
   * when the message is not complete yet (zlib-stream frames without the flush suffix).
   *
   * @throws {@link GatewayProtocolError} when the stream is corrupt or exceeds the size cap
   */
  push(data: Buffer): string | null;
  /** Releases the native context. */
  close(): void;
}

/** The parts of a node:zlib stream the synchronous streaming loop drives. */
interface NativeZlibHandle {
  writeSync(flush: number, input: Buffer, inOff: number, inLen: number, out: Buffer, outOff: number, outLen: number): void;
}
interface NativeZlibStream {
  _handle: NativeZlibHandle | null;
  _writeState: Uint32Array;
  destroyed: boolean;
  on(event: 'error', listener: (err: Error) => void): unknown;
  close(): void;
}

const ZLIB_SUFFIX = 0x0000ffff;
const INITIAL_OUTPUT = 64 * 1024;

/**
 * Decompresses a stream synchronously through node:zlib's native handle, keeping one context
 * for the whole connection. Node's public streaming API is asynchronous (a callback and a copy
 * per message); its synchronous `_processChunk` closes the context after one call. Driving
 * `writeSync` directly, as `processChunkSync` does internally, keeps the context alive and
 * decodes each message with no extra tick. The output buffer grows to the largest message seen
 * (up to the cap), so a message usually decodes in one native call and one string conversion.
 */
class StreamingDecoder {
  private out = Buffer.allocUnsafe(INITIAL_OUTPUT);
  private error: Error | undefined;

  constructor(private readonly stream: NativeZlibStream, private readonly flush: number, private readonly maxOutput: number) {
    stream.on('error', (err) => { this.error = err; });
  }

  decode(input: Buffer): string {
    const handle = this.stream._handle;
    if (!handle) throw new GatewayProtocolError('Decompression context is closed');
    const state = this.stream._writeState;
    let inOff = 0;
    let inLen = input.length;
    let used = 0;
    for (;;) {
      const room = this.out.length - used;
      handle.writeSync(this.flush, input, inOff, inLen, this.out, used, room);
      // A native error destroys the stream synchronously; the 'error' event itself comes a tick later.
      if (this.stream.destroyed || this.error) throw new GatewayProtocolError(`Corrupt compressed stream${this.error ? `: ${this.error.message}` : ''}`);
      const availOut = state[0]!;
      const availIn = state[1]!;
      used += room - availOut;
      inOff += inLen - availIn;
      inLen = availIn;
      if (availOut !== 0) break;
      if (this.out.length >= this.maxOutput) throw new GatewayProtocolError(`Decompressed message exceeds ${this.maxOutput} bytes`);
      const grown = Buffer.allocUnsafe(Math.min(this.out.length * 2, this.maxOutput));
      this.out.copy(grown, 0, 0, used);
      this.out = grown;
    }
    return this.out.toString('utf8', 0, used);
  }

  close(): void {
    this.stream.close();
  }
}

/** Uncompressed JSON: each frame is one message. */
class PlainDecompressor implements Decompressor {
  push(data: Buffer): string {
    return data.toString('utf8');
  }
  close(): void {}
}

/** zlib-stream: frames are buffered until one ends with `00 00 ff ff` (Z_SYNC_FLUSH). */
class ZlibStreamDecompressor implements Decompressor {
  private readonly decoder: StreamingDecoder;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxMessage: number) {
    const stream = zlib.createInflate({ chunkSize: INITIAL_OUTPUT }) as unknown as NativeZlibStream;
    this.decoder = new StreamingDecoder(stream, zlib.constants.Z_SYNC_FLUSH, maxMessage);
  }

  push(data: Buffer): string | null {
    const complete = data.length >= 4 && data.readUInt32BE(data.length - 4) === ZLIB_SUFFIX;
    if (!complete || this.pending.length > 0) {
      this.pendingBytes += data.length;
      if (this.pendingBytes > this.maxMessage) throw new GatewayProtocolError(`Compressed message exceeds ${this.maxMessage} bytes`);
      this.pending.push(data);
      if (!complete) return null;
      data = Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
    }
    return this.decoder.decode(data);
  }

  close(): void {
    this.decoder.close();
  }
}

/** zstd-stream: every frame is one message that continues the connection's zstd stream. */
class ZstdStreamDecompressor implements Decompressor {
  private readonly decoder: StreamingDecoder;

  constructor(maxMessage: number) {
    const stream = zlib.createZstdDecompress({ chunkSize: INITIAL_OUTPUT }) as unknown as NativeZlibStream;
    this.decoder = new StreamingDecoder(stream, zlib.constants.ZSTD_e_continue, maxMessage);
  }

  push(data: Buffer): string {
    return this.decoder.decode(data);
  }

  close(): void {
    this.decoder.close();
  }
}

/** Largest message, compressed or not, a connection accepts before treating the stream as hostile. */
export const MAX_MESSAGE_BYTES = 128 * 1024 * 1024;

const FACTORIES: Record<Compression, (max: number) => Decompressor> = {
  none: () => new PlainDecompressor(),
  'zlib-stream': (max) => new ZlibStreamDecompressor(max),
  'zstd-stream': (max) => new ZstdStreamDecompressor(max),
};

/** Creates the decompressor for a new connection. */
export function createDecompressor(compression: Compression, maxMessage = MAX_MESSAGE_BYTES): Decompressor {
  return FACTORIES[compression](maxMessage);
}

/** Whether this Node.js has zstd in node:zlib (22.15+). */
export const HAS_ZSTD: boolean = typeof zlib.createZstdDecompress === 'function';
