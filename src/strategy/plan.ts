/**
 * Everything `transfer` checks and decides before it trains: the recipe re-derived, the options,
 * the labels, the inputs, the tap, and the (seeded) validation split.
 */
import { either as E } from 'fp-ts';
import { checkBackbone, poolingOption, type Backbone, type LayerInfo, type Pooling, type TransferModel } from '../core/backbone';
import { isRecord, optionsAt } from '../core/boundary';
import { aborted, invalidArgument, notSupported, shapeMismatch, within, type TransferError } from '../core/errors';
import { checkLabels, MAX_CLASS_ID, type Labels } from '../core/labels';
import { deriveSeed, permutation, seededRandom } from '../core/random';
import { makeRecipe, type Recipe } from '../core/recipe';
import { rankedCandidates, resolveTap } from '../core/resolveTap';
import type { RowStoreFactory } from '../core/rowStore';
import { abortSignal, boolean, integer, integerIn, openUnitInterval, optional, positiveInteger, positiveNumber } from '../core/validate';

/** Inputs and their labels. */
export interface TransferData<X> {
  /** The inputs, in the backend's form (for tfjs, a tensor with one example per row). */
  readonly x: X;
  /** One label per input: class ids, or one-hot rows. */
  readonly y: Labels;
}

/** Where training has got to; passed to `onProgress` after every batch. */
export interface Progress {
  /** The phase's name, e.g. `"head"`. */
  readonly phase: string;
  /** 0-based index of the phase. */
  readonly phaseIndex: number;
  /** How many phases the recipe has. */
  readonly phases: number;
  /** 1-based epoch of the phase. */
  readonly epoch: number;
  /** How many epochs the phase has (a time budget may end it sooner). */
  readonly epochs: number;
  /** 1-based batch of the epoch. */
  readonly batch: number;
  /** How many batches an epoch has. */
  readonly batches: number;
  /** Mean training loss over the epoch's batches so far (nats). */
  readonly loss: number;
  /** Training accuracy over the epoch's batches so far, in [0, 1]. */
  readonly accuracy: number;
}

/** Options of {@link transfer}. */
export interface TransferOptions<X> {
  /** Examples per optimisation step, a positive integer. Default 32. */
  readonly batchSize?: number;
  /** Epochs of every phase, exactly: replaces the recipe's epochs and its `minSteps`. Default: the recipe's own. */
  readonly epochs?: number;
  /**
   * A time budget for each phase's training, in ms (> 0): a phase ends after the step that
   * reaches it (or its own `maxMs`, whichever is less), and its report says so. Default: none, so
   * the same seed gives the same model on any machine. A web page that wants a head in seconds
   * sets it (docs/browser.md).
   */
  readonly maxPhaseMs?: number;
  /** A seeded random fraction in (0, 1) of the data held out, or a separate set. Default: none. */
  readonly validation?:
    | {
        /** The held-out fraction, in (0, 1). */
        readonly split: number;
      }
    | {
        /** The separate validation set. */
        readonly data: TransferData<X>;
      };
  /** Number of target classes, an integer ≥ 2. Default: inferred from the labels. */
  readonly classes?: number;
  /** How the tap's activations become a vector. Default `'average'` (global average for maps). */
  readonly pooling?: Pooling;
  /** Seeds the head's weights, shuffling, the validation split and dropout; an integer. Default 0. */
  readonly seed?: number;
  /**
   * Stops the work at the next batch, whether it is caching the frozen part or training; the
   * result is then `Left(Aborted)` and nothing leaks.
   */
  readonly signal?: AbortSignal;
  /** Called after every batch. */
  readonly onProgress?: (progress: Progress) => void;
  /**
   * Where cached activations of the frozen part are kept. Default: in memory, in 16 MB chunks
   * (`memoryRowStore` of transferkit); `diskRowStore` from `transferkit/node` spills to disk past a budget.
   */
  readonly activationStore?: RowStoreFactory;
  /**
   * Changes to single phases, by the phase's name (e.g. `{ 'fine-tune': { learningRate: 1e-5 } }`);
   * they win over `epochs` for that phase. An unknown name is an error that lists the recipe's.
   */
  readonly phases?: Readonly<Record<string, PhaseOverride>>;
  /**
   * Whether the divergence guard watches each phase (default true): a loss that blows up puts
   * back the phase's best weights and lowers its rate, and a phase never ends worse on its
   * validation data than it started (`PhaseReport.divergences`, `weights`; src/strategy/epochs.ts).
   * With `false`, a loss that is not finite is an error and every phase keeps its last weights.
   */
  readonly divergenceGuard?: boolean;
  /**
   * The bytes a training step may fill with its activations (> 0). Default: what the backend can
   * give (on wasm, most of what its 4 GB heap has left; no limit on the others). A batch that would
   * need more trains as several passes whose gradients add up to the batch's (micro-batches,
   * `PhaseReport.microBatch`); a step whose one example would not fit is refused before anything
   * trains. Set it on webgl, whose texture memory transferkit cannot read.
   */
  readonly memoryBytes?: number;
}

