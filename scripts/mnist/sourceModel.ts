/**
 * The MNIST source model: a small CNN of conv–BatchNorm–ReLU blocks trained on digits 0–4, its
 * weights committed in scripts/mnist/source/ (made by `npm run train:source`, which runs
 * scripts/mnist/trainSource.ts). Loading it reads those files; nothing is downloaded.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { either as E } from 'fp-ts';
import { fromLayersModel, setupBackend, type TfjsBackbone } from 'transferkit/tfjs';

export const SOURCE_DIR = new URL('./source/', import.meta.url);

/**
 * The top feature layer every MNIST study, the calibration grid and the demos used: the source's
 * `features` Dense layer, under its classifier. `fromLayersModel` now defaults to the pooled
 * features below a head of Dense layers (`pool` here); the scripts name this top so that their
 * committed results stay reproducible.
 */
export const SOURCE_TOP = { top: 'features' } as const;

/** The architecture: three stride-2 conv–BN–ReLU blocks (8, 16, 32 filters), global average pooling, a dense layer, a classifier. */
export const sourceArchitecture = (seed = 1): tfl.LayersModel => {
  const block = (filters: number, name: string, k: number) => [
    tfl.layers.conv2d({ filters, kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: `${name}_conv`, kernelInitializer: tfl.initializers.heNormal({ seed: seed + k }) }),
    tfl.layers.batchNormalization({ name: `${name}_bn` }),
    tfl.layers.activation({ activation: 'relu', name: `${name}_relu` }),
  ];
  return tfl.sequential({
    name: 'mnist_source',
    layers: [
      tfl.layers.inputLayer({ inputShape: [28, 28, 1] }),
      ...block(8, 'block1', 0),
      ...block(16, 'block2', 1),
      ...block(32, 'block3', 2),
      tfl.layers.globalAveragePooling2d({ name: 'pool' }),
      tfl.layers.dense({ units: 32, activation: 'relu', name: 'features', kernelInitializer: tfl.initializers.heNormal({ seed: seed + 3 }) }),
      tfl.layers.dense({ units: 5, activation: 'softmax', name: 'classifier', kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 4 }) }),
    ],
  });
};

/** Loads the committed source model. */
export const loadSourceModel = async (): Promise<tfl.LayersModel> => {
  const json = JSON.parse(readFileSync(new URL('model.json', SOURCE_DIR), 'utf8')) as tf.io.ModelJSON;
  const weights = readFileSync(new URL('weights.bin', SOURCE_DIR));
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest[0]!.weights,
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
  };
  return tfl.loadLayersModel(tf.io.fromMemory(artifacts));
};

/** The Right of a result, or a throw with its message: the scripts have no caller to hand an error to. */
export const unwrap = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message);
  return e.right;
};

/** The backend chosen, the committed source model loaded, and its backbone at {@link SOURCE_TOP}. */
export const openSourceBackbone = async (): Promise<{ readonly source: tfl.LayersModel; readonly backbone: TfjsBackbone }> => {
  unwrap(await setupBackend()());
  const source = await loadSourceModel();
  return { source, backbone: unwrap(fromLayersModel(source, SOURCE_TOP)) };
};
