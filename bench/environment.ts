/**
 * The lines that head every benchmark report: what ran, where, and on which commit, so numbers
 * pasted into an issue can be compared with the next ones.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';

/** A short description of the machine and the code under test. */
export function describeEnvironment(root: string): string {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'lib', 'types'], { cwd: root, encoding: 'utf8' }).trim();
    if (dirty !== '') commit += ' (lib/ or types/ modified)';
  } catch {
    // Not a git checkout: report without a commit.
  }
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  return [
    `Node ${process.versions.node} (${process.platform}/${process.arch}), ${cpu}, ${availableParallelism()} cores, ${Math.round(totalmem() / 2 ** 30)} GB`,
    `commit ${commit}, ${new Date().toISOString()}, load average at start ${load}`,
  ].join('\n');
}
