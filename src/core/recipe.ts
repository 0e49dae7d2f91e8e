import { either as E, function as F } from 'fp-ts';
import { guard, isRecord, quietly } from './boundary';
import { invalidArgument, type TransferError } from './errors';
import {
  everyItem,
  nonEmptyString,
  nonNegativeInteger,
  nonNegativeNumber,
  openUnitInterval,
  positiveInteger,
  positiveNumber,
  unitIntervalOpenAbove,
} from './validate';

/** The four named strategies. Each is a preset of one {@link Recipe} shape. */
export type StrategyKind = 'feature-extractor' | 'earlier-layer-tap' | 'partial-fine-tune' | 'full-fine-tune';

/**
 * What a recipe is: one of the four transfer strategies, or `from-scratch`, the no-transfer
 * baseline (the source's architecture, none of its weights), which is the same recipe shape with
 * `start: 'random'`.
 */
export type RecipeKind = StrategyKind | 'from-scratch';

/**
 * Where a recipe's backbone weights start: the source's (`pretrained`, transfer), or fresh random
 * ones from the layers' own initialisers, seeded (`random`: the architecture is reused, nothing it
 * learned). A `random` start trains everything in every phase, and its BatchNorm layers train as
 * usual (normalising by batch statistics, updating the moving ones); a pretrained start keeps them on
 * the source's moving statistics.
 */
export type Start = 'pretrained' | 'random';

/**
 * Where the head attaches to the backbone: a reference to one of its layers.
 * - `top`: the top feature layer (the source's classifier removed).
 * - `relative-depth`: the layer at `depth` ∈ (0, 1) of the way from the input to the top (0.5:
 *   halfway up), moved forward to the end of its block (past a BatchNorm or activation that only it feeds).
 * - `layer`: the layer with this name.
 * - `index`: the layer at this position in the backbone's layer list.
 * - `from-top`: `offset` layers below the top feature layer (0 is the top).
 * - `ranked`: chosen by measurement when the recipe runs: of the block ends from relative depth
 *   `from` up to just below the top, the one whose pooled activations score the highest LogME on
 *   the training labels (You et al., "LogME", ICML 2021; `rankLayers` scores the same way).
 *
 * The tap's activations are pooled to one vector per example (global average for maps, or flattened).
 */
export type Tap =
  | {
      /** The top feature layer. */
      readonly kind: 'top';
    }
  | {
      /** A layer part of the way up. */
      readonly kind: 'relative-depth';
      /** How far up, in (0, 1): 0.5 is halfway from the input to the top. */
      readonly depth: number;
    }
  | {
      /** A layer by name. */
      readonly kind: 'layer';
      /** The layer's name (an error lists the valid ones). */
      readonly name: string;
    }
  | {
      /** A layer by position. */
      readonly kind: 'index';
      /** Its position in the backbone's layer list, ≤ the top's. */
      readonly index: number;
    }
  | {
      /** A layer counted down from the top. */
      readonly kind: 'from-top';
      /** Layers below the top feature layer, ≥ 0 (0 is the top). */
      readonly offset: number;
    }
  | {
      /** The earlier layer the target's labels say reads best, by LogME, chosen when the recipe runs. */
      readonly kind: 'ranked';
      /** The lowest relative depth a candidate may have, in [0, 1): 0.5 ranks the upper half below the top. */
      readonly from: number;
    };

/**
 * Which part of the backbone (up to the tap) trains; the head always trains. Layers are counted
 * among those with weights, from the tap down.
 * - `head-only`: the backbone is frozen (BatchNorm statistics included).
 * - `top-fraction`: the top `fraction` ∈ (0, 1) of them train (at least one).
 * - `top-layers`: the top `count` of them train.
 * - `all`: every backbone layer trains.
 */
export type TrainablePolicy =
  | {
      /** The backbone frozen; only the head trains. */
      readonly kind: 'head-only';
    }
  | {
      /** A top share of the backbone's weighted layers trains. */
      readonly kind: 'top-fraction';
      /** The share, in (0, 1]. */
      readonly fraction: number;
    }
  | {
      /** A number of the backbone's top weighted layers trains. */
      readonly kind: 'top-layers';
      /** How many, a positive integer. */
      readonly count: number;
    }
  | {
      /** Every backbone layer trains. */
      readonly kind: 'all';
    };

/** Regularisation during one phase. */
export interface Regularization {
  /** L2 penalty coefficient on the kernels that train, ≥ 0. */
  readonly l2: number;
  /**
   * L2-SP coefficient α, ≥ 0; optional, default 0 (off). The backbone's kernels that train are
   * pulled toward the values they had when the phase started (for a pretrained start, the
   * source's) instead of toward zero: α · Σ‖w − w⁰‖², while `l2` then applies to the head's
   * kernels alone. Li, Grandvalet & Davoine, "Explicit Inductive Bias for Transfer Learning with
   * Convolutional Networks", ICML 2018 (their α/2 is α here).
   */
  readonly startingPoint?: number;
}

