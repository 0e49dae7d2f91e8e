/**
 * transferkit: transfer learning as typed, tested building blocks.
 *
 * This entry point holds everything that needs no tensor library: Pan & Yang's formalism and the
 * scenario classifier (`core`), the strategy selector (`selector`), and the strategies with their
 * recipe runner (`strategy`), which run over any backend. The TensorFlow.js backend is the separate
 * entry point `transferkit/tfjs`.
 *
 * @packageDocumentation
 * @module transferkit
 */
export * from './core/index';
export * from './selector/index';
export * from './metrics/index';
export * from './strategy/index';
