/**
 * The CI regression gate: a short ingest run of disgate against the raw floor in the same
 * process tree, failing when disgate's events per second drop below a fraction of the floor's
 * in any case. A case below the threshold is run once more and judged on all its runs
 * together, so one noisy round does not fail CI but a real regression still does. Only ratios are compared, never absolute times, so a slow CI machine does not
 * fail it and a fast one does not hide a regression.
 */
import type { BlastServer } from './blast-control.js';
import { DISPATCH_NAME, type PayloadKind } from './fixtures.js';
import { benchIngest, cpuPer10k, eventsPerSecond } from './ingest.js';
import type { Compression } from './scenario.js';
import { pairedRatios, type ContenderInfo, type ProbeOutcome } from './series.js';
import { median, ratio } from './table.js';

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

/** Gate defaults: the 0.75x; workloads and runs come from the runner's --quick defaults. */
export const GATE_DEFAULTS: Pick<GateOptions, 'threshold' | 'timeoutMs'> = {
  threshold: 0.75,
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
    let speeds = pairedRatios(c.series, 'disgate', 'raw', eventsPerSecond);
    let cpus = pairedRatios(c.series, 'disgate', 'raw', cpuPer10k);
    if (!(median(speeds) >= options.threshold)) {
      // A busy neighbour can sink a few short runs; a real regression survives a second round.
      print(`> ${c.compression} ${DISPATCH_NAME[c.kind]} below ${options.threshold.toFixed(2)}x: running it again to confirm\n`);
      const again = await benchIngest(outDir, server, { ...options, compressions: [c.compression], kinds: [c.kind], contenders }, print);
      for (const a of again) {
        speeds = [...speeds, ...pairedRatios(a.series, 'disgate', 'raw', eventsPerSecond)];
        cpus = [...cpus, ...pairedRatios(a.series, 'disgate', 'raw', cpuPer10k)];
      }
    }
    const speed = median(speeds);
    const ok = speed >= options.threshold;
    pass &&= ok;
    verdicts.push(
      `${ok ? 'PASS' : 'FAIL'}  ${c.compression.padEnd(11)} ${DISPATCH_NAME[c.kind].padEnd(14)} disgate/raw events/s ${ratio(speed)} ` +
        `over ${speeds.length} runs (need ≥ ${options.threshold.toFixed(2)}x; CPU ${ratio(median(cpus))})`,
    );
  }
  print(['### Regression gate', '', ...verdicts, '', pass ? 'gate passed' : 'gate FAILED'].join('\n'));
  return pass;
}
