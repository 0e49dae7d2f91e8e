/**
 * transferkit/node: conveniences that need Node.js built-ins, kept out of the browser-facing
 * entry points: a row store that spills cached activations to disk, a tfjs IO handler for a
 * directory, and PNG and JPEG files decoded to pixels.
 *
 * @packageDocumentation
 * @module transferkit/node
 */
export { DEFAULT_MEMORY_BYTES, diskRowStore, type DiskRowStoreOptions } from './diskRowStore';
export { fileHandler, MAX_MODEL_JSON_BYTES, type FileHandler, type FileSaveResult, type ModelFiles, type WeightSpec } from './fileHandler';
export { MAX_IMAGE_PIXELS, readImage, readImages, type DecodedImage, type ReadImageOptions } from './readImage';
