/**
 * `disgate/testing`: test bots and rate limiters offline. {@link GatewaySimulator} is a strict
 * local Discord gateway (HTTP `GET /gateway/bot` and the WebSocket on one loopback port) with
 * fault injection; {@link testRateLimiter} is the conformance suite every {@link disgate!RateLimiter}
 * must pass.
 *
 * @categoryDescription Testing
 * The simulator, its options, events and guild fixtures, and the rate-limiter conformance suite.
 *
 * @packageDocumentation
 * @module disgate/testing
 */
export { testRateLimiter, type RateLimiterConformanceOptions } from './conformance.js';
export { GatewaySimulator, type WaitOptions } from './simulator.js';
export type { GatewaySimulatorOptions } from './simulator/options.js';
export type {
  SimulatorFrame,
  SimulatorEvents,
  SimulatorTarget,
  SimulatorConnectionInfo,
  SimulatorSessionInfo,
  SimulatorConnectionEvent,
  SimulatorIdentifyEvent,
  SimulatorResumeEvent,
  SimulatorHeartbeatEvent,
  SimulatorPresenceEvent,
  SimulatorCloseEvent,
  CloseInitiator,
} from './simulator/events.js';
export {
  shardForGuild,
  type SimulatedGuild,
  type SimulatedGuildInit,
  type SimulatedMember,
  type SimulatedGuildMember,
  type SimulatedTextChannel,
  type SimulatedMemberInit,
  type SimulatedStatus,
  type SimulatedVoiceChannel,
  type SimulatedVoiceChannelInit,
  type SimulatedSoundInit,
} from './simulator/guilds.js';
export { SimulatorFixtures, type MessageInit } from './simulator/fixtures.js';
export type { SimulatorCompression } from './simulator/encoders.js';
export type { SessionStartLimitSnapshot } from './simulator/limits.js';
export type { SimulatedVoiceState } from './simulator/session.js';
