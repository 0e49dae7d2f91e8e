/**
 * Running a checked plan: the tap chosen (when ranked), the model built, and each phase trained.
 * `transfer` runs the plan of its arguments; the validation race (race/) runs plans whose training
 * rows are one fold's.
 */
import { either as E } from 'fp-ts';
import type { Backbone, PhaseSession, TransferModel } from '../core/backbone';
import { aborted, backendFailure, type TransferError } from '../core/errors';
import { deriveSeed } from '../core/random';
import type { Phase } from '../core/recipe';
import { scoreLayers, type RankedLayer } from '../metrics/rankLayers';
import { runEpochs } from './epochs';
import type { Plan } from './plan';
import type { PhaseReport, TransferResult } from './transfer';

/** A phase that runs exactly `epochs` epochs: `options.epochs` replaces the recipe's epochs and its `minSteps`. */
const withEpochs = (phase: Phase, epochs: number): Phase => {
  const { minSteps: _dropped, ...rest } = phase;
  return { ...rest, epochs };
};

/** A recipe's phase as it runs: with the options' epochs and the phase's own changes. */
const phaseAsRun = <X>(recipePhase: Phase, options: Plan<X>['options']): Phase => {
  const change = options.phases.get(recipePhase.name) ?? {};
  const epochs = change.epochs ?? options.epochs;
  const exactly = epochs === undefined ? recipePhase : withEpochs(recipePhase, epochs);
  return { ...exactly, ...(change.learningRate === undefined ? {} : { learningRate: change.learningRate }), ...(change.maxMs === undefined ? {} : { maxMs: change.maxMs }) };
};

/** Every phase's steps fit the backend's memory (where the model can tell): checked before the first trains. */
const checkMemory = <X, M extends TransferModel<X>>(model: M, p: Plan<X>): E.Either<TransferError, void> => {
  if (typeof model.planPhase !== 'function') return E.right(undefined);
  for (const recipePhase of p.recipe.phases) {
    const planned = model.planPhase(phaseAsRun(recipePhase, p.options), p.batchSize, p.options.memoryBytes);
    if (E.isLeft(planned)) return planned;
  }
  return E.right(undefined);
};

const runPhases = async <X, M extends TransferModel<X>>(model: M, p: Plan<X>): Promise<E.Either<TransferError, PhaseReport[]>> => {
  const { options } = p;
  const history: PhaseReport[] = [];
  const fits = checkMemory(model, p);
  if (E.isLeft(fits)) return fits;
  for (const [phaseIndex, recipePhase] of p.recipe.phases.entries()) {
    const change = options.phases.get(recipePhase.name) ?? {};
    const phase = phaseAsRun(recipePhase, options);
    if (options.signal?.aborted === true) return E.left(aborted(`the start of phase ${phase.name}`));
    const session = await model.startPhase({
      phase,
      inputs: p.x,
      labels: p.ids,
      ...(p.validationSet === undefined ? {} : { validation: p.validationSet }),
      batchSize: p.batchSize,
      seed: deriveSeed(p.seed, 7 + phaseIndex),
      ...(options.activationStore === undefined ? {} : { store: options.activationStore }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.memoryBytes === undefined ? {} : { memoryBytes: options.memoryBytes }),
    })();
    if (E.isLeft(session)) return session;
    const started = performance.now();
    try {
      const run = await runEpochs(session.right, p, phase, phaseIndex, change.steps);
      if (E.isLeft(run)) return run;
      const finished = session.right.finish?.(p.train) ?? E.right(0);
      if (E.isLeft(finished)) return finished;
      const { epochs, steps, stop, divergences, learningRate, weights } = run.right;
      const { cacheMs, cacheThreads, trainThreads } = session.right;
      const trainMs = performance.now() - started;
      const microBatch = Math.min(p.batchSize, session.right.microBatch ?? p.batchSize);
      history.push({ name: phase.name, trains: phase.trains, epochs, cacheMs, cacheThreads, trainThreads, trainMs, steps, stop, divergences, learningRate, weights, batchNormsReestimated: finished.right, microBatch });
    } finally {
      session.right.dispose();
    }
  }
  return E.right(history);
};

/**
 * A `ranked` tap chosen: each candidate's pooled activations scored by LogME on the training
 * examples alone (a validation split is not looked at), the best kept. The candidates are
 * embedded in one pass where the backbone can. Any other tap passes through.
 */
const chooseTap = async <X, M extends TransferModel<X>>(backbone: Backbone<X, M>, p: Plan<X>): Promise<E.Either<TransferError, Plan<X> & { readonly tapRanking?: ReadonlyArray<RankedLayer> }>> => {
  const candidates = p.tapCandidates;
  if (candidates === undefined) return E.right(p);
  if (p.options.signal?.aborted === true) return E.left(aborted('choosing the tap'));
  const how = { pooling: p.options.pooling, batchSize: p.batchSize, ...(p.options.signal === undefined ? {} : { signal: p.options.signal }) };
  const ranked = await scoreLayers(backbone, p.x, p.ids, candidates, how, p.train);
  if (E.isLeft(ranked)) return ranked;
  const best = ranked.right[0];
  return best === undefined ? E.right(p) : E.right({ ...p, tap: best.layer, tapRanking: ranked.right });
};

/**
 * Runs a checked plan: chooses a ranked tap, builds the model and trains its phases. `transfer` runs
 * the plan of its arguments; the validation race (race/) runs plans whose training rows are one
 * fold's. Nothing leaks on any path: the model is the caller's only on a Right.
 */
export const runPlan = async <X, M extends TransferModel<X>>(backbone: Backbone<X, M>, planned: Plan<X>): Promise<E.Either<TransferError, TransferResult<M>>> => {
  let model: M | undefined;
  try {
    const p = await chooseTap(backbone, planned);
    if (E.isLeft(p)) return p;
    const { recipe: r, tap, classes, seed } = p.right;
    const built = await backbone.build({ tap, head: r.head, classes, pooling: p.right.options.pooling, start: r.start, seed })();
    if (E.isLeft(built)) return built;
    model = built.right;
    const history = await runPhases(model, p.right);
    if (E.isLeft(history)) return history;
    const ranking = p.right.tapRanking === undefined ? {} : { tapRanking: p.right.tapRanking };
    const result = { model, recipe: p.right.recipe, tap: p.right.tap, ...ranking, classes: p.right.classes, warnings: p.right.warnings, history: history.right };
    model = undefined;
    return E.right(result);
  } catch (thrown) {
    return E.left(backendFailure('running the recipe', thrown));
  } finally {
    model?.dispose();
  }
};

