/** The tfjs backend as a contract subject (test/strategy/contract.ts), on whichever tfjs backend is set. */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { fromLayersModel, type TfjsTransferModel } from 'transferkit/tfjs';
import { ok } from '../../fixtures/either';
import { denseModel, mobileNetLike, snapshot, toyData } from '../../fixtures/models';
import type { Subject } from '../../strategy/contract';

export const subject = (name: string, make: () => tfl.LayersModel, shape: number[]): Subject<tf.Tensor, TfjsTransferModel> => ({
  name,
  source: () => {
    const model = make();
    return {
      backbone: ok(fromLayersModel(model)),
      weights: () => snapshot(model),
      predict: (x) => tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array),
      dispose: () => model.dispose(),
    };
  },
  data: (n, classes) => {
    const { x, y } = toyData(shape, n, classes);
    return { x, y, free: () => x.dispose() };
  },
  badInputs: () => {
    const cases: Array<[string, tf.Tensor]> = [
      ['wrong shape', tf.zeros([3, ...shape.slice(0, -1), shape.at(-1)! + 1])],
      ['wrong rank', tf.zeros([3, shape.reduce((a, b) => a * b, 1) + 1])],
      ['NaN values', tf.fill([3, ...shape], Number.NaN)],
      ['Infinity values', tf.fill([3, ...shape], Number.POSITIVE_INFINITY)],
      ['string dtype', tf.tensor1d(['a', 'b', 'c'], 'string')],
      ['bool dtype', tf.zeros([3, ...shape], 'bool')],
    ];
    const disposed = tf.zeros([3, ...shape]);
    disposed.dispose();
    return [...cases.map(([n, x]) => ({ name: n, x, free: () => x.dispose() })), { name: 'disposed tensor', x: disposed, free: () => undefined }];
  },
  tensorCount: () => tf.memory().numTensors,
  modelWeights: (model) => ok(model.weights()),
  reloadAndPredict: async (model, x) => {
    let saved: tf.io.ModelArtifacts | undefined;
    ok(
      await model.save(
        tf.io.withSaveHandler(async (artifacts) => {
          saved = artifacts;
          return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
        }),
      )(),
    );
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
    const out = tf.tidy(() => (loaded.predict(x) as tf.Tensor).dataSync() as Float32Array);
    loaded.dispose();
    return out;
  },
});


/** The two models every tfjs backend runs the contract on. */
export const subjects = (backend: string): Array<Subject<tf.Tensor, TfjsTransferModel>> => [
  subject(`tfjs ${backend}, dense Sequential with BatchNorm`, () => denseModel(), [8]),
  subject(`tfjs ${backend}, MobileNet-like residual block (functional)`, () => mobileNetLike(), [8, 8, 3]),
];
