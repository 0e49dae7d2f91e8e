/**
 * The rungs of the validation race: each surviving candidate trains on one fold's training rows at
 * the rung's fraction of its schedule and is scored on the fold's held-out rows (or, for the
 * transfer-gain probe, on every fold in turn, so that every row is scored); the better half (by
 * accuracy at that rung; ties to the cheaper) goes on.
 */
import { either as E } from 'fp-ts';
import type { Backbone, TransferModel } from '../../core/backbone';
import { aborted, type TransferError } from '../../core/errors';
import type { Recipe } from '../../core/recipe';
import { plan, type Progress, type TransferData, type TransferOptions } from '../plan';
import { runPlan } from '../runPlan';
import { scaledSteps } from './cost';
import type { Fold } from './folds';
import { survivors } from './budget';

/** One candidate's training on one fold. */
export interface RaceRun {
  /** 0-based rung. */
  readonly rung: number;
  /** 0-based fold it trained and was scored on. */
  readonly fold: number;
  /** The fraction of its schedule it trained. */
  readonly fraction: number;
  /** Accuracy on the fold's held-out rows, in [0, 1]. */
  readonly accuracy: number;
  /** Mean cross-entropy there (nats; each probability clipped at 1e-7). */
  readonly loss: number;
  /** How many rows it was scored on. */
  readonly scored: number;
  /** Wall time of the run, ms. */
  readonly ms: number;
}

/** A candidate as it races. */
export interface Racer {
  readonly name: string;
  readonly recipe: Recipe;
  /** Its estimated cost on all the data at its whole schedule, in full-network steps: what "cheaper" means. */
  readonly cost: number;
  readonly runs: RaceRun[];
  /** Which of the rows its last rung scored it got right, fold after fold: racers of one rung are compared row by row. */
  correct?: Uint8Array;
  /** The rung it lost at, or undefined while it is in the race. */
  eliminatedAt?: number;
}

/** A racer's runs at its last rung: one per fold that rung scored. */
const lastRung = (r: Racer): RaceRun[] => r.runs.filter((run) => run.rung === r.runs.at(-1)?.rung);

/** Rows a racer's last rung scored, over its folds. */
const lastScored = (r: Racer): number => lastRung(r).reduce((n, run) => n + run.scored, 0);

/**
 * A racer's accuracy at its last rung, over every row that rung scored (the runs of one rung share
 * their folds and fraction, so they compare).
 */
export const lastAccuracy = (r: Racer): number => {
  const scored = lastScored(r);
  return scored === 0 ? 0 : lastRung(r).reduce((s, run) => s + run.accuracy * run.scored, 0) / scored;
};

/** A racer's mean cross-entropy at its last rung, over every row that rung scored. */
export const lastLoss = (r: Racer): number => {
  const scored = lastScored(r);
  return scored === 0 ? 0 : lastRung(r).reduce((s, run) => s + run.loss * run.scored, 0) / scored;
};

/** The binomial standard error of a racer's last accuracy on the rows it was scored on. */
export const spreadOf = (r: Racer): number => {
  const p = lastAccuracy(r);
  const scored = Math.max(1, lastScored(r));
  return Math.sqrt(Math.max(p * (1 - p), 1 / scored) / scored);
};

/**
 * The standard error of the difference between two racers' accuracies on the same rows, from
 * the rows only one of them got right (the paired form McNemar's test uses): it is small when
 * they err on the same examples, however few the rows.
 */
export const pairedSpread = (a: Racer, b: Racer): number => {
  const x = a.correct;
  const y = b.correct;
  if (x === undefined || y === undefined || x.length !== y.length || x.length === 0) return Math.max(spreadOf(a), spreadOf(b));
  const n = x.length;
  let onlyA = 0;
  let onlyB = 0;
  for (let i = 0; i < n; i++) {
    if (x[i]! > y[i]!) onlyA++;
    else if (y[i]! > x[i]!) onlyB++;
  }
  // The variance of the mean of per-row differences (each −1, 0 or 1), with at least one row's worth.
  const d = (onlyA - onlyB) / n;
  return Math.sqrt(Math.max((onlyA + onlyB) / n - d * d, 1 / n) / n);
};

/** Better first: higher accuracy at the last rung, then the cheaper. */
export const byMerit = (a: Racer, b: Racer): number => lastAccuracy(b) - lastAccuracy(a) || a.cost - b.cost;

/** What the rungs need from `autoTransfer` or the probe. */
export interface RaceContext<X, M extends TransferModel<X>> {
  readonly backbone: Backbone<X, M>;
  readonly data: TransferData<X>;
  readonly classes: number;
  readonly folds: ReadonlyArray<Fold>;
  readonly batchSize: number;
  /** Whether each rung trains and scores on every fold (the probe's `folds`), rather than on a fold of its own. */
  readonly everyFold?: boolean;
  /** The options every run shares (seed, pooling, store, signal, batch size, classes). */
  readonly options: TransferOptions<X>;
  readonly onProgress?: (progress: RaceProgress) => void;
}

