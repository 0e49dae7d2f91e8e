/**
 * The domain-adaptation benchmark's source: the MNIST studies' CNN (three conv–BatchNorm–ReLU
 * blocks, pooling, a dense layer) with a classifier of all ten digits, trained on clean digits by
 * `npx tsx scripts/adapt/trainSource.ts` and committed beside this file (scripts/adapt/source/).
 * Loading it reads those files; nothing is downloaded.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { sourceArchitecture } from '../mnist/sourceModel';
import { CLASSES } from './shifts';

export const ADAPT_SOURCE_DIR = new URL('./source/', import.meta.url);

/** The architecture, seeded. */
export const adaptSourceArchitecture = (seed = 1): tfl.LayersModel => sourceArchitecture(seed, CLASSES);

/** The committed ten-digit source model. */
export const loadAdaptSource = async (): Promise<tfl.LayersModel> => {
  const json = JSON.parse(readFileSync(new URL('model.json', ADAPT_SOURCE_DIR), 'utf8')) as tf.io.ModelJSON;
  const weights = readFileSync(new URL('weights.bin', ADAPT_SOURCE_DIR));
  return tfl.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest[0]!.weights,
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
    }),
  );
};
