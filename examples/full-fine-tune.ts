/**
 * User story: "I have plenty of labelled data. Start from the pretrained weights, adapt everything,
 * then save the result as one model I can load anywhere tfjs runs."
 *
 * Run: npx tsx examples/full-fine-tune.ts
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { either as E } from 'fp-ts';
import { fullFineTune } from 'transferkit';
import { tell } from './support/story';

await tell({
  title: 'Full fine-tune: head first, then every layer, at a tenth of the learning rate',
  recipe: fullFineTune,
  perClass: 100,
  after: async (result, test) => {
    // Save through any tfjs IOHandler ('indexeddb://…' in a browser, 'file://…' with tfjs-node); here, memory.
    let artifacts: tf.io.ModelArtifacts | undefined;
    const saved = await result.model.save(tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })))();
    if (E.isLeft(saved) || artifacts === undefined) throw new Error('save failed');
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
    const [a, b] = [loaded.predict(test.x) as tf.Tensor, (await result.model.predict(test.x)()) as E.Either<unknown, { data: Float32Array }>];
    const gap = E.isRight(b) ? Math.max(...Array.from(a.dataSync(), (v, i) => Math.abs(v - b.right.data[i]!))) : Number.NaN;
    console.log(`saved     one LayersModel of ${loaded.layers.length} layers; reloaded predictions differ by at most ${gap.toExponential(1)}`);
    a.dispose();
    loaded.dispose();
  },
});