/** Where the race has got to: the candidate, rung and fold, and the run's own progress. */
export interface RaceProgress extends Progress {
  /** The candidate training. */
  readonly candidate: string;
  /** 0-based rung, or `'retrain'` for the winner's run on all the data. */
  readonly rung: number | 'retrain';
  /** 0-based fold (undefined for the retrain). */
  readonly fold?: number;
}

const concat = (parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/** The phases' step overrides that train `recipe` at `fraction` of its schedule on `examples` rows. */
export const stepsAt = (recipe: Recipe, examples: number, batchSize: number, fraction: number): Record<string, { readonly steps: number }> => {
  const steps = scaledSteps(recipe, examples, batchSize, fraction);
  return Object.fromEntries(recipe.phases.map((phase, i) => [phase.name, { steps: steps[i]! }]));
};

/** Which of `rows` of the data `model` classifies right (1) or wrong (0), and its mean cross-entropy on them. */
const scoreRows = async <X>(model: TransferModel<X>, x: X, ids: Int32Array, rows: Int32Array, batchSize: number): Promise<E.Either<TransferError, { readonly correct: Uint8Array; readonly loss: number }>> => {
  const probs = await model.predict(x, { batchSize })();
  if (E.isLeft(probs)) return probs;
  const { cols, data } = probs.right;
  let loss = 0;
  const correct = Uint8Array.from(rows, (row) => {
    let best = 0;
    for (let j = 1; j < cols; j++) if (data[row * cols + j]! > data[row * cols + best]!) best = j;
    loss -= Math.log(Math.min(1, Math.max(1e-7, data[row * cols + ids[row]!]!)));
    return best === ids[row] ? 1 : 0;
  });
  return E.right({ correct, loss: loss / rows.length });
};

/** Trains `racer` on fold `f` at `fraction` and scores it there: the run, and which rows it got right. */
const runOnFold = async <X, M extends TransferModel<X>>(
  ctx: RaceContext<X, M>,
  racer: Racer,
  rung: number,
  f: number,
  fraction: number,
  ids: Int32Array,
): Promise<E.Either<TransferError, { readonly run: RaceRun; readonly correct: Uint8Array }>> => {
  const fold = ctx.folds[f]!;
  const onProgress = ctx.onProgress === undefined ? {} : { onProgress: (p: Progress) => ctx.onProgress?.({ ...p, candidate: racer.name, rung, fold: f }) };
  const planned = plan(ctx.backbone, racer.recipe, ctx.data, { ...ctx.options, ...onProgress, phases: stepsAt(racer.recipe, fold.train.length, ctx.batchSize, fraction) });
  if (E.isLeft(planned)) return planned;
  const started = performance.now();
  const trained = await runPlan(ctx.backbone, { ...planned.right, train: fold.train, validation: { kind: 'none' } });
  if (E.isLeft(trained)) return trained;
  try {
    const scored = await scoreRows(trained.right.model, ctx.data.x, ids, fold.validation, ctx.batchSize);
    if (E.isLeft(scored)) return scored;
    const { correct, loss } = scored.right;
    const accuracy = correct.reduce((s, c) => s + c, 0) / correct.length;
    return E.right({ run: { rung, fold: f, fraction, accuracy, loss, scored: fold.validation.length, ms: performance.now() - started }, correct });
  } finally {
    trained.right.model.dispose();
  }
};

/**
 * Runs the rungs: at rung r every racer still in trains on fold r (mod the folds), or with
 * `everyFold` on each fold in turn, at `fractions[r]`; after each rung but the last, the better
 * half by {@link byMerit} goes on. Returns the racers still in after the last rung, best first.
 */
export const runRungs = async <X, M extends TransferModel<X>>(ctx: RaceContext<X, M>, racers: Racer[], fractions: ReadonlyArray<number>, ids: Int32Array): Promise<E.Either<TransferError, Racer[]>> => {
  let alive = [...racers];
  for (const [rung, fraction] of fractions.entries()) {
    const folds = ctx.everyFold === true ? [...ctx.folds.keys()] : [rung % ctx.folds.length];
    for (const racer of alive) {
      const correct: Uint8Array[] = [];
      for (const f of folds) {
        if (ctx.options.signal?.aborted === true) return E.left(aborted(`rung ${rung + 1} of the race`));
        const run = await runOnFold(ctx, racer, rung, f, fraction, ids);
        if (E.isLeft(run)) return run;
        racer.runs.push(run.right.run);
        correct.push(run.right.correct);
      }
      racer.correct = concat(correct);
    }
    alive.sort(byMerit);
    if (rung < fractions.length - 1) {
      const kept = survivors(alive.length);
      for (const lost of alive.slice(kept)) lost.eliminatedAt = rung;
      alive = alive.slice(0, kept);
    }
  }
  return E.right(alive);
};
