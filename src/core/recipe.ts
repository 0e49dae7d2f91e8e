import { either as E, function as F } from 'fp-ts';
import { invalidArgument, type TransferError } from './errors';
import {
  everyItem,
  finiteNumber,
  nonEmptyString,
  openUnitInterval,
  positiveInteger,
  positiveNumber,
  unitIntervalOpenAbove,
} from './validate';

/** The four named strategies. Each is a preset of one {@link Recipe} shape. */
export type StrategyKind = 'feature-extractor' | 'earlier-layer-tap' | 'partial-fine-tune' | 'full-fine-tune';

/**
 * Where the head attaches to the backbone.
 * - `top`: the top feature layer (the source's classifier removed).
 * - `relative-depth`: the layer at `depth` ∈ (0, 1) of the backbone's depth, counted from the input
 *   (0.5: halfway up); the backend resolves it to a layer and pools its activations.
 */
export type Tap = { readonly kind: 'top' } | { readonly kind: 'relative-depth'; readonly depth: number };

/**
 * Which part of the backbone (below the tap) trains; the head always trains.
 * - `head-only`: the backbone is frozen (BatchNorm statistics included).
 * - `top-fraction`: the top `fraction` ∈ (0, 1) of the backbone's layers below the tap train.
 * - `all`: every backbone layer trains.
 */
export type TrainablePolicy =
  | { readonly kind: 'head-only' }
  | { readonly kind: 'top-fraction'; readonly fraction: number }
  | { readonly kind: 'all' };

/** Regularisation during one phase. */
export interface Regularization {
  /** L2 penalty coefficient on the kernels that train, ≥ 0. */
  readonly l2: number;
}

/** One training phase: what trains, for how long, how fast. */
export interface Phase {
  /** A short name for progress reports, e.g. `"head"`, `"fine-tune"`. */
  readonly name: string;
  /** What trains in this phase (the head always does). */
  readonly trains: TrainablePolicy;
  /** Passes over the training data, a positive integer. */
  readonly epochs: number;
  /** The optimizer's step size, > 0. */
  readonly learningRate: number;
  /** The optimizer. */
  readonly optimizer: 'adam' | 'sgd';
  readonly regularization: Regularization;
}

/** The new head put on the tap: optional hidden dense layers, then the output layer for the target labels. */
export interface HeadSpec {
  /** Units of each hidden dense layer (ReLU), input to output; empty for a linear head. */
  readonly hidden: ReadonlyArray<number>;
  /** Dropout rate in [0, 1) on the head's input. */
  readonly dropout: number;
}

/**
 * A transfer recipe: where to attach a head, what trains in which order, and why.
 *
 * `kind` and `trainable` are derived from the tap and the phases by {@link makeRecipe}, so they
 * cannot disagree with them: `trainable` is the widest policy any phase uses.
 */
export interface Recipe {
  readonly kind: StrategyKind;
  readonly tap: Tap;
  /** The most of the backbone any phase trains. */
  readonly trainable: TrainablePolicy;
  /** The phases, run in order. */
  readonly phases: ReadonlyArray<Phase>;
  readonly head: HeadSpec;
  /** Sentences a user can read: why this recipe. */
  readonly rationale: ReadonlyArray<string>;
  /** What could go wrong, e.g. negative-transfer risk; empty when nothing stands out. */
  readonly warnings: ReadonlyArray<string>;
}

/** Arguments of {@link makeRecipe}. */
export interface RecipeArgs {
  readonly tap: Tap;
  /** At least one phase. */
  readonly phases: ReadonlyArray<Phase>;
  /** Default: a linear head, no dropout. */
  readonly head?: HeadSpec;
  /** Default: none. */
  readonly rationale?: ReadonlyArray<string>;
  /** Default: none. */
  readonly warnings?: ReadonlyArray<string>;
}

/** The fraction of the backbone (below the tap) a policy trains: 0 for head-only, 1 for all. */
export const backboneFraction = (policy: TrainablePolicy): number =>
  policy.kind === 'head-only' ? 0 : policy.kind === 'all' ? 1 : policy.fraction;

/** The tap's relative depth: 1 for the top, else its `depth`. */
export const tapDepth = (tap: Tap): number => (tap.kind === 'top' ? 1 : tap.depth);

const kindOf = (tap: Tap, trainable: TrainablePolicy): StrategyKind =>
  trainable.kind === 'all'
    ? 'full-fine-tune'
    : trainable.kind === 'top-fraction'
      ? 'partial-fine-tune'
      : tap.kind === 'top'
        ? 'feature-extractor'
        : 'earlier-layer-tap';

