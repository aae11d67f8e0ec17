import { describe, it, beforeEach, afterEach, mock } from 'node:test';
import assert from 'node:assert/strict';
import { Heartbeater, heartbeatReserve } from '../../lib/heartbeat.js';

describe('Heartbeater', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 }));
  afterEach(() => mock.timers.reset());

  function make(random: number) {
    const beats: number[] = [];
    let zombies = 0;
    const hb = new Heartbeater(41250, { sendHeartbeat: () => beats.push(Date.now()), heartbeatMissed: () => { zombies++; } }, () => random);
    return { hb, beats, zombies: () => zombies };
  }

  it('sends the first beat after interval * jitter, then one per interval', () => {
    const { hb, beats } = make(0.25);
    hb.start();
    hb.release();
    mock.timers.tick(10311);
    assert.equal(beats.length, 0, 'not before interval * jitter');
    mock.timers.tick(1);
    assert.deepEqual(beats, [1_000_000 + 10312]);
    hb.ack();
    mock.timers.tick(41250);
    hb.ack();
    mock.timers.tick(41250);
    assert.equal(beats.length, 3);
    assert.equal(beats[2]! - beats[1]!, 41250);
    hb.stop();
  });

  it('keeps the jitter within [0, interval)', () => {
    for (const r of [0, 0.999999]) {
      const { hb, beats } = make(r);
      hb.start();
      hb.release();
      mock.timers.tick(Math.floor(41250 * r));
      assert.equal(beats.length, 1, `jitter ${r}`);
      hb.stop();
    }
  });

  it('reports a zombie when a beat finds the previous one unacknowledged', () => {
    const { hb, beats, zombies } = make(0);
    hb.start();
    hb.release();
    mock.timers.tick(0);
    assert.equal(beats.length, 1);
    mock.timers.tick(41250);
    assert.equal(zombies(), 1);
    assert.equal(beats.length, 1, 'no beat on a zombie connection');
    mock.timers.tick(200_000);
    assert.equal(zombies(), 1, 'stops after reporting');
  });

  it('holds a first beat due before the handshake until release(), then beats one interval apart', () => {
    const { hb, beats } = make(0.1);
    hb.start();
    mock.timers.tick(10_000);
    assert.equal(beats.length, 0, 'due at 4125 ms, but no Identify was written yet');
    hb.release();
    assert.deepEqual(beats, [1_010_000], 'right after the handshake');
    hb.ack();
    mock.timers.tick(41249);
    assert.equal(beats.length, 1);
    mock.timers.tick(1);
    assert.equal(beats.length, 2);
    hb.stop();
  });

  it('holds a first beat at most one interval after start, so the gateway never misses it', () => {
    const { hb, beats, zombies } = make(0.5);
    hb.start();
    mock.timers.tick(41249);
    assert.equal(beats.length, 0);
    mock.timers.tick(1);
    assert.deepEqual(beats, [1_000_000 + 41250], 'sent without waiting longer for the handshake');
    hb.release();
    assert.equal(beats.length, 1, 'release does not beat again');
    hb.ack();
    mock.timers.tick(41250);
    assert.equal(beats.length, 2);
    assert.equal(zombies(), 0);
    hb.stop();
  });

  it('after stop() nothing beats again, even a held beat released late or a server request', () => {
    const { hb, beats, zombies } = make(0);
    hb.start();
    mock.timers.tick(0);
    hb.stop();
    hb.release();
    hb.beatNow();
    mock.timers.tick(200_000);
    assert.deepEqual(beats, []);
    assert.equal(zombies(), 0, 'a stopped heartbeater never reports the next connection a zombie');
  });

  it('beats on its jittered schedule when the handshake was written first', () => {
    const { hb, beats } = make(0.5);
    hb.start();
    mock.timers.tick(1000);
    hb.release();
    assert.equal(beats.length, 0, 'nothing was held');
    mock.timers.tick(19624);
    assert.equal(beats.length, 0);
    mock.timers.tick(1);
    assert.deepEqual(beats, [1_000_000 + 20625]);
    hb.stop();
  });

  it('answers a server request at once and measures latency from the ACK', () => {
    const { hb, beats } = make(0.5);
    hb.start();
    hb.beatNow();
    assert.equal(beats.length, 1);
    mock.timers.tick(37);
    hb.ack();
    assert.equal(hb.latency, 37);
    hb.stop();
  });

  it('still reports a zombie when server requests keep coming but no ACK does', () => {
    const { hb, beats, zombies } = make(0.5);
    hb.start();
    // Requests every 10 s, never acknowledged: each is answered until the oldest unacknowledged
    // beat is a whole interval old; the next request then finds a zombie.
    for (let i = 0; i < 4; i++) {
      hb.beatNow();
      mock.timers.tick(10_000);
    }
    assert.equal(beats.length, 4);
    assert.equal(zombies(), 0);
    mock.timers.tick(1250);
    hb.beatNow();
    assert.equal(zombies(), 1);
    assert.equal(beats.length, 4, 'no beat on a zombie connection');
    mock.timers.tick(200_000);
    assert.equal(zombies(), 1, 'stops after reporting');
  });

  it('answers every request while ACKs come, and reports when the next beat is due', () => {
    const { hb, beats, zombies } = make(0.5);
    hb.start();
    assert.equal(hb.nextBeatAt, 1_000_000 + 20625);
    for (let i = 0; i < 10; i++) {
      hb.beatNow();
      assert.equal(hb.nextBeatAt, Date.now() + 41250, 'the schedule restarts from the answer');
      mock.timers.tick(30);
      hb.ack();
      mock.timers.tick(10_000);
    }
    assert.equal(beats.length, 10);
    assert.equal(zombies(), 0);
    hb.stop();
    assert.equal(hb.nextBeatAt, 0);
  });

  it('reserves ceil(60000 / interval) + 1 beats per minute', () => {
    assert.equal(heartbeatReserve(41250), 3);
    assert.equal(heartbeatReserve(45000), 3);
    assert.equal(heartbeatReserve(60000), 2);
    assert.equal(heartbeatReserve(1000), 61);
  });
});