/** One training phase: what trains, for how long, how fast. */
export interface Phase {
  /** A short name for progress reports, e.g. `"head"`, `"fine-tune"`. */
  readonly name: string;
  /** What trains in this phase (the head always does). */
  readonly trains: TrainablePolicy;
  /** Passes over the training data, a positive integer. */
  readonly epochs: number;
  /**
   * At least this many optimisation steps (batches), a positive integer; optional. With few
   * examples an epoch is one or two batches, so a phase set in epochs alone barely trains: it then
   * runs `ceil(minSteps / batches per epoch)` epochs instead, when that is more than `epochs`.
   */
  readonly minSteps?: number;
  /**
   * A time budget for the phase's training, in ms (> 0); optional. The phase ends after the step
   * that reaches it, even short of its epochs, and its report says so (`stop: 'time-budget'`).
   * A budget makes the result depend on the machine's speed: the same seed then gives the same
   * model only where every phase ends within its budget.
   */
  readonly maxMs?: number;
  /**
   * Early stopping on the validation loss; optional, and used only when the run has validation
   * data (`options.validation`). After each epoch the validation loss is compared with the best so
   * far: the phase ends once `patience` steps have passed without it falling by more than
   * `minDelta` (default 0), and its report says so (`stop: 'early-stopping'`). The weights are
   * those of the last step, as Keras's `EarlyStopping` leaves them by default (Prechelt,
   * "Early Stopping — But When?", 1998, for the criteria).
   */
  readonly earlyStopping?: EarlyStopping;
  /** The optimizer's step size, > 0. */
  readonly learningRate: number;
  /** The optimizer. */
  readonly optimizer: 'adam' | 'sgd';
  /** The L2 penalty on the kernels that train. */
  readonly regularization: Regularization;
}

/** When a phase with validation data stops early (see {@link Phase.earlyStopping}). */
export interface EarlyStopping {
  /** Steps without a new best validation loss before the phase ends, a positive integer. */
  readonly patience: number;
  /** How much the validation loss must fall to count as better, ≥ 0 (nats). Default 0. */
  readonly minDelta?: number;
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
  /** Which strategy this is, derived from its start, tap and phases. */
  readonly kind: RecipeKind;
  /** Where the backbone's weights start: the source's, or random (training from scratch). */
  readonly start: Start;
  /** Where the new head attaches. */
  readonly tap: Tap;
  /** The most of the backbone any phase trains. */
  readonly trainable: TrainablePolicy;
  /** The phases, run in order. */
  readonly phases: ReadonlyArray<Phase>;
  /** The new head. */
  readonly head: HeadSpec;
  /** Sentences a user can read: why this recipe. */
  readonly rationale: ReadonlyArray<string>;
  /** What could go wrong, e.g. negative-transfer risk; empty when nothing stands out. */
  readonly warnings: ReadonlyArray<string>;
}

/** Arguments of {@link makeRecipe}. */
export interface RecipeArgs {
  /** Where the new head attaches. */
  readonly tap: Tap;
  /** Default `'pretrained'`. `'random'` needs every phase to train `all`. */
  readonly start?: Start;
  /** At least one phase. */
  readonly phases: ReadonlyArray<Phase>;
  /** Default: a linear head, no dropout. */
  readonly head?: HeadSpec;
  /** Default: none. */
  readonly rationale?: ReadonlyArray<string>;
  /** Default: none. */
  readonly warnings?: ReadonlyArray<string>;
}

/**
 * The fraction of the backbone a policy trains: 0 for head-only, 1 for all, the fraction for
 * top-fraction; `undefined` for top-layers, whose share depends on the backbone, and for a value
 * that is not a valid policy.
 */
export const backboneFraction = (policy: TrainablePolicy): number | undefined =>
  quietly(undefined, () => {
    if (E.isLeft(checkPolicy('policy', policy))) return undefined;
    return policy.kind === 'head-only' ? 0 : policy.kind === 'all' ? 1 : policy.kind === 'top-fraction' ? policy.fraction : undefined;
  });

/** True for a tap at the top feature layer (false for anything that is not a valid tap). */
export const isTopTap = (tap: Tap): boolean => quietly(false, () => E.isRight(checkTap('tap', tap)) && (tap.kind === 'top' || (tap.kind === 'from-top' && tap.offset === 0)));

