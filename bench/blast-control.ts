/**
 * The runner's handle on the blast server child: forks it, learns its port, switches its
 * scenario between cases, and stops it.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { isRecord, type ServerScenario, type Target, type Compression } from './scenario.js';

/** A running blast server. */
export class BlastServer {
  private constructor(
    private readonly child: ChildProcess,
    /** The loopback port it listens on (HTTP and WebSocket). */
    readonly port: number,
    /** Whether it speaks TLS (`https://`, `wss://`). */
    readonly tls: boolean,
  ) {}

  /**
   * Forks `<outDir>/bench/blast-server.js` and waits until it listens.
   *
   * @param outDir - the transpiled tree from {@link buildBench}
   * @param tls - PEM files of a key and certificate for 127.0.0.1: serve TLS, as Discord does
   * @throws Error when the server exits before listening
   */
  static async start(outDir: string, tls?: { key: string; cert: string }): Promise<BlastServer> {
    const env = tls ? { ...process.env, BLAST_TLS_KEY: tls.key, BLAST_TLS_CERT: tls.cert } : process.env;
    const child = fork(join(outDir, 'bench', 'blast-server.js'), [], {
      env,
      execPath: process.execPath,
      execArgv: ['--max-old-space-size=4096'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const port = await new Promise<number>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`blast server exited with ${code} before listening`)));
      child.on('message', (message: unknown) => {
        if (isRecord(message) && message.type === 'listening' && typeof message.port === 'number') resolve(message.port);
      });
    });
    return new BlastServer(child, port, tls !== undefined);
  }

  /** Where contenders connect, for one compression. */
  target(compression: Compression, intents: number): Target {
    return {
      gatewayURL: `${this.tls ? 'wss' : 'ws'}://127.0.0.1:${this.port}`,
      apiURL: `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port}/api/v10`,
      token: 'bench-token',
      intents,
      compression,
    };
  }

  /** Switches what the server does with new connections; resolves once its payloads are built. */
  async setScenario(scenario: ServerScenario): Promise<void> {
    const ready = new Promise<void>((resolve) => {
      const onMessage = (message: unknown): void => {
        if (isRecord(message) && message.type === 'scenario-ready') {
          this.child.off('message', onMessage);
          resolve();
        }
      };
      this.child.on('message', onMessage);
    });
    this.child.send({ type: 'scenario', scenario });
    await ready;
  }

  /** Stops the server. */
  stop(): void {
    this.child.disconnect();
    this.child.kill();
  }
}
