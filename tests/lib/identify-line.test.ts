import { describe, it, mock, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { IdentifyLine } from '../../lib/identify-line.js';

const flush = async (): Promise<void> => { for (let i = 0; i < 3; i++) await Promise.resolve(); };

describe('IdentifyLine', () => {
  afterEach(() => mock.timers.reset());

  /** Enters each shard and records the order in which their turns begin. */
  function queue(line: IdentifyLine, shards: number[], signal?: AbortSignal) {
    const turns: number[] = [];
    const errors: unknown[] = [];
    for (const shard of shards) line.enter(shard, signal).then(() => turns.push(shard), (e: unknown) => errors.push(e));
    return { turns, errors };
  }

  it('lets one shard at a time go, in the order they asked, each when the one before leaves', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    const line = new IdentifyLine(40_000);
    const { turns } = queue(line, [3, 1, 2]);
    await flush();
    assert.deepEqual(turns, [3]);
    line.leave(3);
    await flush();
    assert.deepEqual(turns, [3, 1]);
    line.leave(2);
    await flush();
    assert.deepEqual(turns, [3, 1], 'a shard leaving from the middle gives up its place only');
    line.leave(1);
    await flush();
    assert.deepEqual(turns, [3, 1]);
    assert.equal(line.idle, true);
  });

  it('lets the next one go when the head holds its turn too long', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    const line = new IdentifyLine(40_000);
    const { turns } = queue(line, [0, 4]);
    await flush();
    mock.timers.tick(39_999);
    await flush();
    assert.deepEqual(turns, [0]);
    mock.timers.tick(1);
    await flush();
    assert.deepEqual(turns, [0, 4]);
    line.leave(0);
    await flush();
    assert.equal(line.idle, false, 'the late leave does not end the new head\'s turn');
    line.leave(4);
    assert.equal(line.idle, true);
  });

  it('a shard whose session closes while waiting leaves with the signal\'s reason and does not block the line', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    const line = new IdentifyLine(40_000);
    const controller = new AbortController();
    const first = queue(line, [0]);
    const aborted = queue(line, [2], controller.signal);
    const last = queue(line, [4]);
    const reason = new Error('closed');
    controller.abort(reason);
    await flush();
    assert.deepEqual(aborted.errors, [reason]);
    line.leave(0);
    await flush();
    assert.deepEqual([...first.turns, ...last.turns], [0, 4]);
    assert.deepEqual(aborted.turns, []);
  });

  it('the head entering again keeps its turn', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    const line = new IdentifyLine(40_000);
    const { turns } = queue(line, [0, 1, 0]);
    await flush();
    assert.deepEqual(turns, [0, 0]);
  });
});