/**
 * The tap's relative depth: 1 at the top, `depth` for a relative tap, `undefined` when it depends
 * on the backbone, and for a value that is not a valid tap.
 */
export const tapDepth = (tap: Tap): number | undefined =>
  quietly(undefined, () => (E.isLeft(checkTap('tap', tap)) ? undefined : isTopTap(tap) ? 1 : tap.kind === 'relative-depth' ? tap.depth : undefined));

const kindOf = (start: Start, tap: Tap, trainable: TrainablePolicy): RecipeKind =>
  start === 'random'
    ? 'from-scratch'
    : trainable.kind === 'all'
    ? 'full-fine-tune'
    : trainable.kind !== 'head-only'
      ? 'partial-fine-tune'
      : isTopTap(tap)
        ? 'feature-extractor'
        : 'earlier-layer-tap';

const TAP_KINDS = "'top', 'relative-depth', 'layer', 'index', 'from-top' or 'ranked'";

/** Checks a tap's fields (not whether the layer exists: that needs the backbone). */
export const checkTap = (path: string, tap: Tap): E.Either<TransferError, Tap> => {
  if (!isRecord(tap)) return E.left(invalidArgument(path, `a tap { kind: ${TAP_KINDS}, ... }`, tap));
  const keep = E.map(() => tap);
  switch (tap?.kind) {
    case 'top':
      return E.right(tap);
    case 'relative-depth':
      return keep(openUnitInterval(`${path}.depth`, tap.depth));
    case 'layer':
      return keep(nonEmptyString(`${path}.name`, tap.name));
    case 'index':
      return keep(nonNegativeInteger(`${path}.index`, tap.index));
    case 'from-top':
      return keep(nonNegativeInteger(`${path}.offset`, tap.offset));
    case 'ranked':
      return keep(unitIntervalOpenAbove(`${path}.from`, tap.from));
    default:
      return E.left(invalidArgument(`${path}.kind`, TAP_KINDS, (tap as { kind?: unknown } | undefined)?.kind));
  }
};

const checkPolicy = (path: string, p: TrainablePolicy): E.Either<TransferError, TrainablePolicy> => {
  if (!isRecord(p)) return E.left(invalidArgument(path, "a trainable policy { kind: 'head-only' | 'top-fraction' | 'top-layers' | 'all', ... }", p));
  if (p?.kind === 'head-only' || p?.kind === 'all') return E.right(p);
  if (p?.kind === 'top-fraction') return E.map(() => p)(openUnitInterval(`${path}.fraction`, p.fraction));
  if (p?.kind === 'top-layers') return E.map(() => p)(positiveInteger(`${path}.count`, p.count));
  return E.left(
    invalidArgument(`${path}.kind`, "'head-only', 'top-fraction', 'top-layers' or 'all'", (p as { kind?: unknown } | undefined)?.kind),
  );
};

const checkEarlyStopping = (path: string, value: EarlyStopping | undefined): E.Either<TransferError, void> => {
  if (value === undefined) return E.right(undefined);
  if (!isRecord(value)) return E.left(invalidArgument(path, '{ patience, minDelta? } (or nothing)', value));
  const patience = positiveInteger(`${path}.patience`, value.patience);
  if (E.isLeft(patience)) return patience;
  return value.minDelta === undefined ? E.right(undefined) : E.map(() => undefined)(nonNegativeNumber(`${path}.minDelta`, value.minDelta));
};

const checkPhase = (path: string, phase: Phase): E.Either<TransferError, Phase> =>
  !isRecord(phase) ? E.left(invalidArgument(path, 'a phase { name, trains, epochs, learningRate, optimizer, regularization }', phase)) : F.pipe(
    nonEmptyString(`${path}.name`, phase.name),
    E.chain(() => checkPolicy(`${path}.trains`, phase.trains)),
    E.chain(() => positiveInteger(`${path}.epochs`, phase.epochs)),
    E.chain(() => (phase.minSteps === undefined ? E.right(phase) : E.map(() => phase)(positiveInteger(`${path}.minSteps`, phase.minSteps)))),
    E.chain(() => (phase.maxMs === undefined ? E.right(phase) : E.map(() => phase)(positiveNumber(`${path}.maxMs`, phase.maxMs)))),
    E.chain(() => checkEarlyStopping(`${path}.earlyStopping`, phase.earlyStopping)),
    E.chain(() => positiveNumber(`${path}.learningRate`, phase.learningRate)),
    E.chain(() =>
      phase.optimizer === 'adam' || phase.optimizer === 'sgd'
        ? E.right(phase)
        : E.left(invalidArgument(`${path}.optimizer`, "'adam' or 'sgd'", phase.optimizer)),
    ),
    E.chain(() => nonNegativeNumber(`${path}.regularization.l2`, phase.regularization?.l2)),
    E.chain(() => (phase.regularization.startingPoint === undefined ? E.right(0) : nonNegativeNumber(`${path}.regularization.startingPoint`, phase.regularization.startingPoint))),
    E.map(() => phase),
  );

