/**
 * The contender child: runs one benchmark task for one contender in a fresh process (so RSS,
 * heap and CPU belong to that contender alone), prints a {@link ChildResult} as the last line of
 * stdout, and exits. The runner starts it as `node --expose-gc child.js '<task json>'`.
 */
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { DISPATCH_NAME } from './fixtures.js';
import { loadContender } from './contenders/registry.js';
import type { Connection, Contender } from './contenders/contender.js';
import {
  isCompression,
  isRecord,
  numberAt,
  stringAt,
  type ChildResult,
  type ChildTask,
  type IdleMarginal,
  type IdleReport,
  type IngestReport,
  type ProbeReport,
  type SendReport,
  type Target,
} from './scenario.js';

/** A promise with its resolve and reject handed out (Promise.withResolvers is ES2024). */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: Error) => void } {
  let resolve: (value: T) => void = () => {};
  let reject: (error: Error) => void = () => {};
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rejects with `describe()`'s message when `promise` takes longer than `ms`. */
async function within<T>(promise: Promise<T>, ms: number, describe: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(describe())), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Peak RSS of this process, MB. Linux's `VmHWM` is used rather than `resourceUsage().maxRSS`:
 * the kernel carries `maxrss` over from the parent across fork+exec, so every child would
 * report at least the runner's own peak.
 */
function peakRssMB(): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match?.[1] !== undefined) return Number(match[1]) / 1024;
  } catch {
    // Not Linux: fall through to the portable (but parent-inflated) figure.
  }
  return process.resourceUsage().maxRSS / 1024;
}

/** Full GC, twice: the second pass collects what the first one's finalizers released. */
function collect(): void {
  if (gc === undefined) throw new Error('run the child with --expose-gc');
  gc();
  gc();
}

function parseTarget(value: unknown): Target {
  if (!isRecord(value)) throw new TypeError('task.target must be an object');
  const compression = value.compression;
  if (!isCompression(compression)) throw new TypeError('task.target.compression is not a compression');
  return {
    gatewayURL: stringAt(value, 'gatewayURL'),
    apiURL: stringAt(value, 'apiURL'),
    token: stringAt(value, 'token'),
    intents: numberAt(value, 'intents'),
    compression,
  };
}

function parseTask(text: string | undefined): ChildTask {
  const value: unknown = JSON.parse(text ?? 'null');
  if (!isRecord(value)) throw new TypeError('task must be a JSON object');
  const contender = stringAt(value, 'contender');
  switch (value.bench) {
    case 'probe':
      return { bench: 'probe', contender };
    case 'ingest': {
      const kind = value.kind;
      if (kind !== 'message' && kind !== 'guild') throw new TypeError('task.kind must be message or guild');
      return { bench: 'ingest', contender, target: parseTarget(value.target), kind, count: numberAt(value, 'count'), timeoutMs: numberAt(value, 'timeoutMs') };
    }
    case 'idle':
      return {
        bench: 'idle', contender, target: parseTarget(value.target), sessions: numberAt(value, 'sessions'),
        settleMs: numberAt(value, 'settleMs'), timeoutMs: numberAt(value, 'timeoutMs'),
      };
    case 'send':
      return {
        bench: 'send', contender, target: parseTarget(value.target), sends: numberAt(value, 'sends'),
        warmup: numberAt(value, 'warmup'), timeoutMs: numberAt(value, 'timeoutMs'),
      };
    default:
      throw new TypeError(`unknown bench ${String(value.bench)}`);
  }
}

/** Connections to close before exiting, whatever the outcome. */
const open: Connection[] = [];

async function ingest(contender: Contender, task: Extract<ChildTask, { bench: 'ingest' }>): Promise<IngestReport> {
  const name = DISPATCH_NAME[task.kind];
  // The first tenth warms up the JIT and grows the heap; timing covers the steady state after it.
  const startAt = Math.max(1, Math.floor(task.count / 10));
  const finished = deferred<{ wallMs: number; cpuMs: number }>();
  let received = 0;
  let startNs = 0n;
  let startCpu: NodeJS.CpuUsage | undefined;
  // Read one field of every payload, as any real handler would, so none of the work is skippable.
  let touched = 0;
  const onDispatch = (event: string, data: unknown): void => {
    if (event !== name) return;
    if (isRecord(data) && typeof data.id === 'string') touched++;
    if (++received === startAt) {
      startCpu = process.cpuUsage();
      startNs = process.hrtime.bigint();
    } else if (received === task.count) {
      const cpu = process.cpuUsage(startCpu);
      finished.resolve({ wallMs: Number(process.hrtime.bigint() - startNs) / 1e6, cpuMs: (cpu.user + cpu.system) / 1000 });
    }
  };
  const connection = await within(
    contender.connect(task.target, { shards: 1, events: [name], onDispatch }),
    task.timeoutMs,
    () => 'timed out before READY',
  );
  open.push(connection);
  const { wallMs, cpuMs } = await within(finished.promise, task.timeoutMs, () => `only ${received} of ${task.count} ${name} arrived`);
  if (touched !== task.count) throw new Error(`${task.count - touched} ${name} payloads had no id`);
  return { events: received, measured: task.count - startAt, wallMs, cpuMs, peakRssMB: peakRssMB() };
}

