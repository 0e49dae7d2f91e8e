/**
 * The calibration grid's three source models (issue #16): three architectures, each trained on its
 * own label set, all from images [0, 800) of digits 0–4 (the target domains read only digits 5–9,
 * so no target image was ever a source image). Trained by `npx tsx scripts/grid/trainSources.ts
 * [name]` and committed beside this file; loading one reads those files, nothing is downloaded.
 *
 * - `cnn`: the MNIST studies' small CNN (three stride-2 conv–BatchNorm–ReLU blocks, pooling, a
 *   dense `features` layer), trained on the five digits 0–4 (scripts/mnist/source/, unchanged);
 * - `residual`: a conv–BatchNorm residual net in the manner of He et al., "Deep Residual Learning
 *   for Image Recognition", CVPR 2016 (basic blocks of two 3×3 convolutions and an identity or
 *   1×1 projection shortcut), trained on ten classes: each digit 0–4 upright and turned 90°;
 * - `mobilenet`: the MobileNetV2-style net of scripts/mnist/sourceModel.ts (inverted residual
 *   blocks of depthwise-separable convolutions), trained on ten classes: each digit 0–4 in ink on
 *   black and inverted.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { PIXELS, SOURCE_DIGITS, SPLITS, take, transform, type DomainName } from '../mnist/data';
import type { Digits } from '../mnist/fitSource';
import { loadModelFrom, mobilenetArchitecture, SOURCE_DIR, SOURCE_TOP, sourceArchitecture } from '../mnist/sourceModel';

/**
 * A conv–BN residual net for 28×28×1 inputs: a stride-2 3×3 stem (16 filters), three basic blocks
 * (16 filters; 32 at stride 2 with a 1×1 projection shortcut; 32), global average pooling (`pool`)
 * and a classifier of `classes`.
 */
export const residualArchitecture = (seed = 1, classes = 10): tfl.LayersModel => {
  let k = 0;
  const conv = (x: tfl.SymbolicTensor, filters: number, kernelSize: number, strides: number, name: string) =>
    tfl.layers.conv2d({ filters, kernelSize, strides, padding: 'same', useBias: false, name, kernelInitializer: tfl.initializers.heNormal({ seed: seed + k++ }) }).apply(x) as tfl.SymbolicTensor;
  const bn = (x: tfl.SymbolicTensor, name: string) => tfl.layers.batchNormalization({ name }).apply(x) as tfl.SymbolicTensor;
  const relu = (x: tfl.SymbolicTensor, name: string) => tfl.layers.activation({ activation: 'relu', name }).apply(x) as tfl.SymbolicTensor;
  const block = (x: tfl.SymbolicTensor, filters: number, strides: number, name: string): tfl.SymbolicTensor => {
    const a = relu(bn(conv(x, filters, 3, strides, `${name}_conv1`), `${name}_bn1`), `${name}_relu1`);
    const b = bn(conv(a, filters, 3, 1, `${name}_conv2`), `${name}_bn2`);
    const shortcut = strides === 1 && x.shape[3] === filters ? x : bn(conv(x, filters, 1, strides, `${name}_shortcut`), `${name}_shortcut_bn`);
    return relu(tfl.layers.add({ name: `${name}_add` }).apply([shortcut, b]) as tfl.SymbolicTensor, `${name}_out`);
  };
  const input = tfl.input({ shape: [28, 28, 1], name: 'input' });
  let x = relu(bn(conv(input, 16, 3, 2, 'stem_conv'), 'stem_bn'), 'stem_relu');
  x = block(x, 16, 1, 'block1');
  x = block(x, 32, 2, 'block2');
  x = block(x, 32, 1, 'block3');
  x = tfl.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tfl.SymbolicTensor;
  const output = tfl.layers.dense({ units: classes, activation: 'softmax', name: 'classifier', kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 100 }) }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: output, name: 'mnist_residual' });
};

/**
 * A source's label set: each digit 0–4 in each of `variants` (domains of scripts/mnist/data.ts),
 * class `digit + 5 × variant`.
 */
const labelSet = (variants: ReadonlyArray<DomainName>) => (from: number, perDigit: number): Digits => {
  const parts = variants.map((v) => take(SOURCE_DIGITS, from, perDigit, v));
  const count = parts.reduce((n, p) => n + p.count, 0);
  const x = new Float32Array(count * PIXELS);
  const y = new Int32Array(count);
  let row = 0;
  parts.forEach((p, variant) => {
    x.set(p.x, row * PIXELS);
    p.y.forEach((label, i) => (y[row + i] = label + SOURCE_DIGITS.length * variant));
    row += p.count;
  });
  return { x, y, count };
};

export type GridSourceName = 'cnn' | 'residual' | 'mobilenet';

export interface GridSource {
  /** Where it is committed. */
  readonly dir: URL;
  /** Its architecture, seeded: the random-weight twin the signals compare with, and what trainSources.ts fits. */
  readonly architecture: (seed: number) => tfl.LayersModel;
  readonly classes: number;
  /** The top feature layer the grid transfers from. */
  readonly top: { readonly top: string };
  /** What it was trained on, in words. */
  readonly labels: string;
  /** `perDigit` labelled source images of each class's digit from index `from` (its training or held-out images). */
  readonly data: (from: number, perDigit: number) => Digits;
}

export const GRID_SOURCES: Record<GridSourceName, GridSource> = {
  cnn: { dir: SOURCE_DIR, architecture: (seed) => sourceArchitecture(seed, 5), classes: 5, top: SOURCE_TOP, labels: 'digits 0–4', data: labelSet(['unchanged']) },
  residual: {
    dir: new URL('./source-residual/', import.meta.url),
    architecture: (seed) => residualArchitecture(seed, 10),
    classes: 10,
    top: { top: 'pool' },
    labels: 'digits 0–4, upright and turned 90° (10 classes)',
    data: labelSet(['unchanged', 'rotated']),
  },
  mobilenet: {
    dir: new URL('./source-mobilenet/', import.meta.url),
    architecture: (seed) => mobilenetArchitecture(seed, 10),
    classes: 10,
    top: { top: 'pool' },
    labels: 'digits 0–4, in ink and inverted (10 classes)',
    data: labelSet(['unchanged', 'inverted']),
  },
};
export const GRID_SOURCE_NAMES: ReadonlyArray<GridSourceName> = ['cnn', 'residual', 'mobilenet'];

/** A source's training and held-out images: [0, 800) and [800, 980) of each digit 0–4. */
export const sourceSplits = (name: GridSourceName): { readonly train: Digits; readonly test: Digits } => ({
  train: GRID_SOURCES[name].data(0, SPLITS.source.trainEnd),
  test: GRID_SOURCES[name].data(SPLITS.source.trainEnd, SPLITS.source.testEnd - SPLITS.source.trainEnd),
});

export const loadGridSource = (name: GridSourceName): Promise<tfl.LayersModel> => loadModelFrom(GRID_SOURCES[name].dir);
