/**
 * transferkit/tfjs: the TensorFlow.js backend. The only part of transferkit that imports
 * `@tensorflow/*` (peer dependencies: an app brings its own tfjs-core and tfjs-layers).
 *
 * Importing it registers nothing and selects no tfjs backend.
 *
 * @packageDocumentation
 */
export { fromLayersModel, type FromLayersModelOptions, type TfjsBackbone } from './fromLayersModel';
export { fromMatrix, toMatrix } from './matrix';
export type { TfjsTransferModel } from './transferModel';
export { KERNEL_PACK, PACK_KERNELS, registerTransferKernels, type KernelPackOptions, type PackKernel, type RegisteredKernels } from './kernels/register';
export { BACKEND_PREFERENCE, setupBackend, type BackendChoice, type BackendSetupOptions } from './setup';
