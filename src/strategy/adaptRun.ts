/**
 * Each method of `adapt` on a model built from the source with its own classifier: AdaBN as a
 * model operation, CORAL as a map folded into the classifier, the others as phases of the runner
 * with an objective (adaptSteps.ts), self-training after the method it starts from.
 */
import { either as E } from 'fp-ts';
import type { Backbone, TransferModel } from '../core/backbone';
import { notSupported, type TransferError } from '../core/errors';
import type { Matrix } from '../core/matrix';
import { deriveSeed } from '../core/random';
import { coralMap } from '../metrics/coralMap';
import { importanceWeights } from '../metrics/importanceWeights';
import type { AdaptResult } from './adapt';
import type { Checked } from './adaptChecks';
import { ADAPT_LEARNING_RATE, ADAPT_STEPS, adaptationPhase, IMPORTANCE_LEARNING_RATE, sourceObjective, TENT_EPOCHS, TENT_LEARNING_RATE, TENT_OBJECTIVE } from './adaptMethods';
import { runAdaptationPhase } from './adaptSteps';
import { selfTrainRounds } from './selfTraining';

/** What a method did, for the result. */
export type Outcome = Pick<AdaptResult<unknown>, 'batchNormsReestimated' | 'steps' | 'stop' | 'from' | 'pseudoLabelled' | 'effectiveSourceSize'>;

/** AdaBN on a model: its BatchNorm statistics from the target. */
const renormalize = async <X>(model: TransferModel<X>, target: X, c: Checked<X>): Promise<E.Either<TransferError, number>> => {
  if (typeof model.renormalize !== 'function') return E.left(notSupported('method', `a backend that can re-estimate BatchNorm statistics for '${c.method}'`, 'a model without renormalize'));
  return model.renormalize(target, { batchSize: c.batchSize, ...(c.signal === undefined ? {} : { signal: c.signal }) })();
};

const progress = (c: Checked<unknown>, stage: string, steps: number) => (step: number, loss: number) => c.onProgress?.({ method: c.method, stage, step: step + 1, steps, loss });

/** Self-training: the method it starts from first (AdaBN by default), then rounds of class-balanced pseudo-labels, each fine-tuning the whole network on them. */
const selfTrain = async <X, M extends TransferModel<X>>(backbone: Backbone<X, M>, model: M, target: X, c: Checked<X>): Promise<E.Either<TransferError, Outcome>> => {
  const base = await runMethod(backbone, model, target, { ...c, method: c.from! });
  if (E.isLeft(base)) return base;
  const rounds = await selfTrainRounds(model, target, { count: c.targetCount, batchSize: c.batchSize, seed: c.seed, ...(c.steps === undefined ? {} : { steps: c.steps }), ...(c.signal === undefined ? {} : { signal: c.signal }), onStep: (stage, steps) => progress(c, stage, steps) });
  if (E.isLeft(rounds)) return rounds;
  const { steps, stop, kept } = rounds.right;
  return E.right({ batchNormsReestimated: base.right.batchNormsReestimated, steps: base.right.steps + steps, stop: stop === 'diverged' ? 'diverged' : base.right.stop, from: c.from!, pseudoLabelled: kept });
};

/** Features at the tap of the source's and the target's inputs, from the unchanged backbone. */
const features = async <X, M extends TransferModel<X>>(backbone: Backbone<X, M>, target: X, c: Checked<X>): Promise<E.Either<TransferError, readonly [Matrix, Matrix]>> => {
  const how = { pooling: 'average' as const, batchSize: c.batchSize, ...(c.signal === undefined ? {} : { signal: c.signal }) };
  const s = await backbone.embed(c.source!.x, c.tap, how)();
  if (E.isLeft(s)) return s;
  const t = await backbone.embed(target, c.tap, how)();
  return E.map((tm: Matrix) => [s.right, tm] as const)(t);
};

/** CORAL in closed form: the target's features recoloured to the source's moments, folded into the source's classifier. */
const coralHead = async <X, M extends TransferModel<X>>(backbone: Backbone<X, M>, model: M, target: X, c: Checked<X>): Promise<E.Either<TransferError, Outcome>> => {
  if (typeof model.mapHeadInput !== 'function') return E.left(notSupported('method', "a backend whose models can map their head's input, for 'coral'", 'a model without mapHeadInput'));
  const f = await features(backbone, target, c);
  if (E.isLeft(f)) return f;
  const map = coralMap(f.right[0], f.right[1]);
  if (E.isLeft(map)) return map;
  return E.map((): Outcome => ({ batchNormsReestimated: 0, steps: 0, stop: 'done' }))(model.mapHeadInput(map.right.map, map.right.shift));
};