async function idle(contender: Contender, task: Extract<ChildTask, { bench: 'idle' }>): Promise<IdleReport> {
  // V8 drops the bytecode of functions idle for 6 full GCs (module loading, the first connects),
  // about 1 MB at once with zstd-stream, whenever that count happens to be reached: inside a
  // measured window it made heap figures swing by 10 KB per session (even negative) from run to
  // run. With flushing off, both windows measure what the sessions hold.
  setFlagsFromString('--no-flush-bytecode');
  collect();
  const before = process.memoryUsage();
  const start = performance.now();
  const connection = await within(
    contender.connect(task.target, { shards: task.sessions, events: [], onDispatch: () => {} }),
    task.timeoutMs,
    () => `not all ${task.sessions} sessions were READY in time`,
  );
  const readyMs = performance.now() - start;
  open.push(connection);
  // Let every session heartbeat a few times before measuring.
  await sleep(task.settleMs);
  collect();
  const after = process.memoryUsage();
  return {
    sessions: task.sessions,
    readyMs,
    rssPerSessionKB: (after.rss - before.rss) / 1024 / task.sessions,
    heapPerSessionKB: (after.heapUsed - before.heapUsed) / 1024 / task.sessions,
    marginal: await marginal(contender, task, after),
  };
}

/**
 * Connects a second batch of `task.sessions` (the upper shard ids of a bot twice as large) on
 * top of the first, settles as long, and returns what it added per session: the code compiled
 * and the structures grown on the first connects are paid for by then. A contender that cannot
 * do this has no marginal figure; the error says why, and the first batch's figures still count.
 */
async function marginal(contender: Contender, task: Extract<ChildTask, { bench: 'idle' }>, before: NodeJS.MemoryUsage): Promise<IdleMarginal> {
  try {
    const connection = await within(
      contender.connect(task.target, { shards: task.sessions, firstShard: task.sessions, events: [], onDispatch: () => {} }),
      task.timeoutMs,
      () => `not all ${task.sessions} sessions of the second batch were READY in time`,
    );
    open.push(connection);
    await sleep(task.settleMs);
    collect();
    const after = process.memoryUsage();
    return {
      ok: true,
      rssPerSessionKB: (after.rss - before.rss) / 1024 / task.sessions,
      heapPerSessionKB: (after.heapUsed - before.heapUsed) / 1024 / task.sessions,
    };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

async function send(contender: Contender, task: Extract<ChildTask, { bench: 'send' }>): Promise<SendReport> {
  const connection = await within(
    contender.connect(task.target, { shards: 1, events: [], onDispatch: () => {} }),
    task.timeoutMs,
    () => 'timed out before READY',
  );
  open.push(connection);
  const sendPresence = connection.sendPresence;
  if (sendPresence === undefined) throw new Error(`${contender.label} has no send path to measure`);
  // Await only what is awaitable: a synchronous send (the raw floor) pays no microtask.
  const loop = async (times: number): Promise<void> => {
    for (let i = 0; i < times; i++) {
      const pending = sendPresence();
      if (pending !== undefined) await pending;
    }
  };
  await loop(task.warmup);
  collect();
  const startCpu = process.cpuUsage();
  const startNs = process.hrtime.bigint();
  await within(loop(task.sends), task.timeoutMs, () => 'send loop timed out');
  const wallNs = Number(process.hrtime.bigint() - startNs);
  const cpu = process.cpuUsage(startCpu);
  return { sends: task.sends, wallNsPerSend: wallNs / task.sends, cpuNsPerSend: ((cpu.user + cpu.system) * 1000) / task.sends };
}

async function run(task: ChildTask): Promise<ProbeReport | IngestReport | IdleReport | SendReport> {
  const contender = await loadContender(task.contender);
  switch (task.bench) {
    case 'probe':
      return { label: contender.label, compressions: [...contender.compressions], sendPath: contender.sendPath };
    case 'ingest':
      return ingest(contender, task);
    case 'idle':
      return idle(contender, task);
    case 'send':
      return send(contender, task);
  }
}

async function main(): Promise<number> {
  let result: ChildResult<unknown>;
  try {
    result = { ok: true, report: await run(parseTask(process.argv[2])) };
  } catch (error) {
    result = { ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  // Report first: closing is not measured, and a contender that hangs on close must not lose it.
  process.stdout.write(`${JSON.stringify(result)}\n`);
  await within(Promise.all(open.map((c) => c.close())), 2000, () => 'close timed out').catch(() => {});
  return result.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  () => process.exit(1),
);
