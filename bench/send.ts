/**
 * Send-path benchmark: the cost of one presence update (op 3) through a contender's ordinary
 * send path, limiter present but not limiting, each send awaited before the next, beside the
 * raw floor's `ws.send(JSON.stringify(...))`. Building the payload is part of both loops
 * (an object literal for raw, `new UpdateStatusData(...)` with its validation for disgate).
 */
import type { BlastServer } from './blast-control.js';
import { interleave, progress, numbers, pairedRatio, values, type ContenderInfo, type Series } from './series.js';
import type { SendReport } from './scenario.js';
import { median, min, num, ratio, renderTable } from './table.js';

/** Options of {@link benchSend}. */
export interface SendOptions {
  runs: number;
  /** Sends in the measured loop. */
  sends: number;
  /** Sends before measuring (JIT warm-up). */
  warmup: number;
  contenders: readonly ContenderInfo[];
  timeoutMs: number;
}

/**
 * Runs the send benchmark for every contender with a send path and prints its table.
 *
 * @param outDir - the transpiled tree
 * @param server - the blast server
 * @param options - loop sizes and contenders
 * @param print - where the table goes
 */
export async function benchSend(outDir: string, server: BlastServer, options: SendOptions, print: (text: string) => void): Promise<Series<SendReport>> {
  await server.setScenario({ mode: 'idle', kind: 'message', count: 0, heartbeatInterval: 41250 });
  const contenders = options.contenders.filter((c) => c.sendPath);
  const series = await interleave(
    outDir,
    contenders.map((c) => c.name),
    options.runs,
    (contender) => ({ bench: 'send', contender, target: server.target('none', 1), sends: options.sends, warmup: options.warmup, timeoutMs: options.timeoutMs }),
    (report): SendReport => numbers(report, ['sends', 'wallNsPerSend', 'cpuNsPerSend']),
    (done, total) => progress(`send: ${done}/${total}`),
  );
  progress('');
  print(sendTable(series, contenders, options));
  return series;
}

/** The send table. */
export function sendTable(series: Series<SendReport>, contenders: readonly ContenderInfo[], options: SendOptions): string {
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const contender of contenders) {
    const wall = values(series, contender.name, (r) => r.wallNsPerSend);
    const cpu = values(series, contender.name, (r) => r.cpuNsPerSend);
    const isRaw = contender.name === 'raw';
    rows.push([
      contender.label,
      num(median(wall)),
      num(min(wall)),
      num(median(cpu)),
      num(min(cpu)),
      isRaw ? '1.00x' : ratio(pairedRatio(series, contender.name, 'raw', (r) => r.wallNsPerSend)),
      isRaw ? '1.00x' : ratio(pairedRatio(series, contender.name, 'raw', (r) => r.cpuNsPerSend)),
    ]);
    const error = series.errors.get(contender.name);
    if (error !== undefined) notes.push(`${contender.label} failed ${options.runs - wall.length} of ${options.runs} runs: ${error}`);
  }
  const skipped = options.contenders.filter((c) => !c.sendPath).map((c) => c.label);
  if (skipped.length > 0) notes.push(`not measured (send limiter cannot be widened): ${skipped.join(', ')}`);
  const title = `Send path: ${num(options.sends)} presence updates, each awaited (${options.runs} runs)`;
  const table = renderTable(['contender', 'ns/send med', 'ns/send min', 'CPU ns/send med', 'CPU ns/send min', 'time vs raw', 'CPU vs raw'], rows);
  return [`### ${title}`, '', table, ...notes.map((n) => `\n> ${n}`), ''].join('\n');
}
