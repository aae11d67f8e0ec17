import { randomUUID, type KeyObject } from 'node:crypto';
import { InvalidOptionError } from '../errors.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, signForwardedRequest, toPrivateKey, type Ed25519KeyInput } from './signature.js';
import { eventFilter, type DispatchSink, type EventSelection, type ForwardedEventName } from './sink.js';

/**
 * The JSON body of one forwarded request. `id` is unique per dispatch and stays the same across retries.
 *
 * @category Stores and forwarding
 */
export interface ForwardedRecord {
  /** Dispatch name. */
  readonly t: ForwardedEventName;
  /** Dispatch payload, as received from the gateway. */
  readonly d: unknown;
  /** Shard that received the dispatch. */
  readonly shard_id: number;
  /**
   * Unique id of this record. Delivery is at least once (a request that timed out may still
   * have been processed), so receivers that must not act twice deduplicate on it.
   */
  readonly id: string;
}

/**
 * Why a record was not delivered.
 * - `queue_full`: the queue held `maxQueue` records; the oldest waiting one is dropped.
 * - `rejected`: the endpoint answered a status that retrying cannot fix (4xx other than 408/429, 3xx).
 * - `retries_exhausted`: every attempt failed with a retryable outcome.
 * - `unserializable`: `JSON.stringify` failed on the payload (a `BigInt`, a cycle).
 * - `closed`: the forwarder was closed before the record was delivered.
 *
 * @category Stores and forwarding
 */
export type DropReason = 'queue_full' | 'rejected' | 'retries_exhausted' | 'unserializable' | 'closed';

/**
 * What is known about a failed delivery.
 *
 * @category Stores and forwarding
 */
export interface DeliveryFailure {
  /** Requests made for the record so far. */
  readonly attempts: number;
  /** HTTP status of the last response, when there was one. */
  readonly status?: number;
  /** Error of the last attempt (network error, timeout), when there was one. */
  readonly error?: unknown;
}

/**
 * Backoff between attempts: `min(max, base * 2^(retry - 1))`, minus up to `jitter` of it at random.
 *
 * @category Stores and forwarding
 */
export interface BackoffOptions {
  /** Delay before the first retry, in ms (default 500). */
  base?: number;
  /** Longest delay, in ms (default 30 000). */
  max?: number;
  /**
   * Fraction of each delay removed at random, from 0 (none) to 1 (full jitter), so many
   * forwarders failing together do not retry in lockstep (default 0.5).
   */
  jitter?: number;
}

/**
 * Options of {@link GatewayForwarder}.
 *
 * @category Stores and forwarding
 */
export interface GatewayForwarderOptions {
  /** Endpoint that receives `POST` requests with JSON bodies. It must answer directly: redirects are not followed. */
  url: string | URL;
  /** Ed25519 private key: a `KeyObject`, a PKCS#8 PEM, or the 32-byte seed (bytes or hex). */
  privateKey: Ed25519KeyInput;
  /** Dispatches to forward (default `'*'`, all of them). */
  events?: EventSelection;
  /** Records that may wait for delivery, beyond those in flight (default 10 000). */
  maxQueue?: number;
  /** Retries after the first attempt (default 5, so at most 6 requests per record). */
  maxRetries?: number;
  /** Delays between attempts; a `Retry-After` header overrides them. */
  backoff?: BackoffOptions;
  /** Time allowed for one request, response body included, in ms (default 10 000). */
  timeout?: number;
  /** Requests in flight at once (default 1). Only 1 keeps records in order. */
  concurrency?: number;
  /** Extra request headers (e.g. an authorization header); the signature and content headers win over them. */
  headers?: Readonly<Record<string, string>>;
  /** The `fetch` to use (default the global one); tests and proxies inject their own. */
  fetch?: typeof globalThis.fetch;
  /**
   * Called once for every record that will not be delivered. Exceptions it throws are
   * ignored, so a faulty callback cannot stall delivery.
   */
  onDropped?: (record: ForwardedRecord, reason: DropReason, failure: DeliveryFailure) => void;
  /** Called before each retry is scheduled, with the delay it will wait. Exceptions are ignored. */
  onRetry?: (record: ForwardedRecord, retry: DeliveryFailure & { readonly delay: number }) => void;
}

