import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { Client, shardForGuild, InvalidOptionError, GatewayIntentBits, Session, type ClientOptions } from '../../lib/index.js';

const base: ClientOptions = { token: 'secret-token-value', intents: GatewayIntentBits.Guilds };

describe('Client options', () => {
  const bad: Array<[string, Partial<ClientOptions> | Record<string, unknown>]> = [
    ['token', { token: '' }],
    ['token', { token: 42 }],
    ['intents', { intents: 1.5 }],
    ['intents', { intents: '1' }],
    ['intents', { intents: -1 }],
    ['intents', { intents: 1 << 17 }],
    ['largeThreshold', { largeThreshold: 49 }],
    ['largeThreshold', { largeThreshold: 251 }],
    ['largeThreshold', { largeThreshold: 100.5 }],
    ['compression', { compression: 'gzip' }],
    ['apiURL', { apiURL: 'not a url' }],
    ['shards', { shards: 0 }],
    ['shards', { shards: { ids: [3], total: 2 } }],
    ['maxReconnectAttempts', { maxReconnectAttempts: -1 }],
  ];
  for (const [option, patch] of bad) {
    it(`rejects ${option} = ${inspect((patch as Record<string, unknown>)[option])} with a TypeError naming it`, () => {
      assert.throws(() => new Client({ ...base, ...patch } as ClientOptions), (err: unknown) => {
        assert.ok(err instanceof InvalidOptionError);
        assert.ok(err instanceof TypeError);
        assert.equal(err.option, option);
        assert.match(err.message, new RegExp(option));
        return true;
      });
    });
  }

  it('accepts the defaults and every documented compression', () => {
    for (const compression of ['zstd-stream', 'zlib-stream', 'none'] as const) {
      assert.equal(new Client({ ...base, compression }).compression, compression);
    }
    const bot = new Client(base);
    assert.equal(bot.compression, 'zstd-stream');
    assert.equal(bot.apiURL, 'https://discord.com/api/v10');
    assert.equal(bot.autoReconnect, true);
    assert.equal(bot.maxReconnectAttempts, Infinity);
  });

  it('keeps the token out of inspect output', () => {
    const bot = new Client(base);
    assert.doesNotMatch(inspect(bot, { depth: 5, showHidden: true }), /secret-token-value/);
    assert.equal(bot.token, 'secret-token-value');
  });

  it('rejects a bad shard pair on Session', () => {
    for (const shard of [[1, 1], [-1, 2], [0, 0], [0.5, 2]] as Array<[number, number]>) {
      assert.throws(() => new Session({ shard }), (err: unknown) => err instanceof InvalidOptionError && err.option === 'shard');
    }
  });
});

describe('handle()', () => {
  it('warns once, naming the missing intent, for events the intents never deliver', () => {
    const bot = new Client(base);
    const warnings: string[] = [];
    bot.on('warn', (m) => warnings.push(m));
    bot.handle('GUILD_MEMBER_ADD', () => {});
    bot.handle('GUILD_MEMBER_ADD', () => {});
    bot.handle('GUILD_CREATE', () => {});
    bot.handle('INTERACTION_CREATE', () => {});
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /GUILD_MEMBER_ADD.*GUILD_MEMBERS/);
  });

  it('warns that message content arrives empty without MESSAGE_CONTENT', () => {
    const bot = new Client({ ...base, intents: GatewayIntentBits.GuildMessages });
    const warnings: string[] = [];
    bot.on('warn', (m) => warnings.push(m));
    bot.handle('MESSAGE_CREATE', () => {});
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /MESSAGE_CONTENT/);
    const withContent = new Client({ ...base, intents: GatewayIntentBits.GuildMessages | GatewayIntentBits.MessageContent });
    withContent.on('warn', () => assert.fail('no warning expected'));
    withContent.handle('MESSAGE_CREATE', () => {});
  });

  it('delivers in order, survives throwing handlers, and unsubscribes', async () => {
    const bot = new Client(base);
    const errors: Error[] = [];
    bot.on('error', (e) => errors.push(e));
    const seen: string[] = [];
    bot.handle('GUILD_UPDATE', () => { throw new Error('sync boom'); });
    const off = bot.handle('GUILD_UPDATE', (g) => { seen.push(`a:${g.name}`); });
    bot.handle('GUILD_UPDATE', async (g) => { seen.push(`b:${g.name}`); throw new Error('async boom'); });
    const session = new Session();
    bot.deliver('GUILD_UPDATE', { name: 'x' }, session);
    off();
    bot.deliver('GUILD_UPDATE', { name: 'y' }, session);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(seen, ['a:x', 'b:x', 'b:y']);
    assert.deepEqual(errors.map((e) => e.message), ['sync boom', 'sync boom', 'async boom', 'async boom']);
  });
});

describe('shard routing', () => {
  it('routes guilds with (id >> 22) % shards using 64-bit arithmetic', () => {
    assert.equal(shardForGuild('81384788765712384', 1), 0);
    assert.equal(shardForGuild('81384788765712384', 2), 0); // 81384788765712384 >> 22 = 19403645698
    assert.equal(shardForGuild('81384788765712384', 16), Number(19403645698n % 16n));
    assert.equal(shardForGuild('1234567890123456789', 1000), Number((1234567890123456789n >> 22n) % 1000n));
    assert.equal(shardForGuild('18446744073709551615', 7), Number((18446744073709551615n >> 22n) % 7n));
  });

  it('sessionForGuild picks the session of the guild\'s shard', () => {
    const bot = new Client({ ...base, shards: 4 });
    const sessions = [0, 1, 2, 3].map((id) => new Session({ shard: [id, 4] }));
    for (const s of sessions) bot.sessions.set(s.shard[0], s);
    assert.equal(bot.sessionForGuild('81384788765712384'), sessions[Number(19403645698n % 4n)]);
  });
});
