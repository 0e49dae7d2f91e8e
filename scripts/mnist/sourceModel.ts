/**
 * The MNIST source models, each trained on digits 0–4 by `npm run train:source [-- <name>]`
 * (scripts/mnist/trainSource.ts), its weights committed beside this file. Loading one reads those
 * files; nothing is downloaded.
 * - `cnn` (scripts/mnist/source/): a small CNN of conv–BatchNorm–ReLU blocks, the source of every
 *   MNIST study so far;
 * - `mobilenet` (scripts/mnist/source-mobilenet/): a MobileNetV2-style net of inverted residual
 *   blocks (depthwise-separable convolutions, ReLU6, linear bottlenecks, residual adds), the real
 *   pretrained models' structure at MNIST scale.
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

/** The architecture: three stride-2 conv–BN–ReLU blocks (8, 16, 32 filters), global average pooling, a dense layer, a classifier of `classes` (5: digits 0–4). */
export const sourceArchitecture = (seed = 1, classes = 5): tfl.LayersModel => {
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
      tfl.layers.dense({ units: classes, activation: 'softmax', name: 'classifier', kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 4 }) }),
    ],
  });
};

/**
 * One inverted residual block of MobileNetV2 (Sandler et al., "MobileNetV2: Inverted Residuals and
 * Linear Bottlenecks", CVPR 2018, Table 1): a 1×1 expansion to `expand`× the input's channels, a
 * 3×3 depthwise convolution with `strides`, and a linear 1×1 projection to `filters`, each followed
 * by BatchNorm, the first two by ReLU6; the input is added back when the shapes allow.
 */
const invertedResidual = (input: tfl.SymbolicTensor, name: string, filters: number, strides: number, expand: number, seed: number): tfl.SymbolicTensor => {
  const channels = input.shape[3]!;
  const bn = (x: tfl.SymbolicTensor, part: string) => tfl.layers.batchNormalization({ name: `${name}_${part}_BN` }).apply(x) as tfl.SymbolicTensor;
  const relu6 = (x: tfl.SymbolicTensor, part: string) => tfl.layers.reLU({ maxValue: 6, name: `${name}_${part}_relu` }).apply(x) as tfl.SymbolicTensor;
  const expanded = relu6(bn(tfl.layers.conv2d({ filters: channels * expand, kernelSize: 1, useBias: false, name: `${name}_expand`, kernelInitializer: tfl.initializers.heNormal({ seed }) }).apply(input) as tfl.SymbolicTensor, 'expand'), 'expand');
  const depthwise = relu6(bn(tfl.layers.depthwiseConv2d({ kernelSize: 3, strides, padding: 'same', useBias: false, name: `${name}_depthwise`, depthwiseInitializer: tfl.initializers.heNormal({ seed: seed + 1 }) }).apply(expanded) as tfl.SymbolicTensor, 'depthwise'), 'depthwise');
  const projected = bn(tfl.layers.conv2d({ filters, kernelSize: 1, useBias: false, name: `${name}_project`, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 2 }) }).apply(depthwise) as tfl.SymbolicTensor, 'project');
  return strides === 1 && channels === filters ? (tfl.layers.add({ name: `${name}_add` }).apply([input, projected]) as tfl.SymbolicTensor) : projected;
};

/**
 * The MobileNet-style architecture: a stride-2 3×3 stem (16 filters), six inverted residual blocks
 * (expansion 4; 16, 16, 24 at stride 2, 24, 32 at stride 2, 32 filters: the four at stride 1 residual), a
 * 1×1 conv to 64 channels, global average pooling and a classifier, as MobileNetV2's head is.
 */
export const mobilenetArchitecture = (seed = 1, classes = 5): tfl.LayersModel => {
  const input = tfl.input({ shape: [28, 28, 1], name: 'input' });
  let x = tfl.layers.conv2d({ filters: 16, kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'stem', kernelInitializer: tfl.initializers.heNormal({ seed }) }).apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.batchNormalization({ name: 'stem_BN' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.reLU({ maxValue: 6, name: 'stem_relu' }).apply(x) as tfl.SymbolicTensor;
  const blocks: ReadonlyArray<readonly [number, number]> = [[16, 1], [16, 1], [24, 2], [24, 1], [32, 2], [32, 1]];
  blocks.forEach(([filters, strides], i) => {
    x = invertedResidual(x, `block_${i + 1}`, filters, strides, 4, seed + 10 * (i + 1));
  });
  x = tfl.layers.conv2d({ filters: 64, kernelSize: 1, useBias: false, name: 'top_conv', kernelInitializer: tfl.initializers.heNormal({ seed: seed + 100 }) }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.batchNormalization({ name: 'top_BN' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.reLU({ maxValue: 6, name: 'top_relu' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tfl.SymbolicTensor;
  const output = tfl.layers.dense({ units: classes, activation: 'softmax', name: 'classifier', kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 101 }) }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: output, name: 'mnist_mobilenet' });
};

/** The source models by name: where each is committed, its architecture, and the top its studies read. */
export const SOURCES = {
  cnn: { dir: SOURCE_DIR, architecture: sourceArchitecture, top: SOURCE_TOP },
  mobilenet: { dir: new URL('./source-mobilenet/', import.meta.url), architecture: mobilenetArchitecture, top: { top: 'pool' } },
} as const;
export type SourceName = keyof typeof SOURCES;

/** Loads a committed source model, by default the CNN every earlier study used. */
export const loadSourceModel = async (name: SourceName = 'cnn'): Promise<tfl.LayersModel> => loadModelFrom(SOURCES[name].dir);

/** Loads the LayersModel committed in `dir` (model.json and weights.bin, as `saveSource` writes them). */
export const loadModelFrom = async (dir: URL): Promise<tfl.LayersModel> => {
  const json = JSON.parse(readFileSync(new URL('model.json', dir), 'utf8')) as tf.io.ModelJSON;
  const weights = readFileSync(new URL('weights.bin', dir));
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

/** The backend chosen, a committed source model loaded (the CNN by default), and its backbone at its studies' top. */
export const openSourceBackbone = async (name: SourceName = 'cnn'): Promise<{ readonly source: tfl.LayersModel; readonly backbone: TfjsBackbone }> => {
  unwrap(await setupBackend()());
  const source = await loadSourceModel(name);
  return { source, backbone: unwrap(fromLayersModel(source, SOURCES[name].top)) };
};
