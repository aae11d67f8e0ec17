/**
 * Event forwarding for bots whose logic runs elsewhere: dispatches go to an HTTP endpoint as
 * signed JSON ({@link GatewayForwarder}) or to a Redis stream shared by consumer processes
 * ({@link RedisStreamSink}), wired to a bot with {@link forwardDispatches}.
 */
export { forwardDispatches, eventFilter } from './sink.js';
export type { DispatchSink, DispatchSource, EventSelection, ForwardDispatchesOptions, ForwardedEventName } from './sink.js';
export { GatewayForwarder } from './http.js';
export type {
  BackoffOptions, DeliveryFailure, DropReason, ForwardedRecord, ForwarderStats, GatewayForwarderOptions,
} from './http.js';
export {
  SIGNATURE_HEADER, TIMESTAMP_HEADER, generateForwarderKeys, signForwardedRequest, toPrivateKey, toPublicKey,
  verifyForwardedRequest,
} from './signature.js';
export type { Ed25519KeyInput, ForwarderKeys, VerifyOptions } from './signature.js';
export { RedisStreamSink, decodeStreamEntry } from './redis-stream.js';
export type { RedisStreamSinkOptions, RedisStreamSinkStats, StreamRecord } from './redis-stream.js';
