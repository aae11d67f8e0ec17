import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { SendEvent } from '../../../lib/events/send-event.js';
import type { SendOptions } from '../../../lib/events/send-event.js';
import type { Client } from '../../../lib/client.js';
import type { Session } from '../../../lib/session.js';
import { UpdateVoiceStateData } from '../../../lib/events/update-voice-state.js';
import { MissingIntentError } from '../../../lib/errors.js';
import { fakeBot, fakeSession } from './helpers.js';

/** A bare subclass: one optional field, and a bot check that can be switched on. */
class Probe extends SendEvent<{ a?: number }> {
  static override readonly op = 99;
  a?: number;
  readonly #refuse: boolean;
  constructor(a?: number, refuse = false) {
    super();
    this.a = a;
    this.#refuse = refuse;
  }
  protected override checkBot(_bot: Client): void {
    if (this.#refuse) throw new MissingIntentError('GUILDS', 'test');
  }
}

const voice = new UpdateVoiceStateData({ guild_id: '1', channel_id: null, self_mute: false, self_deaf: false });

describe('SendEvent', () => {
  it('reads the instance op from the class', () => assert.equal(new Probe(1).op, 99));

  it('never serializes op: it is not an own field', () => {
    assert.equal(Object.keys(voice).includes('op'), false);
    assert.equal(JSON.stringify(voice).includes('"op"'), false);
  });

  it('toJSON leaves out undefined fields', () => {
    assert.deepEqual(new Probe(undefined).toJSON(), {});
    assert.equal(JSON.stringify(new Probe(undefined)), '{}');
    assert.equal(JSON.stringify(new Probe(2)), '{"a":2}');
  });

  it('util.inspect names the class and op', () => {
    const shown = inspect(voice);
    assert.match(shown, /UpdateVoiceStateData/);
    assert.match(shown, /op: 4/);
  });

  it('sendEvent passes the options to the session', async () => {
    const seen: (SendOptions | undefined)[] = [];
    const session = { transmit: async (_e: SendEvent, o?: SendOptions) => { seen.push(o); } } as unknown as Session;
    const signal = new AbortController().signal;
    await voice.sendEvent(fakeBot(0).bot, session, { signal });
    assert.equal(seen[0]?.signal, signal);
  });

  it('sendEvent checks the bot before anything is transmitted', async () => {
    const { session, frames } = fakeSession();
    await assert.rejects(new Probe(1, true).sendEvent(fakeBot(0).bot, session), MissingIntentError);
    assert.equal(frames.length, 0);
  });

  it('an aborted signal withdraws the frame', async () => {
    const { session, frames } = fakeSession();
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(voice.sendEvent(fakeBot(0).bot, session, { signal: controller.signal }), { name: 'AbortError' });
    assert.equal(frames.length, 0);
  });

  it('sendEvents writes once on every session', async () => {
    const sessions = [fakeSession(), fakeSession(), fakeSession()];
    await voice.sendEvents(fakeBot(0, sessions.map((s) => s.session)).bot);
    assert.deepEqual(sessions.map((s) => s.frames.length), [1, 1, 1]);
  });

  it('sendEvents resolves when the bot has no session', async () => {
    await voice.sendEvents(fakeBot(0).bot);
  });

  it('sendEvents rejects with the first failure', async () => {
    const failing = { transmit: async () => { throw new Error('closed'); } } as unknown as Session;
    await assert.rejects(voice.sendEvents(fakeBot(0, [fakeSession().session, failing]).bot), /closed/);
  });
});
