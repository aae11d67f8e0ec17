/**
 * What the simulator lets tests observe: the frame log entry, the events it emits, and the
 * snapshots of its connections and sessions.
 */
import type { GatewayIdentifyProperties, GatewayPresenceUpdateData } from 'discord-api-types/v10';
import type { SimulatorCompression } from './encoders.js';
import type { SimulatedVoiceState } from './session.js';

/**
 * One gateway frame in either direction.
 *
 * @category Testing
 */
export interface SimulatorFrame {
  /** `'in'` = client to simulator, `'out'` = simulator to client. */
  readonly direction: 'in' | 'out';
  /** Connection id (1, 2, ... in order of connection). */
  readonly connection: number;
  /** Shard id of the connection's session, or null before identify/resume. */
  readonly shard: number | null;
  /** Opcode, or null for frames that are not a gateway payload (undecodable input, `sendRaw`). */
  readonly op: number | null;
  /** Dispatch name (op 0 only). */
  readonly t?: string;
  /** Sequence number (op 0 only). */
  readonly s?: number;
  /** Payload `d`; for undecodable input or `sendRaw`, the raw text (or bytes). */
  readonly d: unknown;
  /** Epoch ms (`Date.now()`) when the frame was received or queued for sending. */
  readonly at: number;
  /** Size in bytes of the uncompressed frame. */
  readonly size: number;
}

/**
 * Who ended a connection.
 *
 * @category Testing
 */
export type CloseInitiator = 'client' | 'server';

/**
 * Emitted when a WebSocket connects.
 *
 * @category Testing
 */
export interface SimulatorConnectionEvent {
  /** Connection id. */
  readonly connection: number;
  /** Request path, e.g. `'/'`, or `'/resume'` when the client used `resume_gateway_url`. */
  readonly path: string;
  /** Transport compression the client asked for. */
  readonly compress: SimulatorCompression;
}

/**
 * Emitted after a successful identify (READY has been queued).
 *
 * @category Testing
 */
export interface SimulatorIdentifyEvent {
  /** Connection id. */
  readonly connection: number;
  /** The new session's id. */
  readonly sessionId: string;
  /** `[shard_id, num_shards]` (`[0, 1]` when the identify had none). */
  readonly shard: readonly [number, number];
  /** Intents the client identified with. */
  readonly intents: number;
  /** Identify `properties` (os, browser, device). */
  readonly properties: GatewayIdentifyProperties;
  /** Identify `large_threshold` (50 when omitted). */
  readonly largeThreshold: number;
}

/**
 * Emitted after a successful resume (replay and RESUMED have been queued).
 *
 * @category Testing
 */
export interface SimulatorResumeEvent {
  /** Connection id. */
  readonly connection: number;
  /** The resumed session's id. */
  readonly sessionId: string;
  /** The `seq` the client resumed from. */
  readonly seq: number;
  /** How many dispatches were replayed. */
  readonly replayed: number;
}

/**
 * Emitted for every heartbeat the simulator receives.
 *
 * @category Testing
 */
export interface SimulatorHeartbeatEvent {
  /** Connection id. */
  readonly connection: number;
  /** The heartbeat's `d`: the client's last sequence number. */
  readonly seq: number | null;
  /** Whether an op 11 was sent back (false while ACKs are paused). */
  readonly acked: boolean;
}

/**
 * Emitted when a client sets its presence (op 3).
 *
 * @category Testing
 */
export interface SimulatorPresenceEvent {
  /** Connection id. */
  readonly connection: number;
  /** Session id. */
  readonly sessionId: string;
  /** The op 3 payload. */
  readonly presence: GatewayPresenceUpdateData;
}

/**
 * Emitted when a connection has closed.
 *
 * @category Testing
 */
export interface SimulatorCloseEvent {
  /** Connection id. */
  readonly connection: number;
  /** Close code as seen by the server (1006 for a dropped socket). */
  readonly code: number;
  /** Close reason (the simulator's own for server closes). */
  readonly reason: string;
  /** Who closed: the client, or the simulator (close codes, drops, fault injection). */
  readonly initiator: CloseInitiator;
  /** Session the connection carried, if any. */
  readonly sessionId: string | null;
  /** Whether that session can still be resumed. */
  readonly resumable: boolean;
}

/**
 * Events of {@link GatewaySimulator} (a typed `EventEmitter`).
 *
 * @example
 * ```ts
 * sim.on('close', (e) => console.log(e.connection, e.code, e.initiator));
 * ```
 *
 * @category Testing
 */
export interface SimulatorEvents {
  /** A WebSocket connected (before Hello). */
  connection: [SimulatorConnectionEvent];
  /** A frame was received or queued for sending (fires even with `recordFrames: false`). */
  frame: [SimulatorFrame];
  /** An identify created a session. */
  identify: [SimulatorIdentifyEvent];
  /** A resume succeeded. */
  resume: [SimulatorResumeEvent];
  /** A heartbeat arrived. */
  heartbeat: [SimulatorHeartbeatEvent];
  /** A client set its presence (op 3). */
  presence: [SimulatorPresenceEvent];
  /** A connection closed. */
  close: [SimulatorCloseEvent];
}

/**
 * Snapshot of an open connection.
 *
 * @category Testing
 */
export interface SimulatorConnectionInfo {
  /** Connection id. */
  readonly id: number;
  /** Request path (`'/resume'` for `resume_gateway_url`). */
  readonly path: string;
  /** Transport compression in use. */
  readonly compress: SimulatorCompression;
  /** Shard id of the attached session, or null. */
  readonly shard: number | null;
  /** Attached session id, or null. */
  readonly sessionId: string | null;
  /** True when the session was attached by a resume rather than an identify. */
  readonly resumed: boolean;
  /** Epoch ms of the connection. */
  readonly openedAt: number;
}

/**
 * Snapshot of a live (connected or still resumable) session.
 *
 * @category Testing
 */
export interface SimulatorSessionInfo {
  /** Session id (READY `session_id`). */
  readonly id: string;
  /** `[shard_id, num_shards]`. */
  readonly shard: readonly [number, number];
  /** Identify intents. */
  readonly intents: number;
  /** Last sequence number sent. */
  readonly seq: number;
  /** Attached connection id, or null while detached. */
  readonly connection: number | null;
  /** While detached: epoch ms until which it can be resumed; null while attached. */
  readonly resumableUntil: number | null;
  /** Presence from identify or the last op 3. */
  readonly presence: GatewayPresenceUpdateData | null;
  /** Voice state per guild id, from op 4. */
  readonly voiceStates: Readonly<Record<string, SimulatedVoiceState>>;
  /** Ids of the guilds on this session's shard. */
  readonly guilds: readonly string[];
}

/**
 * Which connections a fault-injection method acts on: a shard id (number), or an object naming a
 * shard, a connection id or a session id. Omitted = every open connection.
 *
 * @category Testing
 */
export type SimulatorTarget =
  | number
  | {
      /** Connections whose session is on this shard id. */
      readonly shard?: number;
      /** The connection with this id. */
      readonly connection?: number;
      /** The connection carrying this session id. */
      readonly session?: string;
    };