/**
 * Counters of a {@link GatewayForwarder}, since it was created.
 *
 * @category Stores and forwarding
 */
export interface ForwarderStats {
  /** Records waiting in the queue. */
  readonly queued: number;
  /** Records whose delivery is under way (requesting or waiting to retry). */
  readonly inFlight: number;
  /** Records the endpoint accepted with a 2xx status. */
  readonly delivered: number;
  /** Records reported through `onDropped`. */
  readonly dropped: number;
  /** Retries made, over all records. */
  readonly retries: number;
}

interface QueuedRecord {
  readonly record: ForwardedRecord;
  readonly body: string;
}

type AttemptOutcome =
  | { readonly kind: 'delivered' }
  | { readonly kind: 'rejected'; readonly status: number }
  | { readonly kind: 'retry'; readonly status?: number; readonly error?: unknown; readonly retryAfter?: number }
  | { readonly kind: 'closed'; readonly error: unknown };

/**
 * Statuses worth retrying besides 5xx: 408 (the server timed out waiting) and 429 (rate
 * limited). Every other 4xx means the request itself is wrong and will stay wrong.
 */
const RETRYABLE_STATUS: ReadonlySet<number> = new Set([408, 429]);

function isRetryable(status: number): boolean {
  return status >= 500 || RETRYABLE_STATUS.has(status);
}

/**
 * Parses `Retry-After`: delay-seconds (fractions accepted, as Discord sends them) or an HTTP date.
 *
 * @returns the delay in ms, or undefined when the header is absent or malformed
 */
function parseRetryAfter(header: string | null, now: number): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function positiveInteger(option: string, value: number | undefined, fallback: number, min = 1): number {
  const result = value ?? fallback;
  if (!Number.isInteger(result) || result < min) throw new InvalidOptionError(option, `an integer >= ${min}`);
  return result;
}

function nonNegative(option: string, value: number | undefined, fallback: number): number {
  const result = value ?? fallback;
  if (!Number.isFinite(result) || result < 0) throw new InvalidOptionError(option, 'a finite number >= 0');
  return result;
}

/**
 * Forwards dispatches to an HTTP endpoint as signed JSON, for bots whose logic runs elsewhere
 * (a serverless function, another service). Each record is `POST`ed as
 * `{ t, d, shard_id, id }` and signed like Discord's interactions webhooks
 * (`X-Signature-Ed25519`, `X-Signature-Timestamp`), so the receiver checks it with
 * {@link verifyForwardedRequest} or any interactions verifier given the forwarder's public key.
 *
 * Delivery: network errors, timeouts, 408, 429 and 5xx are retried up to `maxRetries` times
 * with exponential backoff (a `Retry-After` header sets the delay instead); other statuses
 * drop the record. Records wait in a bounded queue; when it is full the **oldest** waiting
 * record is dropped, because for gateway state the newest events are the ones that still
 * matter. Every record that is not delivered is reported once through `onDropped`.
 *
 * @example
 * ```ts
 * const forwarder = new GatewayForwarder({
 *   url: 'https://bot.example.com/gateway-events',
 *   privateKey: process.env.FORWARDER_KEY!,            // 64 hex characters
 *   events: ['MESSAGE_CREATE', 'GUILD_MEMBER_ADD'],
 *   onDropped: (record, reason) => metrics.increment(`forward.dropped.${reason}`),
 * });
 * const stop = forwardDispatches(bot, forwarder);
 * // shutdown: deliver what is queued, then release
 * stop(); await forwarder.flush(); await forwarder.close();
 * ```
 *
 * @category Stores and forwarding
 */
