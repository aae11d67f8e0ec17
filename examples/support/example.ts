/**
 * The scaffolding the examples share, kept here so each example shows only disgate itself:
 *
 * - {@link log}: a line prefixed with the seconds since the example started;
 * - {@link exampleGateway}: Discord when `DISCORD_TOKEN` is set, else the built-in
 *   GatewaySimulator, and the Client options that point a bot at whichever it is;
 * - {@link runExample}: runs an example's `main`, closes the simulator, logs `done`, and turns a
 *   failure into exit code 1 (so the example test sees it).
 */
import { GatewaySimulator, type GatewaySimulatorOptions } from '../../lib/testing/index.js';

const started = Date.now();

/**
 * A logger printing each line after the seconds since `since` and a `prefix`.
 *
 * @param prefix - printed before each line, e.g. a process name in a multi-process example
 * @param since - epoch ms the clock starts at; processes of one run pass the same value
 */
export function logger(prefix = '', since = started): (what: string) => void {
  return (what) => console.log(`${((Date.now() - since) / 1000).toFixed(2).padStart(6)}s  ${prefix}${what}`);
}

/** Prints `what` after the seconds since the example started. */
export const log: (what: string) => void = logger();

/** The token the simulator accepts; it never leaves this machine. */
const SIMULATOR_TOKEN = 'example-token';

/** What the simulator holds when there is no DISCORD_TOKEN (its token is chosen here). */
export type SimulatedWorld = Omit<GatewaySimulatorOptions, 'token'>;

/** Where an example's bot connects. */
export interface ExampleGateway {
  /** The built-in simulator, or undefined when the bot talks to Discord. */
  readonly simulator: GatewaySimulator | undefined;
  /**
   * Spread into `new Client({ ...connection, intents })`: the token, and with the simulator its
   * `apiURL`, from which `GET /gateway/bot` leads the bot to the simulator's gateway.
   */
  readonly connection: { readonly token: string; readonly apiURL?: string };
}

/**
 * Uses Discord when `DISCORD_TOKEN` is set; otherwise starts a GatewaySimulator holding `world`
 * and logs its URL. The caller closes the simulator (or lets {@link runExample} do it).
 *
 * @param world - the simulator's options: shards, guilds, timings
 */
export async function exampleGateway(world: SimulatedWorld = {}): Promise<ExampleGateway> {
  const token = process.env.DISCORD_TOKEN;
  if (token) return { simulator: undefined, connection: { token } };
  const simulator = await GatewaySimulator.create({ ...world, token: SIMULATOR_TOKEN });
  log(`no DISCORD_TOKEN: using the built-in gateway simulator at ${simulator.url}`);
  return { simulator, connection: { token: SIMULATOR_TOKEN, apiURL: simulator.apiURL } };
}

/**
 * Runs an example: opens its gateway ({@link exampleGateway}), awaits `main`, closes the
 * simulator, and logs `done`. A failure is printed and sets exit code 1; the bot is `main`'s to
 * close, so the example shows that call.
 *
 * @param world - what the simulator holds when DISCORD_TOKEN is unset
 * @param main - the example itself
 *
 * @example
 * ```ts
 * runExample({ guilds: 2 }, async ({ simulator, connection }) => {
 *   const bot = new Client({ ...connection, intents: GatewayIntentBits.Guilds });
 *   await bot.connect();
 *   await bot.close();
 * });
 * ```
 */
export function runExample(world: SimulatedWorld, main: (gateway: ExampleGateway) => Promise<void>): void {
  const run = async (): Promise<void> => {
    const gateway = await exampleGateway(world);
    try {
      await main(gateway);
    } finally {
      await gateway.simulator?.close();
    }
    log('done');
  };
  run().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
