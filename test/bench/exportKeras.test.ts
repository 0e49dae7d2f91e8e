/**
 * The export the benches' PyTorch side rebuilds a network from (bench/keras_graph.py): every
 * weight, in order, with its Keras config and inputs, and the model still usable afterwards.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, expect, it } from 'vitest';
import { exportKeras } from '../../bench/support/exportKeras';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

it('writes each layer with snake_case config, inputs and weights in order, and leaves the model working', () => {
  const input = tfl.input({ shape: [6, 6, 2] });
  const conv = tfl.layers.conv2d({ name: 'c', filters: 3, kernelSize: 3, padding: 'same', useBias: false }).apply(input) as tfl.SymbolicTensor;
  const bn = tfl.layers.batchNormalization({ name: 'bn' }).apply(conv) as tfl.SymbolicTensor;
  const added = tfl.layers.add({ name: 'sum' }).apply([conv, bn]) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: added });
  const dir = mkdtempSync(join(tmpdir(), 'export-keras-'));
  const before = tf.memory().numTensors;
  try {
    exportKeras(model, dir);
    expect(tf.memory().numTensors).toBe(before);
    const graph = JSON.parse(readFileSync(join(dir, 'graph.json'), 'utf8')) as { layers: Array<{ name: string; className: string; config: Record<string, unknown>; inputs: string[]; weights: Array<{ name: string; shape: number[] }> }> };
    const byName = new Map(graph.layers.map((l) => [l.name, l]));
    expect(byName.get('c')!.config['kernel_size']).toEqual([3, 3]);
    expect(byName.get('sum')!.inputs).toEqual(['c', 'bn']);
    expect(byName.get('bn')!.weights.map((w) => w.name)).toEqual(['gamma', 'beta', 'moving_mean', 'moving_variance']);
    const floats = new Float32Array(new Uint8Array(readFileSync(join(dir, 'weights.bin'))).buffer);
    const expected = model.layers.flatMap((l) => l.getWeights().flatMap((w) => Array.from(w.dataSync())));
    expect(Array.from(floats)).toEqual(expected);
    // The model's variables are still alive: it predicts after the export.
    const y = model.predict(tf.ones([1, 6, 6, 2])) as tf.Tensor;
    expect(y.shape).toEqual([1, 6, 6, 3]);
    y.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
    model.dispose();
  }
});
