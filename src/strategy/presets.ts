/**
 * The four named strategies as plain {@link Recipe} values: one recipe shape, four presets (and
 * the from-scratch baseline, the same shape with a random start). Each
 * can be run as is, or changed and re-checked with `makeRecipe`, e.g. a partial fine-tune of the
 * top two layers: `makeRecipe({ ...partialFineTune, phases: [headPhase, fineTunePhase({ kind: 'top-layers', count: 2 })] })`.
 */
import { fineTunePhase, headPhase, scratchPhase } from '../core/phases';
import type { Recipe, StrategyKind } from '../core/recipe';

const linearHead = { hidden: [], dropout: 0 } as const;

/** A new head on the top feature layer; the backbone stays frozen (a linear probe). */
export const featureExtractor: Recipe = {
  kind: 'feature-extractor',
  start: 'pretrained',
  tap: { kind: 'top' },
  trainable: { kind: 'head-only' },
  phases: [headPhase],
  head: linearHead,
  rationale: ['A new head trains on the top feature layer; the backbone stays frozen, BatchNorm statistics included.'],
  warnings: [],
};

/**
 * A new head on pooled activations below the top, at the block end of the upper half whose
 * activations score the best LogME on the training labels; the backbone stays frozen.
 *
 * The tap was a fixed depth (halfway up) until measured against every block end (issue 22): on a
 * real pretrained MobileNetV2 halfway up scored 83.3 % held out, the top 93.3 %, and the
 * block end LogME ranks first 92.2 % (docs/results/pretrained-taps.json, `npm run study:taps`);
 * on the MNIST source halfway up is the second block, which LogME ranks below the third in every
 * target domain, as held-out accuracy does (docs/results/measuring-mnist.md).
 */
export const earlierLayerTap: Recipe = {
  kind: 'earlier-layer-tap',
  start: 'pretrained',
  tap: { kind: 'ranked', from: 0.5 },
  trainable: { kind: 'head-only' },
  phases: [headPhase],
  head: linearHead,
  rationale: [
    'A new head trains on pooled activations below the top, which are more general than the top ones (Yosinski et al. 2014): of the block ends in the upper half, the one whose activations best predict the training labels by LogME (You et al. 2021); the backbone stays frozen.',
  ],
  warnings: [],
};

/** A head first, then the top quarter of the backbone's layers with it, at a tenth of the learning rate. */
export const partialFineTune: Recipe = {
  kind: 'partial-fine-tune',
  start: 'pretrained',
  tap: { kind: 'top' },
  trainable: { kind: 'top-fraction', fraction: 0.25 },
  phases: [headPhase, fineTunePhase({ kind: 'top-fraction', fraction: 0.25 })],
  head: linearHead,
  rationale: [
    'A new head trains first on the frozen backbone; then the top quarter of the backbone fine-tunes with it at a tenth of the learning rate, while the lower layers stay frozen.',
  ],
  warnings: [],
};

/** A head first, then every layer with it, at a tenth of the learning rate. */
export const fullFineTune: Recipe = {
  kind: 'full-fine-tune',
  start: 'pretrained',
  tap: { kind: 'top' },
  trainable: { kind: 'all' },
  phases: [headPhase, fineTunePhase({ kind: 'all' })],
  head: linearHead,
  rationale: ['A new head trains first on the frozen backbone; then every layer fine-tunes with it at a tenth of the learning rate.'],
  warnings: [],
};

/**
 * The no-transfer baseline: the source's architecture up to its top feature layer, with a new head,
 * from fresh random weights (seeded), every layer trained from the start. Whether transfer helped is
 * measured against it; `selectStrategy` picks it where the source is unlikely to help.
 */
export const fromScratch: Recipe = {
  kind: 'from-scratch',
  start: 'random',
  tap: { kind: 'top' },
  trainable: { kind: 'all' },
  phases: [scratchPhase],
  head: linearHead,
  rationale: ["The source's architecture trains from random weights on the target alone: nothing the source learned is reused."],
  warnings: [],
};

/** The four presets by kind. */
export const presets: {
  /** {@link featureExtractor} */
  readonly 'feature-extractor': Recipe;
  /** {@link earlierLayerTap} */
  readonly 'earlier-layer-tap': Recipe;
  /** {@link partialFineTune} */
  readonly 'partial-fine-tune': Recipe;
  /** {@link fullFineTune} */
  readonly 'full-fine-tune': Recipe;
} = {
  'feature-extractor': featureExtractor,
  'earlier-layer-tap': earlierLayerTap,
  'partial-fine-tune': partialFineTune,
  'full-fine-tune': fullFineTune,
} satisfies Record<StrategyKind, Recipe>;
