/**
 * transferkit/node: conveniences that need Node.js built-ins, kept out of the browser-facing
 * entry points. Today: a row store that spills cached activations to disk.
 *
 * @packageDocumentation
 * @module transferkit/node
 */
export { DEFAULT_MEMORY_BYTES, diskRowStore, type DiskRowStoreOptions } from './diskRowStore';
