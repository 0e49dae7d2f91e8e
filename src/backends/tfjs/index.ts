/**
 * transferkit/tfjs: the TensorFlow.js backend. The only part of transferkit that imports
 * `@tensorflow/*` (peer dependencies: an app brings its own tfjs-core and tfjs-layers).
 *
 * Importing it registers nothing and selects no tfjs backend.
 *
 * @packageDocumentation
 * @module transferkit/tfjs
 */
export { fromLayersModel, type FromLayersModelOptions } from './layersModel/fromLayersModel';
export { flattenModel } from './layersModel/flattenModel';
export type { TfjsBackbone } from './backbone';
export { fromMatrix, toMatrix } from './matrix';
export { imageBatch, type BrowserImage, type ImageBatchOptions, type ImageSource, type PixelImage } from './images/imageBatch';
export { trainClassifier, type NamedImages, type TrainClassifierOptions, type TrainedClassifier } from './classifier/trainClassifier';
export { loadClassifier, type LoadClassifierOptions } from './classifier/loadClassifier';
export type { Classification, ClassifyOptions, ImageClassifier } from './classifier/classifier';
export type { TfjsTransferModel } from './transferModel';
export type { StoredInputs, TfjsInputs } from './inputRows';
export { attachHead, HEAD_METADATA_KEY, type AttachedHead, type HeadMetadata } from './head';
export { KERNEL_PACK, PACK_KERNELS, registerTransferKernels, ROWS_TIMES, type KernelPackOptions, type PackKernel, type RegisteredKernels } from './kernels/register';
export { ADAM_KERNEL } from './kernels/adam';
export { CLIP_GRADIENT } from './kernels/clipGradient';
export { CHANNEL_AFFINE, CHANNEL_MOMENTS } from './kernels/channels';
export { WASM_HEAP_BYTES } from './memory';
export { BACKEND_INIT_TIMEOUT_MS, BACKEND_PREFERENCE, setupBackend, type BackendChoice, type BackendSetupOptions } from './setup';
export { WASM_BINARIES, type WasmModule, type WasmPaths } from './wasmLoading';
