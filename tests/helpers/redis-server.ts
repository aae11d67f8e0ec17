import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createConnection, createServer, type Socket } from 'node:net';

/** A private `redis-server` for one test file. */
export interface RedisServer {
  /** The loopback port it listens on. */
  readonly port: number;
  /** `redis://127.0.0.1:<port>`, for `new Redis(url)`. */
  readonly url: string;
  /** Kills the server and waits for it to exit. Safe to call twice. */
  stop(): Promise<void>;
}

const START_TIMEOUT = 5000;

/**
 * Starts a throwaway `redis-server` (from PATH) on a free loopback port with persistence off,
 * and resolves once it answers PING. The server is killed by `stop()` and, failing that, when
 * the test process exits.
 *
 * @throws Error when `redis-server` is not installed (`.ci/run` installs it) or does not start
 */
export async function startRedisServer(): Promise<RedisServer> {
  let lastError: unknown;
  // A port found free may be taken before redis binds it; try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await launch(await freePort());
    } catch (error) {
      if (error instanceof RedisMissingError) throw error;
      lastError = error;
    }
  }
  throw lastError;
}

class RedisMissingError extends Error {
  constructor() {
    super('redis-server is not on PATH. The Redis tests need a real server: `.ci/run` installs it (apt-get install -y redis-server).');
  }
}

/** Servers not stopped yet; killed if the test process exits or is told to stop first. */
const running = new Set<ChildProcess>();
let hooksInstalled = false;

function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/**
 * 'exit' covers a normal end (and process.exit); a signal ends the process without 'exit', so
 * kill the servers, then re-raise the signal with its default action.
 */
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll();
      process.kill(process.pid, signal);
    });
  }
}

async function launch(port: number): Promise<RedisServer> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  // The server must not keep the test process alive; the exit hooks kill it.
  child.unref();
  (child.stdout as Socket | null)?.unref();
  (child.stderr as Socket | null)?.unref();
  running.add(child);
  installExitHooks();

  const stop = async (): Promise<void> => {
    running.delete(child);
    if (child.exitCode !== null || child.signalCode !== null) return;
    // Unref'd at start; ref again, or nothing would keep the loop alive until it has exited.
    child.ref();
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  };

  try {
    await waitForPing(child, port, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, url: `redis://127.0.0.1:${port}`, stop };
}

async function waitForPing(child: ChildProcess, port: number, output: () => string): Promise<void> {
  let spawnError: NodeJS.ErrnoException | undefined;
  child.once('error', (error: NodeJS.ErrnoException) => (spawnError = error));
  const deadline = Date.now() + START_TIMEOUT;
  while (Date.now() < deadline) {
    if (spawnError?.code === 'ENOENT') throw new RedisMissingError();
    if (spawnError) throw spawnError;
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode} on port ${port}:\n${output()}`);
    if (await ping(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`redis-server did not answer PING on port ${port} within ${START_TIMEOUT} ms:\n${output()}`);
}

/** True when something on the port answers `PING` with `+PONG`. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) finish(reply.startsWith('+PONG'));
    });
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('could not find a free port');
  return address.port;
}
