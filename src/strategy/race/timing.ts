/**
 * The one price of the race's cost model that is timed rather than assumed: a training step from
 * random weights, in full fine-tune steps. It ran from 1.3 to 3.3 on four architectures at one
 * batch size on one backend (cost.ts), enough to make a budget of two fine-tunes overrun by half
 * on a BatchNorm-heavy net, and nothing in a model's layer list predicted it. So before planning,
 * the race trains a few steps of each on the first fold, after one step that warms the kernels
 * and is not counted, and divides.
 */
import { either as E } from 'fp-ts';
import type { Backbone, TransferModel } from '../../core/backbone';
import type { Recipe } from '../../core/recipe';
import { plan, type Progress } from '../plan';
import { fullFineTune } from '../presets';
import { runPlan } from '../runPlan';
import { HEAD_STEP_COST, RANDOM_START_STEP_COST } from './cost';
import type { RaceContext } from './race';
import type { TransferError } from '../../core/errors';

/**
 * Steps timed of each kind, after the one that warms up. The fastest of them is taken: on a shared
 * machine a step is only ever slowed (preempted, or paused for garbage collection), never sped up.
 * With three steps and their mean the price timed on the grid's small CNN ran from 0.5 to 8 where
 * side by side it measures 1.5–1.7; with five and the fastest, over two runs of the script below
 * (four timings each), 1.0–1.7 at 5 per class and 1.6–2.6 at 100 on the CNN, 1.4–2.2 on the
 * residual net, and 2.7–5.9 on the MobileNet-style net, whose steps vary the most (`npx tsx
 * scripts/grid/timeRandomStart.ts`). Still noisy: hence the floor below.
 */
export const TIMED_STEPS = 5;

/**
 * A timed price is kept within these bounds. Below: the price the cost model assumed before it was
 * timed, {@link RANDOM_START_STEP_COST} (1.5), about what the grid's CNN and residual net measure
 * side by side. A timing can only raise it: with two other jobs on the machine the residual net
 * timed at 1.0 and its race overran (2.53 full fine-tunes), while a price timed too high only
 * shortens the rungs. Above: a stalled step should not stop the race from planning.
 */
export const PRICE_BOUNDS = [RANDOM_START_STEP_COST, 20] as const;

/**
 * The time of the fastest of {@link TIMED_STEPS} steps of `recipe`'s `phase`-th phase after its
 * first, on the first fold's training rows.
 */
const stepMs = async <X, M extends TransferModel<X>>(ctx: RaceContext<X, M>, recipe: Recipe, phase: number): Promise<E.Either<TransferError, number>> => {
  const stamps: number[] = [];
  const onProgress = (p: Progress): void => {
    if (p.phaseIndex === phase) stamps.push(performance.now());
  };
  const phases = Object.fromEntries(recipe.phases.map((p, i) => [p.name, { steps: i === phase ? 1 + TIMED_STEPS : 1 }]));
  const planned = plan(ctx.backbone, recipe, ctx.data, { ...ctx.options, divergenceGuard: false, onProgress, phases });
  if (E.isLeft(planned)) return planned;
  const trained = await runPlan(ctx.backbone, { ...planned.right, train: ctx.folds[0]!.train, validation: { kind: 'none' } });
  if (E.isLeft(trained)) return trained;
  trained.right.model.dispose();
  const times = stamps.slice(1).map((t, i) => t - stamps[i]!);
  return E.right(times.length === 0 ? 0 : times.reduce((m, t) => Math.min(m, t), Infinity));
};

/**
 * The price of a step of `random` (a recipe from random weights) in full fine-tune steps: its
 * time over that of a full fine-tune's second phase, which the cost model prices at
 * 1 + {@link HEAD_STEP_COST} (the backbone and the head), within {@link PRICE_BOUNDS}; `measured`
 * is the ratio before the bounds.
 */
export const timeRandomStart = async <X, M extends TransferModel<X>>(
  ctx: RaceContext<X, M>,
  random: Recipe,
): Promise<E.Either<TransferError, { readonly price: number; readonly measured: number; readonly ms: number }>> => {
  const started = performance.now();
  const tuned = await stepMs(ctx, fullFineTune, 1);
  if (E.isLeft(tuned)) return tuned;
  const fresh = await stepMs(ctx, random, 0);
  if (E.isLeft(fresh)) return fresh;
  const ratio = tuned.right > 0 ? (fresh.right / tuned.right) * (1 + HEAD_STEP_COST) : PRICE_BOUNDS[1];
  const price = Math.min(PRICE_BOUNDS[1], Math.max(PRICE_BOUNDS[0], Number.isFinite(ratio) ? ratio : PRICE_BOUNDS[1]));
  return E.right({ price, measured: ratio, ms: performance.now() - started });
};
