/**
 * Adaptation chosen without target labels: every applicable method runs, each adapted model is
 * scored on the unlabelled target (or on a few labelled target examples, when given), and a guard
 * keeps the source-only model unless a method's evidence clearly beats it.
 */
import { either as E, type taskEither as TE } from 'fp-ts';
import type { Backbone, TransferModel } from '../core/backbone';
import { guard, guardTask, isRecord, optionsAt } from '../core/boundary';
import { described, invalidArgument, type TransferError } from '../core/errors';
import type { Labels } from '../core/labels';
import { nonNegativeNumber, optional } from '../core/validate';
import { predictionInformation } from '../metrics/predictionInformation';
import { adapt, type AdaptData, type AdaptOptions } from './adapt';
import { ADAPT_METHODS, BATCH_NORM_METHODS, SOURCE_FREE_METHODS, SOURCE_LABEL_METHODS, TRAINING_METHODS, type AdaptMethod } from './adaptMethods';
import { evaluate } from './evaluate';

/**
 * The guard's margin, in nats of prediction information: a method replaces source-only only when
 * its information on the target exceeds source-only's by more than this. Chosen leave-one-target-out
 * on the adaptation benchmark (docs/adaptation.md).
 */
export const ADAPTATION_GUARD_MARGIN = 0.05;

/** A method's score on the target, higher better. */
export interface AdaptationScore {
  readonly method: AdaptMethod;
  /** Finite; higher is better. */
  readonly score: number;
}

/** What {@link pickAdaptation} decides. */
export interface AdaptationPick {
  /** The method chosen: the best score's, or `source-only` when the guard held. */
  readonly method: AdaptMethod;
  /** Whether the guard kept source-only over a better-scored method. */
  readonly guarded: boolean;
  /** Why, in a sentence. */
  readonly reason: string;
}

/**
 * Picks the best-scored method, with the negative-adaptation guard: the pick must beat
 * source-only's score by more than `margin`, else source-only stays (it costs nothing and cannot
 * be worse than itself). Ties go to the earlier method of {@link ADAPT_METHODS} (the cheaper).
 *
 * @param scores - one per method, source-only among them
 * @param margin - the guard's margin (≥ 0) in the scores' unit
 * @function
 */
export const pickAdaptation = guard('pickAdaptation', (scores: ReadonlyArray<AdaptationScore>, margin: number): E.Either<TransferError, AdaptationPick> => {
  if (!Array.isArray(scores) || scores.length === 0) return E.left(invalidArgument('scores', 'a non-empty array of { method, score }', scores));
  const m = nonNegativeNumber('margin', margin);
  if (E.isLeft(m)) return m;
  for (const [i, s] of scores.entries()) {
    if (!isRecord(s) || !ADAPT_METHODS.includes(s.method as AdaptMethod) || typeof s.score !== 'number' || !Number.isFinite(s.score)) {
      return E.left(invalidArgument(`scores[${i}]`, `{ method: one of ${ADAPT_METHODS.join(', ')}, score: a finite number }`, s));
    }
  }
  const base = scores.find((s) => s.method === 'source-only');
  if (base === undefined) return E.left(invalidArgument('scores', "a score for 'source-only' (what the guard falls back to)", described('none')));
  const order = (s: AdaptationScore): number => ADAPT_METHODS.indexOf(s.method);
  const best = [...scores].sort((a, b) => b.score - a.score || order(a) - order(b))[0]!;
  if (best.method === 'source-only') return E.right({ method: 'source-only', guarded: false, reason: 'no method scored above source-only' });
  const gain = best.score - base.score;
  if (gain <= m.right) {
    return E.right({ method: 'source-only', guarded: true, reason: `${best.method} scored only ${gain.toFixed(3)} above source-only (the guard asks for more than ${m.right}): adaptation is not shown to help, so the source model stays` });
  }
  return E.right({ method: best.method, guarded: false, reason: `${best.method} scored ${gain.toFixed(3)} above source-only, the most of the methods tried` });
});

/** Options of {@link autoAdapt}. */
export interface AutoAdaptOptions<X> extends AdaptOptions {
  /** Methods to try (source-only is always one); default: every method the backbone and the data allow. */
  readonly methods?: ReadonlyArray<AdaptMethod>;
  /** A few labelled target examples: when given, methods are scored by accuracy on them instead of without labels. */
  readonly labelledTarget?: { readonly x: X; readonly y: Labels };
  /** The guard's margin; default {@link ADAPTATION_GUARD_MARGIN} (or 0 with `labelledTarget`: any gain in accuracy counts). */
  readonly margin?: number;
}

/** One method tried by {@link autoAdapt}. */
export interface AdaptationCandidate {
  readonly method: AdaptMethod;
  /** Its score: prediction information on the target (nats), or accuracy on the labelled target examples. */
  readonly score: number;
  /** Time it took to adapt and score, ms. */
  readonly ms: number;
  /** Steps it trained. */
  readonly steps: number;
  /** `done`, or `diverged` (its starting weights kept). */
  readonly stop: 'done' | 'diverged';
}

