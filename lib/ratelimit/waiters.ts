/** One caller waiting for a unit; a node of a {@link WaiterQueue}. */
interface Waiter {
  resolve: () => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  prev: Waiter | undefined;
  next: Waiter | undefined;
}

/**
 * The callers waiting on one bucket, first come first served. A linked list, so an abort
 * anywhere in the queue removes its caller in O(1) and everyone behind keeps their place.
 */
export class WaiterQueue {
  #first: Waiter | undefined;
  #last: Waiter | undefined;
  #size = 0;

  /**
   * @param onAbort - called after an aborted caller left the queue (e.g. to disarm a timer
   *   once nobody is left)
   */
  constructor(private readonly onAbort: () => void) {}

  /** Number of callers waiting. */
  get size(): number {
    return this.#size;
  }

  /**
   * Adds a caller at the back.
   *
   * @param signal - aborting removes the caller and rejects its promise with `signal.reason`
   * @returns settles when {@link WaiterQueue.grant} reaches the caller, or on abort / {@link WaiterQueue.failAll}
   */
  wait(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, onAbort: undefined, prev: this.#last, next: undefined };
      if (this.#last === undefined) this.#first = waiter;
      else this.#last.next = waiter;
      this.#last = waiter;
      this.#size++;
      if (signal !== undefined) {
        waiter.onAbort = () => {
          this.#unlink(waiter);
          waiter.reject(signal.reason);
          this.onAbort();
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
    });
  }

  /**
   * Resolves the first caller.
   *
   * @returns false when nobody was waiting
   */
  grant(): boolean {
    const waiter = this.#first;
    if (waiter === undefined) return false;
    this.#unlink(waiter);
    waiter.resolve();
    return true;
  }

  /** Rejects every waiting caller with `error` and empties the queue. */
  failAll(error: unknown): void {
    for (let waiter = this.#first; waiter !== undefined; waiter = this.#first) {
      this.#unlink(waiter);
      waiter.reject(error);
    }
  }

  #unlink(waiter: Waiter): void {
    if (waiter.prev === undefined) this.#first = waiter.next;
    else waiter.prev.next = waiter.next;
    if (waiter.next === undefined) this.#last = waiter.prev;
    else waiter.next.prev = waiter.prev;
    waiter.prev = undefined;
    waiter.next = undefined;
    this.#size--;
    if (waiter.onAbort !== undefined) waiter.signal?.removeEventListener('abort', waiter.onAbort);
  }
}
