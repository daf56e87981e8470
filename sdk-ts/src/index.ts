// @cella-network/sdk: the TypeScript client of a Cella network.
export * from './keys.js';
export * from './chain.js';
export * from './gov.js';
export * from './codes.js';
export * from './phatwire.js';
export * from './metadata.js';
export * from './client.js';
export { cellaTypes, registry, encode, decodeStrict } from './types.js';