/** What {@link autoAdapt} returns. */
export interface AutoAdaptResult<M> {
  /** The chosen model (the caller disposes it). */
  readonly model: M;
  /** Its method. */
  readonly method: AdaptMethod;
  /** How the methods were scored. */
  readonly validator: 'prediction-information' | 'labelled-target-accuracy';
  /** Every method tried, in order. */
  readonly candidates: ReadonlyArray<AdaptationCandidate>;
  /** Whether the guard kept source-only over a better-scored method. */
  readonly guarded: boolean;
  /** Why this method, in a sentence. */
  readonly reason: string;
  /** How many classes the model predicts. */
  readonly classes: number;
}

/** The methods a backbone and data allow. */
const applicable = <X, M extends TransferModel<X>>(backbone: Backbone<X, M>, source: { readonly inputs: boolean; readonly labels: boolean }): AdaptMethod[] =>
  ADAPT_METHODS.filter(
    (m) =>
      (source.inputs || SOURCE_FREE_METHODS.includes(m)) &&
      (source.labels || !SOURCE_LABEL_METHODS.includes(m)) &&
      (backbone.layers.some((l) => l.kind === 'BatchNormalization') || !BATCH_NORM_METHODS.includes(m)) &&
      (backbone.capabilities?.fineTune === true || !TRAINING_METHODS.includes(m)),
  );

/**
 * Adapts with every applicable method and keeps one: scored by prediction information on the
 * unlabelled target (or accuracy on `options.labelledTarget`), with the guard of
 * {@link pickAdaptation}. Models not kept are disposed as soon as they lose.
 *
 * @function
 * @param backbone - the source model through a backend, its last layer its classifier
 * @param data - `target.x` (unlabelled), and `source: { x, y }` to let the source-based methods run
 * @param options - as `adapt`'s, plus which methods, a few labelled target examples, the guard's margin
 * @returns the kept model and every candidate's score and time, or the first `TransferError`
 */
export const autoAdapt = guardTask(
  'autoAdapt',
  <X, M extends TransferModel<X>>(backbone: Backbone<X, M>, data: AdaptData<X>, options?: AutoAdaptOptions<X>): TE.TaskEither<TransferError, AutoAdaptResult<M>> =>
    async () => {
      const o = optionsAt('options', options);
      if (E.isLeft(o)) return o;
      const { methods: asked, labelledTarget, margin: givenMargin, ...adaptOptions } = o.right;
      if (!isRecord(backbone) || !Array.isArray(backbone.layers)) return E.left(invalidArgument('backbone', 'a backbone (e.g. from fromLayersModel of transferkit/tfjs)', backbone));
      const given = isRecord(data) && isRecord(data.source) ? data.source : undefined;
      const allowed = applicable(backbone, { inputs: given !== undefined, labels: given?.y !== undefined });
      if (asked !== undefined && (!Array.isArray(asked) || asked.some((m) => !allowed.includes(m)))) {
        return E.left(invalidArgument('options.methods', `methods among those this backbone and data allow: ${allowed.join(', ')}`, asked));
      }
      const methods: AdaptMethod[] = ['source-only', ...(asked ?? allowed).filter((m) => m !== 'source-only')];
      const margin = optional(nonNegativeNumber, labelledTarget === undefined ? ADAPTATION_GUARD_MARGIN : 0)('options.margin', givenMargin);
      if (E.isLeft(margin)) return margin;
      if (labelledTarget !== undefined && !isRecord(labelledTarget)) return E.left(invalidArgument('options.labelledTarget', 'labelled target examples { x, y }', labelledTarget));
      const candidates: AdaptationCandidate[] = [];
      const kept = new Map<AdaptMethod, M>();
      let classes = 0;
      try {
        for (const method of methods) {
          const started = performance.now();
          const adapted = await adapt(backbone, method, data, adaptOptions)();
          if (E.isLeft(adapted)) return adapted;
          const { model } = adapted.right;
          kept.set(method, model);
          classes = adapted.right.classes;
          const scored =
            labelledTarget === undefined
              ? E.chain((p: { rows: number; cols: number; data: Float32Array }) => E.map((i: { value: number }) => i.value)(predictionInformation(p)))(await model.predict(data.target.x)())
              : E.map((e: { accuracy: number }) => e.accuracy)(await evaluate(model, labelledTarget, classes)());
          if (E.isLeft(scored)) return scored;
          candidates.push({ method, score: scored.right, ms: performance.now() - started, steps: adapted.right.steps, stop: adapted.right.stop });
          // Only source-only and the best so far stay alive.
          const best = [...candidates].filter((c) => c.method !== 'source-only').sort((a, b) => b.score - a.score)[0];
          for (const [m, held] of kept) {
            if (m !== 'source-only' && m !== best?.method) {
              held.dispose();
              kept.delete(m);
            }
          }
        }
        const picked = pickAdaptation(candidates, margin.right);
        if (E.isLeft(picked)) return picked;
        const model = kept.get(picked.right.method)!;
        kept.delete(picked.right.method);
        return E.right({
          model,
          method: picked.right.method,
          validator: labelledTarget === undefined ? 'prediction-information' : 'labelled-target-accuracy',
          candidates,
          guarded: picked.right.guarded,
          reason: picked.right.reason,
          classes,
        });
      } finally {
        for (const held of kept.values()) held.dispose();
      }
    },
);
