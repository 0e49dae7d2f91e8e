/**
 * `autoTransfer`: the recipe chosen by a budgeted validation race on the target's own labelled
 * data. The selector's prior orders a shortlist; the candidates race on stratified folds with
 * successive halving, the cheaper winning where the accuracies are within the spread; the winner
 * retrains on all the data.
 */
import { either as E, type taskEither as TE } from 'fp-ts';
import type { Backbone, TransferModel } from '../../core/backbone';
import { guardTask, isRecord, optionsAt } from '../../core/boundary';
import { aborted, invalidArgument, within, type TransferError } from '../../core/errors';
import { checkLabels } from '../../core/labels';
import { deriveSeed } from '../../core/random';
import type { Recipe, RecipeKind } from '../../core/recipe';
import { integerIn, optional, positiveInteger, positiveNumber } from '../../core/validate';
import { plan, type TransferData, type TransferOptions } from '../plan';
import { earlierLayerTap, featureExtractor, fromScratch, fullFineTune, partialFineTune } from '../presets';
import { runPlan } from '../runPlan';
import type { TransferResult } from '../transfer';
import { leastToRaceTwo, MIN_RUNG_FRACTION, planRace, retrainFraction } from './budget';
import { DEFAULT_PRICES, recipeCost } from './cost';
import { stratifiedFolds } from './folds';
import { byMerit, lastAccuracy, pairedSpread, runRungs, spreadOf, stepsAt, type RaceProgress, type RaceRun, type Racer } from './race';
import { timeRandomStart } from './timing';

export type { RaceProgress, RaceRun } from './race';
export { MIN_EXAMPLES_PER_CLASS } from './folds';

/**
 * The race's default budget, in full fine-tunes of the data as the cost model estimates them: what
 * the race may spend, the winner's retrain included. The estimate leaves out what every run costs
 * besides its steps (building the model, choosing a ranked tap); at 2.5 the race's wall time
 * measured 1.25–2.68 times a full fine-tune's on six grid cells (`npm run bench -- race`), so the
 * default is 2, to stay within 2.5 on the wall clock (docs/benchmarks.md has the latest run).
 */
export const DEFAULT_RACE_BUDGET = 2;
/** Folds the data are split into by default. */
export const DEFAULT_RACE_FOLDS = 3;

/**
 * The shortlist's order after the selector's pick. A full fine-tune first, and from scratch second:
 * on the first MNIST calibration grid (one CNN source, four target domains; docs/study.md) a full
 * fine-tune was the best or within a few points of it wherever the source helped, and from
 * scratch was the best choice wherever it did not, while the frozen heads and the partial
 * fine-tune never won by more than a point. Then the LogME-ranked earlier tap, the partial
 * fine-tune and the feature extractor, which the budget reaches on larger data, where the
 * from-scratch candidate costs relatively less. (A first order, with the earlier tap second, raced
 * the earlier tap instead of from scratch on small data and lost to both: docs/study.md.)
 */
export const PRIOR_ORDER: ReadonlyArray<Recipe> = [fullFineTune, fromScratch, earlierLayerTap, partialFineTune, featureExtractor];

/** Options of {@link autoTransfer}: `transfer`'s that make sense for every candidate, and the race's own. */
export interface AutoTransferOptions<X> extends Pick<TransferOptions<X>, 'batchSize' | 'classes' | 'pooling' | 'seed' | 'signal' | 'activationStore' | 'memoryBytes'> {
  /**
   * What the race may spend, the winner's retrain on all the data included, in multiples of one
   * full fine-tune of the data (> 0; default {@link DEFAULT_RACE_BUDGET}). Costs are estimated from
   * the candidates' phases, with a step from random weights priced by `randomStartCost`.
   */
  readonly budget?: number;
  /**
   * What a training step from random weights costs, in full fine-tune steps (a finite number > 0).
   * By default, when a candidate starts from random weights, the race times a few steps of it and
   * of a full fine-tune on this backbone and data before it plans (it varied from 1.3 to 3.3
   * between the grid's architectures), never pricing it below 1.5: the plan then depends on the
   * machine's timing. Give it to make the same seed run the same race anywhere.
   */
  readonly randomStartCost?: number;
  /** Stratified folds (an integer ≥ 2; default {@link DEFAULT_RACE_FOLDS}); each rung trains on a fold of its own. */
  readonly folds?: number;
  /**
   * The selector's pick (what `selectStrategy` returned for this data): it races first, before
   * {@link PRIOR_ORDER}'s other kinds. Without it the shortlist is {@link PRIOR_ORDER}.
   */
  readonly prior?: Recipe;
  /** The candidates, in the order of preference, instead of the selector's shortlist (a non-empty array of recipes). */
  readonly candidates?: ReadonlyArray<Recipe>;
  /** Called after every batch of every run, with the candidate, rung and fold. */
  readonly onProgress?: (progress: RaceProgress) => void;
}

