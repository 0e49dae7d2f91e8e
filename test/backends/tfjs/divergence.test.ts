/**
 * The divergence guard (src/strategy/epochs.ts) and per-phase changes, on the tfjs backend: a fine-
 * tune at a rate that blows the loss up is caught, put back and slowed down, and the phase ends no
 * worse on its validation data than it started; with the guard off the same run keeps what it broke.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import type { either as E } from 'fp-ts';
import { DIVERGENCE_RATE_FACTOR, fullFineTune, MAX_DIVERGENCES, transfer, type TransferError, type TransferOptions, type TransferResult } from 'transferkit';
import { fromLayersModel, type TfjsTransferModel } from 'transferkit/tfjs';
import { divergenceLimit } from '../../../src/strategy/epochs';
import { err, ok } from '../../fixtures/either';
import { denseModel, toyData } from '../../fixtures/models';
import { expectNoLeakedTensors } from '../../fixtures/tensors';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
expectNoLeakedTensors();

type Run = (options: TransferOptions<tf.Tensor>) => Promise<E.Either<TransferError, TransferResult<TfjsTransferModel>>>;

const withToy = async (body: (x: tf.Tensor, y: number[], run: Run) => Promise<void>) => {
  const model = denseModel();
  const { x, y } = toyData([8], 48, 3);
  try {
    const backbone = ok(fromLayersModel(model));
    await body(x, y, (options) => transfer(backbone, fullFineTune, { x, y }, { batchSize: 8, seed: 3, ...options })());
  } finally {
    x.dispose();
    model.dispose();
  }
};

/** A fine-tune at Adam 3: far past what this network takes. */
const blowUp = { phases: { 'fine-tune': { learningRate: 3, epochs: 10 } }, validation: { split: 0.25 } } as const;

describe('the divergence guard', () => {
  it('puts back the best weights at a tenth of the rate when the loss blows up, and says so', () =>
    withToy(async (_x, _y, run) => {
      const result = ok(await run(blowUp));
      try {
        const fineTune = result.history[1]!;
        expect(fineTune.divergences.length).toBeGreaterThan(0);
        const first = fineTune.divergences[0]!;
        expect(first.learningRate).toBeCloseTo(3 * DIVERGENCE_RATE_FACTOR, 10);
        expect(first.loss > first.limit || !Number.isFinite(first.loss)).toBe(true);
        expect(fineTune.learningRate).toBeLessThan(3);
        expect(fineTune.divergences.length).toBeLessThanOrEqual(MAX_DIVERGENCES + 1);
        // Never worse on its validation data than it started: the head phase's last validation loss.
        const started = result.history[0]!.epochs.at(-1)!.validationLoss!;
        const ended = fineTune.weights === 'best' ? started : fineTune.epochs.at(-1)!.validationLoss!;
        expect(ended).toBeLessThanOrEqual(started);
      } finally {
        result.model.dispose();
      }
    }));

  it('with the guard off, the same run keeps the weights it broke', () =>
    withToy(async (x, y, run) => {
      const guarded = ok(await run(blowUp));
      const unguarded = await run({ ...blowUp, divergenceGuard: false });
      try {
        expect(guarded.history[1]!.divergences.length).toBeGreaterThan(0);
        // Measured: the unguarded fine-tune ends near chance (validation accuracy 0.42 on 3 classes).
        if (unguarded._tag === 'Left') throw new Error(`expected the unguarded run to end with broken weights, got ${unguarded.left.message}`);
        const report = unguarded.right.history[1]!;
        expect(report).toMatchObject({ divergences: [], weights: 'last', learningRate: 3 });
        // What the guard saved: the unguarded run ends with a higher training-set loss.
        const loss = async (m: typeof guarded.model) => {
          const p = ok(await m.predict(x)());
          return -y.reduce((s, c, i) => s + Math.log(Math.max(1e-12, p.data[i * 3 + c]!)), 0) / y.length;
        };
        expect(await loss(unguarded.right.model)).toBeGreaterThan(await loss(guarded.model));
      } finally {
        guarded.model.dispose();
        if (unguarded._tag === 'Right') unguarded.right.model.dispose();
      }
    }));

  it('leaves a run that does not diverge exactly as it was: no divergence, the last weights', () =>
    withToy(async (_x, _y, run) => {
      const on = ok(await run({ epochs: 2 }));
      const off = ok(await run({ epochs: 2, divergenceGuard: false }));
      try {
        for (const report of on.history) expect(report).toMatchObject({ divergences: [], weights: 'last' });
        expect(ok(on.model.weights())).toEqual(ok(off.model.weights()));
      } finally {
        on.model.dispose();
        off.model.dispose();
      }
    }));

  it('sets its limit at the starting loss plus the larger of itself and a uniform guess', () => {
    expect(divergenceLimit(0.1, 3)).toBeCloseTo(0.1 + Math.log(3), 12);
    expect(divergenceLimit(5, 3)).toBe(10);
  });
});

describe('per-phase changes', () => {
  it('change one phase: its steps, rate and budget, not the others', () =>
    withToy(async (_x, _y, run) => {
      const result = ok(await run({ phases: { 'fine-tune': { steps: 7, learningRate: 1e-5 } } }));
      try {
        const [head, fineTune] = result.history;
        expect(fineTune).toMatchObject({ steps: 7, learningRate: 1e-5 });
        expect(head!.steps).toBeGreaterThanOrEqual(2000); // the head phase keeps its own floor
        expect(fineTune!.epochs.length).toBe(2); // 6 batches an epoch: one whole epoch, then one step
      } finally {
        result.model.dispose();
      }
    }));

  it('win over options.epochs for their phase', () =>
    withToy(async (_x, _y, run) => {
      const result = ok(await run({ epochs: 1, phases: { head: { epochs: 3 } } }));
      try {
        expect(result.history.map((h) => h.epochs.length)).toEqual([3, 1]);
      } finally {
        result.model.dispose();
      }
    }));

  it('name a phase of the recipe, with checked values', () =>
    withToy(async (_x, _y, run) => {
      expect(err(await run({ phases: { finetune: { epochs: 1 } } }))).toMatchObject({ _tag: 'InvalidArgument', path: 'options.phases', expected: "changes to the recipe's phases: 'head', 'fine-tune'" });
      expect(err(await run({ phases: { head: { steps: 0 } } }))).toMatchObject({ _tag: 'InvalidArgument', path: 'options.phases.head.steps' });
      expect(err(await run({ phases: { head: { learningRate: Number.NaN } } }))).toMatchObject({ path: 'options.phases.head.learningRate' });
      expect(err(await run({ phases: [] as never }))).toMatchObject({ path: 'options.phases' });
      expect(err(await run({ divergenceGuard: 'yes' as never }))).toMatchObject({ path: 'options.divergenceGuard' });
    }));
});