const checkHead = (head: HeadSpec): E.Either<TransferError, HeadSpec> =>
  !isRecord(head) ? E.left(invalidArgument('head', 'a head { hidden, dropout }', head)) : F.pipe(
    Array.isArray(head.hidden)
      ? everyItem(positiveInteger)('head.hidden', head.hidden)
      : E.left(invalidArgument('head.hidden', 'an array of positive integers', head.hidden)),
    E.chain(() => unitIntervalOpenAbove('head.dropout', head.dropout)),
    E.map(() => head),
  );

/** Optional sentences: absent, or an array of strings. */
const sentences = (path: string, value: unknown): E.Either<TransferError, unknown> =>
  value === undefined || (Array.isArray(value) && value.every((v) => typeof v === 'string'))
    ? E.right(value)
    : E.left(invalidArgument(path, 'an array of sentences (strings), or nothing', value));

/** A random start has nothing worth freezing: every phase must train the whole backbone. */
const checkStart = (start: unknown, phases: ReadonlyArray<Phase>): E.Either<TransferError, Start> => {
  if (start !== 'pretrained' && start !== 'random') return E.left(invalidArgument('start', "'pretrained' or 'random'", start));
  const frozen = phases.findIndex((p) => p.trains.kind !== 'all');
  return start === 'random' && frozen >= 0
    ? E.left(invalidArgument(`phases[${frozen}].trains`, "{ kind: 'all' } (a recipe that starts from random weights trains every layer in every phase)", phases[frozen]!.trains.kind))
    : E.right(start);
};

const RANK: Record<TrainablePolicy['kind'], number> = { 'head-only': 0, 'top-fraction': 1, 'top-layers': 1, all: 2 };
const size = (p: TrainablePolicy): number => (p.kind === 'top-fraction' ? p.fraction : p.kind === 'top-layers' ? p.count : 0);

/** The widest policy of the phases; a fraction and a layer count cannot be compared, so they cannot be mixed. */
const widest = (phases: ReadonlyArray<Phase>): E.Either<TransferError, TrainablePolicy> => {
  const partial = new Set(phases.map((p) => p.trains.kind).filter((k) => k === 'top-fraction' || k === 'top-layers'));
  if (partial.size > 1) {
    return E.left(invalidArgument('phases', "one kind of partial policy: 'top-fraction' or 'top-layers', not both", [...partial]));
  }
  return E.right(
    phases
      .map((p) => p.trains)
      .reduce((a, b) => (RANK[b.kind] > RANK[a.kind] || (RANK[b.kind] === RANK[a.kind] && size(b) > size(a)) ? b : a)),
  );
};

/**
 * Makes a {@link Recipe}, checking every field and deriving its `kind` and `trainable` policy.
 *
 * @returns the recipe, or `InvalidArgument` naming the first bad field (no phases, epochs not a
 * positive integer, learning rate ≤ 0 or NaN, a depth or fraction outside (0, 1), a random `start`
 * with a phase that does not train everything, ...)
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
 * @function
 */
export const makeRecipe = guard('makeRecipe', (args: RecipeArgs): E.Either<TransferError, Recipe> => {
  if (!isRecord(args)) return E.left(invalidArgument('recipe', 'recipe arguments { tap, phases, start?, head?, rationale?, warnings? }', args));
  const head = args.head ?? { hidden: [], dropout: 0 };
  if (!Array.isArray(args.phases) || args.phases.length === 0) {
    return E.left(invalidArgument('phases', 'at least one phase', args.phases));
  }
  for (const [i, phase] of args.phases.entries()) {
    const checked = checkPhase(`phases[${i}]`, phase);
    if (E.isLeft(checked)) return checked;
  }
  const start = args.start ?? 'pretrained';
  return F.pipe(
    sentences('rationale', args.rationale),
    E.chain(() => sentences('warnings', args.warnings)),
    E.chain(() => checkStart(start, args.phases)),
    E.chain(() => checkTap('tap', args.tap)),
    E.chain(() => checkHead(head)),
    E.chain(() => widest(args.phases)),
    E.map((trainable) => {
      return {
        kind: kindOf(start, args.tap, trainable),
        start,
        tap: args.tap,
        trainable,
        phases: [...args.phases],
        head,
        rationale: [...(args.rationale ?? [])],
        warnings: [...(args.warnings ?? [])],
      };
    }),
  );
});
