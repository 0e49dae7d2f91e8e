/**
 * User story: "My pretrained model is a converted GraphModel (TF Hub, a published tfjs model), not
 * a Keras LayersModel. Put a head for my classes on its features, keep the graph as it is, and
 * ship only the head."
 *
 * The graph: the MobileNetV2 (width 1.4, 224² RGB in [0, 1]) that the `nsfwjs` npm package ships
 * as a GraphModel, read from its files (MIT licence; nothing is downloaded). The task: MNIST digits
 * 5, 6 and 7, 12 labelled images each, scored on 30 held-out ones.
 *
 * Run: npx tsx examples/graph-model.ts
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { either as E } from 'fp-ts';
import { evaluate, featureExtractor, transfer } from 'transferkit';
import { attachHead, setupBackend } from 'transferkit/tfjs';
import { fromGraphModel } from 'transferkit/tfjs/graph';
import { digitImages, STUDY_DIGITS } from '../scripts/pretrained/model';
import { loadMidGraph } from '../scripts/pretrained/graphModel';

const unwrap = <A>(result: E.Either<{ readonly message: string }, A>): A => {
  if (E.isLeft(result)) throw new Error(result.left.message);
  return result.right;
};

const backend = unwrap(await setupBackend()());
const graph = await loadMidGraph();
const backbone = unwrap(fromGraphModel(graph, { inputRange: [0, 1] }));
const top = backbone.layers[backbone.top]!;
console.log(`graph     ${backbone.layers.length} nodes (tfjs backend '${backend.backend}')`);
console.log(`top       ${top.kind} ${top.outputShape.slice(1).join('×')}, below ${backbone.layers.slice(backbone.top + 1).map((l) => l.kind).join(' → ')}`);

const train = digitImages(STUDY_DIGITS, 0, 12);
const test = digitImages(STUDY_DIGITS, 600, 10);
const result = unwrap(await transfer(backbone, featureExtractor, { x: train.x, y: train.y }, { seed: 1 })());
const scores = unwrap(await evaluate(result.model, { x: test.x, y: test.y }, result.classes)());
console.log(`accuracy  ${(100 * scores.accuracy).toFixed(1)} % on ${scores.count} held-out digits (chance 33.3 %)`);

// The graph stays the app's; only the head is saved (the whole model is not a LayersModel).
let saved: tf.io.ModelArtifacts | undefined;
unwrap(await result.model.saveHead(tf.io.withSaveHandler(async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })))());
const graphBytes = Object.values(graph.weights).flat().reduce((n, t) => n + 4 * t.size, 0);
console.log(`saved     the head: ${(saved!.weightData as ArrayBuffer).byteLength} bytes of weights, beside the graph's ${(graphBytes / 1e6).toFixed(1)} MB of float weights`);
const whole = await result.model.save(tf.io.withSaveHandler(async () => ({ modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })))();
console.log(`whole     ${E.isLeft(whole) ? whole.left.message : 'saved'}`);

const head = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
const again = unwrap(await unwrap(attachHead(backbone, head)).predict(test.x)());
const before = unwrap(await result.model.predict(test.x)());
console.log(`reloaded  the head on the same graph predicts within ${Math.max(...again.data.map((v, i) => Math.abs(v - before.data[i]!))).toExponential(1)} of the trained model`);

head.dispose();
result.model.dispose();
graph.dispose();
tf.dispose([train.x, test.x]);
