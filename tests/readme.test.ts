/**
 * The README is what a new bot developer copies from, so its code and tables are checked against
 * the library: every TypeScript block compiles against the sources, the quick start runs against
 * the GatewaySimulator, and the send-event and close-code tables match the code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import ts from 'typescript';
import * as disgate from '../lib/index.js';
import { GatewaySimulator } from '../lib/testing/index.js';

const execFileAsync = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The body of every ```ts block, with the heading it appears under. */
function tsBlocks(markdown: string): Array<{ heading: string; code: string }> {
  const blocks: Array<{ heading: string; code: string }> = [];
  let heading = '';
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('#')) heading = line.replace(/^#+\s*/, '');
    const fence = /^(\s*)```ts\s*$/.exec(line);
    if (!fence) continue;
    const indent = fence[1]!.length;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i]!.trim() !== '```'; i++) body.push(lines[i]!.slice(indent));
    blocks.push({ heading, code: body.join('\n') });
  }
  return blocks;
}

/** Rows of the first Markdown table after `marker`, as cell arrays (header and rule skipped). */
function tableAfter(markdown: string, marker: string): string[][] {
  const start = markdown.indexOf(marker);
  assert.ok(start >= 0, `README has no "${marker}"`);
  const lines = markdown.slice(start).split('\n');
  const first = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.slice(1, -1).split('|').map((c) => c.trim()));
  }
  return rows;
}

test('every TypeScript block of the README compiles against the library', () => {
  const blocks = tsBlocks(README);
  assert.ok(blocks.length >= 4, `found ${blocks.length} blocks`);
  const files = new Map(blocks.map((b, i) => [join(ROOT, 'tests', `__readme_block_${i}.ts`), b]));
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2023,
    lib: ['lib.es2023.d.ts'],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: ['node'],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    baseUrl: ROOT,
    paths: { disgate: ['./lib/index.ts'], 'disgate/testing': ['./lib/testing/index.ts'] },
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, onError, create) => {
    const block = files.get(name);
    return block ? ts.createSourceFile(name, block.code, version) : getSourceFile(name, version, onError, create);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => files.has(name) || fileExists(name);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => files.get(name)?.code ?? readFile(name);
  const program = ts.createProgram([...files.keys()], options, host);
  const problems = ts.getPreEmitDiagnostics(program)
    .filter((d) => d.file && files.has(d.file.fileName))
    .map((d) => {
      const block = files.get(d.file!.fileName)!;
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
      return `README block under "${block.heading}", line ${line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
  assert.deepEqual(problems, []);
});

test('the quick start runs against the GatewaySimulator', async (t) => {
  const quickStart = tsBlocks(README).find((b) => b.heading === 'Quick start');
  assert.ok(quickStart, 'no TypeScript block under "Quick start"');
  const sim = await GatewaySimulator.create({ guilds: [{ id: '81384788765712384', members: 5 }] });
  const dir = await mkdtemp(join(tmpdir(), 'disgate-readme-'));
  t.after(async () => {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  });
  // The snippet as printed, pointed at the simulator instead of discord.com.
  const code = quickStart.code
    .replace("from 'disgate'", `from '${pathToFileURL(join(ROOT, 'lib/index.ts')).href}'`)
    .replace('new Client({', `new Client({ apiURL: '${sim.apiURL}',`);
  assert.notEqual(code, quickStart.code);
  const file = join(dir, 'quick-start.mts');
  await writeFile(file, code);
  // A child process, so a snippet that fails cannot leave a connected bot in this one.
  // `bot.close()` resolves once the close frame is handed to the socket; the simulator sees it,
  // after every frame sent before it, a moment later.
  const closed = sim.waitFor('close', { timeout: 30_000 });
  closed.catch(() => {}); // awaited below; if the child fails first, sim.close() rejects it
  await execFileAsync(process.execPath, ['--import', 'tsx', file], {
    cwd: ROOT,
    env: { ...process.env, DISCORD_TOKEN: 'test-token' },
    timeout: 30_000,
  });
  await closed;

  const sent = sim.frames.filter((f) => f.direction === 'in');
  const ops = sent.map((f) => f.op);
  assert.ok(ops.includes(2), 'identified');
  assert.deepEqual(sent.find((f) => f.op === 8)?.d, { guild_id: '81384788765712384', query: '', limit: 0 });
  assert.deepEqual(sent.find((f) => f.op === 3)?.d, { since: null, activities: [], status: 'idle', afk: false });
  assert.equal(sim.connections, 0, 'bot.close() closed the connection');
});

test('the send-event table lists every send-event class with its opcode', () => {
  const rows = tableAfter(README, '| Discord send event |');
  const table = new Map(rows.map((cells) => [cells[1]!.replace(/`/g, ''), Number(cells[2])]));
  const classes = new Map<string, number>();
  for (const [name, value] of Object.entries(disgate)) {
    if (typeof value === 'function' && value.prototype instanceof disgate.SendEvent) {
      classes.set(name, (value as unknown as { op: number }).op);
    }
  }
  assert.deepEqual(table, classes);
});

test('the close-code table matches CLOSE_CODES', () => {
  const rows = tableAfter(README, '| code | meaning | reconnect | next connection |');
  const listed = new Set<number>();
  for (const [codes, , reconnect, next] of rows) {
    const numbers = (codes!.match(/\b\d{4}\b/g) ?? []).map(Number);
    const known = numbers.filter((code) => code in disgate.CLOSE_CODES);
    for (const code of known) {
      const policy = disgate.closeCodePolicy(code);
      listed.add(code);
      assert.equal(reconnect!.startsWith('yes'), policy.reconnect, `reconnect for ${code}`);
      if (policy.reconnect) assert.equal(next, policy.newSession ? 'new session' : 'resume', `next connection after ${code}`);
    }
    if (known.length === 0) {
      // The catch-all row: codes absent from the table reconnect and resume.
      assert.equal(reconnect, disgate.DEFAULT_CLOSE_POLICY.reconnect ? 'yes' : 'no');
      assert.equal(next, disgate.DEFAULT_CLOSE_POLICY.newSession ? 'new session' : 'resume');
    }
  }
  assert.deepEqual([...listed].sort(), Object.keys(disgate.CLOSE_CODES).map(Number).sort());
});

test('the README states the per-connection budget the code computes', () => {
  assert.equal(120 - disgate.heartbeatReserve(41_250), 117);
  assert.match(README, /\*\*117\*\* at Discord's usual 41250 ms interval/);
});
