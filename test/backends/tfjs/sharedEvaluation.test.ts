/**
 * A batch evaluated with its examples split between this thread and gradient shares: the parts,
 * the sums, and when a share is sent the weights (only after they changed since it last got them).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { memoryRowStore } from 'transferkit';
import type { EvaluationRequest, EvaluationResult, GradientShare, SessionInternals } from '../../../src/backends/tfjs/session/contracts';
import { sharedEvaluation } from '../../../src/backends/tfjs/threads/sharedEvaluation';
import { err, ok } from '../../fixtures/either';
import { expectNoLeakedTensors } from '../../fixtures/tensors';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A share that records what it was asked and answers with one loss per row and one right. */
const recordingShare = (fail = false): GradientShare & { readonly asked: EvaluationRequest[]; readonly values: Array<number[] | undefined> } => {
  const asked: EvaluationRequest[] = [];
  /** The first weight's values as each request brought them (its array is reused after). */
  const values: Array<number[] | undefined> = [];
  return {
    asked,
    values,
    compute: () => Promise.reject(new Error('not in this test')),
    evaluate: async (r): Promise<EvaluationResult> => {
      asked.push(r);
      values.push(r.weights === undefined ? undefined : [...r.weights[0]!]);
      if (fail) throw new Error('the thread exited');
      return { lossSum: 10 * r.count, correct: 1, ...(r.weights === undefined ? {} : { weights: r.weights }) };
    },
    dispose: () => undefined,
  };
};

/** A session of 6 validation rows of 2 floats (row i holds i, i + 0.5) and one trained variable. */
const session = (variable: tf.Variable): SessionInternals & { bump(): void; readonly own: Int32Array[] } => {
  const store = ok(memoryRowStore({ chunkFloats: 4 }))(2);
  store.append(Float32Array.from({ length: 12 }, (_, k) => Math.floor(k / 2) + (k % 2) / 2));
  const validation = { rows: [{ store, shape: [2] }], labels: Int32Array.of(0, 1, 2, 0, 1, 2) };
  let changes = 0;
  const own: Int32Array[] = [];
  return {
    own,
    bump: () => void changes++,
    variables: [variable],
    train: validation,
    sets: { train: undefined, validation },
    seed: 1,
    spare: [],
    changes: () => changes,
    sent: [],
    ownOutcome: (_set, indices) => {
      own.push(indices.slice());
      return { lossSum: indices.length, correct: 2 };
    },
    ownGradients: () => {
      throw new Error('not in this test');
    },
    apply: () => undefined,
  };
};

describe('sharedEvaluation', () => {
  expectNoLeakedTensors();

  it('splits the batch in contiguous parts and adds up their losses and correct counts', async () => {
    const v = tf.tidy(() => tf.variable(tf.tensor1d([1, 2, 3])));
    const s = session(v);
    const share = recordingShare();
    const outcome = ok(await sharedEvaluation(s, [share], 'validation', Int32Array.of(5, 0, 3, 1, 4)));
    // This thread the first 3 (ceil(5 / 2)), the share the other 2: their rows and labels.
    expect(s.own.map((i) => [...i])).toEqual([[5, 0, 3]]);
    expect(share.asked).toHaveLength(1);
    expect(share.asked[0]).toMatchObject({ count: 2, labels: Int32Array.of(1, 1) });
    expect([...share.asked[0]!.rows[0]!]).toEqual([1, 1.5, 4, 4.5]);
    expect(outcome).toEqual({ lossSum: 3 + 20, correct: 2 + 1 });
    v.dispose();
  });

  it('sends the weights once after they change, and reuses the arrays the share gave back', async () => {
    const v = tf.tidy(() => tf.variable(tf.tensor1d([1, 2, 3])));
    const s = session(v);
    const share = recordingShare();
    const batch = Int32Array.of(0, 1, 2, 3);
    ok(await sharedEvaluation(s, [share], 'validation', batch));
    ok(await sharedEvaluation(s, [share], 'validation', batch));
    tf.tidy(() => v.assign(tf.tensor1d([4, 5, 6])));
    s.bump();
    ok(await sharedEvaluation(s, [share], 'validation', batch));
    ok(await sharedEvaluation(s, [share], 'validation', batch));
    // Unknown at first, unchanged, changed, unchanged.
    expect(share.values).toEqual([[1, 2, 3], undefined, [4, 5, 6], undefined]);
    // The second weights travelled in the first one's array, given back.
    expect(share.asked[2]!.weights![0]).toBe(share.asked[0]!.weights![0]);
    v.dispose();
  });

  it('gives a typed error when a share fails, and sends the weights again next time', async () => {
    const v = tf.tidy(() => tf.variable(tf.tensor1d([1, 2, 3])));
    const s = session(v);
    const failing = recordingShare(true);
    const batch = Int32Array.of(0, 1, 2, 3);
    expect(err(await sharedEvaluation(s, [failing], 'validation', batch))).toMatchObject({ _tag: 'BackendFailure' });
    const share = recordingShare();
    ok(await sharedEvaluation(s, [share], 'validation', batch));
    expect(share.asked[0]!.weights).toBeDefined();
    expect(err(await sharedEvaluation(s, [share], 'train', batch))._tag).toBe('BackendFailure'); // no such set
    v.dispose();
  });
});
