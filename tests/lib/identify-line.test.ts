import { describe, it, mock, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { IdentifyLine } from '../../lib/identify-line.js';

const flush = async (): Promise<void> => { for (let i = 0; i < 3; i++) await Promise.resolve(); };

/** A stand-in for a session: the line only compares owners by identity. */
interface Owner { readonly shard: number }
const owner = (shard: number): Owner => ({ shard });

describe('IdentifyLine', () => {
  afterEach(() => mock.timers.reset());

  /** Enters each owner and records the order in which their turns begin. */
  function queue(line: IdentifyLine, owners: Owner[], signal?: AbortSignal) {
    const turns: number[] = [];
    const errors: unknown[] = [];
    for (const o of owners) line.enter(o, signal).then(() => turns.push(o.shard), (e: unknown) => errors.push(e));
    return { turns, errors };
  }

  it('lets one session at a time go, in the order they asked, each when the one before leaves', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    const line = new IdentifyLine(40_000);
    const [a, b, c] = [owner(3), owner(1), owner(2)];
    const { turns } = queue(line, [a, b, c]);
    await flush();
    assert.deepEqual(turns, [3]);
    line.leave(b);
    await flush();
    assert.deepEqual(turns, [3], 'leaving without the turn changes nothing');
    line.leave(a);
    await flush();
    assert.deepEqual(turns, [3, 1]);
    line.leave(b);
    await flush();
    assert.deepEqual(turns, [3, 1, 2]);
    line.leave(c);
    assert.equal(line.idle, true);
  });

  it('two sessions of one shard id (an old and a new set during a reshard) are two places in line', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    const line = new IdentifyLine(40_000);
    const [head, oldOne, newOne] = [owner(0), owner(1), owner(1)];
    const { turns } = queue(line, [head, oldOne, newOne]);
    line.leave(head);
    await flush();
    assert.deepEqual(turns, [0, 1], 'the old one');
    line.leave(oldOne);
    await flush();
    assert.deepEqual(turns, [0, 1, 1], 'then the new one: neither lost its place');
  });

  it('lets the next one go when the head holds its turn too long', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    const line = new IdentifyLine(40_000);
    const [a, b] = [owner(0), owner(4)];
    const { turns } = queue(line, [a, b]);
    await flush();
    mock.timers.tick(39_999);
    await flush();
    assert.deepEqual(turns, [0]);
    mock.timers.tick(1);
    await flush();
    assert.deepEqual(turns, [0, 4]);
    line.leave(a);
    assert.equal(line.idle, false, 'the late leave does not end the new head\'s turn');
    line.leave(b);
    assert.equal(line.idle, true);
  });

  it('a session closed while waiting leaves with the signal\'s reason and does not block the line', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    const line = new IdentifyLine(40_000);
    const controller = new AbortController();
    const [a, b, c] = [owner(0), owner(2), owner(4)];
    const first = queue(line, [a]);
    const aborted = queue(line, [b], controller.signal);
    const last = queue(line, [c]);
    const reason = new Error('closed');
    controller.abort(reason);
    await flush();
    assert.deepEqual(aborted.errors, [reason]);
    line.leave(a);
    await flush();
    assert.deepEqual([...first.turns, ...last.turns], [0, 4]);
    assert.deepEqual(aborted.turns, []);
  });

  it('the head entering again keeps its turn', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    const line = new IdentifyLine(40_000);
    const [a, b] = [owner(0), owner(1)];
    const { turns } = queue(line, [a, b, a]);
    await flush();
    assert.deepEqual(turns, [0, 0]);
  });
});
