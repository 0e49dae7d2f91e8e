/**
 * transferkit: transfer learning as typed, tested building blocks.
 *
 * This entry point holds everything that needs no tensor library: Pan & Yang's formalism and the
 * scenario classifier (`core`), and the strategy selector (`selector`). The TensorFlow.js backend is
 * the separate entry point `transferkit/tfjs`.
 *
 * @packageDocumentation
 */
export * from './core/index';
export * from './selector/index';
