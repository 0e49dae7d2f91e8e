/**
 * Everything `transfer` checks and decides before it trains: the recipe re-derived, the options,
 * the labels, the inputs, the tap, and the (seeded) validation split.
 */
import { either as E } from 'fp-ts';
import type { Backbone, LayerInfo, Pooling, TransferModel } from '../core/backbone';
import { aborted, described, invalidArgument, notSupported, shapeMismatch, within, type TransferError } from '../core/errors';
import { checkLabels, type Labels } from '../core/labels';
import { deriveSeed, permutation, seededRandom } from '../core/random';
import { makeRecipe, type Recipe } from '../core/recipe';
import { resolveTap } from '../core/resolveTap';
import type { RowStoreFactory } from '../core/rowStore';
import { openUnitInterval, positiveInteger } from '../core/validate';

/** Inputs and their labels. */
export interface TransferData<X> {
  readonly x: X;
  readonly y: Labels;
}

/** Where training has got to; passed to `onProgress` after every batch. */
export interface Progress {
  readonly phase: string;
  /** 0-based index of the phase, and how many there are. */
  readonly phaseIndex: number;
  readonly phases: number;
  /** 1-based epoch of the phase, and how many it has. */
  readonly epoch: number;
  readonly epochs: number;
  /** 1-based batch of the epoch, and how many it has. */
  readonly batch: number;
  readonly batches: number;
  /** Mean loss and accuracy over the epoch's batches so far. */
  readonly loss: number;
  readonly accuracy: number;
}

/** Options of {@link transfer}. */
export interface TransferOptions<X> {
  /** Examples per optimisation step, a positive integer. Default 32. */
  readonly batchSize?: number;
  /** Epochs of every phase, exactly: replaces the recipe's epochs and its `minSteps`. Default: the recipe's own. */
  readonly epochs?: number;
  /** A seeded random fraction in (0, 1) of the data held out, or a separate set. Default: none. */
  readonly validation?: { readonly split: number } | { readonly data: TransferData<X> };
  /** Number of target classes, an integer ≥ 2. Default: inferred from the labels. */
  readonly classes?: number;
  /** How the tap's activations become a vector. Default `'average'` (global average for maps). */
  readonly pooling?: Pooling;
  /** Seeds the head's weights, shuffling, the validation split and dropout. Default 0. */
  readonly seed?: number;
  /** Stops training within one batch; the result is then `Left(Aborted)` and nothing leaks. */
  readonly signal?: AbortSignal;
  /** Called after every batch. */
  readonly onProgress?: (progress: Progress) => void;
  /**
   * Where cached activations of the frozen part are kept. Default: in memory, in 16 MB chunks
   * ({@link memoryRowStore}); `diskRowStore` from `transferkit/node` spills to disk past a budget.
   */
  readonly activationStore?: RowStoreFactory;
}

export type Validation = { readonly kind: 'none' } | { readonly kind: 'split'; readonly indices: Int32Array } | { readonly kind: 'set'; readonly count: number };

