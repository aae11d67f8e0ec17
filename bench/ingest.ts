/**
 * Ingest benchmark: how fast each contender turns a stream of dispatches into handler calls.
 * The blast server streams N dispatches right after READY; the child times from the first
 * handler call to the last and reports events per second, CPU per 10k events and peak RSS.
 */
import { DISPATCH_NAME, type PayloadKind } from './fixtures.js';
import type { BlastServer } from './blast-control.js';
import { interleave, progress, numbers, pairedRatio, values, type ContenderInfo, type Series } from './series.js';
import type { Compression, IngestReport } from './scenario.js';
import { max, median, min, num, ratio, renderTable } from './table.js';

/** GUILDS | GUILD_MESSAGES | MESSAGE_CONTENT: what a bot reading messages identifies with. */
export const INGEST_INTENTS = 1 | 512 | 32768;

/** Options of {@link benchIngest}. */
export interface IngestOptions {
  runs: number;
  compressions: readonly Compression[];
  kinds: readonly PayloadKind[];
  /** Dispatches per run, per payload kind. */
  counts: Readonly<Record<PayloadKind, number>>;
  contenders: readonly ContenderInfo[];
  timeoutMs: number;
}

/** One compression × payload kind, with every contender's runs. */
export interface IngestCase {
  compression: Compression;
  kind: PayloadKind;
  count: number;
  series: Series<IngestReport>;
}

/** Events per second of one run, over the timed (post-warm-up) span. */
export const eventsPerSecond = (r: IngestReport): number => (r.measured * 1000) / r.wallMs;
/** CPU ms the child spent per 10,000 events of the timed span (GC helper threads included). */
export const cpuPer10k = (r: IngestReport): number => (r.cpuMs * 10_000) / r.measured;

/**
 * Runs every case and prints its table as soon as it is done.
 *
 * @param outDir - the transpiled tree
 * @param server - the blast server
 * @param options - cases, runs and contenders
 * @param print - where tables and notes go
 */
export async function benchIngest(outDir: string, server: BlastServer, options: IngestOptions, print: (text: string) => void): Promise<IngestCase[]> {
  const cases: IngestCase[] = [];
  for (const compression of options.compressions) {
    for (const kind of options.kinds) {
      const names = options.contenders.filter((c) => c.compressions.includes(compression)).map((c) => c.name);
      if (names.length === 0) continue;
      const count = options.counts[kind];
      await server.setScenario({ mode: 'blast', kind, count, heartbeatInterval: 41250 });
      const series = await interleave(
        outDir,
        names,
        options.runs,
        (contender) => ({ bench: 'ingest', contender, target: server.target(compression, INGEST_INTENTS), kind, count, timeoutMs: options.timeoutMs }),
        (report): IngestReport => numbers(report, ['events', 'measured', 'wallMs', 'cpuMs', 'peakRssMB']),
        (done, total) => progress(`ingest ${compression} ${kind}: ${done}/${total}`),
      );
      progress('');
      const result = { compression, kind, count, series };
      cases.push(result);
      print(ingestTable(result, options.contenders, options.runs));
    }
  }
  return cases;
}

/** The table of one case. */
export function ingestTable(result: IngestCase, contenders: readonly ContenderInfo[], runs: number): string {
  const { series } = result;
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const contender of contenders) {
    if (!series.runs.has(contender.name)) continue;
    const rate = values(series, contender.name, eventsPerSecond);
    const cpu = values(series, contender.name, cpuPer10k);
    const rss = values(series, contender.name, (r) => r.peakRssMB);
    rows.push([
      contender.label,
      num(median(rate)),
      num(max(rate)),
      num(median(cpu), 1),
      num(min(cpu), 1),
      num(median(rss), 1),
      num(min(rss), 1),
      contender.name === 'raw' ? '1.00x' : ratio(pairedRatio(series, contender.name, 'raw', eventsPerSecond)),
      contender.name === 'raw' ? '1.00x' : ratio(pairedRatio(series, contender.name, 'raw', cpuPer10k)),
    ]);
    const error = series.errors.get(contender.name);
    if (error !== undefined) notes.push(`${contender.label} failed ${runs - rate.length} of ${runs} runs: ${error}`);
  }
  // The raw floor should keep a core busy; if it idles, the server (not the client) set the pace.
  const rawBusy = median(values(series, 'raw', (r) => r.cpuMs / r.wallMs));
  if (rawBusy < 0.85) notes.push(`raw used only ${Math.round(rawBusy * 100)}% of a core: events/s may be bounded by the blast server; compare CPU instead`);
  const title = `Ingest: ${num(result.count)} × ${DISPATCH_NAME[result.kind]}, compression ${result.compression} (${runs} runs)`;
  const table = renderTable(
    ['contender', 'events/s med', 'events/s best', 'CPU ms/10k med', 'CPU ms/10k min', 'peak RSS MB med', 'peak RSS MB min', 'events/s vs raw', 'CPU vs raw'],
    rows,
  );
  return [`### ${title}`, '', table, ...notes.map((n) => `\n> ${n}`), ''].join('\n');
}
