import { mock } from 'node:test';
import { performance } from 'node:perf_hooks';
import { Client, Session, GatewayIntentBits, type ClientOptions, type SessionCloseEvent } from '../../lib/index.js';
import { GatewaySimulator, type GatewaySimulatorOptions } from '../../lib/testing/index.js';

export const TOKEN = 'test-token-9f8e7d6c5b4a';

/** Waits on the simulator run on fake time; tests advance it by minutes, so give them hours. */
export const LONG = { timeout: 3_600_000 };

/** A simulator, a bot pointed at it and one session, with fake timers and everything recorded. */
export interface Harness {
  sim: GatewaySimulator;
  bot: Client;
  session: Session;
  errors: Error[];
  closes: SessionCloseEvent[];
  debug: string[];
  /** Advances fake time in steps, letting real I/O run between them. */
  advance(ms: number, step?: number): Promise<void>;
  /** Advances fake time in steps until `condition` holds (at most `max` ms of fake time). */
  advanceUntil(condition: () => boolean, what: string, options?: { step?: number; max?: number }): Promise<void>;
  cleanup(): Promise<void>;
}

export interface HarnessOptions {
  sim?: GatewaySimulatorOptions;
  client?: Partial<ClientOptions>;
  shard?: [number, number];
  /** Enable fake timers (default true). */
  fakeTimers?: boolean;
}

/** Lets pending I/O and due (fake) timers run until `condition` holds; fails after 5 s of real time. */
export async function eventually(condition: () => boolean, what = 'condition', fakeTimers = true): Promise<void> {
  const deadline = performance.now() + 5000;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    if (fakeTimers) mock.timers.tick(0);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Waits `ms` of real time without timers (they may be fake). */
export async function pause(ms: number): Promise<void> {
  const until = performance.now() + ms;
  while (performance.now() < until) await new Promise((resolve) => setImmediate(resolve));
}

/** Lets I/O settle: a few turns of the event loop. */
export async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

export async function harness(options: HarnessOptions = {}): Promise<Harness> {
  const fake = options.fakeTimers ?? true;
  if (fake) mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: 1_700_000_000_000 });
  const sim = new GatewaySimulator({ token: TOKEN, ...options.sim });
  await sim.start();
  const bot = new Client({
    token: TOKEN,
    intents: GatewayIntentBits.Guilds | GatewayIntentBits.GuildMessages,
    apiURL: sim.apiURL,
    compression: 'none',
    ...options.client,
  });
  const errors: Error[] = [];
  const closes: SessionCloseEvent[] = [];
  const debug: string[] = [];
  bot.on('error', (e) => errors.push(e));
  bot.on('close', (e) => closes.push(e));
  bot.on('debug', (m) => debug.push(m));
  bot.on('warn', (m) => debug.push(m));
  const session = new Session({ shard: options.shard ?? [0, 1] });
  return {
    sim, bot, session, errors, closes, debug,
    async advance(ms, step = 250) {
      for (let done = 0; done < ms; done += step) {
        mock.timers.tick(Math.min(step, ms - done));
        await settle(5);
      }
    },
    async advanceUntil(condition, what, { step = 100, max = 600_000 } = {}) {
      for (let done = 0; !condition(); done += step) {
        if (done > max) throw new Error(`${what}: not reached within ${max} ms of fake time`);
        mock.timers.tick(step);
        await settle(10);
      }
    },
    async cleanup() {
      await bot.close();
      for (const s of bot.sessions.values()) await s.disconnect();
      await session.disconnect();
      await sim.close();
      // Sockets finish closing a few ticks later and clear their (fake) timers then; resetting
      // the fake clock before that would let those clears hit the next test's timers.
      await pause(50);
      if (fake) mock.timers.reset();
    },
  };
}
