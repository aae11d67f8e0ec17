/**
 * The CI regression gate: a short ingest run of disgate against the raw floor in the same
 * process tree, failing when disgate's events per second drop below a fraction of the floor's
 * in any case. Only ratios are compared, never absolute times, so a slow CI machine does not
 * fail it and a fast one does not hide a regression.
 */
import type { BlastServer } from './blast-control.js';
import { DISPATCH_NAME, type PayloadKind } from './fixtures.js';
import { benchIngest, cpuPer10k, eventsPerSecond } from './ingest.js';
import type { Compression } from './scenario.js';
import { pairedRatio, type ContenderInfo, type ProbeOutcome } from './series.js';
import { ratio } from './table.js';

/** Options of {@link runGate}. */
export interface GateOptions {
  runs: number;
  /** Fail below this ratio of disgate's events/s to the raw floor's (median of per-run ratios). */
  threshold: number;
  compressions: readonly Compression[];
  kinds: readonly PayloadKind[];
  counts: Readonly<Record<PayloadKind, number>>;
  timeoutMs: number;
}

/** Default gate: the 0.75x, three short runs per case. */
export const GATE_DEFAULTS: Omit<GateOptions, 'compressions'> = {
  runs: 3,
  threshold: 0.75,
  kinds: ['message', 'guild'],
  counts: { message: 10_000, guild: 150 },
  timeoutMs: 120_000,
};

/**
 * Runs the gate and prints a verdict per case.
 *
 * @returns true when every case passes
 */
export async function runGate(outDir: string, server: BlastServer, probe: ProbeOutcome, options: GateOptions, print: (text: string) => void): Promise<boolean> {
  const raw = probe.available.find((c) => c.name === 'raw');
  const disgate = probe.available.find((c) => c.name === 'disgate');
  if (raw === undefined || disgate === undefined) {
    for (const u of probe.unavailable) print(`FAIL: contender ${u.name} unavailable: ${u.error}`);
    return false;
  }
  const contenders: ContenderInfo[] = [raw, disgate];
  const compressions = options.compressions.filter((c) => raw.compressions.includes(c) && disgate.compressions.includes(c));
  const cases = await benchIngest(outDir, server, { ...options, compressions, contenders }, print);
  let pass = true;
  const verdicts: string[] = [];
  for (const c of cases) {
    const speed = pairedRatio(c.series, 'disgate', 'raw', eventsPerSecond);
    const cpu = pairedRatio(c.series, 'disgate', 'raw', cpuPer10k);
    const ok = speed >= options.threshold;
    pass &&= ok;
    verdicts.push(
      `${ok ? 'PASS' : 'FAIL'}  ${c.compression.padEnd(11)} ${DISPATCH_NAME[c.kind].padEnd(14)} disgate/raw events/s ${ratio(speed)} (need ≥ ${options.threshold.toFixed(2)}x; CPU ${ratio(cpu)})`,
    );
  }
  print(['### Regression gate', '', ...verdicts, '', pass ? 'gate passed' : 'gate FAILED'].join('\n'));
  return pass;
}
