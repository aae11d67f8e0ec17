/**
 * Server-side state of one gateway session: sequence numbers, the replay buffer a resume reads,
 * and what the client told the gateway (intents, presence, voice).
 */
import type { GatewayPresenceUpdateData } from 'discord-api-types/v10';

/** A dispatch as the session sent it, kept for replay on resume. */
export interface BufferedDispatch {
  readonly s: number;
  readonly t: string;
  readonly d: unknown;
  /** The exact frame text, so a replay re-sends byte-identical frames without serializing again. */
  readonly json: string;
}

/**
 * The bot's voice state in one guild, as the last op 4 set it.
 *
 * @category Testing
 */
export interface SimulatedVoiceState {
  /** Voice channel joined, or null after leaving. */
  readonly channel_id: string | null;
  /** Self-muted. */
  readonly self_mute: boolean;
  /** Self-deafened. */
  readonly self_deaf: boolean;
}

/** Where an attached session's frames go: its connection. */
export interface SessionSink {
  readonly id: number;
  /** Queues one frame's text for sending. */
  send(text: string): void;
}

/** What a session was created with. */
export interface SessionInit {
  id: string;
  shard: [number, number];
  intents: number;
  largeThreshold: number;
  presence: GatewayPresenceUpdateData | null;
  replayLimit: number;
}

/** One session: lives across connections until invalidated or expired. */
export class SimulatedSession {
  readonly id: string;
  readonly shard: readonly [number, number];
  readonly intents: number;
  readonly largeThreshold: number;
  presence: GatewayPresenceUpdateData | null;
  readonly voiceStates = new Map<string, SimulatedVoiceState>();
  /** Last sequence number sent (0 before the first dispatch). */
  seq = 0;
  /** The connection the session is attached to, or null while detached. */
  attached: SessionSink | null = null;
  /** While detached: epoch ms after which a resume is refused. */
  resumableUntil = 0;
  // A ring of the last `replayLimit` dispatches; `head` is the slot of the oldest.
  private readonly ring: (BufferedDispatch | undefined)[];
  private head = 0;
  private size = 0;

  constructor(init: SessionInit) {
    this.id = init.id;
    this.shard = init.shard;
    this.intents = init.intents;
    this.largeThreshold = init.largeThreshold;
    this.presence = init.presence;
    this.ring = new Array<BufferedDispatch | undefined>(Math.max(1, init.replayLimit));
  }

  /** Keeps a sent dispatch for replay, dropping the oldest when the buffer is full. */
  remember(entry: BufferedDispatch): void {
    const capacity = this.ring.length;
    if (this.size < capacity) {
      this.ring[(this.head + this.size) % capacity] = entry;
      this.size++;
    } else {
      this.ring[this.head] = entry;
      this.head = (this.head + 1) % capacity;
    }
  }

  /**
   * Dispatches with `s > seq`, oldest first, or null when some of them are no longer buffered
   * (the resume must then be refused).
   */
  replayAfter(seq: number): BufferedDispatch[] | null {
    const missed = this.seq - seq;
    if (missed <= 0) return [];
    if (missed > this.size) return null;
    const out: BufferedDispatch[] = [];
    const capacity = this.ring.length;
    for (let i = this.size - missed; i < this.size; i++) {
      const entry = this.ring[(this.head + i) % capacity];
      if (entry) out.push(entry);
    }
    return out;
  }

  /** Whether a detached session can no longer be resumed at `now`. */
  expired(now: number): boolean {
    return this.attached === null && now >= this.resumableUntil;
  }
}
