/**
 * Client-sent gateway payloads: one data class per opcode, plus frame encoding.
 */
export { SendEvent } from './send-event.js';
export type { SendOptions } from './send-event.js';
export { Identify } from './identify.js';
export type { IdentifyInput } from './identify.js';
export { Resume } from './resume.js';
export { Heartbeat } from './heartbeat.js';
export { UpdateStatusData } from './update-status.js';
export type { UpdateStatusInput } from './update-status.js';
export { UpdateVoiceStateData } from './update-voice-state.js';
export { RequestGuildMembers, MAX_NONCE_BYTES, MAX_REQUESTED_MEMBERS } from './request-guild-members.js';
export { RequestSoundboardSounds } from './request-soundboard-sounds.js';
export { RequestChannelInfo } from './request-channel-info.js';
export { encodeFrame, frameSize } from './frame.js';
export { isSnowflake } from './validate.js';
