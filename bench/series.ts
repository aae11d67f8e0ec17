/**
 * Running contenders against each other: probing which ones load, and running one benchmark
 * case several times with the contenders interleaved, so that a noisy neighbour or a thermal
 * dip hits all of them alike. Ratios are taken per run (contender ÷ raw floor of the same run)
 * and summarized by their median, as the targets are stated.
 */
import { runChild } from './run-child.js';
import { isCompression, isRecord, type ChildTask, type Compression } from './scenario.js';
import { median } from './table.js';
import { CONTENDER_NAMES } from './contenders/registry.js';

/** A contender that loaded in its probe. */
export interface ContenderInfo {
  /** Registry name (`raw`, `discordjs`, `disgate`). */
  name: string;
  /** Display name. */
  label: string;
  /** Compressions it speaks. */
  compressions: Compression[];
  /** Whether it has a measurable send path. */
  sendPath: boolean;
}

/** Results of {@link probeContenders}. */
export interface ProbeOutcome {
  available: ContenderInfo[];
  /** Contenders that failed to load, with the reason. */
  unavailable: { name: string; error: string }[];
}

/**
 * Loads each contender once in a child process to learn what it supports.
 *
 * @param outDir - the transpiled tree
 * @param names - contenders to probe (default: all registered)
 */
export async function probeContenders(outDir: string, names: readonly string[] = CONTENDER_NAMES): Promise<ProbeOutcome> {
  const outcome: ProbeOutcome = { available: [], unavailable: [] };
  for (const name of names) {
    const result = await runChild(outDir, { bench: 'probe', contender: name });
    if (!result.ok) {
      outcome.unavailable.push({ name, error: firstLine(result.error) });
      continue;
    }
    const r = result.report;
    const compressions = Array.isArray(r.compressions) ? r.compressions.filter(isCompression) : [];
    outcome.available.push({ name, label: typeof r.label === 'string' ? r.label : name, compressions, sendPath: r.sendPath === true });
  }
  return outcome;
}

/** The first line of an error (a stack's message line). */
export function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}

/** Per-contender results of one case: one entry per run, `undefined` where that run failed. */
export interface Series<R> {
  runs: Map<string, (R | undefined)[]>;
  /** Last error per contender that failed at least once. */
  errors: Map<string, string>;
}

/**
 * Runs one case `runs` times. Run `r` visits the contenders in an order rotated by `r`, so none
 * always goes first (first after a pause) or last. A contender that fails twice is dropped for
 * the rest of the case.
 *
 * @param outDir - the transpiled tree
 * @param names - contenders to run, raw first
 * @param runs - how many rounds
 * @param task - builds the child task for a contender
 * @param parse - turns a child report into figures
 * @param progress - called after every child, for a live progress line
 */
export async function interleave<R>(
  outDir: string,
  names: readonly string[],
  runs: number,
  task: (name: string) => ChildTask,
  parse: (report: Record<string, unknown>) => R,
  progress: (done: number, total: number) => void = () => {},
): Promise<Series<R>> {
  const series: Series<R> = { runs: new Map(names.map((n) => [n, []])), errors: new Map() };
  const failures = new Map<string, number>();
  let done = 0;
  for (let r = 0; r < runs; r++) {
    const order = names.map((_, i) => names[(i + r) % names.length] ?? '');
    for (const name of order) {
      const slot = series.runs.get(name) ?? [];
      if ((failures.get(name) ?? 0) >= 2) {
        slot[r] = undefined;
        continue;
      }
      const result = await runChild(outDir, task(name));
      if (result.ok) {
        slot[r] = parse(result.report);
      } else {
        slot[r] = undefined;
        failures.set(name, (failures.get(name) ?? 0) + 1);
        series.errors.set(name, firstLine(result.error));
      }
      progress(++done, runs * names.length);
    }
  }
  return series;
}

/**
 * Rewrites the progress line on stderr (`''` clears it). Silent when stderr is not a terminal,
 * so logs and CI output hold only the tables.
 */
export function progress(text: string): void {
  if (!process.stderr.isTTY) return;
  process.stderr.write(text === '' ? '\r\x1b[K' : `\r\x1b[K  ${text}`);
}

/** The values of `pick` over the successful runs of one contender. */
export function values<R>(series: Series<R>, name: string, pick: (r: R) => number): number[] {
  return (series.runs.get(name) ?? []).flatMap((r) => (r === undefined ? [] : [pick(r)]));
}

/**
 * The per-run ratios `pick(contender) / pick(baseline)`, pairing each run with the baseline's
 * figure from the same round; runs where either side failed are left out.
 */
export function pairedRatios<R>(series: Series<R>, name: string, baseline: string, pick: (r: R) => number): number[] {
  const mine = series.runs.get(name) ?? [];
  const base = series.runs.get(baseline) ?? [];
  const ratios: number[] = [];
  mine.forEach((r, i) => {
    const b = base[i];
    if (r !== undefined && b !== undefined) ratios.push(pick(r) / pick(b));
  });
  return ratios;
}

/** The median of {@link pairedRatios}; NaN when no round has both figures. */
export function pairedRatio<R>(series: Series<R>, name: string, baseline: string, pick: (r: R) => number): number {
  return median(pairedRatios(series, name, baseline, pick));
}

/** Narrowing helper for child reports: every key must hold a finite number. */
export function numbers<K extends string>(report: Record<string, unknown>, keys: readonly K[]): Record<K, number> {
  const out: Partial<Record<K, number>> = {};
  for (const key of keys) {
    const value = report[key];
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new TypeError(`report lacks a number at "${key}"`);
    out[key] = value;
  }
  if (!isComplete(out, keys)) throw new TypeError('report incomplete');
  return out;
}

function isComplete<K extends string>(out: Partial<Record<K, number>>, keys: readonly K[]): out is Record<K, number> {
  return isRecord(out) && keys.every((k) => typeof out[k] === 'number');
}
