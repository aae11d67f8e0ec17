import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SendQueue } from '../../lib/send-queue.js';

function deferredWriter() {
  const written: string[] = [];
  const pending: Array<{ text: string; done: () => void; fail: (e: Error) => void }> = [];
  const queue = new SendQueue((text) => new Promise<void>((resolve, reject) => {
    pending.push({ text, done: () => { written.push(text); resolve(); }, fail: reject });
  }));
  return { queue, written, pending };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('SendQueue', () => {
  it('writes one frame at a time, in order, resolving each once written', async () => {
    const { queue, written, pending } = deferredWriter();
    const settled: string[] = [];
    const all = ['a', 'b', 'c'].map((t) => queue.push(t, undefined).then(() => settled.push(t)));
    await tick();
    assert.equal(pending.length, 1, 'only the head is in flight');
    assert.equal(queue.size, 3);
    for (let i = 0; i < 3; i++) {
      pending[i]!.done();
      await tick();
    }
    await Promise.all(all);
    assert.deepEqual(written, ['a', 'b', 'c']);
    assert.deepEqual(settled, ['a', 'b', 'c']);
    assert.equal(queue.size, 0);
  });

  it('an aborted waiting frame is dropped with the reason; the rest keep their order', async () => {
    const { queue, written, pending } = deferredWriter();
    const controller = new AbortController();
    const a = queue.push('a', undefined);
    const b = queue.push('b', controller.signal);
    const c = queue.push('c', undefined);
    controller.abort(new Error('changed my mind'));
    await assert.rejects(b, /changed my mind/);
    pending[0]!.done();
    await tick();
    pending[1]!.done();
    await Promise.all([a, c]);
    assert.deepEqual(written, ['a', 'c']);
  });

  it('hands each frame\'s onWrite to the writer with that frame', async () => {
    const calls: string[] = [];
    const queue = new SendQueue(async (text, _signal, onWrite) => {
      onWrite?.();
      calls.push(text);
    });
    await Promise.all([
      queue.push('a', undefined, () => calls.push('onWrite a')),
      queue.push('b', undefined),
      queue.push('c', undefined, () => calls.push('onWrite c')),
    ]);
    assert.deepEqual(calls, ['onWrite a', 'a', 'b', 'onWrite c', 'c']);
  });

  it('a failed write rejects that frame only', async () => {
    const { queue, written, pending } = deferredWriter();
    const a = queue.push('a', undefined);
    const b = queue.push('b', undefined);
    await tick();
    pending[0]!.fail(new Error('socket gone'));
    await assert.rejects(a, /socket gone/);
    await tick();
    pending[1]!.done();
    await b;
    assert.deepEqual(written, ['b']);
  });

  it('keeps memory bounded over many frames', async () => {
    const queue = new SendQueue(() => Promise.resolve());
    for (let round = 0; round < 5; round++) {
      await Promise.all(Array.from({ length: 3000 }, (_, i) => queue.push(String(i), undefined)));
      assert.equal(queue.size, 0);
    }
  });
});
