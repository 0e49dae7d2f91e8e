/**
 * A GraphModel run up to one node, as a tfjs-layers layer: what lets a transfer model on a graph
 * backbone be the same kind of model as one on a LayersModel (input → backbone → pooling → head),
 * so that phases, caching, prediction and the saved head are the same code. The layer holds no
 * weights (the graph's stay the graph's) and never trains.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { GraphModel } from '@tensorflow/tfjs-converter';

/** Runs `model` from its input to `node`, casting the input to the graph's dtype. */
export const runTo =
  (model: GraphModel, nodes: ReadonlyArray<string>, dtype: 'float32' | 'int32') =>
  (x: tf.Tensor): tf.Tensor[] =>
    tf.tidy(() => {
      const input = x.dtype === dtype ? x : tf.cast(x, dtype);
      const out = model.execute(input, [...nodes]);
      return Array.isArray(out) ? out : [out];
    });

/** The graph up to a node, as a layer: its output is the node's output. */
export class GraphPrefix extends tfl.layers.Layer {
  static readonly className = 'TransferkitGraphPrefix';
  readonly #run: (x: tf.Tensor) => tf.Tensor[];
  readonly #shape: Array<number | null>;

  constructor(model: GraphModel, node: string, dtype: 'float32' | 'int32', shape: ReadonlyArray<number | null>, name: string) {
    super({ name, trainable: false });
    this.#run = runTo(model, [node], dtype);
    this.#shape = [...shape];
  }

  override computeOutputShape(): Array<number | null> {
    return [...this.#shape];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return this.#run(Array.isArray(inputs) ? inputs[0]! : inputs)[0]!;
  }
}
