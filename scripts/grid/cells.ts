/**
 * One cell of the calibration grid (issue #16): a source, a target domain, a size in labelled
 * images per class and a seed. A cell trains the five choices the selector has — from scratch and
 * the four strategy presets, all through `transfer` — scores each on the domain's 500 (300 for
 * `trio-thick`) held-out images, and measures the candidate signals on the cell's own labelled
 * images. Each cell is one file, docs/results/grid/<source>/<domain>-<perClass>-<seed>.json, so a
 * grid that stops resumes where it was and a cell is never run twice.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { logme, measureSimilarity, PROBE_EVERY_FOLD_BELOW, type Matrix, type RecipeKind } from 'transferkit';
import { fromLayersModel, type TfjsBackbone } from 'transferkit/tfjs';
import type { Digits } from '../mnist/fitSource';
import { unwrap } from '../mnist/sourceModel';
import { RECIPES, trainAndScore } from '../mnist/study';
import { gridDomain, similaritySample, testSet, trainingSet, type GridDomainName } from './domains';
import { GRID_SOURCES, loadGridSource, type GridSourceName } from './sources';

/** The selector's five choices, cheapest first. */
export const CHOICES: ReadonlyArray<RecipeKind> = ['feature-extractor', 'earlier-layer-tap', 'partial-fine-tune', 'full-fine-tune', 'from-scratch'];
export const SIZES = [5, 20, 100, 600] as const;
export const SEEDS = [0, 1, 2] as const;
/**
 * The grid's small cells (5 and 20 per class) are those below this many examples per class: where
 * `measureTransferGain` reads every fold (its PROBE_EVERY_FOLD_BELOW, so the summary's shipped
 * reading follows the library), the probe was also run on every fold (grid-probe-folds/) and the
 * race tried with every fold a rung (grid-race-every-fold/).
 */
export const SMALL_PER_CLASS = PROBE_EVERY_FOLD_BELOW;
/**
 * The from-scratch baseline's time budget in the grid: an hour, where `transfer`'s default is five
 * minutes. On the MobileNet-style source its 1,000 steps take 4–5 minutes on one core, so the
 * default would cut some runs short by the clock and make a cell depend on the machine's load.
 */
export const GRID_SCRATCH_MAX_MS = 3_600_000;

/** Seeds of the random-weight twins whose LogME the signal subtracts. */
export const RANDOM_SEEDS = [101, 102] as const;

export interface CellKey {
  readonly source: GridSourceName;
  readonly domain: GridDomainName;
  readonly perClass: number;
  readonly seed: number;
}

export interface GridCell extends CellKey {
  readonly classes: number;
  /** Held-out accuracy in [0, 1] and wall time (ms) of each choice. */
  readonly results: Readonly<Record<RecipeKind, { readonly accuracy: number; readonly ms: number }>>;
  /** The candidate signals, from the cell's labelled images (similarity: its unlabelled sample). */
  readonly signals: {
    /** 1 − PAD/2 at the top feature layer, the selector's signal until #16. */
    readonly similarity: number;
    /** LogME of the pretrained top features on the cell's labels (You et al. 2021). */
    readonly logme: number;
    /** The same for the architecture with random weights, the mean over {@link RANDOM_SEEDS}. */
    readonly logmeRandom: number;
  };
}

export const cellFile = (key: CellKey): URL => new URL(`../../docs/results/grid/${key.source}/${key.domain}-${key.perClass}-${key.seed}.json`, import.meta.url);

export const readCell = (key: CellKey): GridCell | undefined => (existsSync(cellFile(key)) ? (JSON.parse(readFileSync(cellFile(key), 'utf8')) as GridCell) : undefined);

const images = (set: Digits): tf.Tensor4D => tf.tensor4d(set.x, [set.count, 28, 28, 1]);

/** A loaded source: its model, its backbone at the grid's top, and its random-weight twins. */
export interface LoadedSource {
  readonly name: GridSourceName;
  readonly model: tfl.LayersModel;
  readonly backbone: TfjsBackbone;
  readonly twins: ReadonlyArray<{ readonly model: tfl.LayersModel; readonly backbone: TfjsBackbone }>;
  /** Similarity per domain, measured once. */
  readonly similarity: Map<GridDomainName, number>;
  dispose(): void;
}

export const loadSource = async (name: GridSourceName): Promise<LoadedSource> => {
  const spec = GRID_SOURCES[name];
  const model = await loadGridSource(name);
  const twins = RANDOM_SEEDS.map((seed) => {
    const twin = spec.architecture(seed);
    return { model: twin, backbone: unwrap(fromLayersModel(twin, spec.top)) };
  });
  return {
    name,
    model,
    backbone: unwrap(fromLayersModel(model, spec.top)),
    twins,
    similarity: new Map(),
    dispose: () => {
      model.dispose();
      twins.forEach((t) => t.model.dispose());
    },
  };
};

const topFeatures = async (backbone: TfjsBackbone, x: tf.Tensor): Promise<Matrix> =>
  unwrap(await backbone.embed(x, backbone.layers[backbone.top]!, { pooling: 'average', batchSize: 256 })());

/** Similarity between 60 held-out source images per source class and 60 unlabelled images per digit of the domain. */
const similarityOf = async (source: LoadedSource, domain: GridDomainName): Promise<number> => {
  const known = source.similarity.get(domain);
  if (known !== undefined) return known;
  const s = images(GRID_SOURCES[source.name].data(800, 60));
  const t = images(similaritySample(gridDomain(domain)));
  try {
    const value = unwrap(await measureSimilarity(source.backbone, s, t, { seed: 1 })()).similarity;
    source.similarity.set(domain, value);
    return value;
  } finally {
    tf.dispose([s, t]);
  }
};

/** Runs one cell: the five choices and the signals. `onChoice` hears each choice as it ends. */
export const runGridCell = async (source: LoadedSource, key: CellKey, onChoice: (kind: RecipeKind, accuracy: number, ms: number) => void = () => undefined): Promise<GridCell> => {
  const domain = gridDomain(key.domain);
  const classes = domain.classes.length;
  const trainSet = trainingSet(domain, key.perClass, key.seed);
  const test = testSet(domain);
  const train = { x: images(trainSet), y: trainSet.y };
  const testX = images(test);
  try {
    const results = {} as Record<RecipeKind, { accuracy: number; ms: number }>;
    for (const kind of CHOICES) {
      const started = performance.now();
      const options = kind === 'from-scratch' ? { seed: key.seed, phases: { scratch: { maxMs: GRID_SCRATCH_MAX_MS } } } : { seed: key.seed };
      const { accuracy } = await trainAndScore(source.backbone, RECIPES[kind], train, { x: testX, y: test.y }, options, classes);
      results[kind] = { accuracy, ms: performance.now() - started };
      onChoice(kind, accuracy, results[kind].ms);
    }
    const y = Array.from(trainSet.y);
    const score = async (b: TfjsBackbone): Promise<number> => unwrap(logme(await topFeatures(b, train.x), y)).value;
    let logmeRandom = 0;
    for (const twin of source.twins) logmeRandom += (await score(twin.backbone)) / source.twins.length;
    const signals = { similarity: await similarityOf(source, key.domain), logme: await score(source.backbone), logmeRandom };
    const cell: GridCell = { ...key, classes, results, signals };
    mkdirSync(new URL('.', cellFile(key)), { recursive: true });
    writeFileSync(cellFile(key), `${JSON.stringify(cell, null, 1)}\n`);
    return cell;
  } finally {
    tf.dispose([train.x, testX]);
  }
};