const checkTap = (tap: Tap): E.Either<TransferError, Tap> => {
  if (tap.kind === 'top') return E.right(tap);
  if (tap.kind === 'relative-depth') return E.map(() => tap)(openUnitInterval('tap.depth', tap.depth));
  return E.left(invalidArgument('tap.kind', "'top' or 'relative-depth'", (tap as { kind: unknown }).kind));
};

const checkPolicy = (path: string, p: TrainablePolicy): E.Either<TransferError, TrainablePolicy> => {
  if (p.kind === 'head-only' || p.kind === 'all') return E.right(p);
  if (p.kind === 'top-fraction') return E.map(() => p)(openUnitInterval(`${path}.fraction`, p.fraction));
  return E.left(invalidArgument(`${path}.kind`, "'head-only', 'top-fraction' or 'all'", (p as { kind: unknown }).kind));
};

const checkPhase = (path: string, phase: Phase): E.Either<TransferError, Phase> =>
  F.pipe(
    nonEmptyString(`${path}.name`, phase.name),
    E.chain(() => checkPolicy(`${path}.trains`, phase.trains)),
    E.chain(() => positiveInteger(`${path}.epochs`, phase.epochs)),
    E.chain(() => positiveNumber(`${path}.learningRate`, phase.learningRate)),
    E.chain(() =>
      phase.optimizer === 'adam' || phase.optimizer === 'sgd'
        ? E.right(phase)
        : E.left(invalidArgument(`${path}.optimizer`, "'adam' or 'sgd'", phase.optimizer)),
    ),
    E.chain(() => finiteNumber(`${path}.regularization.l2`, phase.regularization?.l2)),
    E.chain((l2) => (l2 >= 0 ? E.right(phase) : E.left(invalidArgument(`${path}.regularization.l2`, 'a number ≥ 0', l2)))),
  );

const checkHead = (head: HeadSpec): E.Either<TransferError, HeadSpec> =>
  F.pipe(
    Array.isArray(head.hidden)
      ? everyItem(positiveInteger)('head.hidden', head.hidden)
      : E.left(invalidArgument('head.hidden', 'an array of positive integers', head.hidden)),
    E.chain(() => unitIntervalOpenAbove('head.dropout', head.dropout)),
    E.map(() => head),
  );

const widest = (phases: ReadonlyArray<Phase>): TrainablePolicy =>
  phases.map((p) => p.trains).reduce((a, b) => (backboneFraction(b) > backboneFraction(a) ? b : a));

/**
 * Makes a {@link Recipe}, checking every field and deriving its `kind` and `trainable` policy.
 *
 * @returns the recipe, or `InvalidArgument` naming the first bad field (no phases, epochs not a
 * positive integer, learning rate ≤ 0 or NaN, a depth or fraction outside (0, 1), ...)
 *
 * @example
 * ```ts
 * import { makeRecipe } from 'transferkit';
 * import { either as E } from 'fp-ts';
 *
 * const linearProbe = makeRecipe({
 *   tap: { kind: 'top' },
 *   phases: [{ name: 'head', trains: { kind: 'head-only' }, epochs: 20, learningRate: 1e-3, optimizer: 'adam', regularization: { l2: 1e-4 } }],
 * });
 * if (E.isRight(linearProbe)) console.log(linearProbe.right.kind); // 'feature-extractor'
 * ```
 */
export const makeRecipe = (args: RecipeArgs): E.Either<TransferError, Recipe> => {
  const head = args.head ?? { hidden: [], dropout: 0 };
  if (!Array.isArray(args.phases) || args.phases.length === 0) {
    return E.left(invalidArgument('phases', 'at least one phase', args.phases));
  }
  for (const [i, phase] of args.phases.entries()) {
    const checked = checkPhase(`phases[${i}]`, phase);
    if (E.isLeft(checked)) return checked;
  }
  return F.pipe(
    checkTap(args.tap),
    E.chain(() => checkHead(head)),
    E.map(() => {
      const trainable = widest(args.phases);
      return {
        kind: kindOf(args.tap, trainable),
        tap: args.tap,
        trainable,
        phases: [...args.phases],
        head,
        rationale: [...(args.rationale ?? [])],
        warnings: [...(args.warnings ?? [])],
      };
    }),
  );
};
