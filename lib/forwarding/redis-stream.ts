import type { Cluster, Redis } from 'ioredis';
import { BackendError, InvalidOptionError } from '../errors.js';
import { eventFilter, type DispatchSink, type EventSelection, type ForwardedEventName } from './sink.js';

/**
 * One dispatch as written to the stream.
 *
 * @category Stores and forwarding
 */
export interface StreamRecord {
  /** Dispatch name (stream field `t`). */
  readonly t: ForwardedEventName;
  /** Dispatch payload (stream field `d`, as JSON). */
  readonly d: unknown;
  /** Shard that received it (stream field `shard`). */
  readonly shard_id: number;
}

/**
 * Options of {@link RedisStreamSink}.
 *
 * @category Stores and forwarding
 */
export interface RedisStreamSinkOptions {
  /** The user's ioredis client (standalone or cluster); the sink never connects or quits it. */
  redis: Redis | Cluster;
  /** Stream key (default `'disgate:events'`). */
  key?: string;
  /** Most entries the stream keeps; older ones are trimmed on every write (default 100 000). */
  maxLen?: number;
  /**
   * `'exact'` (default) trims with `MAXLEN =`, so `XLEN` never exceeds `maxLen`.
   * `'approximate'` trims with `MAXLEN ~`: Redis only removes whole internal nodes (100
   * entries each by default), which is cheaper, and the stream may briefly hold a little
   * more than `maxLen`.
   */
  trim?: 'exact' | 'approximate';
  /** Dispatches to write (default `'*'`, all of them). */
  events?: EventSelection;
  /**
   * Most `XADD`s sent in one pipeline (default 500). Records pushed during one turn of the
   * event loop go out together on the next; a full batch goes at once.
   */
  batchSize?: number;
  /**
   * Records buffered or being written at most (default 10 000). While Redis is slow or away,
   * further records are refused and reported through `onError` instead of growing memory
   * (ioredis would otherwise queue every command offline).
   */
  maxPending?: number;
  /**
   * Receives every write failure with the records it lost. Errors never become unhandled
   * rejections; without this callback they are only counted in `stats`. Exceptions it throws
   * are ignored.
   */
  onError?: (error: BackendError, records: readonly StreamRecord[]) => void;
}

/**
 * Counters of a {@link RedisStreamSink}.
 *
 * @category Stores and forwarding
 */
export interface RedisStreamSinkStats {
  /** Records buffered or being written. */
  readonly pending: number;
  /** Records Redis confirmed. */
  readonly written: number;
  /** Records lost to errors, the pending bound, or `close()`. */
  readonly failed: number;
}

interface Entry {
  readonly record: StreamRecord;
  readonly fields: readonly string[];
}

/**
 * Writes dispatches to a Redis stream (`XADD` with a `MAXLEN` cap) so several consumer
 * processes can share the event load through a consumer group: each entry goes to one
 * consumer of the group, and unacknowledged entries can be claimed by another if one dies.
 * Entries have the fields `t` (event name), `d` (JSON payload) and `shard` (shard id);
 * {@link decodeStreamEntry} turns them back into a {@link StreamRecord}.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * const sink = new RedisStreamSink({ redis: new Redis(), maxLen: 50_000,
 *   onError: (error, lost) => log.error(error, `${lost.length} events lost`) });
 * forwardDispatches(bot, sink, { events: ['MESSAGE_CREATE'] });
 *
 * // in each worker process:
 * await redis.xgroup('CREATE', 'disgate:events', 'workers', '$', 'MKSTREAM');
 * const reply = await redis.xreadgroup('GROUP', 'workers', `worker-${process.pid}`,
 *   'COUNT', 100, 'BLOCK', 5000, 'STREAMS', 'disgate:events', '>');
 * ```
 *
 * @category Stores and forwarding
 */
export class RedisStreamSink implements DispatchSink {
  readonly #redis: Redis | Cluster;
  readonly #key: string;
  readonly #trim: readonly string[];
  readonly #accepts: (event: ForwardedEventName) => boolean;
  readonly #batchSize: number;
  readonly #maxPending: number;
  readonly #onError: RedisStreamSinkOptions['onError'];

  #batch: Entry[] = [];
  #scheduled: NodeJS.Immediate | undefined;
  readonly #writes = new Set<Promise<void>>();
  #pending = 0;
  #written = 0;
  #failed = 0;
  #closed = false;

