/**
 * What a candidate of the validation race costs, estimated from its phases before anything runs,
 * in units of one full-network training step (a forward and a backward pass of the whole backbone
 * over a batch). The race plans its budget with it. Two of the prices are constants, read off the
 * first MNIST grid's timings on its small CNN; the third, a step from random weights, varies with
 * the architecture by more than the budget can absorb, so the race times it (timing.ts) unless the
 * caller fixes it. `npm run bench -- race` measures the race's wall time against a full
 * fine-tune's side by side.
 */
import { backboneFraction, type Phase, type Recipe } from '../../core/recipe';
import { phaseSteps } from '../epochs';

/** A forward pass alone, as a share of a training step: about a third of forward + backward. */
export const FORWARD_COST = 1 / 3;

/**
 * A head's step on cached activations, as a share of a full-network step. On the grid's small CNN
 * a head step took about a tenth of a full fine-tune step (2,000 head steps ≈ 1.3 s against 300
 * fine-tune steps ≈ 2.1 s); on larger backbones the share is smaller, so the estimate errs high.
 */
export const HEAD_STEP_COST = 0.1;

/**
 * A step of a model trained from random weights, as a share of a fine-tune step, when nothing
 * better is known: its BatchNorm layers run on batch statistics, which the fine-tune's folded
 * convolutions do not. Measured on the grid of #16's sources (wasm, one thread, batch 32, steps
 * timed side by side): 1.5–1.7 on the small CNN, 1.3–1.7 on the residual net, 3.1–3.3 on the
 * MobileNet-style net, and 2.6–2.9 on a MobileNetV2 at 32² and 64². No count of layers or
 * activations predicted that spread, so `autoTransfer` times the step on the backbone itself,
 * and takes the larger of this and the timed price (timing.ts).
 */
export const RANDOM_START_STEP_COST = 1.5;

/** What the race pays per step, in full-network fine-tune steps. */
export interface StepPrices {
  /** A training step from random weights (BatchNorm on batch statistics). */
  readonly randomStart: number;
}

/** The prices when nothing was measured. */
export const DEFAULT_PRICES: StepPrices = { randomStart: RANDOM_START_STEP_COST };

/** The steps each of `recipe`'s phases takes on `examples` training examples, scaled by `fraction` (at least 1 each). */
export const scaledSteps = (recipe: Recipe, examples: number, batchSize: number, fraction: number): number[] =>
  recipe.phases.map((phase) => Math.max(1, Math.ceil(fraction * phaseSteps(phase, examples, batchSize))));

const phaseCost = (phase: Phase, steps: number, examples: number, batchSize: number, random: boolean, prices: StepPrices): number => {
  if (random) return steps * prices.randomStart;
  // A policy the fraction cannot say (a named layer) counts as the whole backbone: the estimate errs high.
  const share = backboneFraction(phase.trains) ?? 1;
  // The frozen part runs once over the examples (cached); each step trains the rest and the head.
  const cache = (1 - share) * FORWARD_COST * Math.ceil(examples / batchSize);
  return cache + steps * (share + HEAD_STEP_COST);
};

/**
 * The estimated cost of training `recipe` on `examples` examples at `fraction` of its schedule,
 * then scoring `scored` examples (a forward pass each).
 */
export const recipeCost = (recipe: Recipe, examples: number, batchSize: number, fraction: number, scored = 0, prices: StepPrices = DEFAULT_PRICES): number => {
  const steps = scaledSteps(recipe, examples, batchSize, fraction);
  const random = recipe.start === 'random';
  const training = recipe.phases.reduce((sum, phase, i) => sum + phaseCost(phase, steps[i]!, examples, batchSize, random, prices), 0);
  return training + FORWARD_COST * Math.ceil(scored / batchSize);
};
