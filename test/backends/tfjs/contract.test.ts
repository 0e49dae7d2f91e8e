import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll } from 'vitest';
import { runContract } from '../../strategy/contract';
import { subjects } from './subject';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

for (const subject of subjects('cpu')) runContract(subject);