/** What {@link TransferOptions.phases} may change in one phase. */
export interface PhaseOverride {
  /** Exactly this many epochs (the phase's `minSteps` no longer applies), a positive integer. */
  readonly epochs?: number;
  /** Exactly this many optimisation steps, whatever the epochs (the last epoch may be cut short), a positive integer. */
  readonly steps?: number;
  /** The optimizer's step size, > 0. */
  readonly learningRate?: number;
  /** A time budget for the phase's training, in ms (> 0). */
  readonly maxMs?: number;
}

export type Validation = { readonly kind: 'none' } | { readonly kind: 'split'; readonly indices: Int32Array } | { readonly kind: 'set'; readonly count: number };

/** The options, checked, with their defaults: what the runner reads (never the caller's object again). */
export interface CheckedOptions<X> {
  readonly batchSize: number;
  readonly epochs: number | undefined;
  readonly maxPhaseMs: number | undefined;
  readonly pooling: Pooling;
  readonly seed: number;
  readonly signal: AbortSignal | undefined;
  readonly onProgress: ((progress: Progress) => void) | undefined;
  readonly activationStore: RowStoreFactory | undefined;
  readonly classes: number | undefined;
  readonly validation: { readonly split: number } | { readonly data: TransferData<X> } | undefined;
  readonly phases: ReadonlyMap<string, PhaseOverride>;
  readonly divergenceGuard: boolean;
  readonly memoryBytes: number | undefined;
}

