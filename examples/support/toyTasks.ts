/**
 * A small, seeded stand-in for "a pretrained model and a new problem", shared by the strategy
 * examples: signals from a hidden 4-dimensional cause, seen through a fixed nonlinear mixing into 16
 * features. The source task tells 4 causes apart; the target task tells 3 other causes apart, with
 * only a few labelled examples. Nothing is downloaded; everything is made here.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { seededRandom } from 'transferkit';

const FEATURES = 16;
const LATENT = 4;

const gaussian = (random: () => number): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

/** `perClass` examples of each class, each class a cluster around its own hidden cause. */
const sample = (centres: number[][], perClass: number, seed: number): { x: tf.Tensor2D; y: number[] } => {
  const random = seededRandom(seed);
  const mixing = seededRandom(2024); // the same mixing for every task: one world, several tasks
  const w = Array.from({ length: FEATURES * LATENT }, () => gaussian(mixing));
  const rows: number[] = [];
  const y: number[] = [];
  centres.forEach((centre, label) => {
    for (let i = 0; i < perClass; i++) {
      const z = centre.map((c) => c + 0.7 * gaussian(random));
      for (let f = 0; f < FEATURES; f++) rows.push(Math.tanh(z.reduce((s, v, k) => s + v * w[f * LATENT + k]!, 0) / 2) + 0.1 * gaussian(random));
      y.push(label);
    }
  });
  return { x: tf.tensor2d(rows, [y.length, FEATURES]), y };
};

const centres = (count: number, seed: number): number[][] => {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => Array.from({ length: LATENT }, () => 2 * gaussian(random)));
};

/** The source architecture: three hidden layers and a classifier. */
export const architecture = (classes: number): tfl.LayersModel =>
  tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [FEATURES], units: 32, activation: 'relu', name: 'hidden_1', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
      tfl.layers.batchNormalization({ name: 'norm_1' }),
      tfl.layers.dense({ units: 16, activation: 'relu', name: 'hidden_2', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
      tfl.layers.dense({ units: 8, activation: 'relu', name: 'features', kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }),
      tfl.layers.dense({ units: classes, activation: 'softmax', name: 'classifier', kernelInitializer: tfl.initializers.glorotUniform({ seed: 4 }) }),
    ],
  });

/** The pretrained source: trained on 4 causes, 200 examples each (the app's own pretraining, plain tfjs). */
export const pretrainedSource = async (): Promise<tfl.LayersModel> => {
  const model = architecture(4);
  const { x, y } = sample(centres(4, 11), 200, 1);
  const labels = tf.oneHot(tf.tensor1d(y, 'int32'), 4);
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
  await model.fit(x, labels, { epochs: 15, batchSize: 32, shuffle: false, verbose: 0 });
  tf.dispose([x, labels]);
  return model;
};

/** The target task: 3 other causes; `perClass` labelled examples each to train on, 100 each to test on. */
export const targetTask = (perClass: number): { train: { x: tf.Tensor2D; y: number[] }; test: { x: tf.Tensor2D; y: number[] }; free: () => void } => {
  const causes = centres(3, 22);
  const train = sample(causes, perClass, 3);
  const test = sample(causes, 100, 4);
  return { train, test, free: () => tf.dispose([train.x, test.x]) };
};

/** A one-line progress report for the terminal, printed as each epoch ends. */
export const epochPrinter = (): ((p: { phase: string; epoch: number; epochs: number; batch: number; batches: number; loss: number; accuracy: number }) => void) => (p) => {
  if (p.batch === p.batches && (p.epoch === p.epochs || p.epoch % 10 === 0)) {
    console.log(`  ${p.phase.padEnd(9)} epoch ${String(p.epoch).padStart(2)}/${p.epochs}  loss ${p.loss.toFixed(3)}  accuracy ${(100 * p.accuracy).toFixed(0)} %`);
  }
};
