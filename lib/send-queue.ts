/** One frame waiting for its turn. */
interface Entry {
  readonly text: string;
  readonly signal: AbortSignal | undefined;
  readonly onWrite: (() => void) | undefined;
  resolve(): void;
  reject(err: unknown): void;
  onAbort: (() => void) | undefined;
}

/**
 * The ordered lane of a session's user frames: strictly first in, first out, one frame in
 * flight at a time, each frame's promise settled when it is written (or fails). Aborting a
 * waiting frame removes it without disturbing the others. A plain array and one pump instead
 * of a general task queue: the send path allocates one promise and one entry per frame.
 */
export class SendQueue {
  #entries: Array<Entry | undefined> = [];
  #head = 0;
  #pumping = false;

  /** @param write - writes one frame (calling `onWrite` as it hands it to the socket); the pump awaits it before taking the next */
  constructor(private readonly write: (text: string, signal: AbortSignal | undefined, onWrite: (() => void) | undefined) => Promise<void>) {}

  /** Frames waiting or in flight. */
  get size(): number {
    return this.#entries.length - this.#head;
  }

  /** Queues a frame; resolves once it is written. `onWrite` is handed to `write` with it. */
  push(text: string, signal: AbortSignal | undefined, onWrite?: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const entry: Entry = { text, signal, onWrite, resolve, reject, onAbort: undefined };
      if (signal) {
        entry.onAbort = () => {
          const index = this.#entries.indexOf(entry, this.#head);
          // The frame at the head is being written: the write itself sees the signal.
          if (index > this.#head || (index === this.#head && !this.#pumping)) {
            this.#entries[index] = undefined;
            reject(signal.reason);
          }
        };
        signal.addEventListener('abort', entry.onAbort, { once: true });
      }
      this.#entries.push(entry);
      if (!this.#pumping) void this.#pump();
    });
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    while (this.#head < this.#entries.length) {
      const entry = this.#entries[this.#head];
      if (entry !== undefined) {
        try {
          await this.write(entry.text, entry.signal, entry.onWrite);
          entry.resolve();
        } catch (err) {
          entry.reject(err);
        }
        if (entry.onAbort) entry.signal!.removeEventListener('abort', entry.onAbort);
      }
      this.#entries[this.#head++] = undefined;
      if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
        this.#entries = this.#entries.slice(this.#head);
        this.#head = 0;
      }
    }
    this.#entries.length = 0;
    this.#head = 0;
    this.#pumping = false;
  }
}
