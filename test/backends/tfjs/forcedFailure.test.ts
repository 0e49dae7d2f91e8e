/** Forced failures at every stage, on the cpu backend (see forcedFailure.ts). */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe } from 'vitest';
import { expectNoLeakedTensors } from '../../fixtures/tensors';
import { forcedFailureTests } from './forcedFailure';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
expectNoLeakedTensors();

describe('forced failure (cpu)', forcedFailureTests);
