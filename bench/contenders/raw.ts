/**
 * The raw floor: plain `ws` + `node:zlib` + `JSON.parse`, no library around them. It does the
 * minimum a working gateway client must do (Hello → Identify, a heartbeat timer, sequence
 * tracking, one synchronous decompression context per connection) and nothing else: no
 * reconnects, no zombie checks, no rate limiting, no event emitter. Every other contender is
 * measured against it in the same run.
 */
import zlib from 'node:zlib';
import WebSocket from 'ws';
import { isRecord, type Compression, type Target } from '../scenario.js';
import { HAS_ZSTD, endsWithSyncFlush, syncStep } from '../sync-zlib.js';
import type { ConnectOptions, Connection, Contender, DispatchHandler } from './contender.js';

/** Turns one WebSocket message into a gateway payload; undefined while a zlib message is incomplete. */
type Decoder = (data: Buffer) => unknown;

const DECODERS: Readonly<Record<Compression, () => Decoder>> = {
  none: () => (data) => JSON.parse(data.toString()),
  'zlib-stream': () => {
    const inflate = syncStep(zlib.createInflate(), zlib.constants.Z_SYNC_FLUSH);
    // A message may span frames; only a frame ending in the sync-flush suffix completes one.
    let partial: Buffer[] = [];
    return (data) => {
      const out = inflate(data);
      if (!endsWithSyncFlush(data)) {
        // The step's output is reused by the next call: keep a copy.
        partial.push(Buffer.from(out));
        return undefined;
      }
      if (partial.length === 0) return JSON.parse(out.toString());
      partial.push(out);
      const whole = Buffer.concat(partial);
      partial = [];
      return JSON.parse(whole.toString());
    };
  },
  'zstd-stream': () => {
    const decompress = syncStep(zlib.createZstdDecompress(), zlib.constants.ZSTD_e_continue);
    return (data) => JSON.parse(decompress(data).toString());
  },
};

const PRESENCE = { since: null, activities: [], status: 'online', afk: false };

/** Opens one raw session and resolves with its socket once READY arrives. */
function openSession(target: Target, shard: [number, number], onDispatch: DispatchHandler): Promise<WebSocket> {
  const query = `v=10&encoding=json${target.compression === 'none' ? '' : `&compress=${target.compression}`}`;
  const ws = new WebSocket(`${target.gatewayURL}/?${query}`, { perMessageDeflate: false });
  const decode = DECODERS[target.compression]();
  let seq: number | null = null;
  let beat: NodeJS.Timeout | undefined;
  const heartbeat = (): void => ws.send(JSON.stringify({ op: 1, d: seq }));
  ws.on('close', () => clearTimeout(beat));
  return new Promise((resolve, reject) => {
    ws.on('error', reject);
    ws.on('message', (data) => {
      if (!Buffer.isBuffer(data)) return;
      const payload = decode(data);
      if (!isRecord(payload)) return;
      switch (payload.op) {
        case 0:
          if (typeof payload.s === 'number') seq = payload.s;
          if (payload.t === 'READY') resolve(ws);
          else if (typeof payload.t === 'string') onDispatch(payload.t, payload.d);
          break;
        case 10: {
          const interval = isRecord(payload.d) && typeof payload.d.heartbeat_interval === 'number' ? payload.d.heartbeat_interval : 41250;
          beat = setTimeout(() => {
            heartbeat();
            beat = setInterval(heartbeat, interval);
          }, interval * Math.random());
          ws.send(JSON.stringify({
            op: 2,
            d: { token: target.token, intents: target.intents, shard, properties: { os: process.platform, browser: 'raw', device: 'raw' } },
          }));
          break;
        }
        case 1:
          heartbeat();
          break;
        default:
          break;
      }
    });
  });
}

function closeSocket(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    ws.once('close', () => resolve());
    ws.close(1000);
  });
}

/** Options of {@link rawContender}. */
export interface RawOptions {
  /** Display name. */
  label: string;
  /** Compressions to offer; an empty list keeps the contender out of ingest and idle. */
  compressions: readonly Compression[];
  /** Resolve each send once ws reports the frame written, as a promise-returning API must. */
  awaitWrite: boolean;
}

/**
 * Builds a raw-floor contender. The default export is the floor itself; `raw-awaited.ts` is the
 * same client whose sends wait for ws's write callback, the least any send API that "resolves
 * once written" can cost.
 */
export function rawContender(options: RawOptions): Contender {
  return {
    label: options.label,
    compressions: options.compressions,
    sendPath: true,
    async connect(target: Target, connect: ConnectOptions): Promise<Connection> {
      const first = connect.firstShard ?? 0;
      const total = first + connect.shards;
      const sockets = await Promise.all(
        Array.from({ length: connect.shards }, (_, i) => openSession(target, [first + i, total], connect.onDispatch)),
      );
      const lead = sockets[0];
      const send = lead === undefined ? undefined : options.awaitWrite
        ? () => new Promise<void>((resolve, reject) => lead.send(JSON.stringify({ op: 3, d: PRESENCE }), (error) => (error ? reject(error) : resolve())))
        : () => lead.send(JSON.stringify({ op: 3, d: PRESENCE }));
      return {
        sendPresence: send,
        close: async () => {
          await Promise.all(sockets.map(closeSocket));
        },
      };
    },
  };
}

export default rawContender({
  label: 'raw ws+zlib',
  compressions: HAS_ZSTD ? ['none', 'zlib-stream', 'zstd-stream'] : ['none', 'zlib-stream'],
  awaitWrite: false,
});
