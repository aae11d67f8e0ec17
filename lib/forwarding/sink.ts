import type { DispatchName } from '../../types/dispatch.js';

/**
 * A dispatch name as a plain string literal (`'MESSAGE_CREATE'`). `DispatchName` comes from
 * `discord-api-types`' `GatewayDispatchEvents` enum, to which string literals are not
 * assignable; this form accepts both the literals users write and the enum members.
 *
 * @category Stores and forwarding
 */
export type ForwardedEventName = `${DispatchName}`;

/**
 * Where forwarded dispatches go. Both built-in sinks ({@link GatewayForwarder},
 * {@link RedisStreamSink}) implement it; anything else with these three methods can be
 * plugged into {@link forwardDispatches} the same way.
 *
 * `push` never throws and never waits: a gateway handler must not be slowed down by a slow
 * consumer, so sinks buffer and report what they could not deliver through their own callbacks.
 *
 * @category Stores and forwarding
 */
export interface DispatchSink {
  /**
   * Hands one dispatch to the sink. Events the sink was not configured for are ignored.
   *
   * @param event - Discord's dispatch name (`t`)
   * @param data - the dispatch payload (`d`)
   * @param shardId - id of the shard that received it
   */
  push(event: ForwardedEventName, data: unknown, shardId: number): void;
  /** Resolves once everything pushed so far was delivered or reported as not delivered. */
  flush(): Promise<void>;
  /** Stops accepting records and releases the sink's resources; see each sink for what happens to pending records. */
  close(): Promise<void>;
}

/**
 * The part of `Client` that forwarding needs, typed structurally so sinks do not depend on
 * the client module (and can be driven by anything that emits dispatches).
 *
 * @category Stores and forwarding
 */
export interface DispatchSource {
  /**
   * Registers a listener called for every dispatch of every shard.
   *
   * @param listener - called with the dispatch name, its payload and the session (shard) it came on
   *
   * @returns a function that removes the listener
   */
  handleAny(listener: (event: DispatchName, data: unknown, session: { readonly shard: readonly [number, number] }) => void): () => void;
}

/**
 * Which dispatches a sink accepts: a list of names, or `'*'` for all of them.
 *
 * @category Stores and forwarding
 */
export type EventSelection = readonly ForwardedEventName[] | '*';

/**
 * Builds the membership test for an {@link EventSelection}; a `Set` so that the check on
 * every dispatch is O(1) whatever the list's length.
 *
 * @param events - the selection; `undefined` means every event
 * @returns a predicate that is true for the selected event names
 *
 * @category Stores and forwarding
 */
export function eventFilter(events: EventSelection | undefined): (event: ForwardedEventName) => boolean {
  if (events === undefined || events === '*') return () => true;
  const selected = new Set<ForwardedEventName>(events);
  return (event) => selected.has(event);
}

/**
 * Options of {@link forwardDispatches}.
 *
 * @category Stores and forwarding
 */
export interface ForwardDispatchesOptions {
  /** Only these dispatches reach the sink (default `'*'`); the sink's own `events` option still applies. */
  events?: EventSelection;
}

/**
 * Sends every dispatch the bot receives (or the selected ones) to a sink.
 *
 * @param bot - the client, or anything offering `handleAny`
 * @param sink - where the dispatches go
 * @param options - event selection
 * @returns a function that stops forwarding (it does not close the sink)
 *
 * @example
 * ```ts
 * const forwarder = new GatewayForwarder({ url: 'https://example.com/events', privateKey });
 * const stop = forwardDispatches(bot, forwarder, { events: ['MESSAGE_CREATE'] });
 * // on shutdown:
 * stop(); await forwarder.flush(); await forwarder.close();
 * ```
 *
 * @category Stores and forwarding
 */
export function forwardDispatches(bot: DispatchSource, sink: DispatchSink, options: ForwardDispatchesOptions = {}): () => void {
  const accepts = eventFilter(options.events);
  return bot.handleAny((event, data, session) => {
    if (accepts(event)) sink.push(event, data, session.shard[0]);
  });
}