export class GatewayForwarder implements DispatchSink {
  readonly #url: string;
  readonly #privateKey: KeyObject;
  readonly #accepts: (event: ForwardedEventName) => boolean;
  readonly #maxQueue: number;
  readonly #maxRetries: number;
  readonly #backoff: Required<BackoffOptions>;
  readonly #timeout: number;
  readonly #concurrency: number;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #fetch: typeof globalThis.fetch;
  readonly #onDropped: GatewayForwarderOptions['onDropped'];
  readonly #onRetry: GatewayForwarderOptions['onRetry'];

  // A plain array with a moving head: shift() on a 10 000-element array copies it every time.
  #queue: QueuedRecord[] = [];
  #head = 0;
  #workers = 0;
  #inFlight = 0;
  #closed = false;
  readonly #aborts = new Set<AbortController>();
  readonly #wakers = new Set<() => void>();
  #idleWaiters: (() => void)[] = [];
  #delivered = 0;
  #dropped = 0;
  #retries = 0;

  /**
   * @param options - endpoint, key and delivery policy
   * @throws InvalidOptionError when an option is out of range or the key is not an Ed25519 private key
   */
  constructor(options: GatewayForwarderOptions) {
    try {
      this.#url = new URL(options.url).href;
    } catch {
      throw new InvalidOptionError('url', 'an absolute http(s) URL');
    }
    if (!/^https?:$/.test(new URL(this.#url).protocol)) throw new InvalidOptionError('url', 'an absolute http(s) URL');
    this.#privateKey = toPrivateKey(options.privateKey);
    this.#accepts = eventFilter(options.events);
    this.#maxQueue = positiveInteger('maxQueue', options.maxQueue, 10_000);
    this.#maxRetries = positiveInteger('maxRetries', options.maxRetries, 5, 0);
    this.#timeout = positiveInteger('timeout', options.timeout, 10_000);
    this.#concurrency = positiveInteger('concurrency', options.concurrency, 1);
    const jitter = nonNegative('backoff.jitter', options.backoff?.jitter, 0.5);
    if (jitter > 1) throw new InvalidOptionError('backoff.jitter', 'a number from 0 to 1');
    this.#backoff = {
      base: nonNegative('backoff.base', options.backoff?.base, 500),
      max: nonNegative('backoff.max', options.backoff?.max, 30_000),
      jitter,
    };
    this.#headers = options.headers ?? {};
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#onDropped = options.onDropped;
    this.#onRetry = options.onRetry;
  }

  /** Counters for monitoring. */
  get stats(): ForwarderStats {
    return {
      queued: this.#queue.length - this.#head,
      inFlight: this.#inFlight,
      delivered: this.#delivered,
      dropped: this.#dropped,
      retries: this.#retries,
    };
  }

  /**
   * Queues one dispatch for delivery; never throws and never waits. The payload is serialized
   * now, so later changes to `data` (by a cache, say) do not alter what is sent.
   *
   * @param event - dispatch name; ignored unless selected by the `events` option
   * @param data - dispatch payload
   * @param shardId - shard that received it
   */
  push(event: ForwardedEventName, data: unknown, shardId: number): void {
    if (!this.#accepts(event)) return;
    const record: ForwardedRecord = { t: event, d: data, shard_id: shardId, id: randomUUID() };
    if (this.#closed) return this.#drop(record, 'closed', { attempts: 0 });
    let body: string;
    try {
      body = JSON.stringify(record);
    } catch (error) {
      return this.#drop(record, 'unserializable', { attempts: 0, error });
    }
    if (this.#queue.length - this.#head >= this.#maxQueue) {
      const oldest = this.#take();
      if (oldest) this.#drop(oldest.record, 'queue_full', { attempts: 0 });
    }
    this.#queue.push({ record, body });
    this.#pump();
  }

  /** Resolves once the queue is empty and nothing is in flight: every record pushed so far was delivered or reported dropped. */
  flush(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Stops the forwarder at once: requests in flight are aborted, retry waits end, and every
   * record not yet delivered (queued or in flight) is reported dropped with reason `'closed'`;
   * later pushes are reported the same way. Call {@link flush} first for a graceful shutdown.
   * Resolves when all delivery work has stopped.
   */
  async close(): Promise<void> {
    this.#closed = true;
    for (let item = this.#take(); item; item = this.#take()) this.#drop(item.record, 'closed', { attempts: 0 });
    for (const controller of this.#aborts) controller.abort(new Error('forwarder closed'));
    for (const wake of this.#wakers) wake();
    await this.flush();
  }

  #isIdle(): boolean {
    return this.#workers === 0 && this.#queue.length === this.#head;
  }

  #take(): QueuedRecord | undefined {
    if (this.#head === this.#queue.length) return undefined;
    const item = this.#queue[this.#head++];
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  #pump(): void {
    while (this.#workers < this.#concurrency && this.#queue.length > this.#head) {
      this.#workers++;
      void this.#work();
    }
  }

  async #work(): Promise<void> {
    for (let item = this.#take(); item; item = this.#take()) {
      this.#inFlight++;
      await this.#deliver(item);
      this.#inFlight--;
    }
    this.#workers--;
    if (this.#isIdle()) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  async #deliver({ record, body }: QueuedRecord): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (this.#closed) return this.#drop(record, 'closed', { attempts: attempt - 1 });
      const outcome = await this.#attempt(body);
      switch (outcome.kind) {
        case 'delivered':
          this.#delivered++;
          return;
        case 'rejected':
          return this.#drop(record, 'rejected', { attempts: attempt, status: outcome.status });
        case 'closed':
          return this.#drop(record, 'closed', { attempts: attempt, error: outcome.error });
        case 'retry': {
          const failure: DeliveryFailure = { attempts: attempt, status: outcome.status, error: outcome.error };
          if (attempt > this.#maxRetries) return this.#drop(record, 'retries_exhausted', failure);
          const delay = outcome.retryAfter ?? this.#backoffDelay(attempt);
          this.#retries++;
          this.#call(() => this.#onRetry?.(record, { ...failure, delay }));
          await this.#sleep(delay);
        }
      }
    }
  }

  #backoffDelay(retry: number): number {
    const { base, max, jitter } = this.#backoff;
    const delay = Math.min(max, base * 2 ** (retry - 1));
    return Math.round(delay * (1 - jitter * Math.random()));
  }

  async #attempt(body: string): Promise<AttemptOutcome> {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const controller = new AbortController();
    this.#aborts.add(controller);
    // A global setTimeout rather than AbortSignal.timeout, so fake timers control it in tests.
    const timer = setTimeout(() => controller.abort(new Error(`no response within ${this.#timeout} ms`)), this.#timeout);
    try {
      const response = await this.#fetch(this.#url, {
        method: 'POST',
        redirect: 'manual',
        signal: controller.signal,
        body,
        headers: {
          ...this.#headers,
          'Content-Type': 'application/json',
          [SIGNATURE_HEADER]: signForwardedRequest(this.#privateKey, timestamp, body),
          [TIMESTAMP_HEADER]: timestamp,
        },
      });
      // Read the body so the connection returns to the pool.
      await response.arrayBuffer();
      const { status } = response;
      if (status >= 200 && status < 300) return { kind: 'delivered' };
      if (!isRetryable(status)) return { kind: 'rejected', status };
      return { kind: 'retry', status, retryAfter: parseRetryAfter(response.headers.get('retry-after'), Date.now()) };
    } catch (error) {
      const cause = controller.signal.aborted ? controller.signal.reason : error;
      return this.#closed ? { kind: 'closed', error: cause } : { kind: 'retry', error: cause };
    } finally {
      clearTimeout(timer);
      this.#aborts.delete(controller);
    }
  }

  /** Waits `ms`, or less if the forwarder closes meanwhile. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#wakers.add(wake);
    });
  }

  #drop(record: ForwardedRecord, reason: DropReason, failure: DeliveryFailure): void {
    this.#dropped++;
    this.#call(() => this.#onDropped?.(record, reason, failure));
  }

  #call(callback: () => void): void {
    try {
      callback();
    } catch {
      // Documented: user callbacks must not be able to stall or crash delivery.
    }
  }
}
