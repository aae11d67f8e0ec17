/**
 * The shards of one process waiting to identify on one bucket key (`shard_id % max_concurrency`),
 * in the order they asked. Only the head of the line opens its socket; the next one goes when
 * the head has its identify slot, gave up, or held its turn for `maxTurnMs`. Without it, a burst
 * of re-identifies on one key (every session invalidated at once) opens every socket together,
 * and the last one idles through every identify window before its own, heartbeating before
 * Identify.
 */
export class IdentifyLine {
  readonly #waiting: Array<{ owner: object; go: () => void }> = [];
  #head: object | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** @param maxTurnMs - longest a shard holds the head before the next one goes anyway */
  constructor(private readonly maxTurnMs: number) {}

  /**
   * Resolves when it is `owner`'s turn. The head entering again keeps its turn.
   *
   * @param owner - who is about to open a socket to identify (a session: two sessions of one
   * shard id, an old and a new one during a reshard, are two places in line)
   * @param signal - leaves the line (the session was closed); the promise rejects with its reason
   */
  enter(owner: object, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.#head === owner) return Promise.resolve();
    if (this.#head === undefined) {
      this.#start(owner);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const entry = {
        owner,
        go: (): void => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        this.#remove(entry);
        reject(signal!.reason);
      };
      this.#waiting.push(entry);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * `owner` is done with its turn (it has its identify slot, its attempt failed, or it ended):
   * the next one goes. An owner that does not hold the turn changes nothing (a waiter leaves
   * through its signal).
   *
   * @param owner - who leaves
   */
  leave(owner: object): void {
    if (this.#head === owner) this.#next();
  }

  /** Whether nobody holds or waits for a turn. */
  get idle(): boolean {
    return this.#head === undefined && this.#waiting.length === 0;
  }

  #start(owner: object): void {
    this.#head = owner;
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
    this.#start(next.owner);
    next.go();
  }

  #remove(entry: { owner: object; go: () => void }): void {
    const index = this.#waiting.indexOf(entry);
    if (index >= 0) this.#waiting.splice(index, 1);
  }
}
