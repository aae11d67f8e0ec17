/**
 * The pluggable contender interface. Each gateway client under test (the raw floor,
 * @discordjs/ws, disgate) is one module in this folder whose default export implements
 * {@link Contender}; the child harness (`bench/child.ts`) drives it through the same three
 * benchmarks, in a fresh process per run, so memory and CPU figures never mix.
 */
import type { Compression, Target } from '../scenario.js';

/** Receives every dispatch a contender delivers to user code. */
export type DispatchHandler = (name: string, data: unknown) => void;

/** Options of {@link Contender.connect}. */
export interface ConnectOptions {
  /**
   * How many sessions to open: shards `[first, first + n)` of `first + n`, where `first` is
   * {@link ConnectOptions.firstShard} (so by default `[0, n)` of `n`).
   */
  shards: number;
  /**
   * Id of the first session, default 0. A second batch in the same process (the idle
   * benchmark's marginal figure) passes the first batch's size, so its sessions are the upper
   * half of a bot twice as large instead of duplicates of the first batch's ids.
   */
  firstShard?: number;
  /** Dispatch names the benchmark listens to; contenders that subscribe per name use this list. */
  events: readonly string[];
  /** Called for each dispatch in `events`, as the contender's user handler would be. */
  onDispatch: DispatchHandler;
}

/** What {@link Contender.connect} hands back once every session is READY. */
export interface Connection {
  /**
   * Sends one presence update (op 3) on shard 0 through the contender's ordinary send path,
   * with its rate limiter present but not limiting. Absent when the contender cannot send
   * without being throttled (the send benchmark then skips it).
   */
  sendPresence?: () => Promise<void> | void;
  /** Closes every session. */
  close(): Promise<void>;
}

/** A gateway client under test. */
export interface Contender {
  /** Name shown in the tables, with the version where it has one. */
  readonly label: string;
  /** Transport compressions it can use; the runner skips the others. */
  readonly compressions: readonly Compression[];
  /** Whether its connections provide {@link Connection.sendPresence} (the send benchmark skips it otherwise). */
  readonly sendPath: boolean;
  /** Opens `options.shards` sessions to `target` and resolves once every one is READY. */
  connect(target: Target, options: ConnectOptions): Promise<Connection>;
}

/** True when `value` has the shape of a {@link Contender} (used on dynamically imported modules). */
export function isContender(value: unknown): value is Contender {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof Reflect.get(value, 'label') === 'string' &&
    Array.isArray(Reflect.get(value, 'compressions')) &&
    typeof Reflect.get(value, 'connect') === 'function'
  );
}
