/**
 * The per-connection send budget, watched from the outside. Discord allows 120 frames per
 * connection per 60 s and disconnects (close 4008) anyone who sends more. disgate counts every
 * frame, heartbeats included, keeps a few frames a minute for heartbeats, and queues the rest
 * in order instead of failing. This example sends a burst bigger than the budget and prints:
 *
 * - `session.getRateLimitStatus()`: frames sent in the last 60 s on this connection, how many
 *   may still go, and when the oldest leaves the window;
 * - the session's bucket from its RateLimiter (`limit` is 120 minus the heartbeat reserve);
 * - what happens to frames that wait: they go out when the window frees, or, as here, are
 *   withdrawn with an AbortSignal (pass `--wait` to watch them go out after about a minute).
 *
 * Run it: `npx tsx examples/rate-limit-status.ts [--wait]`. Without DISCORD_TOKEN it starts the
 * built-in GatewaySimulator; with a token it sends only a few frames.
 */
import { Client, GatewayIntentBits, Session, UpdateStatusData, heartbeatReserve } from '../lib/index.js';
import { log, runExample } from './support/example.js';

runExample({}, async ({ simulator, connection }) => {
  const wait = process.argv.includes('--wait');
  // Over budget the gateway would close with 4008; this never fires.
  simulator?.on('close', (e) => log(`gateway closed the connection: ${e.code} ${e.reason}`));

  const bot = new Client({ ...connection, intents: GatewayIntentBits.Guilds });
  bot.on('error', (error) => log(`error: ${error.message}`));
  const session = new Session({ shard: [0, 1] });
  await session.connect(bot);

  const status = (): string => {
    const s = session.getRateLimitStatus();
    const reset = s.resetTime === 0 ? '-' : `${((s.resetTime - Date.now()) / 1000).toFixed(1)} s`;
    return `${s.currentEventCount} sent in the last 60 s, ${s.remainingEvents} left, window frees in ${reset}`;
  };
  const bucketLine = async (): Promise<string> => {
    const b = await session.rateLimiter.getBucket(session.connectionBucket!.id);
    return b ? `bucket ${b.id}: limit ${b.limit}, remaining ${b.remaining}, pending ${b.pending}` : 'bucket unused';
  };
  log(`READY. ${status()} (the identify counts too)`);
  // The bucket leaves room for the heartbeats of a minute: heartbeatReserve(41250) = 3.
  const reserve = 120 - session.connectionBucket!.limit;
  log(`${await bucketLine()} (120 minus ${reserve} kept for heartbeats; heartbeatReserve(41250) is ${heartbeatReserve(41_250)})`);

  // A burst: each frame's promise resolves once it is written.
  const burst = simulator ? 130 : 5;
  const controller = new AbortController();
  let written = 0;
  let withdrawn = 0;
  const sends = Array.from({ length: burst }, (_, i) =>
    new UpdateStatusData({ since: null, activities: [{ name: `update ${i + 1}`, type: 0 }], status: 'online', afk: false })
      .sendEvent(bot, session, { signal: controller.signal })
      .then(() => {
        written++;
        if (written % 40 === 0) log(`${written} written: ${status()}`);
      }, () => { withdrawn++; }));

  // Let the burst drain as far as the budget allows.
  await new Promise((resolve) => setTimeout(resolve, 300));
  log(`burst of ${burst}: ${written} written, ${burst - written - withdrawn} waiting`);
  log(status());
  log(await bucketLine());

  if (written < burst && !wait) {
    controller.abort(new Error('not worth waiting for'));
    await Promise.all(sends);
    log(`withdrew the ${withdrawn} waiting frames with an AbortSignal (run with --wait to send them instead)`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (simulator) log(`the gateway received ${simulator.frames.filter((f) => f.direction === 'in' && f.op === 3).length} presence updates`);
  } else {
    if (written < burst) log('waiting for the window to free...');
    await Promise.all(sends);
    log(`all ${written} written. ${status()}`);
  }
  log(await bucketLine());

  simulator?.removeAllListeners('close');
  await bot.close();
});
