/**
 * The blast server: a child process that speaks just enough of the gateway for every contender
 * (Hello, Identify → READY, heartbeat ACKs, `GET /api/v10/gateway/bot`) and, in blast mode,
 * streams N prebuilt dispatches right after READY as fast as the client drains them.
 *
 * It runs in its own process so its CPU never counts against a contender. To make sure the
 * client, not this server, is the bottleneck, each connection's whole blast is prepared before
 * READY is sent: every dispatch gets its envelope and sequence number, goes through the
 * connection's own compression context (one zlib or zstd context per connection, flushed per
 * message, exactly as Discord does), and is framed as a WebSocket frame by hand; the frames are
 * then written to the socket in large chunks, waiting for 'drain' whenever the socket is full.
 * Heartbeat ACKs that fall due while a prepared blast is on the wire are sent right after it,
 * through the same context (their order in the compressed stream must match the prepared one).
 *
 * Control: the runner forks this file and sends {@link ServerCommand}s over IPC; the server
 * answers with {@link ServerNotice}s. Run by hand (`node .bench-out/bench/blast-server.js`) it
 * listens on a free port, prints it, and blasts 1000 MESSAGE_CREATE per connection.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import zlib from 'node:zlib';
import { WebSocketServer, type WebSocket } from 'ws';
import { DISPATCH_NAME, dispatchBodies, ready, type PayloadKind } from './fixtures.js';
import { isCompression, isRecord, type Compression, type ServerNotice, type ServerScenario } from './scenario.js';
import { syncStep, type SyncStep } from './sync-zlib.js';

/** Identify buckets advertised by /gateway/bot: high enough that no contender waits between shards. */
const MAX_CONCURRENCY = 1024;
/** Prepared frames are written to the socket in chunks of about this size. */
const WRITE_CHUNK = 256 * 1024;

let scenario: ServerScenario = { mode: 'blast', kind: 'message', count: 1000, heartbeatInterval: 41250 };
let bodies: string[] = dispatchBodies(scenario.kind, scenario.count);
const bodyCache = new Map<string, string[]>();

/** Encodes one gateway message for the wire on one connection. */
interface Encoder {
  readonly binary: boolean;
  encode(text: string): Buffer;
}

/** One encoder factory per compression: data, not branches. */
const ENCODERS: Readonly<Record<Compression, () => Encoder>> = {
  none: () => ({ binary: false, encode: (text) => Buffer.from(text) }),
  'zlib-stream': () => {
    const step: SyncStep = syncStep(zlib.createDeflate(), zlib.constants.Z_SYNC_FLUSH);
    // Copy: the step reuses its output buffer, and a blast keeps every message until sent.
    return { binary: true, encode: (text) => Buffer.from(step(Buffer.from(text))) };
  },
  'zstd-stream': () => {
    const step: SyncStep = syncStep(zlib.createZstdCompress(), zlib.constants.ZSTD_e_flush);
    return { binary: true, encode: (text) => Buffer.from(step(Buffer.from(text))) };
  },
};

/** Frames a server → client WebSocket message (FIN set, unmasked). */
function frameHeader(length: number, binary: boolean): Buffer {
  const opcode = binary ? 0x82 : 0x81;
  if (length < 126) return Buffer.from([opcode, length]);
  if (length < 65536) {
    const header = Buffer.allocUnsafe(4);
    header[0] = opcode;
    header[1] = 126;
    header.writeUInt16BE(length, 2);
    return header;
  }
  const header = Buffer.allocUnsafe(10);
  header[0] = opcode;
  header[1] = 127;
  header.writeBigUInt64BE(BigInt(length), 2);
  return header;
}

/** Packs encoded messages into WebSocket frames, concatenated into large write chunks. */
function packFrames(messages: Iterable<Buffer>, binary: boolean): Buffer[] {
  const chunks: Buffer[] = [];
  let parts: Buffer[] = [];
  let size = 0;
  for (const message of messages) {
    const header = frameHeader(message.length, binary);
    parts.push(header, message);
    size += header.length + message.length;
    if (size >= WRITE_CHUNK) {
      chunks.push(Buffer.concat(parts, size));
      parts = [];
      size = 0;
    }
  }
  if (size > 0) chunks.push(Buffer.concat(parts, size));
  return chunks;
}

/** One client connection: its compression context, sequence numbers and blast state. */
class GatewayConnection {
  private readonly encoder: Encoder;
  private seq = 0;
  private identified = false;
  /** Set while prepared frames are on the wire; live messages wait in `deferred` meanwhile. */
  private blasting = false;
  private readonly deferred: string[] = [];

  constructor(
    private readonly ws: WebSocket,
    private readonly socket: Socket,
    compression: Compression,
    private readonly plan: ServerScenario,
    private readonly planBodies: readonly string[],
    private readonly resumeURL: string,
  ) {
    this.encoder = ENCODERS[compression]();
    ws.on('message', (data: Buffer) => this.onMessage(data));
    ws.on('error', () => ws.terminate());
    this.sendLive(JSON.stringify({ op: 10, d: { heartbeat_interval: plan.heartbeatInterval }, s: null, t: null }));
  }

  private sendLive(text: string): void {
    if (this.blasting) {
      this.deferred.push(text);
      return;
    }
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(this.encoder.encode(text), { binary: this.encoder.binary });
  }

