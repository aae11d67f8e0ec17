/**
 * `npm run bench`: builds the benchmark tree, starts the blast server, and runs the ingest,
 * idle-sessions and send-path benchmarks for every contender that loads, printing one
 * Markdown table per case. `--check` runs the CI regression gate instead. `--help` lists the
 * options.
 */
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BlastServer } from './blast-control.js';
import { buildBench, removeBuild } from './build.js';
import { CONTENDER_NAMES } from './contenders/registry.js';
import { describeEnvironment } from './environment.js';
import type { PayloadKind } from './fixtures.js';
import { GATE_DEFAULTS, runGate } from './gate.js';
import { benchIdle } from './idle.js';
import { benchIngest } from './ingest.js';
import { COMPRESSIONS, isCompression, type Compression } from './scenario.js';
import { benchSend } from './send.js';
import { probeContenders } from './series.js';
import { HAS_ZSTD } from './sync-zlib.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const BENCHES = ['ingest', 'idle', 'send'] as const;
type BenchName = (typeof BENCHES)[number];

const HELP = `usage: npm run bench -- [options]

  --runs N             rounds per case, contenders interleaved (default 5; --quick 3)
  --quick              small workloads, 3 runs: a fast look, not a result
  --only LIST          benchmarks to run: ingest,idle,send (default all)
  --contenders LIST    ${CONTENDER_NAMES.join(',')} (default all; raw is always added)
  --compressions LIST  none,zlib-stream,zstd-stream (default all this Node supports)
  --kinds LIST         ingest payloads: message,guild (default both)
  --messages N         MESSAGE_CREATE per ingest run (default 40000; --quick 10000)
  --guilds N           GUILD_CREATE per ingest run (default 400; --quick 150)
  --sessions N         idle sessions per run (default 100)
  --settle MS          idle time before memory is read (default 5000; --quick 2500)
  --heartbeat MS       heartbeat interval announced to idle sessions (default 2000)
  --sends N            sends per send-path run (default 20000; --quick 5000)
  --tls                serve wss:// and https:// as Discord does (a self-signed certificate
                       for 127.0.0.1 from tests/fixtures/tls, trusted through NODE_EXTRA_CA_CERTS)
  --out FILE           also write the report (Markdown) to FILE
  --check              CI gate: ingest only, raw and disgate, --quick workloads; exit 1 if
                       disgate's events/s < --threshold x raw's in any case (after a retry)
  --threshold X        gate threshold (default ${GATE_DEFAULTS.threshold})
`;

/** Parsed command line. */
interface RunOptions {
  runs: number;
  tls: boolean;
  quick: boolean;
  only: BenchName[];
  contenders: string[];
  compressions: Compression[];
  kinds: PayloadKind[];
  counts: Record<PayloadKind, number>;
  sessions: number;
  settleMs: number;
  heartbeatMs: number;
  sends: number;
  out: string | undefined;
  check: boolean;
  threshold: number;
}

function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`--${name} must be a positive number, got "${text}"`);
  return value;
}

function list<T extends string>(name: string, text: string | undefined, allowed: readonly T[], fallback: readonly T[]): T[] {
  if (text === undefined) return [...fallback];
  const items = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const chosen = allowed.filter((a) => items.includes(a));
  const unknown = items.filter((i) => !allowed.some((a) => a === i));
  if (unknown.length > 0) throw new RangeError(`--${name}: unknown ${unknown.join(', ')} (known: ${allowed.join(', ')})`);
  return chosen;
}

