/**
 * For the examples that need Redis: use `REDIS_URL` when set, else start a throwaway
 * `redis-server` from PATH on a free loopback port (persistence off) and stop it afterwards.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createConnection, createServer } from 'node:net';

/** A Redis to use, and how to let go of it. */
export interface ExampleRedis {
  /** `redis://...` for `new Redis(url)`. */
  readonly url: string;
  /** Where it came from, for the log. */
  readonly origin: 'REDIS_URL' | 'redis-server';
  /** Stops the server if this helper started it. */
  stop(): Promise<void>;
}

/**
 * @throws Error when `REDIS_URL` is unset and `redis-server` is not on PATH or does not start
 */
export async function exampleRedis(): Promise<ExampleRedis> {
  const fromEnv = process.env.REDIS_URL;
  if (fromEnv) return { url: fromEnv, origin: 'REDIS_URL', stop: async () => {} };
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'ENOENT'
      ? new Error('this example needs Redis: set REDIS_URL, or put redis-server on PATH')
      : error));
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  // The process must not outlive us, even if the example crashes.
  const kill = (): void => void child.kill('SIGKILL');
  process.once('exit', kill);
  const stop = async (): Promise<void> => {
    process.off('exit', kill);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  };
  failed.catch(() => {}); // raced below; an exit after a successful start is not an error here
  const deadline = Date.now() + 5000;
  while (!(await Promise.race([ping(port), failed]))) {
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server did not answer on port ${port}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { url: `redis://127.0.0.1:${port}`, origin: 'redis-server', stop };
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const finish = (ok: boolean): void => { socket.destroy(); resolve(ok); };
    socket.setTimeout(500, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (chunk) => finish(chunk.toString().startsWith('+PONG')));
  });
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}
