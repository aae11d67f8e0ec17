/**
 * A deliberately dumb gateway client for testing the simulator: a raw `ws` socket that decodes
 * frames (plain, zlib-stream or zstd-stream) in order and lets a test wait for them.
 */
import zlib from 'node:zlib';
import { WebSocket } from 'ws';

/** A decoded server frame. */
export interface Frame {
  op: number;
  d?: unknown;
  s?: number | null;
  t?: string | null;
}

/** One WebSocket message as it arrived. */
export interface WireMessage {
  binary: boolean;
  bytes: Buffer;
}

type Decoder = (bytes: Buffer) => Promise<string>;

function streamDecoder(stream: zlib.Inflate | zlib.ZstdDecompress): Decoder {
  let chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return (bytes) =>
    new Promise((resolve, reject) => {
      stream.write(bytes, (error) => {
        if (error) return reject(error);
        const text = Buffer.concat(chunks).toString('utf8');
        chunks = [];
        resolve(text);
      });
    });
}

const DECODERS: Readonly<Record<string, () => Decoder>> = {
  none: () => async (bytes) => bytes.toString('utf8'),
  'zlib-stream': () => streamDecoder(zlib.createInflate()),
  'zstd-stream': () => streamDecoder(zlib.createZstdDecompress()),
};

/** Options of {@link RawGatewayClient.connect}. */
export interface ConnectOptions {
  compress?: 'none' | 'zlib-stream' | 'zstd-stream';
  /** Query string to use instead of `v=10&encoding=json[&compress=...]`. */
  query?: string;
  /** Path appended to the base URL, e.g. `/resume`. */
  path?: string;
}

/** Raw test client. */
export class RawGatewayClient {
  readonly frames: Frame[] = [];
  readonly wire: WireMessage[] = [];
  /** Messages that did not decode to JSON. */
  readonly errors: unknown[] = [];
  /** Resolves with the close code and reason once the socket closed. */
  readonly closed: Promise<{ code: number; reason: string }>;
  private cursor = 0;
  private readonly waiters = new Set<() => void>();
  private decoding: Promise<void> = Promise.resolve();

  private constructor(
    readonly ws: WebSocket,
    decoder: Decoder,
  ) {
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.wake();
      });
    });
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => {
      const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      this.wire.push({ binary: isBinary, bytes });
      this.decoding = this.decoding.then(async () => {
        try {
          const frame: unknown = JSON.parse(await decoder(bytes));
          this.frames.push(frame as Frame);
        } catch (error) {
          this.errors.push(error);
        }
        this.wake();
      });
    });
  }

  /** Connects and waits for the socket to open. */
  static async connect(baseURL: string, options: ConnectOptions = {}): Promise<RawGatewayClient> {
    const compress = options.compress ?? 'none';
    const query = options.query ?? `v=10&encoding=json${compress === 'none' ? '' : `&compress=${compress}`}`;
    const ws = new WebSocket(`${baseURL}${options.path ?? ''}?${query}`);
    const decoder = DECODERS[compress];
    if (!decoder) throw new Error(`no decoder for ${compress}`);
    const client = new RawGatewayClient(ws, decoder());
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /**
   * The next frame after the previous `next()` result that matches `pred` (frames skipped over
   * stay readable through `frames`). Rejects when the socket closes first or after `timeout` ms.
   */
  next(pred: (f: Frame) => boolean = () => true, timeout = 3000): Promise<Frame> {
    return new Promise((resolve, reject) => {
      let closed = false;
      void this.closed.then(() => (closed = true));
      const check = (): void => {
        for (let i = this.cursor; i < this.frames.length; i++) {
          const f = this.frames[i];
          if (f && pred(f)) {
            this.cursor = i + 1;
            done();
            resolve(f);
            return;
          }
        }
        if (closed) {
          done();
          reject(new Error('socket closed before the frame arrived'));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no matching frame within ${timeout} ms; got ${JSON.stringify(this.frames.slice(this.cursor).map((f) => [f.op, f.t]))}`));
      }, timeout);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      // `closed` flips in a microtask; check again after it.
      queueMicrotask(check);
      check();
    });
  }

  /** The next dispatch named `t`. */
  dispatch(t: string, timeout?: number): Promise<Frame> {
    return this.next((f) => f.op === 0 && f.t === t, timeout);
  }

  /** Sends a payload object (or raw text). */
  send(payload: object | string): void {
    this.ws.send(typeof payload === 'string' ? payload : JSON.stringify(payload));
  }

  /** Sends an Identify with sensible defaults. */
  identify(d: Record<string, unknown> = {}): void {
    this.send({
      op: 2,
      d: { token: 'test-token', intents: 513, properties: { os: 'linux', browser: 'raw', device: 'raw' }, ...d },
    });
  }

  /** Closes from the client side and waits for the close to complete. */
  async close(code = 4900): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(code);
    await this.closed;
  }
}
