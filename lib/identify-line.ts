/**
 * The shards of one process waiting to identify on one bucket key (`shard_id % max_concurrency`),
 * in the order they asked. Only the head of the line opens its socket; the next one goes when
 * the head has its identify slot, gave up, or held its turn for `maxTurnMs`. Without it, a burst
 * of re-identifies on one key (every session invalidated at once) opens every socket together,
 * and the last one idles through every identify window before its own, heartbeating before
 * Identify.
 */
export class IdentifyLine {
  readonly #waiting: Array<{ shardId: number; go: () => void }> = [];
  #head: number | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** @param maxTurnMs - longest a shard holds the head before the next one goes anyway */
  constructor(private readonly maxTurnMs: number) {}

  /**
   * Resolves when it is `shardId`'s turn. A shard already in line (or at its head) keeps its place.
   *
   * @param shardId - the shard about to open a socket to identify
   * @param signal - leaves the line (the session was closed); the promise rejects with its reason
   */
  enter(shardId: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.#head === shardId) return Promise.resolve();
    if (this.#head === undefined) {
      this.#start(shardId);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.#remove(shardId);
        reject(signal!.reason);
      };
      const go = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      this.#remove(shardId);
      this.#waiting.push({ shardId, go });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * `shardId` is done with its turn (it has its identify slot, its attempt failed, or it ended):
   * the next shard goes. Leaving without a turn only gives up the place in line.
   *
   * @param shardId - the shard leaving
   */
  leave(shardId: number): void {
    if (this.#head === shardId) this.#next();
    else this.#remove(shardId);
  }

  /** Whether nobody holds or waits for a turn. */
  get idle(): boolean {
    return this.#head === undefined && this.#waiting.length === 0;
  }

  #start(shardId: number): void {
    this.#head = shardId;
    // Unreferenced: a held turn must not keep the process alive by itself.
    this.#timer = setTimeout(() => this.#next(), this.maxTurnMs);
    this.#timer.unref();
  }

  #next(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#head = undefined;
    const next = this.#waiting.shift();
    if (!next) return;
    this.#start(next.shardId);
    next.go();
  }

  #remove(shardId: number): void {
    const index = this.#waiting.findIndex((w) => w.shardId === shardId);
    if (index >= 0) this.#waiting.splice(index, 1);
  }
}
