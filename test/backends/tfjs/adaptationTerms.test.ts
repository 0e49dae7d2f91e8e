/** The adaptation objective's terms (session/adaptationTerms.ts): their laws, on the CPU backend. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// Registers tfjs's gradients, as the backend's sessions have them.
import '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { coralLoss, meanEntropy, mmdLoss, reversalWeight, reverseGradient, weightedCrossEntropy } from '../../../src/backends/tfjs/session/adaptationTerms';
import { expectNoLeakedTensors } from '../../fixtures/tensors';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

expectNoLeakedTensors();

const value = (f: () => tf.Scalar): number => tf.tidy(() => f().dataSync()[0]!);

describe('adaptation terms', () => {
  it('CORAL and MMD are 0 between a batch and itself, positive between shifted batches, and symmetric', () => {
    const [a, b] = [tf.randomNormal([24, 5], 0, 1, 'float32', 1), tf.randomNormal([20, 5], 1, 2, 'float32', 2)];
    try {
      expect(value(() => coralLoss(a, a))).toBeCloseTo(0, 10);
      expect(value(() => mmdLoss(a, a))).toBeCloseTo(0, 6);
      expect(value(() => coralLoss(a, b))).toBeGreaterThan(0.01);
      expect(value(() => mmdLoss(a, b))).toBeGreaterThan(0.1);
      expect(value(() => coralLoss(a, b))).toBeCloseTo(value(() => coralLoss(b, a)), 6);
      expect(value(() => mmdLoss(a, b))).toBeCloseTo(value(() => mmdLoss(b, a)), 5);
    } finally {
      tf.dispose([a, b]);
    }
  });

  it('the entropy of uniform predictions is ln k, of certain ones 0; zero weights give a zero loss', () => {
    expect(value(() => meanEntropy(tf.zeros([3, 4])))).toBeCloseTo(Math.log(4), 6);
    expect(value(() => meanEntropy(tf.tensor2d([[100, 0, 0]])))).toBeCloseTo(0, 6);
    expect(value(() => weightedCrossEntropy(tf.zeros([2, 3]), tf.tensor1d([0, 1], 'int32'), 3, tf.zeros([2])))).toBe(0);
    // Weights pick examples: a weight on the second alone is its loss alone.
    const logits = () => tf.tensor2d([[5, 0, 0], [0, 0, 5]]);
    expect(value(() => weightedCrossEntropy(logits(), tf.tensor1d([0, 0], 'int32'), 3, tf.tensor1d([0, 2])))).toBeCloseTo(Math.log(2 + Math.exp(5)), 4);
  });

  it('the gradient reversal passes values through and multiplies the gradient by −λ; λ ramps from 0 to the weight', () => {
    const x = tf.tensor1d([1, 2, 3]);
    try {
      const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(reverseGradient(v, 0.5), tf.tensor1d([1, 2, 3]))))(x);
      expect(Array.from(g.dataSync())).toEqual([-0.5, -1, -1.5]);
      g.dispose();
      expect(tf.tidy(() => Array.from(reverseGradient(x, 2).dataSync()))).toEqual([1, 2, 3]);
    } finally {
      x.dispose();
    }
    expect(reversalWeight(1, 0, 100)).toBe(0);
    expect(reversalWeight(1, 100, 100)).toBeCloseTo(1, 3);
    expect(reversalWeight(2, 1000, 100)).toBeCloseTo(2, 3);
    expect(reversalWeight(1, 10, 100)).toBeGreaterThan(0.4);
  });
});
