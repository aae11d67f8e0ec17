import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewaySimulator, type SimulatorIdentifyEvent, type SimulatorResumeEvent } from '../../../lib/testing/index.js';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server.js';
import { WorkerProcess } from './fixtures/worker-process.js';

const TOKEN = 'restart-token';

let redis: RedisServer;
let dir: string;
before(async () => {
  redis = await startRedisServer();
  dir = mkdtempSync(join(tmpdir(), 'disgate-restart-'));
});
after(async () => {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Logged {
  seq: number;
  id: number;
}

function readLog(path: string): Logged[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((line) => {
    const [seq, id] = line.split(' ').map(Number);
    return { seq: seq!, id: id! };
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('resuming across a process restart (RedisSessionStore)', () => {
  it('a killed process\'s successor resumes and together they miss no dispatch', { timeout: 60_000 }, async (t) => {
    const sim = await GatewaySimulator.create({ token: TOKEN, shards: 1, guilds: 1 });
    const identifies: SimulatorIdentifyEvent[] = [];
    const resumes: SimulatorResumeEvent[] = [];
    sim.on('identify', (e) => identifies.push(e));
    sim.on('resume', (e) => resumes.push(e));
    const config = { apiURL: sim.apiURL, token: TOKEN, redisURL: redis.url, prefix: `test:${randomUUID().slice(0, 8)}:`, shards: 1, store: true };
    const logs = [join(dir, 'first.log'), join(dir, 'second.log')] as const;
    const guild = sim.guilds[0]!;
    let last = 0;
    const push = (): void => {
      last++;
      sim.dispatch('MESSAGE_CREATE', { ...sim.fixtures.message({ guild_id: guild.id }), id: String(last) });
    };
    let pusher: NodeJS.Timeout | undefined;
    const workers: WorkerProcess[] = [];
    try {
      const first = new WorkerProcess('first', { ...config, log: logs[0] });
      workers.push(first);
      await first.waitForLine((l) => l === 'loaded', 'loaded');
      first.send('go');
      await first.waitForLine((l) => l === 'ready 0 ready', 'READY');
      const [session] = sim.sessions;

      // Messages flow for longer than the store's flush interval (1 s), then the process dies
      // without any cleanup; the gateway keeps sending while nobody is connected.
      pusher = setInterval(push, 2);
      await sleep(1600);
      await first.kill();
      const atKill = last;
      await sleep(400);

      const second = new WorkerProcess('second', { ...config, log: logs[1] });
      workers.push(second);
      await second.waitForLine((l) => l === 'loaded', 'loaded');
      second.send('go');
      await second.waitForLine((l) => l.startsWith('ready 0 '), 'READY or RESUMED');
      await sleep(400);
      clearInterval(pusher);
      pusher = undefined;
      const final = last;
      for (let i = 0; i < 100 && !readLog(logs[1]).some((x) => x.id === final); i++) await sleep(50);

      assert.ok(second.lines.includes('ready 0 resumed'), `the successor resumed: ${JSON.stringify(second.lines)}`);
      assert.equal(identifies.length, 1, 'only the first process identified');
      assert.equal(resumes.length, 1);
      const resume = resumes[0]!;
      assert.equal(resume.sessionId, session!.id, 'the same gateway session');

      const before = readLog(logs[0]);
      const after = readLog(logs[1]);
      assert.ok(before.length > 0 && before.length <= atKill, 'the first process logged messages until it died');
      assert.ok(after.length > 0, 'the successor logged messages');
      for (const [name, log] of [['first', before], ['second', after]] as const) {
        assert.equal(new Set(log.map((x) => x.id)).size, log.length, `${name} process saw no message twice`);
        for (let i = 1; i < log.length; i++) assert.ok(log[i]!.seq > log[i - 1]!.seq, `${name}: sequence numbers increase`);
      }
      // Nothing lost: the two logs together hold every message pushed, 1..final.
      const union = new Set([...before, ...after].map((x) => x.id));
      const missing = Array.from({ length: final }, (_, i) => i + 1).filter((id) => !union.has(id));
      assert.deepEqual(missing, [], 'no message lost');
      assert.equal(union.size, final);
      // At least once: the store held a seq at most as recent as the last one the first process
      // saw (writes are batched), and the repeats are exactly the messages after it.
      const lastSeen = before.at(-1)!.seq;
      assert.ok(resume.seq <= lastSeen, `resumed from seq ${resume.seq}, the first process saw up to ${lastSeen}`);
      const repeated = after.filter((x) => before.some((y) => y.id === x.id));
      assert.deepEqual(repeated.map((x) => x.id), before.filter((x) => x.seq > resume.seq).map((x) => x.id));
      assert.equal(after[0]!.seq, resume.seq + 1, 'the replay started right after the stored seq');
      t.diagnostic(`pushed ${final} messages (${atKill} before the kill); resumed from seq ${resume.seq}, `
        + `${lastSeen - resume.seq} seqs behind the first process; ${resume.replayed} replayed; ${repeated.length} messages seen by both processes`);
      for (const w of workers) assert.deepEqual(w.errors, [], `${w.name} reported no error`);
    } finally {
      if (pusher) clearInterval(pusher);
      await Promise.all(workers.map((w) => w.close()));
      await sim.close();
    }
  });
});