/** One candidate of the race, as reported. */
export interface RaceEntry {
  /** Its name: the recipe's kind (`selector: <kind>` for the selector's pick when it is not a preset). */
  readonly name: string;
  /** The recipe it raced (and, for the winner, retrained). */
  readonly recipe: Recipe;
  /** Each run, in order. */
  readonly runs: ReadonlyArray<RaceRun>;
  /** Its validation accuracy at the last rung it ran (over every row that rung scored), in [0, 1]; absent when it did not run. */
  readonly accuracy?: number;
  /** The binomial standard error of that accuracy; absent when it did not run. */
  readonly spread?: number;
  /** Wall time of its runs, ms. */
  readonly ms: number;
  /** Its estimated cost at its whole schedule on all the data, in full fine-tunes. */
  readonly cost: number;
  /** Why it stopped: it won; it lost a rung; it lost the final comparison; or the budget left it out. */
  readonly stop: 'won' | 'eliminated' | 'lost' | 'not-run';
  /** In words. */
  readonly reason: string;
}

/** What {@link autoTransfer} returns: the winner retrained on all the data, and the race. */
export interface AutoTransferResult<M> extends TransferResult<M> {
  /** How the race went. */
  readonly race: {
    /** Every candidate of the shortlist, in its order (those a frozen backbone cannot train last). */
    readonly entries: ReadonlyArray<RaceEntry>;
    /** The winner's name. */
    readonly winner: string;
    /** Why it won. */
    readonly reason: string;
    /** Each rung's fraction of a schedule; empty when the budget fitted one candidate, which then did not race. */
    readonly fractions: ReadonlyArray<number>;
    /** The fraction of its schedule the winner retrained at: as much as the budget left paid for, at least the last rung's (at least an eighth when nothing raced). */
    readonly retrainFraction: number;
    /** How many stratified folds the data were split into. */
    readonly folds: number;
    /** The budget, in full fine-tunes. */
    readonly budget: {
      /** As given (or the default). */
      readonly given: number;
      /** The plan's worst-case cost, at most `given`. */
      readonly planned: number;
    };
    /** The price of a step from random weights the plan used, in full fine-tune steps, and whether it was timed here (else given, or not needed). */
    readonly randomStartCost: {
      /** The price. */
      readonly value: number;
      /** `'timed'` on this backbone and data, `'given'` in the options, or `'default'` when no candidate starts from random weights. */
      readonly source: 'timed' | 'given' | 'default';
    };
    /** What the spread means with this little data. */
    readonly note: string;
    /** Wall time, ms. */
    readonly ms: {
      /** Of timing a step from random weights against a fine-tune step (0 when not timed). */
      readonly timing: number;
      /** Of the rungs. */
      readonly race: number;
      /** Of the winner's retrain on all the data. */
      readonly retrain: number;
    };
  };
}

const KINDS: ReadonlyArray<RecipeKind> = ['feature-extractor', 'earlier-layer-tap', 'partial-fine-tune', 'full-fine-tune', 'from-scratch'];

/** The shortlist: the selector's pick first (when given), then the prior order, one recipe per kind. */
const shortlistOf = (prior: unknown): E.Either<TransferError, Array<{ name: string; recipe: Recipe }>> => {
  const named = PRIOR_ORDER.map((recipe) => ({ name: recipe.kind, recipe }));
  if (prior === undefined) return E.right(named);
  if (!isRecord(prior) || !KINDS.includes(prior['kind'] as RecipeKind)) return E.left(invalidArgument('options.prior', "a recipe (selectStrategy's pick)", prior));
  const pick = prior as unknown as Recipe;
  const preset = PRIOR_ORDER.find((r) => r.kind === pick.kind)!;
  const same = JSON.stringify([preset.start, preset.tap, preset.phases]) === JSON.stringify([pick.start, pick.tap, pick.phases]);
  const first = { name: same ? pick.kind : `selector: ${pick.kind}`, recipe: same ? preset : pick };
  return E.right([first, ...named.filter((n) => n.recipe.kind !== pick.kind)]);
};

