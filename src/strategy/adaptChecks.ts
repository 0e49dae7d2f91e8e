/**
 * What `adapt` checks before anything runs: the method and what it starts from, the options, the
 * backbone's classifier, BatchNorm and fine-tuning where the methods need them, the target, and
 * the source data a method reads. Each failure is a typed error that says what is needed.
 */
import { either as E } from 'fp-ts';
import { checkBackbone, type Backbone, type LayerInfo, type TransferModel } from '../core/backbone';
import { isRecord, optionsAt } from '../core/boundary';
import { described, invalidArgument, notSupported, shapeMismatch, type TransferError } from '../core/errors';
import { checkLabels } from '../core/labels';
import { abortSignal, integer, oneOf, optional, positiveInteger } from '../core/validate';
import type { AdaptData, AdaptOptions, AdaptProgress } from './adapt';
import { ADAPT_METHODS, BATCH_NORM_METHODS, SOURCE_FREE_METHODS, SOURCE_LABEL_METHODS, TRAINING_METHODS, type AdaptMethod } from './adaptMethods';

/** A run's arguments, checked. */
export interface Checked<X> {
  readonly method: AdaptMethod;
  /** For pseudo-label: the method it starts from. */
  readonly from?: AdaptMethod;
  readonly targetCount: number;
  readonly source?: { readonly x: X; readonly count: number; readonly ids?: Int32Array };
  readonly classes: number;
  readonly tap: LayerInfo;
  readonly batchSize: number;
  readonly steps?: number;
  readonly seed: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: AdaptProgress) => void;
}

/** The fewest target inputs each method takes: one to predict; two for a batch's statistics; a class's worth for self-training. */
const minimumTarget = (method: AdaptMethod, classes: number): number => (method === 'source-only' ? 1 : method === 'pseudo-label' ? classes : 2);

const list = (methods: ReadonlyArray<AdaptMethod>): string => methods.map((m) => `'${m}'`).join(', ');

export const checkAdapt = <X, M extends TransferModel<X>>(backbone: Backbone<X, M>, method: AdaptMethod, data: AdaptData<X>, options: AdaptOptions | undefined): E.Either<TransferError, Checked<X>> => {
  const b = checkBackbone('backbone', backbone);
  if (E.isLeft(b)) return b;
  const m = oneOf(ADAPT_METHODS)('method', method);
  if (E.isLeft(m)) return m;
  const o = optionsAt('options', options);
  if (E.isLeft(o)) return o;
  const batchSize = optional(positiveInteger, 64)('options.batchSize', o.right.batchSize);
  if (E.isLeft(batchSize)) return batchSize;
  const steps = optional(positiveInteger, undefined as number | undefined)('options.steps', o.right.steps);
  if (E.isLeft(steps)) return steps;
  const seed = optional(integer, 0)('options.seed', o.right.seed);
  if (E.isLeft(seed)) return seed;
  const signal = optional(abortSignal, undefined)('options.signal', o.right.signal);
  if (E.isLeft(signal)) return signal;
  const onProgress = o.right.onProgress;
  if (onProgress !== undefined && typeof onProgress !== 'function') return E.left(invalidArgument('options.onProgress', 'a function', onProgress));
  const bases = ADAPT_METHODS.filter((x) => x !== 'pseudo-label');
  if (o.right.from !== undefined && m.right !== 'pseudo-label') return E.left(invalidArgument('options.from', "nothing: only 'pseudo-label' starts from another method", o.right.from));
  const from = m.right === 'pseudo-label' ? optional(oneOf(bases), backbone.layers.some((l) => l.kind === 'BatchNormalization') ? ('adabn' as AdaptMethod) : 'source-only')('options.from', o.right.from) : E.right(undefined);
  if (E.isLeft(from)) return from;
  // What the run needs: the method's needs, and those of the method it starts from.
  const needs = from.right === undefined ? [m.right] : [m.right, from.right];
  const named = needs.map((x) => `'${x}'`).join(' from ');
  const last = backbone.layers[backbone.layers.length - 1]!;
  const tap = backbone.layers[backbone.top]!;
  const classes = last.outputShape[last.outputShape.length - 1];
  if (last.index === tap.index || typeof classes !== 'number' || classes < 2) {
    return E.left(notSupported('backbone', "a source model whose last layer is its classifier (the task adaptation keeps), above the backbone's top", `its last layer '${last.name}' (${last.kind})`));
  }
  if (needs.some((x) => BATCH_NORM_METHODS.includes(x)) && !backbone.layers.some((l) => l.kind === 'BatchNormalization')) {
    const apply = ADAPT_METHODS.filter((x) => !BATCH_NORM_METHODS.includes(x));
    return E.left(notSupported('method', `a backbone with BatchNormalization layers for ${named}; without them, ${list(apply)} apply`, 'a backbone with no BatchNormalization layer'));
  }
  if (needs.some((x) => TRAINING_METHODS.includes(x)) && !backbone.capabilities.fineTune) {
    return E.left(notSupported('method', `a backbone that can fine-tune for ${named}; ${list(ADAPT_METHODS.filter((x) => !TRAINING_METHODS.includes(x)))} do not train`, backbone.capabilities.description));
  }
  if (!isRecord(data) || !isRecord(data.target)) return E.left(invalidArgument('data', 'adaptation data { target: { x }, source?: { x, y } }', data));
  const n = backbone.count(data.target.x);
  if (E.isLeft(n)) return n;
  const least = minimumTarget(m.right, classes);
  if (n.right < least) return E.left(invalidArgument('data.target.x', `at least ${least} target inputs for '${m.right}'`, described(`${n.right}`)));
  const needsSource = needs.some((x) => !SOURCE_FREE_METHODS.includes(x));
  if (needsSource && data.source === undefined) {
    return E.left(invalidArgument('data.source', `source data { x, y } (${named} reads them); the source-free methods ${list(SOURCE_FREE_METHODS)} do not need them`, undefined));
  }
  let source: Checked<X>['source'];
  if (needsSource) {
    if (!isRecord(data.source)) return E.left(invalidArgument('data.source', 'source data { x, y }', data.source));
    const count = backbone.count(data.source.x);
    if (E.isLeft(count)) return count;
    if (count.right < 2) return E.left(invalidArgument('data.source.x', 'at least 2 source examples', described(`${count.right}`)));
    const needsLabels = needs.some((x) => SOURCE_LABEL_METHODS.includes(x));
    if (needsLabels && data.source.y === undefined) {
      return E.left(invalidArgument('data.source.y', `the source's labels (${named} trains on them); 'coral' needs only the source's inputs, and ${list(SOURCE_FREE_METHODS)} need no source data`, undefined));
    }
    const labels = needsLabels ? checkLabels(data.source.y!, classes, false) : undefined;
    if (labels !== undefined && E.isLeft(labels)) return labels;
    const ids = labels === undefined ? undefined : labels.right.ids;
    if (ids !== undefined && count.right !== ids.length) return E.left(shapeMismatch('data.source.y', `${count.right} labels (one per source input)`, `${ids.length} labels`));
    source = { x: data.source.x, count: count.right, ...(ids === undefined ? {} : { ids }) };
  }
  return E.right({
    method: m.right,
    ...(from.right === undefined ? {} : { from: from.right }),
    targetCount: n.right,
    ...(source === undefined ? {} : { source }),
    classes,
    tap,
    batchSize: batchSize.right,
    ...(steps.right === undefined ? {} : { steps: steps.right }),
    seed: seed.right,
    ...(signal.right === undefined ? {} : { signal: signal.right }),
    ...(onProgress === undefined ? {} : { onProgress }),
  });
};

