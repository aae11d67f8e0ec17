export * from './opcodes.js';
export * from './close-codes.js';
export * from './intents.js';
export * from './dispatch.js';
export * from './payloads.js';
