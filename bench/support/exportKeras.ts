/**
 * Writes a Keras-style LayersModel's topology and float32 weights to a directory, for the PyTorch
 * side of a bench to rebuild the same network with the same weights (bench/keras_graph.py):
 * `graph.json` (each layer's class, config, inputs and weight shapes, in the model's order) and
 * `weights.bin` (every weight, in that order, as the model holds it after loading).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';

interface ExportedLayer {
  readonly name: string;
  readonly className: string;
  readonly config: unknown;
  readonly inputs: string[];
  readonly weights: Array<{ readonly name: string; readonly shape: number[] }>;
}

export const exportKeras = (model: tfl.LayersModel, dir: string): void => {
  // The saved topology's configs use Keras's own (snake_case) keys, as a model.json does.
  const topology = (model.toJSON(undefined, false) as { config: { layers: Array<{ name: string; config: unknown; inbound_nodes: Array<Array<[string, number, number]>> }> } }).config.layers;
  const saved = new Map(topology.map((l) => [l.name, { config: l.config, inputs: (l.inbound_nodes[0] ?? []).map((n) => n[0]) }]));
  const layers: ExportedLayer[] = [];
  const chunks: Float32Array[] = [];
  for (const layer of model.layers) {
    const values = layer.getWeights();
    layers.push({
      name: layer.name,
      className: layer.getClassName(),
      config: saved.get(layer.name)?.config,
      inputs: saved.get(layer.name)?.inputs ?? [],
      // The part of a weight's name after its layer's: kernel, depthwise_kernel, gamma, moving_mean, ...
      weights: layer.weights.map((w, i) => ({ name: w.originalName.split('/').at(-1)!, shape: values[i]!.shape })),
    });
    // getWeights returns the variables' own tensors: disposing them would break the model.
    for (const v of values) chunks.push(v.dataSync() as Float32Array);
  }
  writeFileSync(join(dir, 'graph.json'), JSON.stringify({ layers }));
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const all = new Float32Array(total);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  writeFileSync(join(dir, 'weights.bin'), Buffer.from(all.buffer));
};
