/**
 * The divergence guard's rules (src/strategy/epochs.ts), on a scripted session: its "weights" are
 * a step counter, and the loss of each is written down, so each rule can be seen alone.
 */
import { either as E } from 'fp-ts';
import { describe, expect, it } from 'vitest';
import { headPhase, type Phase, type PhaseSession } from 'transferkit';
import { runEpochs } from '../../src/strategy/epochs';
import type { Plan } from '../../src/strategy/plan';

/** A session whose weights after t steps have loss `lossAt(t)`; a step reports the loss before its update. */
const scripted = (lossAt: (t: number) => number): PhaseSession & { readonly t: () => number } => {
  let t = 0;
  let saved: number | undefined;
  const outcome = (n: number) => E.right({ lossSum: lossAt(t) * n, correct: 0 });
  return {
    step: (indices) => {
      const before = outcome(indices.length);
      t++;
      return before;
    },
    evaluate: (_set, indices) => outcome(indices.length),
    checkpoint: () => {
      saved = t;
      return E.right(undefined);
    },
    restore: () => {
      if (saved === undefined) return E.left({ _tag: 'BackendFailure', message: 'nothing checkpointed' } as never);
      t = saved;
      return E.right(undefined);
    },
    cacheMs: 0,
    cacheThreads: 0,
    trainThreads: 1,
    dispose: () => undefined,
    t: () => t,
  };
};

/** A plan of `examples` training examples in batches of 2, 3 classes, no validation data. */
const plan = (examples: number, start: 'pretrained' | 'random' = 'pretrained'): Plan<never> =>
  ({
    recipe: { phases: [headPhase], start },
    train: Int32Array.from({ length: examples }, (_, i) => i),
    validation: { kind: 'none' },
    classes: 3,
    batchSize: 2,
    seed: 1,
    options: { divergenceGuard: true },
  }) as unknown as Plan<never>;

const phase = (epochs: number): Phase => {
  const { minSteps: _none, ...rest } = headPhase;
  return { ...rest, epochs };
};

describe('the divergence guard', () => {
  it("takes a fresh head's overshoot of a few steps for what it is, not a divergence", async () => {
    // Start 1.6 (limit 3.2); two batches above the limit, then down: measured on a real model's
    // tap, where a guard that read single batches cut the rate three times and ended at chance.
    const losses = [1.6, 3.4, 3.3, 1.5, 1.0, 0.6, 0.4, 0.3, 0.2, 0.2];
    const session = scripted((t) => losses[Math.min(t, losses.length - 1)]!);
    const run = await runEpochs(session, plan(4), phase(4), 0);
    expect(E.isRight(run) && run.right).toMatchObject({ divergences: [], stop: 'epochs', weights: 'last', steps: 8 });
    expect(session.t()).toBe(8);
  });

  it('still catches a loss that stays up, and one that is not finite at once', async () => {
    const up = scripted((t) => (t === 0 ? 0.1 : 10));
    const run = await runEpochs(up, plan(4), phase(2), 0);
    expect(E.isRight(run) && run.right.divergences[0]).toMatchObject({ step: 1, on: 'training' });
    const nan = scripted((t) => (t < 1 ? 0.1 : Number.NaN));
    const stopped = await runEpochs(nan, plan(4), phase(2), 0);
    expect(E.isRight(stopped) && stopped.right.divergences[0]).toMatchObject({ step: 1 });
  });

  it('checkpoints weights by their own measured loss, so putting back the best never makes the phase worse than its start', async () => {
    // The first epoch's batches read 1.6 and 1.0 before their updates (mean 1.3, below the
    // start), but the weights after them have loss 9; then every loss is NaN. A checkpoint taken
    // on that mean put back the weights of loss 9.
    const losses = [1.6, 1.0, 9];
    const session = scripted((t) => (t < losses.length ? losses[t]! : Number.NaN));
    const run = await runEpochs(session, plan(4), phase(6), 0);
    if (E.isLeft(run)) throw new Error(run.left.message);
    expect(run.right.weights).toBe('best');
    expect(session.t()).toBe(0);
  });

  it('judges a model from random weights by its training losses alone, not by inference-mode losses that mean nothing before its BatchNorm statistics are re-estimated', async () => {
    // Training losses fall; inference-mode ones read 1.0 at the start and 50 once the weights have
    // moved away from the moving statistics, which are still at their start.
    const losses = [1.1, 1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3];
    let t = 0;
    const base = scripted((k) => losses[Math.min(k, losses.length - 1)]!);
    const session: PhaseSession = {
      ...base,
      step: (indices, n) => {
        t++;
        return base.step(indices, n);
      },
      evaluate: (_set, indices) => E.right({ lossSum: (t === 0 ? 1 : 50) * indices.length, correct: 0 }),
    };
    const run = await runEpochs(session, plan(4, 'random'), phase(4), 0);
    expect(E.isRight(run) && run.right).toMatchObject({ divergences: [], stop: 'epochs', weights: 'last' });
    expect(t).toBe(8);
  });

  it('with no validation data keeps the last weights of a phase whose training loss ends a hair above its start', async () => {
    // A fine-tune after a converged head: 0.010 at the start, 0.012 at the end.
    const losses = [0.01, 0.015, 0.013, 0.012];
    const session = scripted((t) => losses[Math.min(t, losses.length - 1)]!);
    const run = await runEpochs(session, plan(4), phase(2), 0);
    expect(E.isRight(run) && run.right).toMatchObject({ divergences: [], weights: 'last' });
    expect(session.t()).toBe(4);
  });
});
