/**
 * Runs one {@link ChildTask} in a fresh `node` process and returns the child's report.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { isRecord, type ChildResult, type ChildTask } from './scenario.js';

/**
 * Spawns `<outDir>/bench/child.js` for `task` and parses the last JSON line it prints.
 * A child that crashes or prints nothing usable yields `{ ok: false }` with its stderr.
 *
 * @param outDir - the transpiled tree from {@link buildBench}
 * @param task - what the child should do
 */
export function runChild(outDir: string, task: ChildTask): Promise<ChildResult<Record<string, unknown>>> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', join(outDir, 'bench', 'child.js'), JSON.stringify(task)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('close', (code) => {
      const line = stdout.trimEnd().split('\n').reverse().find((l) => l.startsWith('{"ok"'));
      if (line !== undefined) {
        const parsed: unknown = JSON.parse(line);
        if (isRecord(parsed) && parsed.ok === true && isRecord(parsed.report)) return resolve({ ok: true, report: parsed.report });
        if (isRecord(parsed) && typeof parsed.error === 'string') return resolve({ ok: false, error: parsed.error });
      }
      resolve({ ok: false, error: `child exited with ${code}: ${stderr.trim().split('\n').slice(-5).join(' | ') || '(no output)'}` });
    });
  });
}