const checkCandidates = (value: unknown): E.Either<TransferError, Array<{ name: string; recipe: Recipe }> | undefined> => {
  if (value === undefined) return E.right(undefined);
  if (!Array.isArray(value) || value.length === 0 || value.some((r) => !isRecord(r) || !KINDS.includes(r['kind'] as RecipeKind))) {
    return E.left(invalidArgument('options.candidates', 'a non-empty array of recipes (presets, fromScratch, or from makeRecipe)', value));
  }
  const seen = new Map<string, number>();
  return E.right(
    (value as Recipe[]).map((recipe) => {
      const n = (seen.get(recipe.kind) ?? 0) + 1;
      seen.set(recipe.kind, n);
      return { name: n === 1 ? recipe.kind : `${recipe.kind} #${n}`, recipe };
    }),
  );
};

const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;

/**
 * Chooses and trains a recipe by racing candidates on the target's labelled data. The shortlist
 * is the selector's pick (`options.prior`) and then {@link PRIOR_ORDER}; the race fits as
 * many of its first candidates into `options.budget` as it can. Candidates train on stratified
 * folds with successive halving (Jamieson & Talwalkar 2016): each rung trains the survivors at a
 * fraction of their schedule on a fold of their own, scores them on its held-out rows, and keeps
 * the better half; each rung's fraction is twice the last's. Of the last rung's candidates, the
 * cheapest whose shortfall against the best is within the spread of their difference (both scored
 * on the same rows) wins, and retrains on all the data at as much of its schedule as the rest of
 * the budget pays for (all of it when it can, never less than it raced at). When the budget fits
 * only one candidate (or one is given), nothing races: it trains on all the data without a
 * validation run, and its reason names the budget a race of two would need.
 *
 * @remarks Every run goes through the same runner as `transfer`: the source is never changed,
 * the seed fixes every split and every run, and each fold's model is disposed once scored. With
 * 5 examples per class and 3 folds a rung scores 1–2 examples of each class: the spread is then
 * wide, and a cheaper candidate wins unless a costlier one is clearly better. (Rungs that train
 * on every fold in turn, scoring every example, were tried there and did not help on the
 * sources held out from their design: docs/study.md.)
 *
 * @function
 * @param backbone - the pretrained model through a backend
 * @param data - the labelled target examples: at least {@link MIN_EXAMPLES_PER_CLASS} of every class
 * @param options - the budget, folds, the selector's pick or your own candidates, and `transfer`'s shared options
 * @returns the winner trained on all the data, with the race's report; or a `TransferError`: a
 * budget that is not positive or too small for one candidate (naming the smallest that fits), data
 * with a class too small to split, an abort
 */
