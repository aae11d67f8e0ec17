/**
 * The messages that pass between the bench runner, the blast server and the contender children,
 * with the narrowing that turns their JSON back into typed values.
 */
import type { PayloadKind } from './fixtures.js';

/** Transport compression, as in the gateway's `compress` query parameter (`none` = no parameter). */
export type Compression = 'none' | 'zlib-stream' | 'zstd-stream';

/** Every compression, in the order the tables print them. */
export const COMPRESSIONS: readonly Compression[] = ['none', 'zlib-stream', 'zstd-stream'];

/** What the blast server does with each new gateway connection. */
export interface ServerScenario {
  /** `blast`: stream `count` dispatches right after READY. `idle`: Hello, READY and heartbeat ACKs only. */
  mode: 'blast' | 'idle';
  /** Which dispatch to stream (blast mode). */
  kind: PayloadKind;
  /** How many dispatches to stream (blast mode). */
  count: number;
  /** The `heartbeat_interval` sent in Hello, ms. */
  heartbeatInterval: number;
}

/** Runner → blast server (IPC). */
export type ServerCommand = { type: 'scenario'; scenario: ServerScenario };

/** Blast server → runner (IPC). */
export type ServerNotice = { type: 'listening'; port: number } | { type: 'scenario-ready' };

/** Where a contender connects and how. */
export interface Target {
  /** WebSocket base URL of the blast server, e.g. `ws://127.0.0.1:4567`. */
  gatewayURL: string;
  /** REST base including the version, e.g. `http://127.0.0.1:4567/api/v10` (disgate's `apiURL`). */
  apiURL: string;
  /** Any string: the blast server accepts every token. */
  token: string;
  /** Intents bitfield sent in Identify. */
  intents: number;
  /** Transport compression to request. */
  compression: Compression;
}

/** Runner → contender child (argv[2], JSON): one task, after which the child exits. */
export type ChildTask =
  | { bench: 'probe'; contender: string }
  | { bench: 'ingest'; contender: string; target: Target; kind: PayloadKind; count: number; timeoutMs: number }
  | { bench: 'idle'; contender: string; target: Target; sessions: number; settleMs: number; timeoutMs: number }
  | { bench: 'send'; contender: string; target: Target; sends: number; warmup: number; timeoutMs: number };

/** What a probe learns about a contender. */
export interface ProbeReport {
  /** Display name, e.g. `@discordjs/ws 2.0.4`. */
  label: string;
  /** Compressions the contender can speak. */
  compressions: Compression[];
  /** Whether the contender exposes a send path worth measuring. */
  sendPath: boolean;
}

/** Figures of one ingest run. */
export interface IngestReport {
  /** Dispatches of the target kind delivered to the handler. */
  events: number;
  /** Events inside the timed span: those after the warm-up tenth (whose last event starts the clock). */
  measured: number;
  /** Wall time from the end of the warm-up to the last delivered event, ms. */
  wallMs: number;
  /** CPU time (user + system) of the child over the same span, ms. */
  cpuMs: number;
  /** Peak resident set size of the child over its whole life, MB. */
  peakRssMB: number;
}

/** Figures of one idle-sessions run. */
export interface IdleReport {
  /** Sessions connected. */
  sessions: number;
  /** From the first connect call until every session was READY, ms. */
  readyMs: number;
  /** Resident set size added per session (after settling and a full GC), KB. */
  rssPerSessionKB: number;
  /** JS heap added per session (after settling and a full GC), KB. */
  heapPerSessionKB: number;
  /** What a second batch of as many sessions added on top of the first, or why there is none. */
  marginal: IdleMarginal;
}

/**
 * The marginal figures of one idle-sessions run: (after the second batch − after the first) ÷
 * sessions, both read after settling and a full GC. What the first connects compile, optimize
 * and allocate once is already paid by then, so this is the cost of each added session.
 * `ok: false` when the contender could not open a second batch in the same process.
 */
export type IdleMarginal =
  | { ok: true; rssPerSessionKB: number; heapPerSessionKB: number }
  | { ok: false; error: string };

/** Figures of one send-path run. */
export interface SendReport {
  /** Frames sent in the measured loop. */
  sends: number;
  /** Wall time per send (each awaited before the next), ns. */
  wallNsPerSend: number;
  /** CPU time per send, ns. */
  cpuNsPerSend: number;
}

/** The last line a child prints: its result, or why it failed. */
export type ChildResult<R> = { ok: true; report: R } | { ok: false; error: string };

/** True for a non-null, non-array object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The finite number at `record[key]`, or a TypeError naming the key. */
export function numberAt(record: Record<string, unknown>, key: string): number {
  const value = record[key];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new TypeError(`expected a number at "${key}"`);
  return value;
}

/** The string at `record[key]`, or a TypeError naming the key. */
export function stringAt(record: Record<string, unknown>, key: string): string {
  const value = record[key];
  if (typeof value !== 'string') throw new TypeError(`expected a string at "${key}"`);
  return value;
}

/** True when `value` names a compression. */
export function isCompression(value: unknown): value is Compression {
  return value === 'none' || value === 'zlib-stream' || value === 'zstd-stream';
}