  /**
   * @param options - client, stream key, cap and batching
   * @throws InvalidOptionError when a number option is not a positive integer or `key` is empty
   */
  constructor(options: RedisStreamSinkOptions) {
    this.#redis = options.redis;
    this.#key = options.key ?? 'disgate:events';
    if (this.#key === '') throw new InvalidOptionError('key', 'a non-empty string');
    const maxLen = options.maxLen ?? 100_000;
    if (!Number.isInteger(maxLen) || maxLen < 1) throw new InvalidOptionError('maxLen', 'an integer >= 1');
    if (options.trim !== undefined && options.trim !== 'exact' && options.trim !== 'approximate') {
      throw new InvalidOptionError('trim', "'exact' or 'approximate'");
    }
    this.#trim = ['MAXLEN', options.trim === 'approximate' ? '~' : '=', String(maxLen)];
    this.#accepts = eventFilter(options.events);
    this.#batchSize = options.batchSize ?? 500;
    if (!Number.isInteger(this.#batchSize) || this.#batchSize < 1) throw new InvalidOptionError('batchSize', 'an integer >= 1');
    this.#maxPending = options.maxPending ?? 10_000;
    if (!Number.isInteger(this.#maxPending) || this.#maxPending < 1) throw new InvalidOptionError('maxPending', 'an integer >= 1');
    this.#onError = options.onError;
  }

  /** Counters for monitoring. */
  get stats(): RedisStreamSinkStats {
    return { pending: this.#pending, written: this.#written, failed: this.#failed };
  }

  /**
   * Buffers one dispatch for the next pipeline; never throws and never waits.
   *
   * @param event - dispatch name; ignored unless selected by the `events` option
   * @param data - dispatch payload
   * @param shardId - shard that received it
   */
  push(event: ForwardedEventName, data: unknown, shardId: number): void {
    if (!this.#accepts(event)) return;
    const record: StreamRecord = { t: event, d: data, shard_id: shardId };
    if (this.#closed) return this.#fail([record], 'the sink is closed');
    if (this.#pending >= this.#maxPending) {
      return this.#fail([record], `${this.#maxPending} records are already waiting for Redis`);
    }
    let json: string;
    try {
      json = JSON.stringify(data) ?? 'null';
    } catch (cause) {
      return this.#fail([record], `the ${event} payload cannot be serialized`, cause);
    }
    this.#batch.push({ record, fields: ['t', event, 'd', json, 'shard', String(shardId)] });
    this.#pending++;
    if (this.#batch.length >= this.#batchSize) this.#send();
    else this.#scheduled ??= setImmediate(() => this.#send());
  }

  /** Sends the buffered records now and resolves once every write so far has succeeded or been reported. */
  async flush(): Promise<void> {
    this.#send();
    while (this.#writes.size > 0) await Promise.all(this.#writes);
  }

  /**
   * Refuses further records (reported through `onError`), writes what is buffered, and
   * resolves once Redis has answered. The Redis client is left open: it belongs to the caller.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
  }

  #send(): void {
    if (this.#scheduled) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    if (this.#batch.length === 0) return;
    const batch = this.#batch;
    this.#batch = [];
    const write = this.#write(batch).finally(() => {
      this.#pending -= batch.length;
      this.#writes.delete(write);
    });
    this.#writes.add(write);
  }

  async #write(batch: readonly Entry[]): Promise<void> {
    const pipeline = this.#redis.pipeline();
    for (const entry of batch) pipeline.xadd(this.#key, ...this.#trim, '*', ...entry.fields);
    let results: [error: Error | null, result: unknown][] | null;
    try {
      results = await pipeline.exec();
    } catch (cause) {
      return this.#fail(batch.map((e) => e.record), `XADD to ${this.#key} failed`, cause);
    }
    if (results === null) return this.#fail(batch.map((e) => e.record), `XADD to ${this.#key} was discarded`);
    // A pipeline answers each command with its own error object; one report per distinct
    // message keeps a batch that failed for one reason from producing hundreds of reports.
    const lost = new Map<string, { cause: Error; records: StreamRecord[] }>();
    results.forEach(([error], i) => {
      const entry = batch[i];
      if (error === null) this.#written++;
      else if (entry) {
        const group = lost.get(error.message) ?? { cause: error, records: [] };
        group.records.push(entry.record);
        lost.set(error.message, group);
      }
    });
    for (const { cause, records } of lost.values()) this.#fail(records, `XADD to ${this.#key} failed`, cause);
  }

  #fail(records: readonly StreamRecord[], message: string, cause?: unknown): void {
    this.#failed += records.length;
    const reason = cause instanceof Error ? `: ${cause.message}` : '';
    const error = new BackendError(`RedisStreamSink: ${message}${reason}`, { cause });
    try {
      this.#onError?.(error, records);
    } catch {
      // Documented: the callback must not be able to turn a write failure into an unhandled rejection.
    }
  }
}

/**
 * Turns the field list of a stream entry (as `XREADGROUP` / `XRANGE` return it) back into a record.
 *
 * @param fields - alternating names and values: `['t', ..., 'd', ..., 'shard', ...]`
 * @returns the record
 * @throws BackendError when a field is missing or `d` is not JSON (an entry written by something else)
 *
 * @example
 * ```ts
 * for (const [, entries] of reply ?? []) for (const [id, fields] of entries) {
 *   const { t, d, shard_id } = decodeStreamEntry(fields);
 *   await redis.xack('disgate:events', 'workers', id);
 * }
 * ```
 *
 * @category Stores and forwarding
 */
export function decodeStreamEntry(fields: readonly string[]): StreamRecord {
  const values = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) values.set(fields[i] ?? '', fields[i + 1] ?? '');
  const t = values.get('t');
  const d = values.get('d');
  const shard = values.get('shard');
  if (t === undefined || d === undefined || shard === undefined || !/^\d+$/.test(shard)) {
    throw new BackendError('Stream entry lacks the t, d and shard fields of a disgate record');
  }
  try {
    // The stream holds names Discord sent; the cast records that, it cannot be checked here.
    return { t: t as ForwardedEventName, d: JSON.parse(d), shard_id: Number(shard) };
  } catch (cause) {
    throw new BackendError('Stream entry field d is not JSON', { cause });
  }
}