/** Importance weighting: the source's classifier retrained on source examples weighted by how target-like their features are. */
const weightSource = async <X, M extends TransferModel<X>>(backbone: Backbone<X, M>, model: M, target: X, c: Checked<X>): Promise<E.Either<TransferError, Outcome>> => {
  const f = await features(backbone, target, c);
  if (E.isLeft(f)) return f;
  const w = importanceWeights(f.right[0], f.right[1]);
  if (E.isLeft(w)) return w;
  const source = c.source as { x: X; ids: Int32Array };
  const steps = c.steps ?? ADAPT_STEPS;
  const phase = { ...adaptationPhase('importance-weighting', IMPORTANCE_LEARNING_RATE), trains: { kind: 'head-only' as const } };
  const run = await runAdaptationPhase(
    model,
    { phase, inputs: source.x, labels: source.ids, objective: { supervised: 1, exampleWeights: w.right.weights }, batchSize: c.batchSize, seed: deriveSeed(c.seed, 5), ...(c.signal === undefined ? {} : { signal: c.signal }) },
    steps,
    { labelled: source.ids.length, unlabelled: c.targetCount },
    progress(c, 'importance-weighting', steps),
  );
  return E.map((r: { steps: number; stop: 'steps' | 'diverged' }): Outcome => ({ batchNormsReestimated: 0, steps: r.steps, stop: r.stop === 'steps' ? 'done' : 'diverged', effectiveSourceSize: w.right.effectiveSize }))(run);
};

export const runMethod = async <X, M extends TransferModel<X>>(backbone: Backbone<X, M>, model: M, target: X, c: Checked<X>): Promise<E.Either<TransferError, Outcome>> => {
  const signal = c.signal === undefined ? {} : { signal: c.signal };
  switch (c.method) {
    case 'source-only':
      return E.right({ batchNormsReestimated: 0, steps: 0, stop: 'done' });
    case 'adabn':
      return E.map((n: number): Outcome => ({ batchNormsReestimated: n, steps: 0, stop: 'done' }))(await renormalize(model, target, c));
    case 'tent': {
      const set = await renormalize(model, target, c);
      if (E.isLeft(set)) return set;
      const steps = c.steps ?? TENT_EPOCHS * Math.ceil(c.targetCount / c.batchSize);
      const run = await runAdaptationPhase(
        model,
        { phase: adaptationPhase('tent', TENT_LEARNING_RATE), inputs: target, labels: new Int32Array(c.targetCount), objective: TENT_OBJECTIVE, batchSize: c.batchSize, seed: deriveSeed(c.seed, 3), ...signal },
        steps,
        { labelled: c.targetCount, unlabelled: c.targetCount },
        progress(c, 'tent', steps),
      );
      return E.map((r: { steps: number; stop: 'steps' | 'diverged'; batchNormsReestimated: number }): Outcome => ({ batchNormsReestimated: Math.max(set.right, r.batchNormsReestimated), steps: r.steps, stop: r.stop === 'steps' ? 'done' : 'diverged' }))(run);
    }
    case 'pseudo-label':
      return selfTrain(backbone, model, target, c);
    case 'coral':
      return coralHead(backbone, model, target, c);
    case 'importance-weighting':
      return weightSource(backbone, model, target, c);
    case 'deep-coral':
    case 'mmd':
    case 'dann': {
      const source = c.source as { x: X; ids: Int32Array };
      const steps = c.steps ?? ADAPT_STEPS;
      const run = await runAdaptationPhase(
        model,
        { phase: adaptationPhase(c.method, ADAPT_LEARNING_RATE), inputs: source.x, labels: source.ids, unlabelled: target, objective: sourceObjective(c.method, steps), batchSize: c.batchSize, seed: deriveSeed(c.seed, 4), ...signal },
        steps,
        { labelled: source.ids.length, unlabelled: c.targetCount },
        progress(c, c.method, steps),
      );
      return E.map((r: { steps: number; stop: 'steps' | 'diverged' }): Outcome => ({ batchNormsReestimated: 0, steps: r.steps, stop: r.stop === 'steps' ? 'done' : 'diverged' }))(run);
    }
  }
};

