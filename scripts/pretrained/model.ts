/**
 * A real pretrained image model for the scripts that measure transfer at real size: the Keras
 * MobileNetV2 (224² RGB, inputs in [0, 1]) that ships inside the `nsfwjs` npm package (MIT
 * licence), read from disk. It has 162 layers (52 BatchNorm, 10 residual adds) and a three-layer
 * classifier head (`flatten_1 → dense_1 → dense_2 → dense_3`, 5 classes), so it is the case the
 * library must get right: a head with hidden layers on top of pooled backbone features.
 *
 * The package stores the model as two UMD scripts: the model.json, and the weights as base64 (each
 * weight quantised to 8 bits; tfjs dequantises on load). Nothing is downloaded.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { either as E } from 'fp-ts';
import { setupBackend } from 'transferkit/tfjs';
import { PIXELS, SIDE, take } from '../mnist/data';

const require = createRequire(import.meta.url);

/** The directory of the package's models (found through its main entry: its `exports` hide the files). */
const modelsDir = (): string => join(dirname(require.resolve('nsfwjs')), '..', 'models');

/** Loads the MobileNetV2 from the package's files; the caller disposes it. */
export const loadMobileNetV2 = async (): Promise<tfl.LayersModel> => {
  const dir = join(modelsDir(), 'mobilenet_v2');
  const json = require(join(dir, 'model.min.js')) as { modelTopology: object; weightsManifest: Array<{ weights: tf.io.WeightsManifestEntry[] }> };
  const bytes = Buffer.from(require(join(dir, 'group1-shard1of1.min.js')) as string, 'base64');
  const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
  return tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0]!.weights, weightData }));
};

/**
 * Loads the Keras InceptionV3 (299² RGB in [0, 1], 318 layers with its 94 BatchNorms without γ, branches joined by concatenation)
 * that ships in the same package, its weights in six shards; the caller disposes it.
 */
export const loadInceptionV3 = async (): Promise<tfl.LayersModel> => {
  const dir = join(modelsDir(), 'inception_v3');
  const json = require(join(dir, 'model.min.js')) as { modelTopology: object; weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }> };
  const shards = json.weightsManifest[0]!.paths.map((path) => Buffer.from(require(join(dir, `${path}.min.js`)) as string, 'base64'));
  const bytes = Buffer.concat(shards);
  const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
  return tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0]!.weights, weightData }));
};

/** The model's input side. */
export const SIZE = 224;

/**
 * `perDigit` MNIST images of each digit from index `from` on, resized to 224² and repeated over
 * three channels, in [0, 1] as the model expects; labels are the digits' positions in `digits`.
 */
export const digitImages = (digits: ReadonlyArray<number>, from: number, perDigit: number): { x: tf.Tensor4D; y: Int32Array } => {
  const set = take(digits, from, perDigit);
  const x = tf.tidy(() => {
    const small = tf.tensor4d(set.x, [set.count, SIDE, SIDE, 1]);
    const big = tf.image.resizeBilinear(small, [SIZE, SIZE]);
    return tf.tile(big, [1, 1, 1, 3]) as tf.Tensor4D;
  });
  if (set.x.length !== set.count * PIXELS) throw new Error('unexpected image size');
  return { x, y: set.y };
};

/** The studies' target: digits 5, 6 and 7, as 3 classes. */
export const STUDY_DIGITS = [5, 6, 7] as const;

/**
 * What both pretrained studies start from: the backend set up (and named on the console), the
 * model loaded, 15 training images per class (from index 0) and 30 held out (from index 600).
 * The caller disposes the model and the images.
 */
export const openStudy = async (): Promise<{ source: tfl.LayersModel; train: ReturnType<typeof digitImages>; test: ReturnType<typeof digitImages> }> => {
  const choice = await setupBackend()();
  if (E.isLeft(choice)) throw new Error(choice.left.message);
  console.log(`backend: ${choice.right.description}`);
  return { source: await loadMobileNetV2(), train: digitImages(STUDY_DIGITS, 0, 15), test: digitImages(STUDY_DIGITS, 600, 30) };
};
