import { afterEach, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import type { APIGuildMember, GatewayGuildMembersChunkDispatchData, GatewayRateLimitedDispatchData } from 'discord-api-types/v10';
import { MEMBER_REQUEST_TIMEOUT_MS, MemberChunkCollector } from '../../lib/members.js';
import { RequestGuildMembers } from '../../lib/events/request-guild-members.js';
import { GatewayProtocolError, InvalidOptionError, MemberRequestTimeoutError, RateLimitedError, SessionClosedError, ValidationError } from '../../lib/errors.js';
import { Session } from '../../lib/session.js';

const guild_id = '81384788765712384';
const all = (): RequestGuildMembers => new RequestGuildMembers({ guild_id, query: '', limit: 0 });
const member = (id: string): APIGuildMember => ({ user: { id }, roles: [], joined_at: '2015-04-26T06:26:56.936000+00:00', deaf: false, mute: false, flags: 0 }) as unknown as APIGuildMember;

function chunk(nonce: string | undefined, index: number, count: number, ids: string[], extra: Partial<GatewayGuildMembersChunkDispatchData> = {}): GatewayGuildMembersChunkDispatchData {
  return { guild_id, members: ids.map(member), chunk_index: index, chunk_count: count, ...(nonce === undefined ? {} : { nonce }), ...extra };
}

function rateLimited(nonce: string | undefined, opcode = 8): GatewayRateLimitedDispatchData {
  return { opcode, retry_after: 29.5, meta: { guild_id, ...(nonce === undefined ? {} : { nonce }) } } as GatewayRateLimitedDispatchData;
}

const ids = (result: { members: APIGuildMember[] }): string[] => result.members.map((m) => m.user.id);

describe('MemberChunkCollector', () => {
  describe('nonces', () => {
    it('generates a nonce of at most 32 bytes when none is given', () => {
      const { event } = new MemberChunkCollector().collect(all());
      assert.ok(event.nonce !== undefined && event.nonce.length > 0);
      assert.ok(Buffer.byteLength(event.nonce) <= 32);
    });

    it('generates distinct nonces and keeps the other fields', () => {
      const collector = new MemberChunkCollector();
      const a = collector.collect(all()).event;
      const b = collector.collect(all()).event;
      assert.notEqual(a.nonce, b.nonce);
      assert.deepEqual({ ...a.toJSON(), nonce: undefined }, { guild_id, query: '', limit: 0, nonce: undefined });
    });

    it('keeps a given nonce and the given event', () => {
      const request = new RequestGuildMembers({ guild_id, user_ids: ['1'], nonce: 'mine' });
      assert.equal(new MemberChunkCollector().collect(request).event, request);
    });

    it('replaces an empty nonce, which Discord would not echo', () => {
      const { event } = new MemberChunkCollector().collect(new RequestGuildMembers({ guild_id, query: '', limit: 0, nonce: '' }));
      assert.notEqual(event.nonce, '');
    });

    it('refuses a nonce that is already pending', () => {
      const collector = new MemberChunkCollector();
      const request = new RequestGuildMembers({ guild_id, user_ids: ['1'], nonce: 'same' });
      collector.collect(request);
      assert.throws(() => collector.collect(request), (e: unknown) => e instanceof ValidationError && e.field === 'nonce');
    });
  });

  describe('chunks', () => {
    it('resolves once every chunk arrived, joined in chunk_index order', async () => {
      const collector = new MemberChunkCollector();
      const { event, result } = collector.collect(all());
      const nonce = event.nonce!;
      assert.equal(collector.onChunk(chunk(nonce, 2, 3, ['5'])), true);
      assert.equal(collector.onChunk(chunk(nonce, 0, 3, ['1', '2'])), true);
      assert.equal(collector.size, 1);
      assert.equal(collector.onChunk(chunk(nonce, 1, 3, ['3', '4'])), true);
      assert.deepEqual(ids(await result), ['1', '2', '3', '4', '5']);
      assert.equal(collector.size, 0);
    });

    it('ignores a repeated chunk', async () => {
      const collector = new MemberChunkCollector();
      const { event, result } = collector.collect(all());
      const nonce = event.nonce!;
      collector.onChunk(chunk(nonce, 0, 2, ['1']));
      assert.equal(collector.onChunk(chunk(nonce, 0, 2, ['1'])), true);
      assert.equal(collector.size, 1);
      collector.onChunk(chunk(nonce, 1, 2, ['2']));
      assert.deepEqual(ids(await result), ['1', '2']);
    });

    it('joins presences and not_found, turning numeric ids into strings', async () => {
      const collector = new MemberChunkCollector();
      const { event, result } = collector.collect(new RequestGuildMembers({ guild_id, user_ids: ['1', '2', '123123'], presences: true }));
      const presence = { user: { id: '1' }, status: 'online', activities: [], client_status: {} } as never;
      collector.onChunk(chunk(event.nonce, 0, 1, ['1'], { presences: [presence], not_found: ['2', 123123] }));
      const got = await result;
      assert.deepEqual(got.presences, [presence]);
      assert.deepEqual(got.not_found, ['2', '123123']);
    });

    it('gives empty presences and not_found when Discord leaves them out', async () => {
      const collector = new MemberChunkCollector();
      const { event, result } = collector.collect(all());
      collector.onChunk(chunk(event.nonce, 0, 1, []));
      assert.deepEqual(await result, { members: [], presences: [], not_found: [] });
    });

    it('does not claim chunks without a nonce, with another nonce, or for another guild', () => {
      const collector = new MemberChunkCollector();
      const { event } = collector.collect(all());
      assert.equal(collector.onChunk(chunk(undefined, 0, 1, ['1'])), false);
      assert.equal(collector.onChunk(chunk('other', 0, 1, ['1'])), false);
      assert.equal(collector.onChunk(chunk(event.nonce, 0, 1, ['1'], { guild_id: '1' })), false);
      assert.equal(collector.size, 1);
    });

    it('rejects a chunk whose index does not fit its count', async () => {
      const collector = new MemberChunkCollector();
      const { event, result } = collector.collect(all());
      assert.equal(collector.onChunk(chunk(event.nonce, 3, 3, ['1'])), true);
      await assert.rejects(result, GatewayProtocolError);
      assert.equal(collector.size, 0);
    });
  });

  describe('a new session', () => {
    it('rejects the requests already written on the shard, and keeps the ones still waiting to go out', async () => {
      const collector = new MemberChunkCollector();
      const written = collector.request(all(), async () => {}, { shardId: 0 });
      let release: () => void = () => {};
      const queued = collector.request(all(), () => new Promise<void>((resolve) => { release = resolve; }), { shardId: 0 });
      const otherShard = collector.request(all(), async () => {}, { shardId: 1 });
      await new Promise((resolve) => setImmediate(resolve));
      collector.cancelSent(new SessionClosedError(0, 'replaced'), 0);
      await assert.rejects(written, SessionClosedError);
      assert.equal(collector.size, 2);
      release();
      collector.cancelAll(new Error('end'));
      await assert.rejects(queued, /end/);
      await assert.rejects(otherShard, /end/);
    });
  });

  describe('RATE_LIMITED', () => {
    it('rejects the matching request with retry_after and meta', async () => {
      const collector = new MemberChunkCollector();
      const { event, result } = collector.collect(all());
      assert.equal(collector.onRateLimited(rateLimited(event.nonce)), true);
      await assert.rejects(result, (e: unknown) =>
        e instanceof RateLimitedError && e.opcode === 8 && e.retry_after === 29.5 && e.meta['nonce'] === event.nonce);
      assert.equal(collector.size, 0);
    });

    it('leaves requests with other nonces pending', () => {
      const collector = new MemberChunkCollector();
      collector.collect(all());
      assert.equal(collector.onRateLimited(rateLimited('other')), false);
      assert.equal(collector.onRateLimited(rateLimited(undefined)), false);
      assert.equal(collector.size, 1);
    });

    it('without a nonce, never rejects a request the limit does not apply to (user_ids, a prefix query)', async () => {
      const collector = new MemberChunkCollector();
      const byIds = collector.request(new RequestGuildMembers({ guild_id, user_ids: ['1'] }), async () => {});
      const byPrefix = collector.request(new RequestGuildMembers({ guild_id, query: 'ab', limit: 10 }), async () => {});
      const firstFifty = collector.request(new RequestGuildMembers({ guild_id, query: '', limit: 50 }), async () => {});
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(collector.onRateLimited(rateLimited(undefined)), false);
      assert.equal(collector.size, 3, 'all still wait for their chunks');
      collector.cancelAll(new Error('done'));
      for (const pending of [byIds, byPrefix, firstFifty]) await assert.rejects(pending, /done/);
    });

    it('without a nonce (Discord dropped an invalid one), rejects the oldest written whole-list request for the guild', async () => {
      const collector = new MemberChunkCollector();
      const byIds = collector.request(new RequestGuildMembers({ guild_id, user_ids: ['1'] }), async () => {});
      const first = collector.request(all(), async () => {});
      const second = collector.request(all(), async () => {});
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(collector.onRateLimited(rateLimited(undefined)), true);
      await assert.rejects(first, RateLimitedError);
      assert.equal(collector.size, 2, 'the second request and the user_ids one still wait');
      collector.cancelAll(new Error('done'));
      await assert.rejects(second, /done/);
      await assert.rejects(byIds, /done/);
    });

    it('without a nonce, answers a request marked sent (its frame handed to the socket) whose write has not completed', async () => {
      const collector = new MemberChunkCollector();
      const other = '41771983423143937';
      const finish: Array<() => void> = [];
      // Handed over, none of the writes completed: the answer can already be read.
      const handedOver = (event: RequestGuildMembers): Promise<void> => {
        collector.markSent(event.nonce!);
        return new Promise<void>((resolve) => finish.push(resolve));
      };
      const byIds = collector.request(new RequestGuildMembers({ guild_id, user_ids: ['1'] }), handedOver);
      const otherGuild = collector.request(new RequestGuildMembers({ guild_id: other, query: '', limit: 0 }), handedOver);
      const limited = collector.request(all(), handedOver);
      await Promise.resolve();
      assert.equal(finish.length, 3);
      assert.equal(collector.onRateLimited(rateLimited(undefined)), true);
      await assert.rejects(limited, (e: unknown) => e instanceof RateLimitedError && e.retry_after === 29.5 && e.meta['guild_id'] === guild_id);
      assert.equal(collector.size, 2, 'the user_ids request and the other guild\'s still wait');
      for (const f of finish) f();
      collector.cancelAll(new Error('done'));
      await assert.rejects(byIds, /done/);
      await assert.rejects(otherGuild, /done/);
    });

    it('without a nonce, leaves a whole-list request still waiting to be handed to the socket', async () => {
      const collector = new MemberChunkCollector();
      let finish!: () => void;
      const queued = collector.request(all(), () => new Promise<void>((resolve) => { finish = resolve; }));
      await Promise.resolve();
      assert.equal(collector.onRateLimited(rateLimited(undefined)), false);
      finish();
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(collector.onRateLimited(rateLimited(undefined)), true, 'once written, it is the answer\'s request');
      await assert.rejects(queued, RateLimitedError);
    });

    it('ignores other opcodes', () => {
      const collector = new MemberChunkCollector();
      const { event } = collector.collect(all());
      assert.equal(collector.onRateLimited(rateLimited(event.nonce, 3)), false);
      assert.equal(collector.size, 1);
    });
  });

  describe('abort and cancel', () => {
    it('an abort rejects with the reason and forgets the request', async () => {
      const collector = new MemberChunkCollector();
      const controller = new AbortController();
      const { event, result } = collector.collect(all(), { signal: controller.signal });
      controller.abort(new Error('gave up'));
      await assert.rejects(result, /gave up/);
      assert.equal(collector.size, 0);
      assert.equal(collector.onChunk(chunk(event.nonce, 0, 1, ['1'])), false);
    });

    it('an already aborted signal throws at once', () => {
      const collector = new MemberChunkCollector();
      assert.throws(() => collector.collect(all(), { signal: AbortSignal.abort() }), { name: 'AbortError' });
      assert.equal(collector.size, 0);
    });

    it('removes its abort listener once settled', async () => {
      const collector = new MemberChunkCollector();
      const controller = new AbortController();
      const { event, result } = collector.collect(all(), { signal: controller.signal });
      assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
      collector.onChunk(chunk(event.nonce, 0, 1, ['1']));
      await result;
      assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
    });

    it('cancel rejects one request', async () => {
      const collector = new MemberChunkCollector();
      const { event, result } = collector.collect(all());
      assert.equal(collector.cancel(event.nonce!, new Error('stop')), true);
      assert.equal(collector.cancel(event.nonce!, new Error('stop')), false);
      await assert.rejects(result, /stop/);
    });

    it('cancelAll rejects every pending request', async () => {
      const collector = new MemberChunkCollector();
      const a = collector.collect(all());
      const b = collector.collect(all());
      collector.cancelAll(new SessionClosedError(0));
      await assert.rejects(a.result, SessionClosedError);
      await assert.rejects(b.result, SessionClosedError);
      assert.equal(collector.size, 0);
    });

    it('cancelAll can target the requests of one shard', async () => {
      const collector = new MemberChunkCollector();
      const onShard1 = collector.collect(all(), { shardId: 1 });
      const onShard0 = collector.collect(all(), { shardId: 0 });
      collector.cancelAll(new SessionClosedError(1), 1);
      await assert.rejects(onShard1.result, SessionClosedError);
      assert.equal(collector.size, 1);
      collector.onChunk(chunk(onShard0.event.nonce, 0, 1, ['1']));
      assert.deepEqual(ids(await onShard0.result), ['1']);
    });
  });

  describe('sessions sharing a shard id (a reshard)', () => {
    it('cancelAll and cancelSent given a session leave the other session of the shard id alone', async () => {
      const collector = new MemberChunkCollector();
      const old = new Session({ shard: [0, 1] });
      const fresh = new Session({ shard: [0, 2] });
      const onOld = collector.request(all(), () => Promise.resolve(), { shardId: 0, session: old });
      const onFresh = collector.request(all(), () => Promise.resolve(), { shardId: 0, session: fresh });
      await new Promise((resolve) => setImmediate(resolve));
      collector.cancelSent(new SessionClosedError(0, 'replaced'), fresh);
      await assert.rejects(onFresh, SessionClosedError);
      assert.equal(collector.size, 1, 'the old session\'s request still waits');
      collector.cancelAll(new SessionClosedError(0), old);
      await assert.rejects(onOld, SessionClosedError);
      assert.equal(collector.size, 0);
    });
  });

  describe('request', () => {
    it('sends the event carrying the nonce and resolves with the chunks', async () => {
      const collector = new MemberChunkCollector();
      const sent: RequestGuildMembers[] = [];
      const result = collector.request(all(), async (event) => {
        sent.push(event);
      });
      await Promise.resolve();
      assert.equal(sent.length, 1);
      collector.onChunk(chunk(sent[0]!.nonce, 0, 1, ['7']));
      assert.deepEqual(ids(await result), ['7']);
    });

    it('rejects with the send error and forgets the request', async () => {
      const collector = new MemberChunkCollector();
      await assert.rejects(collector.request(all(), async () => { throw new SessionClosedError(0); }), SessionClosedError);
      assert.equal(collector.size, 0);
    });

    it('rejects with RateLimitedError when Discord limits it while the send is still pending', async () => {
      const collector = new MemberChunkCollector();
      let finishSend!: () => void;
      const result = collector.request(all(), (event) => {
        collector.onRateLimited(rateLimited(event.nonce));
        return new Promise<void>((resolve) => { finishSend = resolve; });
      });
      await assert.rejects(result, RateLimitedError);
      finishSend();
    });
  });

  describe('timeout', () => {
    afterEach(() => mock.timers.reset());

    /** A request written at once, whose result is recorded as it settles. */
    async function written(collector: MemberChunkCollector, timeout?: number) {
      let nonce = '';
      const outcome: { value?: string[]; error?: unknown } = {};
      collector.request(all(), async (event) => { nonce = event.nonce!; }, timeout === undefined ? {} : { timeout })
        .then((r) => { outcome.value = ids(r); }, (error: unknown) => { outcome.error = error; });
      await Promise.resolve();
      await Promise.resolve();
      return { nonce: () => nonce, outcome };
    }

    const flush = async (): Promise<void> => { for (let i = 0; i < 5; i++) await Promise.resolve(); };

    it('rejects with MemberRequestTimeoutError 2 minutes after writing when no chunk comes, and forgets it', async () => {
      mock.timers.enable({ apis: ['setTimeout'] });
      const collector = new MemberChunkCollector();
      const { nonce, outcome } = await written(collector);
      mock.timers.tick(MEMBER_REQUEST_TIMEOUT_MS - 1);
      await flush();
      assert.deepEqual(outcome, {});
      mock.timers.tick(1);
      await flush();
      assert.ok(outcome.error instanceof MemberRequestTimeoutError, String(outcome.error));
      assert.equal(outcome.error.guild_id, guild_id);
      assert.equal(outcome.error.nonce, nonce());
      assert.equal(collector.size, 0);
      assert.equal(collector.onChunk(chunk(nonce(), 0, 1, ['7'])), false, 'a late chunk belongs to nothing');
    });

    it('counts from the moment the request is marked sent, not from when its write completes', async () => {
      mock.timers.enable({ apis: ['setTimeout'] });
      const collector = new MemberChunkCollector();
      let finish!: () => void;
      const outcome: { error?: unknown } = {};
      collector.request(all(), (event) => {
        collector.markSent(event.nonce!);
        return new Promise<void>((resolve) => { finish = resolve; });
      }, { timeout: 1000 }).catch((error: unknown) => { outcome.error = error; });
      mock.timers.tick(600);
      finish();
      await flush();
      mock.timers.tick(399);
      await flush();
      assert.deepEqual(outcome, {});
      mock.timers.tick(1);
      await flush();
      assert.ok(outcome.error instanceof MemberRequestTimeoutError, String(outcome.error));
    });

    it('counts again from every chunk, so a long answer is not cut off', async () => {
      mock.timers.enable({ apis: ['setTimeout'] });
      const collector = new MemberChunkCollector();
      const { nonce, outcome } = await written(collector, 1000);
      for (let i = 0; i < 3; i++) {
        mock.timers.tick(900);
        collector.onChunk(chunk(nonce(), i, 4, [String(i)]));
      }
      mock.timers.tick(999);
      await flush();
      assert.deepEqual(outcome, {});
      collector.onChunk(chunk(nonce(), 3, 4, ['3']));
      await flush();
      assert.deepEqual(outcome.value, ['0', '1', '2', '3']);
      mock.timers.tick(5000);
      await flush();
      assert.equal(outcome.error, undefined, 'no timer left behind');
    });

    it('waits for ever with Infinity; refuses a timeout that is not a usable delay', async () => {
      mock.timers.enable({ apis: ['setTimeout'] });
      const collector = new MemberChunkCollector();
      const { outcome } = await written(collector, Infinity);
      mock.timers.tick(MEMBER_REQUEST_TIMEOUT_MS * 100);
      await flush();
      assert.deepEqual(outcome, {});
      assert.equal(collector.size, 1);
      for (const timeout of [0, -1, Number.NaN, 2 ** 31]) {
        assert.throws(() => collector.collect(all(), { timeout }), (e: unknown) => e instanceof InvalidOptionError && e.option === 'timeout', `timeout ${timeout}`);
      }
    });
  });
});
