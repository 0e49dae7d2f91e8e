/**
 * Embedding with a real GraphModel (the MobileNetV2 1.4 `mobilenet_v2_mid` of the `nsfwjs`
 * package, 224²): transferkit's `backbone.embed` at a node against stock tfjs-converter
 * `model.execute(x, node)` followed by the same global average, on the same backend with the same
 * kernels registered, batch for batch, in alternating rounds. Images/s and their ratio, at the top
 * (the pooled 1792 features) and at an earlier node (a block's 14×14 output). Then the same
 * images through a transfer model built on the graph (its trainable copy, cut into segments, and a
 * 3-class head: what caching and prediction run) against `model.execute` to the top.
 * Run: npm run bench -- graph
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { either as E } from 'fp-ts';
import { setupBackend } from 'transferkit/tfjs';
import { fromGraphModel } from 'transferkit/tfjs/graph';
import { loadMidGraph } from '../scripts/pretrained/graphModel';
import { alternate } from './support/alternate';

const IMAGES = 64;
const BATCH = 16;
const ROUNDS = 3;

const orThrow = <A>(result: E.Either<{ readonly message: string }, A>): A => {
  if (E.isLeft(result)) throw new Error(result.left.message);
  return result.right;
};

/** Stock: execute to the node a batch at a time, average over the spatial axes when there are any. */
const stock = async (graph: GraphModel, x: tf.Tensor4D, node: string): Promise<void> => {
  for (let start = 0; start < IMAGES; start += BATCH) {
    const pooled = tf.tidy(() => {
      const out = graph.execute(tf.slice(x, [start], [BATCH]), node) as tf.Tensor;
      return out.rank === 4 ? tf.mean(out, [1, 2]) : out;
    });
    await pooled.data();
    pooled.dispose();
  }
};

export const run = async (): Promise<void> => {
  const choice = await setupBackend({ prefer: ['wasm'] })();
  if (E.isLeft(choice)) throw new Error(choice.left.message);
  const graph = await loadMidGraph();
  const backbone = fromGraphModel(graph);
  if (E.isLeft(backbone)) throw new Error(backbone.left.message);
  const b = backbone.right;
  const top = b.layers[b.top]!;
  // An earlier node: the last one with a 14×14 map.
  const earlier = [...b.layers].reverse().find((l) => l.outputShape.length === 4 && l.outputShape[1] === 14)!;
  const x = tf.randomUniform([IMAGES, 224, 224, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  console.log(`GraphModel embedding: ${IMAGES} images of 224² through nsfwjs's MobileNetV2 1.4 graph, batches of ${BATCH}, ${choice.right.description}; median of ${ROUNDS} alternating rounds`);
  const rate = (ms: number): string => ((IMAGES * 1000) / ms).toFixed(1);
  for (const at of [top, earlier]) {
    const [ours, theirs] = await alternate(async () => void orThrow(await b.embed(x, at, { pooling: 'average', batchSize: BATCH })()), () => stock(graph, x, at.name), ROUNDS);
    console.log(`  …/${at.name.split('/').slice(-3).join('/')} (${at.kind}, ${at.outputShape.slice(1).join('×')}): transferkit ${rate(ours)} images/s, model.execute ${rate(theirs)} images/s: ${(theirs / ours).toFixed(2)}× stock's rate`);
  }
  // The transfer model's forward: the graph's copy run segment by segment (segments.ts), then a head.
  const built = await b.build({ tap: top, head: { hidden: [], dropout: 0 }, classes: 3, pooling: 'average', start: 'pretrained', seed: 1 })();
  if (E.isLeft(built)) throw new Error(built.left.message);
  const [segmented, whole] = await alternate(async () => void orThrow(await built.right.predict(x, { batchSize: BATCH })()), () => stock(graph, x, top.name), ROUNDS);
  console.log(`  the trainable copy in segments, with a head (predict): ${rate(segmented)} images/s, model.execute to the top ${rate(whole)} images/s: ${(whole / segmented).toFixed(2)}× stock's rate`);
  built.right.dispose();
  x.dispose();
  graph.dispose();
  choice.right.kernels?.unregister();
};