export const autoTransfer = guardTask(
  'autoTransfer',
  <X, M extends TransferModel<X>>(backbone: Backbone<X, M>, data: TransferData<X>, options?: AutoTransferOptions<X>): TE.TaskEither<TransferError, AutoTransferResult<M>> =>
    async () => {
      const given = optionsAt('options', options);
      if (E.isLeft(given)) return given;
      const o = given.right;
      const budget = optional(positiveNumber, DEFAULT_RACE_BUDGET)('options.budget', o.budget);
      if (E.isLeft(budget)) return budget;
      const k = optional(integerIn(2, 100), DEFAULT_RACE_FOLDS)('options.folds', o.folds);
      if (E.isLeft(k)) return k;
      const batch = optional(positiveInteger, 32)('options.batchSize', o.batchSize);
      if (E.isLeft(batch)) return batch;
      const givenPrice = optional(positiveNumber, undefined)('options.randomStartCost', o.randomStartCost);
      if (E.isLeft(givenPrice)) return givenPrice;
      if (o.onProgress !== undefined && typeof o.onProgress !== 'function') return E.left(invalidArgument('options.onProgress', "a function called with each batch's progress", o.onProgress));
      const custom = checkCandidates(o.candidates);
      if (E.isLeft(custom)) return custom;
      if (!isRecord(data)) return E.left(invalidArgument('data', 'labelled data { x, y }', data));
      const { onProgress, budget: _b, folds: _f, prior, candidates: _c, randomStartCost: _p, ...shared } = o;
      const labels = checkLabels(data.y, o.classes);
      if (E.isLeft(labels)) return E.left(within('data', labels.left));
      const { ids, classes } = labels.right;
      // Everything else about the data and options: as `transfer` checks it, on a recipe any backbone runs.
      const checked = plan(backbone, featureExtractor, data, { ...shared, batchSize: batch.right, classes });
      if (E.isLeft(checked)) return checked;
      const seed = checked.right.seed;
      if (k.right > ids.length) return E.left(invalidArgument('options.folds', `at most ${ids.length} folds (one per labelled example)`, k.right));
      const folds = stratifiedFolds(ids, classes, k.right, deriveSeed(seed, 41));
      if (E.isLeft(folds)) return folds;
      const list = custom.right === undefined ? shortlistOf(prior) : E.right(custom.right);
      if (E.isLeft(list)) return list;
      // A backbone that cannot fine-tune (a frozen graph) races the frozen heads of the default shortlist; your own candidates are checked as they are.
      const frozenOnly = custom.right === undefined && backbone.capabilities?.fineTune !== true;
      const runnable = (r: Recipe): boolean => !frozenOnly || (r.start !== 'random' && r.trainable.kind === 'head-only');
      const shortlist = list.right.filter((c) => runnable(c.recipe));
      const leftOut = list.right.filter((c) => !runnable(c.recipe));
      for (const c of shortlist) {
        const ok = plan(backbone, c.recipe, data, { ...shared, batchSize: batch.right, classes });
        if (E.isLeft(ok)) return E.left(within(`candidate ${c.name}`, ok.left));
      }
      const n = ids.length;
      const ctx = { backbone, data, classes, folds: folds.right, batchSize: batch.right, options: { ...shared, batchSize: batch.right, classes, seed }, ...(onProgress === undefined ? {} : { onProgress }) };
      const random = shortlist.find((c) => c.recipe.start === 'random');
      const timed = givenPrice.right === undefined && random !== undefined ? await timeRandomStart(ctx, random.recipe) : undefined;
      if (timed !== undefined && E.isLeft(timed)) return timed;
      const price = givenPrice.right ?? timed?.right.price ?? DEFAULT_PRICES.randomStart;
      const prices = { randomStart: price };
      const foldTrain = folds.right.reduce((m, f) => Math.max(m, f.train.length), 0);
      const unit = recipeCost(fullFineTune, n, batch.right, 1);
      const runCost = (i: number, f: number): number => recipeCost(shortlist[i]!.recipe, foldTrain, batch.right, f, n, prices);
      const retrainCost = (i: number, f: number): number => recipeCost(shortlist[i]!.recipe, n, batch.right, f, 0, prices);
      const racePlan = planRace(shortlist.length, budget.right * unit, runCost, retrainCost);
      if (racePlan === undefined) {
        const least = retrainCost(0, MIN_RUNG_FRACTION) / unit;
        return E.left(invalidArgument('options.budget', `at least ${least.toFixed(2)} full fine-tunes: the shortlist's first candidate (${shortlist[0]!.name}) trained at an eighth of its schedule`, budget.right));
      }
      const racers: Racer[] = shortlist.slice(0, racePlan.count).map((c) => ({ name: c.name, recipe: c.recipe, cost: retrainCost(shortlist.indexOf(c), 1), runs: [] }));
      const raceStarted = performance.now();
      const finalists = await runRungs(ctx, racers, racePlan.fractions, ids);
      if (E.isLeft(finalists)) return finalists;
      const raceMs = performance.now() - raceStarted;
      const best = finalists.right[0]!;
      // The cheapest finalist whose shortfall against the best is within one standard error of
      // their paired difference (both were scored on the same rows at the last rung).
      const close = finalists.right.filter((r) => lastAccuracy(best) - lastAccuracy(r) <= pairedSpread(best, r));
      const winner = [...close].sort((a, b) => a.cost - b.cost || byMerit(a, b))[0]!;
      const alone = racePlan.count === 1;
      const second = shortlist[1];
      const reason = alone
        ? `nothing raced it: ${second === undefined ? 'it was the only candidate' : `the budget of ${budget.right} full fine-tunes fits no race (racing ${second.name} beside it needs at least ${(leastToRaceTwo(runCost, retrainCost) / unit).toFixed(2)})`}, so it trained on all the data without a validation run.`
        : winner === best
          ? `${winner.name} had the best validation accuracy at the last rung, ${pct(lastAccuracy(winner))}${finalists.right.length > 1 ? ', and no cheaper finalist came within the spread of the difference' : ''}.`
          : `${best.name} scored ${pct(lastAccuracy(best))} and ${winner.name} ${pct(lastAccuracy(winner))} on the same rows: a difference within its spread (± ${pct(pairedSpread(best, winner))}), and ${winner.name} costs less, so it won.`;
      const spent = racers.reduce((sum, r, i) => sum + r.runs.reduce((s, run) => s + runCost(i, run.fraction), 0), 0);
      const fraction = retrainFraction(budget.right * unit - spent, retrainCost(racers.indexOf(winner), 1), racePlan.retrain);
      if (o.signal?.aborted === true) return E.left(aborted('the retrain of the winner'));
      const retrainProgress = onProgress === undefined ? {} : { onProgress: (p: Parameters<NonNullable<TransferOptions<X>['onProgress']>>[0]) => onProgress({ ...p, candidate: winner.name, rung: 'retrain' }) };
      const final = plan(backbone, winner.recipe, data, { ...shared, ...retrainProgress, batchSize: batch.right, classes, ...(fraction < 1 ? { phases: stepsAt(winner.recipe, n, batch.right, fraction) } : {}) });
      if (E.isLeft(final)) return final;
      const retrainStarted = performance.now();
      const trained = await runPlan(backbone, final.right);
      if (E.isLeft(trained)) return trained;
      const cannot = leftOut.map((c): RaceEntry => ({ name: c.name, recipe: c.recipe, runs: [], ms: 0, cost: recipeCost(c.recipe, n, batch.right, 1, 0, prices) / unit, stop: 'not-run', reason: `this backbone cannot fine-tune (${backbone.capabilities.description})` }));
      const entries: RaceEntry[] = shortlist.map((c, i) => {
        const r = racers[i];
        const cost = retrainCost(i, 1) / unit;
        if (r === undefined) return { name: c.name, recipe: c.recipe, runs: [], ms: 0, cost, stop: 'not-run' as const, reason: `the budget of ${budget.right} full fine-tunes fitted only the shortlist's first ${racePlan.count}` };
        if (r.runs.length === 0) return { name: r.name, recipe: r.recipe, runs: [], ms: 0, cost, stop: 'won' as const, reason };
        const stop = r === winner ? ('won' as const) : r.eliminatedAt !== undefined ? ('eliminated' as const) : ('lost' as const);
        const why = stop === 'won' ? reason : stop === 'eliminated' ? `in the worse half after rung ${r.eliminatedAt! + 1}` : 'a finalist, beaten by the winner';
        return { name: r.name, recipe: r.recipe, runs: r.runs, accuracy: lastAccuracy(r), spread: spreadOf(r), ms: r.runs.reduce((s, run) => s + run.ms, 0), cost, stop, reason: why };
      });
      const smallest = folds.right.reduce((m, f) => Math.min(m, f.validation.length), Infinity);
      const largest = folds.right.reduce((m, f) => Math.max(m, f.validation.length), 0);
      const note =
        smallest < 10 * classes
          ? `Each fold scores only ${smallest}–${largest} examples (${classes} classes): one example is ${pct(1 / smallest)} of accuracy, so the spread is wide and a cheaper candidate wins unless a costlier one is clearly better.`
          : `Each fold scores ${smallest} or more examples; a candidate's spread is the binomial standard error of its accuracy there, and the finalists are compared row by row.`;
      return E.right({
        ...trained.right,
        race: {
          entries: [...entries, ...cannot],
          winner: winner.name,
          reason,
          fractions: racePlan.fractions,
          retrainFraction: fraction,
          folds: k.right,
          budget: { given: budget.right, planned: racePlan.cost / unit },
          randomStartCost: { value: price, source: givenPrice.right !== undefined ? 'given' : timed !== undefined ? 'timed' : 'default' },
          note,
          ms: { timing: timed?.right.ms ?? 0, race: raceMs, retrain: performance.now() - retrainStarted },
        },
      });
    },
);
