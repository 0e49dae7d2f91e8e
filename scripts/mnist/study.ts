/**
 * The MNIST transfer study (issue 5): for a target domain and a number of labelled images per
 * digit, train the from-scratch baseline (the `fromScratch` recipe: the source's architecture from
 * random weights), the four strategy presets, and the recipe `selectStrategy` picks for that size
 * and the gain of transfer measured on the cell's training images (`measureTransferGain`), and
 * score each on held-out target images. All run through `transfer`.
 *
 * Source: the committed CNN trained on digits 0–4 (scripts/mnist/source). Target: digits 5–9 in one
 * of four domains (data.ts). Training images come from [0, 600) per digit (each seed takes its own
 * slice while they fit), test images from the last 100 of [600, 860). The domain's similarity
 * 1 − PAD/2 is still measured and recorded, once per domain, on 60 unlabelled target images per
 * digit against 60 held-out source images per digit: it was the selector's input until issue #16,
 * and the committed results of this first grid (docs/results/calibration-mnist.*) were made with it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { evaluate, fromScratch, measureSimilarity, measureTransferGain, presets, selectStrategy, transfer, type Recipe, type RecipeKind, type TransferGain, type TransferOptions, type TransferResult } from 'transferkit';
import { fromLayersModel, type TfjsBackbone } from 'transferkit/tfjs';
import { DOMAINS, SIDE, SOURCE_DIGITS, SPLITS, take, TARGET_DIGITS, type DomainName, type Set } from './data';
import { SOURCE_TOP, unwrap } from './sourceModel';

export type Method = RecipeKind | 'selector';
export const METHODS: ReadonlyArray<Method> = ['from-scratch', 'feature-extractor', 'earlier-layer-tap', 'partial-fine-tune', 'full-fine-tune', 'selector'];

/** Every recipe a cell can run, by kind: the from-scratch baseline and the four presets. */
export const RECIPES: Record<RecipeKind, Recipe> = { 'from-scratch': fromScratch, ...presets };

export interface CellSpec {
  readonly domain: DomainName;
  readonly perDigit: number;
  readonly seed: number;
}

export interface MethodResult {
  readonly method: Method;
  /** The recipe that ran (for the selector: the one it picked). */
  readonly ran: string;
  readonly accuracy: number;
  readonly ms: number;
  /** The selector picked exactly a preset that already ran in the cell, and took its result. */
  readonly reused?: boolean;
  /** The selector's warnings for this cell (negative-transfer risk, few examples). */
  readonly warnings?: ReadonlyArray<string>;
}

export interface CellResult extends CellSpec {
  /** 1 − PAD/2 between the domain's unlabelled sample and the source's (`measureSimilarity`). */
  readonly similarity: number;
  /** What the selector was given: `measureTransferGain`'s similarity on the cell's training images (only when the selector ran). */
  readonly transferGain?: number;
  /** Its interval (`measureTransferGain`'s), which decides whether the selector trains from scratch. */
  readonly transferGainInterval?: TransferGain['interval'];
  readonly results: ReadonlyArray<MethodResult>;
}

/** Test images per digit, from the end of the held-out range. */
export const TEST_PER_DIGIT = 100;
/** Examples per step, for every method. */
export const BATCH = 32;

const images = (x: Float32Array, count: number): tf.Tensor4D => tf.tensor4d(x, [count, SIDE, SIDE, 1]);

/**
 * Trains `recipe` on `x`, `y` (batches of {@link BATCH}, plus `options`), scores it on the test
 * images (of `classes` classes, the study's five by default) and frees the model: the held-out accuracy and the phases' reports.
 */
export const trainAndScore = async (
  backbone: TfjsBackbone,
  recipe: Recipe,
  train: { readonly x: tf.Tensor; readonly y: Int32Array },
  test: { readonly x: tf.Tensor; readonly y: Int32Array },
  options: TransferOptions<tf.Tensor>,
  classes: number = TARGET_DIGITS.length,
): Promise<{ readonly accuracy: number; readonly history: TransferResult<unknown>['history'] }> => {
  const result = unwrap(await transfer(backbone, recipe, { x: train.x, y: Array.from(train.y) }, { batchSize: BATCH, ...options })());
  try {
    return { accuracy: unwrap(await evaluate(result.model, { x: test.x, y: Array.from(test.y) }, classes)()).accuracy, history: result.history };
  } finally {
    result.model.dispose();
  }
};

const transferred = async (backbone: TfjsBackbone, recipe: Recipe, x: tf.Tensor, y: Int32Array, test: { x: tf.Tensor; y: Int32Array }, seed: number): Promise<number> =>
  (await trainAndScore(backbone, recipe, { x, y }, test, { seed })).accuracy;

/** Whether two recipes train the same way: the same start, tap, phases and head (rationale aside). */
const sameTraining = (a: Recipe, b: Recipe): boolean =>
  JSON.stringify([a.start, a.tap, a.phases, a.head]) === JSON.stringify([b.start, b.tap, b.phases, b.head]);

/**
 * The similarity samples depend on the domain only (not on the size or the seed), so each source
 * model measures each domain once.
 */
const measured = new WeakMap<tfl.LayersModel, Map<DomainName, number>>();
const similarityOf = async (source: tfl.LayersModel, domain: DomainName, measure: () => Promise<number>): Promise<number> => {
  const byDomain = measured.get(source) ?? new Map<DomainName, number>();
  measured.set(source, byDomain);
  const known = byDomain.get(domain);
  if (known !== undefined) return known;
  const value = await measure();
  byDomain.set(domain, value);
  return value;
};

