/**
 * A real pretrained GraphModel, read from disk: the MobileNetV2 (width 1.4, TF Hub's
 * feature vector with a 5-class dense head and softmax) that ships inside the `nsfwjs` npm package
 * (MIT licence) as `mobilenet_v2_mid`. The package stores its model.json and weight shards as UMD
 * scripts (the shards as base64). Nothing is downloaded.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';

const require = createRequire(import.meta.url);

/** The artifacts of nsfwjs's `mobilenet_v2_mid` graph model. */
export const midArtifacts = (): tf.io.ModelArtifacts => {
  const dir = join(dirname(require.resolve('nsfwjs')), '..', 'models', 'mobilenet_v2_mid');
  const json = require(join(dir, 'model.min.js')) as { modelTopology: object; weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }> };
  const manifest = json.weightsManifest[0]!;
  const bytes = Buffer.concat(manifest.paths.map((p) => Buffer.from(require(join(dir, `${p}.min.js`)) as string, 'base64')));
  return { modelTopology: json.modelTopology, weightSpecs: manifest.weights, weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) };
};

/** Loads it; the caller disposes it. 224² RGB in [0, 1] (the graph scales to [-1, 1] itself); 5 classes. */
export const loadMidGraph = (): Promise<GraphModel> => loadGraphModel(tf.io.fromMemory(midArtifacts()));
