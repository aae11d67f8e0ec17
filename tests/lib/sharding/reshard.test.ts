import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { FatalCloseError, GatewayCloseCodes, GatewayOpcodes, type Session } from '../../../lib/index.js';
import type { SimulatorIdentifyEvent } from '../../../lib/testing/index.js';
import { harness, type Harness, type HarnessOptions } from '../../helpers/gateway.js';

let h: Harness | undefined;

afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

/**
 * Six guilds, at most two per shard: one shard would hold all six (close 4011), while the four
 * shards `/gateway/bot` recommends hold two, two, one and one. With max_concurrency 2 the new set
 * starts in two waves, so the swap waits a full identify window for the second one.
 */
const TOO_SMALL: HarnessOptions = {
  sim: { shards: 4, maxConcurrency: 2, maxGuildsPerShard: 2, guilds: 6 },
  client: { shards: 1 },
};

interface Outcome {
  settled: boolean;
  error?: unknown;
}

function start(hh: Harness): Outcome {
  const outcome: Outcome = { settled: false };
  hh.bot.connect().then(() => { outcome.settled = true; }, (error: unknown) => { outcome.settled = true; outcome.error = error; });
  return outcome;
}

function duplicates(values: readonly string[]): string[] {
  const seen = new Set<string>();
  return values.filter((v) => (seen.has(v) ? true : (seen.add(v), false)));
}

describe('close 4011 (sharding required)', () => {
  it('ends bot.connect() with a FatalCloseError by default', async () => {
    h = await harness(TOO_SMALL);
    const outcome = start(h);
    await h.advanceUntil(() => outcome.settled, 'bot.connect()', { max: 60_000 });
    assert.ok(outcome.error instanceof FatalCloseError, `got ${String(outcome.error)}`);
    assert.equal(outcome.error.code, GatewayCloseCodes.ShardingRequired);
    assert.equal(h.bot.sessions.get(0)?.status, 'closed');
    assert.equal(h.sim.sessions.length, 0, 'no session was created');
  });

  it('with autoReshard: starts the recommended count, swaps once all are READY, closes the old set', async () => {
    h = await harness({ ...TOO_SMALL, client: { ...TOO_SMALL.client, autoReshard: true } });
    const bot = h.bot;
    const identified: Array<{ shard: readonly [number, number] }> = [];
    h.sim.on('identify', (e: SimulatorIdentifyEvent) => identified.push({ shard: e.shard }));
    const original = new Set<Session>();
    bot.on('close', (_e, session) => original.add(session));
    // At every READY before the swap, the new session must not be serving the bot yet.
    const servingAtReady: boolean[] = [];
    bot.on('ready', (session) => servingAtReady.push([...bot.sessions.values()].includes(session)));
    const resharded: Array<{ total: number; ready: boolean[] }> = [];
    bot.on('resharded', (total) => resharded.push({ total, ready: [...bot.sessions.values()].map((s) => s.status === 'ready') }));
    const messages: string[] = [];
    const guildCreates: string[] = [];
    bot.handle('MESSAGE_CREATE', (m) => { messages.push(m.id); });
    bot.handle('GUILD_CREATE', (g) => { guildCreates.push(g.id); });

    const outcome = start(h);
    // The gateway keeps talking while the new set starts: a message to every guild each step.
    let pushed = 0;
    while (!outcome.settled) {
      for (const guild of h.sim.guilds) if (h.sim.dispatch('MESSAGE_CREATE', h.sim.fixtures.message({ guild_id: guild.id })) > 0) pushed++;
      await h.advance(250);
      assert.ok(Date.now() < 1_700_000_000_000 + 120_000, 'resharding finished within 2 minutes of fake time');
    }
    assert.equal(outcome.error, undefined);

    assert.deepEqual(resharded, [{ total: 4, ready: [true, true, true, true] }]);
    // Identify frames: the 1-shard attempt (refused with 4011), then the new set. Each bucket key
    // (shard_id % 2) identifies in ascending shard order, a full window after its previous use,
    // the refused attempt included (the client spent key 0 on it); the gateway refused none.
    const attempts = h.sim.frames.filter((f) => f.direction === 'in' && f.op === GatewayOpcodes.Identify)
      .map((f) => ({ shard: (f.d as { shard: [number, number] }).shard, at: f.at }));
    assert.deepEqual(attempts.map((a) => a.shard).sort(), [[0, 1], [0, 4], [1, 4], [2, 4], [3, 4]]);
    assert.deepEqual(attempts[0]!.shard, [0, 1]);
    for (const key of [0, 1]) {
      const ofKey = attempts.filter((a) => a.shard[0] % 2 === key);
      for (let i = 1; i < ofKey.length; i++) {
        assert.ok(ofKey[i]!.at - ofKey[i - 1]!.at >= 5000, `key ${key}: ${ofKey[i]!.at - ofKey[i - 1]!.at} ms apart`);
        if (ofKey[i - 1]!.shard[1] === 4) assert.ok(ofKey[i]!.shard[0] > ofKey[i - 1]!.shard[0], `key ${key} in ascending order`);
      }
    }
    assert.equal(h.sim.frames.filter((f) => f.direction === 'out' && f.op === GatewayOpcodes.InvalidSession).length, 0);
    assert.deepEqual(identified.map((x) => x.shard).sort(), [[0, 4], [1, 4], [2, 4], [3, 4]], 'sessions created: the new set only');
    assert.deepEqual(servingAtReady, [false, false, false, false], 'no new session served the bot before the swap');
    assert.equal(bot.shards, 4);
    assert.deepEqual([...bot.sessions.keys()].sort(), [0, 1, 2, 3]);
    for (const [id, session] of bot.sessions) {
      assert.deepEqual(session.shard, [id, 4]);
      assert.equal(session.status, 'ready');
    }
    assert.equal(original.size, 1, 'only the original session closed');
    const [old] = original;
    assert.deepEqual(old!.shard, [0, 1]);
    assert.equal(old!.status, 'closed');
    assert.ok(![...bot.sessions.values()].includes(old!));

    // After the swap every guild routes to a new session; traffic flows.
    const before = messages.length;
    for (const guild of h.sim.guilds) h.sim.dispatch('MESSAGE_CREATE', h.sim.fixtures.message({ guild_id: guild.id }));
    await h.advanceUntil(() => messages.length === before + h!.sim.guilds.length, 'messages after the swap');
    for (const guild of h.sim.guilds) assert.equal(bot.sessionForGuild(guild.id)?.shard[1], 4);

    assert.ok(pushed > 0, 'messages were pushed to the new set while it started');
    assert.deepEqual(duplicates(messages), [], 'no MESSAGE_CREATE delivered twice');
    assert.deepEqual(duplicates(guildCreates), [], 'no GUILD_CREATE delivered twice');
  });
});
