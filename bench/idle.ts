/**
 * Idle-sessions benchmark: what each connected, heartbeating but otherwise quiet session costs
 * in memory, and how long it takes to bring them all to READY. The blast server sends Hello
 * (with a short heartbeat interval, so every session beats several times while settling),
 * READY, and heartbeat ACKs; nothing else.
 */
import type { BlastServer } from './blast-control.js';
import { interleave, progress, numbers, pairedRatio, pairedRatios, values, type ContenderInfo, type Series } from './series.js';
import { isRecord, type Compression, type IdleReport } from './scenario.js';
import { median, min, num, ratio, renderTable } from './table.js';

/** GUILDS only: idle sessions need no message intents. */
const IDLE_INTENTS = 1;

/** Options of {@link benchIdle}. */
export interface IdleOptions {
  runs: number;
  /** Sessions per contender per run. */
  sessions: number;
  /** `heartbeat_interval` the server announces, ms. */
  heartbeatInterval: number;
  /** How long sessions idle (heartbeating) after the last READY before memory is read, ms. */
  settleMs: number;
  compressions: readonly Compression[];
  contenders: readonly ContenderInfo[];
  timeoutMs: number;
}

/** One compression, with every contender's runs. */
export interface IdleCase {
  compression: Compression;
  series: Series<IdleReport>;
}

/**
 * Runs one case per compression and prints each table as soon as it is done.
 *
 * @param outDir - the transpiled tree
 * @param server - the blast server
 * @param options - sessions, timing and contenders
 * @param print - where tables and notes go
 */
export async function benchIdle(outDir: string, server: BlastServer, options: IdleOptions, print: (text: string) => void): Promise<IdleCase[]> {
  await server.setScenario({ mode: 'idle', kind: 'message', count: 0, heartbeatInterval: options.heartbeatInterval });
  const cases: IdleCase[] = [];
  for (const compression of options.compressions) {
    const names = options.contenders.filter((c) => c.compressions.includes(compression)).map((c) => c.name);
    if (names.length === 0) continue;
    const series = await interleave(
      outDir,
      names,
      options.runs,
      (contender) => ({
        bench: 'idle', contender, target: server.target(compression, IDLE_INTENTS), sessions: options.sessions,
        settleMs: options.settleMs, timeoutMs: options.timeoutMs,
      }),
      parseIdleReport,
      (done, total) => progress(`idle ${compression}: ${done}/${total}`),
    );
    progress('');
    const result = { compression, series };
    cases.push(result);
    print(idleTable(result, options));
  }
  return cases;
}

/**
 * Narrows a child's idle report. A report without marginal figures is valid (the contender
 * could not open a second batch); one without the first batch's figures is not.
 *
 * @param report - the child's JSON report
 * @throws TypeError when a figure is missing or not a finite number
 */
export function parseIdleReport(report: Record<string, unknown>): IdleReport {
  const figures = numbers(report, ['sessions', 'readyMs', 'rssPerSessionKB', 'heapPerSessionKB']);
  const marginal = report.marginal;
  if (!isRecord(marginal)) throw new TypeError('report lacks "marginal"');
  if (marginal.ok === true) return { ...figures, marginal: { ok: true, ...numbers(marginal, ['rssPerSessionKB', 'heapPerSessionKB']) } };
  return { ...figures, marginal: { ok: false, error: typeof marginal.error === 'string' ? marginal.error : 'no reason given' } };
}

/** A marginal figure of one run; NaN where the run has none, so callers can drop it. */
type MarginalPick = (r: IdleReport) => number;

const MARGINAL_RSS: MarginalPick = (r) => (r.marginal.ok ? r.marginal.rssPerSessionKB : Number.NaN);
const MARGINAL_HEAP: MarginalPick = (r) => (r.marginal.ok ? r.marginal.heapPerSessionKB : Number.NaN);

/** The median per-run ratio of a marginal figure to the raw floor's, over rounds where both have one. */
function marginalRatio(series: Series<IdleReport>, name: string, pick: MarginalPick): number {
  return median(pairedRatios(series, name, 'raw', pick).filter(Number.isFinite));
}

/** The table of one case. */
export function idleTable(result: IdleCase, options: IdleOptions): string {
  const { series } = result;
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const contender of options.contenders) {
    if (!series.runs.has(contender.name)) continue;
    const rss = values(series, contender.name, (r) => r.rssPerSessionKB);
    const heap = values(series, contender.name, (r) => r.heapPerSessionKB);
    const ready = values(series, contender.name, (r) => r.readyMs);
    const marginalRss = values(series, contender.name, MARGINAL_RSS).filter(Number.isFinite);
    const marginalHeap = values(series, contender.name, MARGINAL_HEAP).filter(Number.isFinite);
    const isRaw = contender.name === 'raw';
    const rawMarginal = (figures: readonly number[]): string => (figures.length > 0 ? '1.00x' : '–');
    rows.push([
      contender.label,
      num(median(rss), 1),
      num(min(rss), 1),
      num(median(heap), 1),
      num(min(heap), 1),
      num(median(ready)),
      num(min(ready)),
      isRaw ? '1.00x' : ratio(pairedRatio(series, contender.name, 'raw', (r) => r.rssPerSessionKB)),
      isRaw ? '1.00x' : ratio(pairedRatio(series, contender.name, 'raw', (r) => r.heapPerSessionKB)),
      num(median(marginalRss), 1),
      num(median(marginalHeap), 1),
      isRaw ? rawMarginal(marginalRss) : ratio(marginalRatio(series, contender.name, MARGINAL_RSS)),
      isRaw ? rawMarginal(marginalHeap) : ratio(marginalRatio(series, contender.name, MARGINAL_HEAP)),
    ]);
    const error = series.errors.get(contender.name);
    if (error !== undefined) notes.push(`${contender.label} failed ${options.runs - rss.length} of ${options.runs} runs: ${error}`);
    const missing = (series.runs.get(contender.name) ?? []).flatMap((r) => (r === undefined || r.marginal.ok ? [] : [r.marginal.error]));
    const last = missing.at(-1);
    if (last !== undefined) {
      notes.push(`${contender.label}: no marginal figure in ${missing.length} of ${rss.length} runs (its second batch failed: ${last})`);
    }
  }
  const title = `Idle sessions: ${options.sessions} per process, compression ${result.compression}, heartbeat every ${num(options.heartbeatInterval)} ms (${options.runs} runs)`;
  const table = renderTable(
    [
      'contender', 'RSS KB/session med', 'RSS KB/session min', 'heap KB/session med', 'heap KB/session min', 'all READY ms med', 'all READY ms min',
      'RSS vs raw', 'heap vs raw', 'marginal RSS KB/session med', 'marginal heap KB/session med', 'marginal RSS vs raw', 'marginal heap vs raw',
    ],
    rows,
  );
  return [`### ${title}`, '', table, ...notes.map((n) => `\n> ${n}`), ''].join('\n');
}