/** Similarity between 60 held-out source images per digit and 60 unlabelled target images per digit of `domain`. */
const measureDomain = async (backbone: TfjsBackbone, domain: DomainName): Promise<number> => {
  const sourceSample = take(SOURCE_DIGITS, SPLITS.source.trainEnd, 60);
  const targetSample = take(TARGET_DIGITS, 0, 60, domain);
  const sx = images(sourceSample.x, sourceSample.count);
  const tx = images(targetSample.x, targetSample.count);
  try {
    return unwrap(await measureSimilarity(backbone, sx, tx, { seed: 1 })()).similarity;
  } finally {
    tf.dispose([sx, tx]);
  }
};

/**
 * A cell's training and test images. Each seed takes its own slice of the training range while
 * the slices fit side by side; larger sizes share the range from its start, and the seed then
 * varies only the training's randomness.
 */
export const cellSets = (spec: CellSpec): { readonly train: Set; readonly test: Set } => {
  if (spec.perDigit > SPLITS.target.trainEnd) throw new Error(`${spec.perDigit} per digit is more than the ${SPLITS.target.trainEnd} training images each digit has`);
  const from = (spec.seed + 1) * spec.perDigit <= SPLITS.target.trainEnd ? spec.seed * spec.perDigit : 0;
  return {
    train: take(TARGET_DIGITS, from, spec.perDigit, spec.domain),
    test: take(TARGET_DIGITS, SPLITS.target.testEnd - TEST_PER_DIGIT, TEST_PER_DIGIT, spec.domain),
  };
};

/** A cell's images as tensors, with their labels. */
export interface CellTensors {
  readonly train: { readonly x: tf.Tensor4D; readonly y: Int32Array };
  readonly test: { readonly x: tf.Tensor4D; readonly y: Int32Array };
}

/**
 * Runs `measure` on every cell of the study's grid (its four domains × `sizes` × `seeds`) that
 * the results file does not hold yet, and rewrites the file after each cell, so that a run that
 * stops resumes where it was. The cell's tensors are freed whatever `measure` does. Returns every
 * cell's record, those read from the file included.
 */
export const forEachCell = async <R extends CellSpec>(
  file: URL,
  sizes: ReadonlyArray<number>,
  seeds: ReadonlyArray<number>,
  measure: (spec: CellSpec, cell: CellTensors) => Promise<R>,
  describe: (record: R) => string,
): Promise<R[]> => {
  const done: R[] = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as R[]) : [];
  for (const domain of DOMAINS) {
    for (const perDigit of sizes) {
      for (const seed of seeds) {
        if (done.some((d) => d.domain === domain && d.perDigit === perDigit && d.seed === seed)) continue;
        const spec = { domain, perDigit, seed };
        const { train, test } = cellSets(spec);
        const cell = { train: { x: images(train.x, train.count), y: train.y }, test: { x: images(test.x, test.count), y: test.y } };
        try {
          done.push(await measure(spec, cell));
        } finally {
          tf.dispose([cell.train.x, cell.test.x]);
        }
        writeFileSync(file, `${JSON.stringify(done, null, 1)}\n`);
        console.log(`${domain} ${perDigit} per digit, seed ${seed}: ${describe(done.at(-1)!)}`);
      }
    }
  }
  return done;
};

/** Runs one cell of the study: every method in `methods`, in order, reporting each as it ends. */
export const runCell = async (
  source: tfl.LayersModel,
  spec: CellSpec,
  methods: ReadonlyArray<Method> = METHODS,
  onMethod: (result: MethodResult) => void = () => undefined,
): Promise<CellResult> => {
  const backbone = unwrap(fromLayersModel(source, SOURCE_TOP));
  const { train, test } = cellSets(spec);
  const x = images(train.x, train.count);
  const testX = images(test.x, test.count);
  try {
    const similarity = await similarityOf(source, spec.domain, () => measureDomain(backbone, spec.domain));
    const results: MethodResult[] = [];
    let transferGain: number | undefined;
    let transferGainInterval: TransferGain['interval'] | undefined;
    for (const method of methods) {
      const started = performance.now();
      // The selector's similarity is measured on the cell's own labelled images (issue #16): a short
      // fine-tune of the source against a short training from random weights. Its time is the selector's.
      const gain = method === 'selector' ? unwrap(await measureTransferGain(backbone, { x, y: Array.from(train.y) }, { seed: spec.seed, classes: TARGET_DIGITS.length })()) : undefined;
      transferGain = gain?.similarity ?? transferGain;
      transferGainInterval = gain?.interval ?? transferGainInterval;
      const recipe = gain !== undefined ? unwrap(selectStrategy({ size: train.count, similarity: gain, classes: TARGET_DIGITS.length })) : RECIPES[method as RecipeKind];
      const ran = recipe.kind;
      const extra: Pick<MethodResult, 'warnings'> = method === 'selector' ? { warnings: recipe.warnings } : {};
      // The same recipe with the same seed trains the same model (the strategy contract tests
      // it), so a pick that is exactly a recipe already run in this cell takes that run's result.
      const same = results.find((r) => r.method === recipe.kind && sameTraining(recipe, RECIPES[recipe.kind]));
      if (method === 'selector' && same !== undefined) {
        results.push({ method, ran, accuracy: same.accuracy, ms: same.ms + (performance.now() - started), reused: true, ...extra });
        onMethod(results.at(-1)!);
        continue;
      }
      const accuracy = await transferred(backbone, recipe, x, train.y, { x: testX, y: test.y }, spec.seed);
      const result = { method, ran, accuracy, ms: performance.now() - started, ...extra };
      results.push(result);
      onMethod(result);
    }
    return { ...spec, similarity, ...(transferGain === undefined ? {} : { transferGain }), ...(transferGainInterval === undefined ? {} : { transferGainInterval }), results };
  } finally {
    tf.dispose([x, testX]);
  }
};

