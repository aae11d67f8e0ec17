import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { Client } from '../../../lib/client.js';
import {
  eventFilter, forwardDispatches, type DispatchSink, type DispatchSource, type ForwardedEventName,
} from '../../../lib/forwarding/index.js';
import type { DispatchName } from '../../../types/dispatch.js';

type Listener = Parameters<DispatchSource['handleAny']>[0];

/** Emits dispatches by hand, as `Client` does for every shard. */
class FakeSource implements DispatchSource {
  readonly listeners = new Set<Listener>();
  handleAny(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(event: ForwardedEventName, data: unknown, shard: readonly [number, number]): void {
    // The client hands over discord-api-types' enum; the literal is the same string at runtime.
    for (const listener of this.listeners) listener(event as DispatchName, data, { shard });
  }
}

class RecordingSink implements DispatchSink {
  readonly pushed: [ForwardedEventName, unknown, number][] = [];
  push(event: ForwardedEventName, data: unknown, shardId: number): void {
    this.pushed.push([event, data, shardId]);
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

// Compile-time check: the real Client plugs into forwardDispatches without adapters.
export const clientIsASource = (bot: Client, sink: DispatchSink): (() => void) => forwardDispatches(bot, sink);

describe('forwardDispatches', () => {
  it('pushes the selected dispatches with the shard id, until stopped', () => {
    const source = new FakeSource();
    const sink = new RecordingSink();
    const stop = forwardDispatches(source, sink, { events: ['MESSAGE_CREATE', 'GUILD_CREATE'] });
    source.emit('MESSAGE_CREATE', { id: 'm' }, [3, 8]);
    source.emit('TYPING_START', {}, [0, 8]);
    source.emit('GUILD_CREATE', { id: 'g' }, [5, 8]);
    stop();
    source.emit('MESSAGE_CREATE', { id: 'late' }, [3, 8]);
    assert.deepEqual(sink.pushed, [['MESSAGE_CREATE', { id: 'm' }, 3], ['GUILD_CREATE', { id: 'g' }, 5]]);
    assert.equal(source.listeners.size, 0);
  });

  it('forwards everything by default', () => {
    const source = new FakeSource();
    const sink = new RecordingSink();
    forwardDispatches(source, sink);
    source.emit('READY', {}, [0, 1]);
    source.emit('RESUMED', null, [0, 1]);
    assert.deepEqual(sink.pushed.map(([t]) => t), ['READY', 'RESUMED']);
  });
});

describe('eventFilter', () => {
  it('selects listed names, or all of them for "*" and undefined', () => {
    const only = eventFilter(['MESSAGE_CREATE']);
    assert.equal(only('MESSAGE_CREATE'), true);
    assert.equal(only('MESSAGE_UPDATE'), false);
    assert.equal(eventFilter('*')('MESSAGE_UPDATE'), true);
    assert.equal(eventFilter(undefined)('READY'), true);
    assert.equal(eventFilter([])('READY'), false);
  });
});
