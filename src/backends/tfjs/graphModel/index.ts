/**
 * transferkit/tfjs/graph: tfjs-converter GraphModels as backbones. Its own entry point, so that
 * `@tensorflow/tfjs-converter` stays an optional peer dependency: an app that never loads a
 * GraphModel never needs it.
 *
 * @packageDocumentation
 * @module transferkit/tfjs/graph
 */
export { fromGraphModel, type FromGraphModelOptions } from './fromGraphModel';