  private onMessage(data: Buffer): void {
    let payload: unknown;
    try {
      payload = JSON.parse(data.toString());
    } catch {
      this.ws.close(4002, 'Decode error');
      return;
    }
    if (!isRecord(payload)) return;
    switch (payload.op) {
      case 1:
        this.sendLive('{"op":11,"d":null,"s":null,"t":null}');
        break;
      case 2:
        this.onIdentify(payload.d);
        break;
      case 6:
        // No resumes here: the benchmark connections never need one.
        this.sendLive('{"op":9,"d":false,"s":null,"t":null}');
        break;
      default:
        // Presence updates and other sends (the send-path benchmark) are read and dropped.
        break;
    }
  }

  private onIdentify(d: unknown): void {
    if (this.identified) {
      this.ws.close(4005, 'Already authenticated');
      return;
    }
    this.identified = true;
    let shard: [number, number] = [0, 1];
    if (isRecord(d) && Array.isArray(d.shard)) {
      const [id, count] = d.shard;
      if (typeof id === 'number' && typeof count === 'number') shard = [id, count];
    }
    this.sendLive(JSON.stringify({ op: 0, s: ++this.seq, t: 'READY', d: ready(shard, this.resumeURL) }));
    if (this.plan.mode === 'blast') this.blast();
  }

  /** Prepares every dispatch of the plan through this connection's context, then streams them. */
  private blast(): void {
    const name = DISPATCH_NAME[this.plan.kind];
    const encoder = this.encoder;
    const firstSeq = this.seq + 1;
    this.seq += this.planBodies.length;
    const messages = this.planBodies.map((body, i) => encoder.encode(`{"op":0,"s":${firstSeq + i},"t":"${name}","d":${body}}`));
    const chunks = packFrames(messages, encoder.binary);
    this.blasting = true;
    let next = 0;
    const pump = (): void => {
      while (next < chunks.length) {
        if (this.socket.destroyed) return;
        const chunk = chunks[next++];
        if (chunk !== undefined && !this.socket.write(chunk)) {
          this.socket.once('drain', pump);
          return;
        }
      }
      this.blasting = false;
      for (const text of this.deferred.splice(0)) this.sendLive(text);
    };
    pump();
  }
}

function bodiesFor(kind: PayloadKind, count: number): string[] {
  const key = `${kind}:${count}`;
  let cached = bodyCache.get(key);
  if (cached === undefined) {
    // Keep one scenario's bodies at a time: guild bodies are tens of MB.
    bodyCache.clear();
    cached = dispatchBodies(kind, count);
    bodyCache.set(key, cached);
  }
  return cached;
}

function isScenario(value: unknown): value is ServerScenario {
  return (
    isRecord(value) &&
    (value.mode === 'blast' || value.mode === 'idle') &&
    (value.kind === 'message' || value.kind === 'guild') &&
    typeof value.count === 'number' &&
    typeof value.heartbeatInterval === 'number'
  );
}

function notify(notice: ServerNotice): void {
  if (process.send) process.send(notice);
}

/** TLS (`wss://`, as Discord's gateway) when the runner passes a key and certificate for 127.0.0.1. */
const tls = process.env.BLAST_TLS_KEY && process.env.BLAST_TLS_CERT
  ? { key: readFileSync(process.env.BLAST_TLS_KEY), cert: readFileSync(process.env.BLAST_TLS_CERT) }
  : undefined;

function answer(req: http.IncomingMessage, res: http.ServerResponse): void {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  const url = gatewayURL();
  const routes: Readonly<Record<string, unknown>> = {
    '/api/v10/gateway': { url },
    '/api/v10/gateway/bot': {
      url,
      shards: 1,
      session_start_limit: { total: 1_000_000, remaining: 1_000_000, reset_after: 86_400_000, max_concurrency: MAX_CONCURRENCY },
    },
  };
  const body = routes[path];
  if (body === undefined) {
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"404: Not Found","code":0}');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const server = tls ? https.createServer(tls, answer) : http.createServer(answer);

const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 64 * 1024 });
wss.on('connection', (ws, req) => {
  const params = new URL(req.url ?? '/', 'http://localhost').searchParams;
  const compress = params.get('compress') ?? 'none';
  if (!isCompression(compress)) {
    ws.close(4000, `unknown compress=${compress}`);
    return;
  }
  new GatewayConnection(ws, req.socket, compress, scenario, bodies, gatewayURL());
});

function gatewayURL(): string {
  return `${tls ? 'wss' : 'ws'}://127.0.0.1:${port()}`;
}

function port(): number {
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : 0;
}

process.on('message', (message: unknown) => {
  if (!isRecord(message) || message.type !== 'scenario' || !isScenario(message.scenario)) return;
  scenario = message.scenario;
  bodies = scenario.mode === 'blast' ? bodiesFor(scenario.kind, scenario.count) : [];
  notify({ type: 'scenario-ready' });
});
// The runner owns this process: when it goes, so do we.
process.on('disconnect', () => process.exit(0));

server.listen(0, '127.0.0.1', () => {
  if (process.send) notify({ type: 'listening', port: port() });
  else console.log(`blast server on ${gatewayURL()} (1000 MESSAGE_CREATE per connection)`);
});
