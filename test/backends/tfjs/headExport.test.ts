/**
 * A head saved alone (`saveHead`) and put back on its backbone (`attachHead`): it predicts as the
 * whole trained model does, is a fraction of its size, and is refused where the backbone trained.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { earlierLayerTap, featureExtractor, fromScratch, fullFineTune, transfer, type Recipe } from 'transferkit';
import { attachHead, fromLayersModel, HEAD_METADATA_KEY, type TfjsTransferModel } from 'transferkit/tfjs';
import { err, ok } from '../../fixtures/either';
import { mobileNetLike, toyData } from '../../fixtures/models';
import { expectClose, expectNoLeakedTensors } from '../../fixtures/tensors';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
expectNoLeakedTensors();

/** Saves through `save` into memory and loads the artifacts back. */
const roundTrip = async (save: (h: tf.io.IOHandler) => Promise<unknown>): Promise<{ model: tfl.LayersModel; bytes: number }> => {
  let saved: tf.io.ModelArtifacts | undefined;
  await save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return { model: await tfl.loadLayersModel(tf.io.fromMemory(saved!)), bytes: (saved!.weightData as ArrayBuffer).byteLength };
};

const withTrained = async (recipe: Recipe, body: (trained: TfjsTransferModel, x: tf.Tensor, backbone: ReturnType<typeof fromLayersModel>) => Promise<void>): Promise<void> => {
  const source = mobileNetLike();
  const { x, y } = toyData([8, 8, 3], 24, 3);
  const backbone = fromLayersModel(source);
  const result = ok(await transfer(ok(backbone), recipe, { x, y }, { epochs: 2, seed: 1 })());
  try {
    await body(result.model, x, backbone);
  } finally {
    result.model.dispose();
    x.dispose();
    source.dispose();
  }
};

describe('a head saved alone', () => {
  it.each([
    ['featureExtractor', featureExtractor],
    ['earlierLayerTap', earlierLayerTap],
  ] as const)('%s: loads back onto the same backbone and predicts as the whole model, at a fraction of its size', (_, recipe) =>
    withTrained(recipe, async (trained, x, backbone) => {
      const head = await roundTrip((h) => trained.saveHead(h)());
      const whole = await roundTrip((h) => trained.save(h)());
      try {
        expect(head.bytes).toBeLessThan(whole.bytes / 4);
        const attached = ok(attachHead(ok(backbone), head.model));
        expect(attached.classes).toBe(3);
        const want = ok(await trained.predict(x)());
        // The backbone's embedding runs compiled (BatchNorm folded): the same values up to float rounding.
        expectClose(ok(await attached.predict(x, { batchSize: 5 })()).data, want.data, 1e-5);
      } finally {
        head.model.dispose();
        whole.model.dispose();
      }
    }),
  );

  it.each([
    ['fullFineTune', fullFineTune, 'fine-tuned'],
    ['fromScratch', fromScratch, 'random weights'],
  ] as const)('%s: is refused, since its backbone is no longer the source', (_, recipe, why) =>
    withTrained(recipe, async (trained) => {
      const refused = err(await trained.saveHead(tf.io.withSaveHandler(async () => ({ modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })))());
      expect(refused).toMatchObject({ _tag: 'NotSupported', path: 'model' });
      expect(refused.received).toContain(why);
    }),
  );

  it('is put back only on a backbone with its tap, and only if it is a saved head', () =>
    withTrained(featureExtractor, async (trained) => {
      const head = await roundTrip((h) => trained.saveHead(h)());
      const other = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [4], units: 4, name: 'f' }), tfl.layers.dense({ units: 2, activation: 'softmax' })] });
      try {
        expect((head.model.getUserDefinedMetadata() as Record<string, { tap: string }>)[HEAD_METADATA_KEY]!.tap).toBe('gap');
        expect(err(attachHead(ok(fromLayersModel(other)), head.model))).toMatchObject({ _tag: 'InvalidArgument', path: 'backbone' });
        expect(err(attachHead(ok(fromLayersModel(other)), other))).toMatchObject({ _tag: 'InvalidArgument', path: 'head' });
        expect(err(attachHead(null as never, head.model)).path).toBe('backbone');
      } finally {
        head.model.dispose();
        other.dispose();
      }
    }));
});