export interface Plan<X> {
  readonly recipe: Recipe;
  readonly ids: Int32Array;
  readonly classes: number;
  readonly train: Int32Array;
  readonly validation: Validation;
  readonly validationSet?: { readonly inputs: X; readonly labels: Int32Array };
  readonly tap: LayerInfo;
  readonly batchSize: number;
  readonly seed: number;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The recipe, re-derived and checked: its kind and trainable policy must be what its tap and phases make. */
const checkRecipe = (recipe: Recipe): E.Either<TransferError, Recipe> => {
  const derived = makeRecipe(recipe);
  if (E.isLeft(derived)) return derived;
  if (derived.right.kind !== recipe.kind) return E.left(invalidArgument('recipe.kind', `'${derived.right.kind}' (from its tap and phases)`, recipe.kind));
  if (!same(derived.right.trainable, recipe.trainable)) {
    return E.left(invalidArgument('recipe.trainable', `${JSON.stringify(derived.right.trainable)} (the widest phase)`, JSON.stringify(recipe.trainable)));
  }
  return derived;
};

const checkOptions = <X>(options: TransferOptions<X>): E.Either<TransferError, void> => {
  if (options.signal?.aborted === true) return E.left(aborted('the start (the signal was already aborted)'));
  const checks: Array<E.Either<TransferError, unknown>> = [
    positiveInteger('options.batchSize', options.batchSize ?? 32),
    options.epochs === undefined ? E.right(0) : positiveInteger('options.epochs', options.epochs),
    options.validation !== undefined && 'split' in options.validation ? openUnitInterval('options.validation.split', options.validation.split) : E.right(0),
    Number.isInteger(options.seed ?? 0) ? E.right(0) : E.left(invalidArgument('options.seed', 'an integer', options.seed)),
    ['average', 'flatten'].includes(options.pooling ?? 'average') ? E.right(0) : E.left(invalidArgument('options.pooling', "'average' or 'flatten'", options.pooling)),
    options.activationStore === undefined || typeof options.activationStore === 'function'
      ? E.right(0)
      : E.left(invalidArgument('options.activationStore', 'a row-store factory (e.g. memoryRowStore())', options.activationStore)),
  ];
  const bad = checks.find(E.isLeft);
  return bad === undefined ? E.right(undefined) : (bad as E.Left<TransferError>);
};

/** Counts inputs and checks that there is one label per input. */
const countMatching = <X, M extends TransferModel<X>>(backbone: Backbone<X, M>, path: string, x: X, labels: Int32Array): E.Either<TransferError, void> => {
  const n = backbone.count(x);
  if (E.isLeft(n)) return n;
  return n.right === labels.length ? E.right(undefined) : E.left(shapeMismatch(path, `${n.right} labels (one per input)`, `${labels.length} labels`));
};

export const plan = <X, M extends TransferModel<X>>(
  backbone: Backbone<X, M>,
  recipeIn: Recipe,
  data: TransferData<X>,
  options: TransferOptions<X>,
): E.Either<TransferError, Plan<X>> => {
  const ok = checkOptions(options);
  if (E.isLeft(ok)) return ok;
  if (!backbone.isUsable()) return E.left(invalidArgument('backbone', 'a usable model', described('a disposed model')));
  const recipe = checkRecipe(recipeIn);
  if (E.isLeft(recipe)) return recipe;
  if (recipe.right.trainable.kind !== 'head-only' && !backbone.capabilities.fineTune) {
    return E.left(notSupported('recipe', 'a head-only recipe (this backbone cannot fine-tune)', `a ${recipe.right.kind} recipe on ${backbone.capabilities.description}`));
  }
  const labels = checkLabels(data.y, options.classes);
  if (E.isLeft(labels)) return labels;
  const { ids, classes } = labels.right;
  const counted = countMatching(backbone, 'y', data.x, ids);
  if (E.isLeft(counted)) return counted;
  const tap = resolveTap(backbone.layers, backbone.top, recipe.right.tap);
  if (E.isLeft(tap)) return tap;
  const seed = options.seed ?? 0;
  const common = { recipe: recipe.right, ids, classes, tap: tap.right, batchSize: options.batchSize ?? 32, seed };
  const v = options.validation;
  if (v === undefined) return E.right({ ...common, train: Int32Array.from(ids.keys()), validation: { kind: 'none' } });
  if ('split' in v) {
    const order = permutation(ids.length, seededRandom(deriveSeed(seed, 1)));
    const held = Math.ceil(v.split * ids.length);
    if (held >= ids.length) return E.left(invalidArgument('options.validation.split', `a split that leaves training examples (${ids.length} in all)`, v.split));
    return E.right({ ...common, train: order.slice(0, ids.length - held), validation: { kind: 'split', indices: order.slice(ids.length - held) } });
  }
  const vLabels = checkLabels(v.data.y, classes, false);
  if (E.isLeft(vLabels)) return E.left(within('validation', vLabels.left));
  const vCount = countMatching(backbone, 'validation.y', v.data.x, vLabels.right.ids);
  if (E.isLeft(vCount)) return vCount;
  return E.right({
    ...common,
    train: Int32Array.from(ids.keys()),
    validation: { kind: 'set', count: vLabels.right.ids.length },
    validationSet: { inputs: v.data.x, labels: vLabels.right.ids },
  });
};