export interface Plan<X> {
  readonly recipe: Recipe;
  /** The training inputs, as given (read once). */
  readonly x: X;
  readonly ids: Int32Array;
  readonly classes: number;
  readonly train: Int32Array;
  readonly validation: Validation;
  readonly validationSet?: { readonly inputs: X; readonly labels: Int32Array };
  readonly tap: LayerInfo;
  /** What the backbone said of the inputs (`Backbone.inputWarning`), training then validation. */
  readonly warnings: ReadonlyArray<string>;
  /** For a `ranked` tap: the layers to choose it from (`tap` is then the first, until it is chosen). */
  readonly tapCandidates?: ReadonlyArray<LayerInfo>;
  readonly batchSize: number;
  readonly seed: number;
  readonly options: CheckedOptions<X>;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The recipe, re-derived and checked: its kind and trainable policy must be what its tap and phases make. */
const checkRecipe = (recipe: Recipe): E.Either<TransferError, Recipe> => {
  if (!isRecord(recipe)) return E.left(invalidArgument('recipe', 'a recipe (a preset, one from selectStrategy, or one from makeRecipe)', recipe));
  const derived = makeRecipe(recipe);
  if (E.isLeft(derived)) return derived;
  if (derived.right.kind !== recipe.kind) return E.left(invalidArgument('recipe.kind', `'${derived.right.kind}' (from its tap and phases)`, recipe.kind));
  if (!same(derived.right.trainable, recipe.trainable)) {
    return E.left(invalidArgument('recipe.trainable', `${JSON.stringify(derived.right.trainable)} (the widest phase)`, JSON.stringify(recipe.trainable)));
  }
  return derived;
};

const aFunction = (path: string, what: string, value: unknown): E.Either<TransferError, void> =>
  value === undefined || typeof value === 'function' ? E.right(undefined) : E.left(invalidArgument(path, what, value));

const checkValidation = <X>(value: unknown): E.Either<TransferError, CheckedOptions<X>['validation']> => {
  if (value === undefined) return E.right(undefined);
  const expected = '{ split } (a fraction in (0, 1) held out) or { data: { x, y } } (a separate set), or nothing';
  if (!isRecord(value)) return E.left(invalidArgument('options.validation', expected, value));
  if ('split' in value) return E.map((split: number) => ({ split }))(openUnitInterval('options.validation.split', value['split']));
  if ('data' in value) {
    const data = value['data'];
    return isRecord(data) ? E.right({ data: { x: data['x'] as X, y: data['y'] as Labels } }) : E.left(invalidArgument('options.validation.data', 'labelled data { x, y }', data));
  }
  return E.left(invalidArgument('options.validation', expected, value));
};

const checkOverride = (path: string, value: unknown): E.Either<TransferError, PhaseOverride> => {
  if (!isRecord(value)) return E.left(invalidArgument(path, '{ epochs?, steps?, learningRate?, maxMs? }', value));
  const fields = {
    epochs: optional(positiveInteger, undefined)(`${path}.epochs`, value['epochs']),
    steps: optional(positiveInteger, undefined)(`${path}.steps`, value['steps']),
    learningRate: optional(positiveNumber, undefined)(`${path}.learningRate`, value['learningRate']),
    maxMs: optional(positiveNumber, undefined)(`${path}.maxMs`, value['maxMs']),
  };
  const bad = Object.values(fields).find(E.isLeft);
  if (bad !== undefined) return bad as E.Left<TransferError>;
  const picked = Object.entries(fields).filter(([, f]) => (f as E.Right<number | undefined>).right !== undefined);
  return E.right(Object.fromEntries(picked.map(([k, f]) => [k, (f as E.Right<number>).right])) as PhaseOverride);
};

const checkOverrides = (value: unknown): E.Either<TransferError, ReadonlyMap<string, PhaseOverride>> => {
  if (value === undefined) return E.right(new Map());
  if (!isRecord(value) || Array.isArray(value)) return E.left(invalidArgument('options.phases', "an object of changes by phase name, e.g. { 'fine-tune': { learningRate: 1e-5 } }", value));
  const out = new Map<string, PhaseOverride>();
  for (const [name, override] of Object.entries(value)) {
    const checked = checkOverride(`options.phases.${name}`, override);
    if (E.isLeft(checked)) return checked;
    out.set(name, checked.right);
  }
  return E.right(out);
};

/** Reads and checks every option once, so a getter that changes its answer changes nothing later. */
const checkOptions = <X>(input: TransferOptions<X> | undefined): E.Either<TransferError, CheckedOptions<X>> => {
  const given = optionsAt('options', input);
  if (E.isLeft(given)) return given;
  const o = given.right;
  const signal = optional(abortSignal, undefined)('options.signal', o.signal);
  if (E.isLeft(signal)) return signal;
  if (signal.right?.aborted === true) return E.left(aborted('the start (the signal was already aborted)'));
  const checked = {
    batchSize: optional(positiveInteger, 32)('options.batchSize', o.batchSize),
    epochs: optional(positiveInteger, undefined)('options.epochs', o.epochs),
    maxPhaseMs: optional(positiveNumber, undefined)('options.maxPhaseMs', o.maxPhaseMs),
    validation: checkValidation<X>(o.validation),
    classes: optional(integerIn(2, MAX_CLASS_ID + 1), undefined)('options.classes', o.classes),
    seed: optional(integer, 0)('options.seed', o.seed),
    pooling: poolingOption('options.pooling', o.pooling),
    phases: checkOverrides(o.phases),
    divergenceGuard: optional(boolean, true)('options.divergenceGuard', o.divergenceGuard),
    memoryBytes: optional(positiveNumber, undefined)('options.memoryBytes', o.memoryBytes),
  };
  const functions = [aFunction('options.onProgress', 'a function called with each batch\'s progress', o.onProgress), aFunction('options.activationStore', 'a row-store factory (e.g. from memoryRowStore())', o.activationStore)];
  const bad = [...Object.values(checked), ...functions].find(E.isLeft);
  if (bad !== undefined) return bad as E.Left<TransferError>;
  const right = <A>(e: E.Either<TransferError, A>): A => (e as E.Right<A>).right;
  return E.right({
    batchSize: right(checked.batchSize),
    epochs: right(checked.epochs),
    maxPhaseMs: right(checked.maxPhaseMs),
    validation: right(checked.validation),
    classes: right(checked.classes),
    seed: right(checked.seed),
    pooling: right(checked.pooling),
    phases: right(checked.phases),
    divergenceGuard: right(checked.divergenceGuard),
    memoryBytes: right(checked.memoryBytes),
    signal: signal.right,
    onProgress: o.onProgress,
    activationStore: o.activationStore,
  });
};

/** Counts inputs and checks that there is one label per input. */
const countMatching = <X, M extends TransferModel<X>>(backbone: Backbone<X, M>, path: string, x: X, labels: Int32Array): E.Either<TransferError, void> => {
  const n = backbone.count(x);
  if (E.isLeft(n)) return n;
  return n.right === labels.length ? E.right(undefined) : E.left(shapeMismatch(path, `${n.right} labels (one per input)`, `${labels.length} labels`));
};

export const plan = <X, M extends TransferModel<X>>(
  backboneIn: Backbone<X, M>,
  recipeIn: Recipe,
  data: TransferData<X>,
  optionsIn: TransferOptions<X> | undefined,
): E.Either<TransferError, Plan<X>> => {
  const checkedOptions = checkOptions(optionsIn);
  if (E.isLeft(checkedOptions)) return checkedOptions;
  const options = checkedOptions.right;
  const b = checkBackbone('backbone', backboneIn);
  if (E.isLeft(b)) return b;
  const backbone = b.right;
  const recipe = checkRecipe(recipeIn);
  if (E.isLeft(recipe)) return recipe;
  if (recipe.right.trainable.kind !== 'head-only' && !backbone.capabilities.fineTune) {
    return E.left(notSupported('recipe', 'a head-only recipe (this backbone cannot fine-tune)', `a ${recipe.right.kind} recipe on ${backbone.capabilities.description}`));
  }
  if (!isRecord(data)) return E.left(invalidArgument('data', 'labelled data { x, y }', data));
  const { x, y } = data;
  const labels = checkLabels(y, options.classes);
  if (E.isLeft(labels)) return labels;
  const { ids, classes } = labels.right;
  const counted = countMatching(backbone, 'y', x, ids);
  if (E.isLeft(counted)) return counted;
  const names = recipe.right.phases.map((ph) => ph.name);
  const unknown = [...options.phases.keys()].find((name) => !names.includes(name));
  if (unknown !== undefined) return E.left(invalidArgument('options.phases', `changes to the recipe's phases: ${names.map((n) => `'${n}'`).join(', ')}`, unknown));
  const asked = recipe.right.tap;
  const candidates = asked.kind === 'ranked' ? rankedCandidates(backbone.layers, backbone.top, asked.from) : undefined;
  const tap = candidates?.[0] !== undefined ? E.right(candidates[0]) : resolveTap(backbone.layers, backbone.top, asked.kind === 'ranked' ? { kind: 'top' } : asked);
  if (E.isLeft(tap)) return tap;
  const seed = options.seed;
  const validationX = options.validation !== undefined && 'data' in options.validation ? options.validation.data.x : undefined;
  const warnings = [x, ...(validationX === undefined ? [] : [validationX])].map((inputs) => backbone.inputWarning?.(inputs)).filter((w): w is string => typeof w === 'string');
  const common = { recipe: recipe.right, x, ids, classes, tap: tap.right, warnings, ...(candidates === undefined ? {} : { tapCandidates: candidates }), batchSize: options.batchSize, seed, options };
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
