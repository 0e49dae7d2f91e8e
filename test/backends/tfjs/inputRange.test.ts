/**
 * A declared input range (`fromLayersModel`'s `inputRange`): inputs outside it train as given, with
 * a warning in the result; inside it, or with no range declared, no warning.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { featureExtractor, transfer } from 'transferkit';
import { fromLayersModel } from 'transferkit/tfjs';
import { err, ok } from '../../fixtures/either';
import { denseModel, toyData } from '../../fixtures/models';
import { expectNoLeakedTensors } from '../../fixtures/tensors';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
expectNoLeakedTensors();

describe('a declared input range', () => {
  it('warns when the inputs are 0–255 where [0, 1] is declared, and not when they fit or nothing is declared', async () => {
    const model = denseModel();
    const { x: raw, y } = toyData([8], 24, 3);
    const unit = tf.tidy(() => tf.sigmoid(raw));
    const pixels = tf.tidy(() => tf.cast(tf.mul(unit, 255), 'int32'));
    try {
      const declared = ok(fromLayersModel(model, { inputRange: [0, 1] }));
      const run = async (b: typeof declared, x: tf.Tensor) => {
        const result = ok(await transfer(b, featureExtractor, { x, y }, { epochs: 1, phases: { head: { steps: 2 } } })());
        result.model.dispose();
        return result.warnings;
      };
      const [warning] = await run(declared, pixels);
      expect(warning).toContain('expects [0, 1]');
      expect(warning).toMatch(/range over \[\d+, 2\d\d\]/);
      expect(await run(declared, unit)).toEqual([]);
      expect(await run(ok(fromLayersModel(model)), pixels)).toEqual([]);
    } finally {
      tf.dispose([raw, unit, pixels]);
      model.dispose();
    }
  });

  it('is two finite numbers, low first', () => {
    const model = denseModel();
    try {
      for (const inputRange of [[1, 0], [0], [0, Number.NaN], 'unit', [0, 1, 2]]) {
        expect(err(fromLayersModel(model, { inputRange: inputRange as never }))).toMatchObject({ _tag: 'InvalidArgument', path: 'options.inputRange' });
      }
    } finally {
      model.dispose();
    }
  });
});