function parseOptions(argv: string[]): RunOptions | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string' }, quick: { type: 'boolean' }, only: { type: 'string' }, contenders: { type: 'string' },
      compressions: { type: 'string' }, kinds: { type: 'string' }, messages: { type: 'string' }, guilds: { type: 'string' },
      sessions: { type: 'string' }, settle: { type: 'string' }, heartbeat: { type: 'string' }, sends: { type: 'string' },
      out: { type: 'string' }, check: { type: 'boolean' }, tls: { type: 'boolean' }, threshold: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return undefined;
  // The gate is a quick run: same small workloads and 3 runs unless told otherwise.
  const quick = values.quick === true || values.check === true;
  const supported = COMPRESSIONS.filter((c) => c !== 'zstd-stream' || HAS_ZSTD);
  const contenders = list('contenders', values.contenders, CONTENDER_NAMES, CONTENDER_NAMES);
  if (!contenders.includes('raw')) contenders.unshift('raw');
  return {
    runs: Math.round(positive('runs', values.runs, quick ? 3 : 5)),
    tls: values.tls === true,
    quick,
    only: list('only', values.only, BENCHES, BENCHES),
    contenders,
    compressions: list('compressions', values.compressions, COMPRESSIONS, supported).filter((c) => isCompression(c) && supported.includes(c)),
    kinds: list<PayloadKind>('kinds', values.kinds, ['message', 'guild'], ['message', 'guild']),
    counts: {
      message: Math.round(positive('messages', values.messages, quick ? 10_000 : 40_000)),
      guild: Math.round(positive('guilds', values.guilds, quick ? 150 : 400)),
    },
    sessions: Math.round(positive('sessions', values.sessions, 100)),
    settleMs: positive('settle', values.settle, quick ? 2500 : 5000),
    heartbeatMs: positive('heartbeat', values.heartbeat, 2000),
    sends: Math.round(positive('sends', values.sends, quick ? 5000 : 20_000)),
    out: values.out,
    check: values.check === true,
    threshold: positive('threshold', values.threshold, GATE_DEFAULTS.threshold),
  };
}

async function main(): Promise<number> {
  let options: RunOptions | undefined;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${HELP}`);
    return 2;
  }
  if (options === undefined) {
    process.stdout.write(HELP);
    return 0;
  }
  const report: string[] = [];
  const print = (text: string): void => {
    report.push(text);
    process.stdout.write(`${text}\n`);
  };
  print(`## disgate benchmarks${options.check ? ' — regression gate' : ''}\n\n${describeEnvironment(ROOT)}\n`);
  if (!HAS_ZSTD) print('> this Node has no zstd in node:zlib: zstd-stream cases are skipped\n');

  const outDir = await buildBench(ROOT);
  let tls: { key: string; cert: string } | undefined;
  if (options.tls) {
    tls = { key: join(ROOT, 'tests/fixtures/tls/localhost-key.pem'), cert: join(ROOT, 'tests/fixtures/tls/localhost-cert.pem') };
    // Read by every child at its start: the contenders verify the server's certificate as they would Discord's.
    process.env.NODE_EXTRA_CA_CERTS = tls.cert;
    print('> over TLS: `wss://` and `https://` on 127.0.0.1, as Discord serves its gateway\n');
  }
  const server = await BlastServer.start(outDir, tls);
  const stop = (): void => {
    server.stop();
    void removeBuild(outDir).finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  try {
    const probe = await probeContenders(outDir, options.check ? ['raw', 'disgate'] : options.contenders);
    for (const u of probe.unavailable) print(`> contender ${u.name} unavailable: ${u.error}\n`);
    if (options.check) {
      const passed = await runGate(outDir, server, probe, {
        runs: options.runs,
        threshold: options.threshold,
        compressions: options.compressions,
        kinds: options.kinds,
        counts: options.counts,
        timeoutMs: GATE_DEFAULTS.timeoutMs,
      }, print);
      return passed ? 0 : 1;
    }
    const timeoutMs = 300_000;
    const contenders = probe.available;
    if (options.only.includes('ingest')) {
      await benchIngest(outDir, server, { runs: options.runs, compressions: options.compressions, kinds: options.kinds, counts: options.counts, contenders, timeoutMs }, print);
    }
    if (options.only.includes('idle')) {
      await benchIdle(outDir, server, {
        runs: options.runs, sessions: options.sessions, heartbeatInterval: options.heartbeatMs, settleMs: options.settleMs,
        compressions: options.compressions, contenders, timeoutMs,
      }, print);
    }
    if (options.only.includes('send')) {
      await benchSend(outDir, server, { runs: options.runs, sends: options.sends, warmup: Math.ceil(options.sends / 10), contenders, timeoutMs }, print);
    }
    return 0;
  } finally {
    process.off('SIGINT', stop);
    server.stop();
    await removeBuild(outDir);
    if (options.out !== undefined) await writeFile(options.out, `${report.join('\n')}\n`);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
