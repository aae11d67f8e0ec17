/**
 * Runs every file in examples/ as its own process, the way a user would (`tsx`), without
 * DISCORD_TOKEN so each one starts the built-in GatewaySimulator, and checks that it prints
 * something and exits 0 on its own. New examples are picked up automatically.
 *
 * An example declares what else it needs in a comment before its first import:
 * `// needs: redis` starts a private redis-server and passes its URL as REDIS_URL.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRedisServer, type RedisServer } from './helpers/redis-server.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLES = join(ROOT, 'examples');
/** An example that has not exited after this long has hung (the slowest takes a few seconds). */
const EXAMPLE_TIMEOUT_MS = 90_000;

/** What a `// needs: <name>` line provides: environment variables for the child. */
interface Need {
  setup(): Promise<Record<string, string>>;
  teardown(): Promise<void>;
}

let redis: Promise<RedisServer> | undefined;
const NEEDS: Readonly<Record<string, Need>> = {
  redis: {
    async setup() {
      redis ??= startRedisServer();
      return { REDIS_URL: (await redis).url };
    },
    async teardown() {
      if (redis) await (await redis).stop();
      redis = undefined;
    },
  },
};

interface Example {
  name: string;
  path: string;
  needs: string[];
}

/** Reads the `// needs:` lines of the example's header (everything before its first import). */
function needsOf(source: string): string[] {
  const header = source.split(/^import\s/m)[0] ?? '';
  const needs: string[] = [];
  for (const match of header.matchAll(/^\s*\/\/\s*needs:\s*(.+)$/gm)) {
    needs.push(...match[1]!.split(/[\s,]+/).filter(Boolean));
  }
  return needs;
}

function findExamples(): Example[] {
  return readdirSync(EXAMPLES, { withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.(ts|mts|js|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts'))
    .map((entry) => {
      const path = join(EXAMPLES, entry.name);
      return { name: entry.name, path, needs: needsOf(readFileSync(path, 'utf8')) };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

function run(path: string, env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    // Examples talk to Discord when a token is set; here they must use the simulator.
    delete childEnv.DISCORD_TOKEN;
    const child = spawn(process.execPath, ['--import', 'tsx', path], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, EXAMPLE_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

const tail = (text: string, lines = 30): string => text.trimEnd().split('\n').slice(-lines).join('\n');

const examples = findExamples();

describe('examples/', () => {
  it('holds the examples the documentation points to', () => {
    const names = new Set(examples.map((e) => e.name));
    for (const name of [
      'custom-ratelimiter.ts', 'request-guild-members.ts', 'update-presence.ts', 'voice.ts', 'soundboard.ts', 'rate-limit-status.ts',
    ]) {
      assert.ok(names.has(name), `examples/${name} is missing`);
    }
  });

  it('declares only needs this runner knows', () => {
    for (const example of examples) {
      for (const need of example.needs) assert.ok(need in NEEDS, `examples/${example.name} needs "${need}", which tests/examples.test.ts cannot provide`);
    }
  });

  it('reads needs from the header only', () => {
    assert.deepEqual(needsOf('/** Uses Redis. */\n// needs: redis\nimport x from "y";\n// needs: other\n'), ['redis']);
    assert.deepEqual(needsOf('// needs: redis, postgres\nimport x from "y";'), ['redis', 'postgres']);
    assert.deepEqual(needsOf('import x from "y";\n'), []);
  });
});

describe('every example runs against the simulator and exits 0 on its own', { concurrency: 4 }, () => {
  const used = new Set(examples.flatMap((e) => e.needs).filter((n) => n in NEEDS));
  before(async () => {
    // Start shared services once, before the examples run side by side.
    for (const need of used) await NEEDS[need]!.setup();
  });
  after(async () => {
    for (const need of used) await NEEDS[need]!.teardown();
  });

  for (const example of examples) {
    const label = relative(ROOT, example.path) + (example.needs.length ? ` (needs ${example.needs.join(', ')})` : '');
    it(label, { timeout: EXAMPLE_TIMEOUT_MS + 30_000 }, async () => {
      const env: Record<string, string> = {};
      for (const need of example.needs) {
        const provider = NEEDS[need];
        assert.ok(provider, `unknown need "${need}"`);
        Object.assign(env, await provider.setup());
      }
      const result = await run(example.path, env);
      const output = `--- stdout ---\n${tail(result.stdout)}\n--- stderr ---\n${tail(result.stderr)}`;
      assert.ok(!result.timedOut, `did not exit within ${EXAMPLE_TIMEOUT_MS} ms\n${output}`);
      assert.equal(result.code, 0, `exited with ${result.code ?? result.signal}\n${output}`);
      assert.ok(result.stdout.trim().length > 0, `printed nothing\n${output}`);
    });
  }
});
