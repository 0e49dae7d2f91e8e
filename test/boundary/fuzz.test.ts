/**
 * The boundary fuzz suite: every exported function of every entry point (and the methods of the
 * backbones and models they return), called with generated mixes of valid and hostile arguments
 * (hostile.ts). Every call must not throw; resolve within a bound; return a `Left` whose message
 * says what was expected (the boundary's catch-all only for a value that throws when read) or a
 * `Right` whose numbers are all finite (a total helper: its documented kind of value); leak no
 * tensor; and leave every source model bit-identical.
 *
 * Seeded and bounded for `npm test`; `npm run fuzz` runs it with 20 times as many cases
 * (FUZZ_RUNS=20), and FUZZ_SEED picks another seed.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as core from 'transferkit';
import * as node from 'transferkit/node';
import * as tfjs from 'transferkit/tfjs';
import * as threads from 'transferkit/tfjs/threads';
import * as graphs from 'transferkit/tfjs/graph';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { PNG } from 'pngjs';
import { denseModel, snapshot } from '../fixtures/models';
import { perceptron } from '../fixtures/tinyGraphs';
import { builders, make, type Builders, type Fixtures, type Made, type Spec } from './hostile';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 1);
const SEED = Number(process.env['FUZZ_SEED'] ?? 20261203);

/** Every call must settle within this (the suite's own valid options keep work short: one epoch, an abort at 1.5 s). */
const BOUND_MS = 20_000;

const TAGS = new Set(['InvalidArgument', 'ShapeMismatch', 'NotSupported', 'Aborted', 'BackendFailure']);
/** Text from JavaScript or tfjs internals, never from a message written for a user. */
const INTERNAL = /Cannot read propert|is not a function|is not iterable|Maximum call stack|Argument '\w+' passed to|undefined is not|null is not|Invalid typed array length|Cannot convert|out of memory|memory access out of bounds|must have a shape comprised/i;

/** Source models made for a call, with their weights as made. */
interface Call extends Made {
  readonly sources: Array<{ model: tfl.LayersModel; weights: Map<string, Float32Array> }>;
}

const source = (call: Call): tfl.LayersModel => {
  const model = denseModel(3);
  call.sources.push({ model, weights: snapshot(model) });
  call.free.push(() => model.dispose());
  return model;
};

/** A GraphModel for every call (loading one is asynchronous, fixtures are not), and one disposed; each call checks the first is unchanged. */
let graph: GraphModel;
let disposedGraph: GraphModel;
const graphWeights = (g: GraphModel): Map<string, Float32Array> => new Map(Object.entries(g.weights).map(([k, ts]) => [k, Float32Array.from(ts[0]!.dataSync() as ArrayLike<number>)]));
let graphBefore: Map<string, Float32Array>;

/** A small image model (8×8 RGB → 3 classes), registered as a source the call checks. */
const imageSource = (call: Call): tfl.LayersModel => {
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, activation: 'relu', name: 'conv', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
      tfl.layers.globalAveragePooling2d({ name: 'pool' }),
      tfl.layers.dense({ units: 3, activation: 'softmax', name: 'out', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
  call.sources.push({ model, weights: snapshot(model) });
  call.free.push(() => model.dispose());
  return model;
};

/** Six RGBA images of 8×8 (what an ImageData is), in three shades. */
const pixelImages = (): ReadonlyArray<{ width: number; height: number; data: Uint8ClampedArray }> =>
  Array.from({ length: 6 }, (_, i) => ({ width: 8, height: 8, data: Uint8ClampedArray.from({ length: 256 }, (_, j) => (j % 4 === 3 ? 255 : (40 * (i % 3) + 7 * j) % 256)) }));

/** A 3×2 PNG's bytes. */
const pngBytes = (): Uint8Array => {
  const png = new PNG({ width: 3, height: 2 });
  png.data.fill(200);
  return new Uint8Array(PNG.sync.write(png));
};

/** What a trained classifier saved (made once, before the suite: training is asynchronous, fixtures are not). */
let savedClassifier: tf.io.ModelArtifacts;

const matrixOf = (rows: number, cols: number, shift: number): core.Matrix => ({
  rows,
  cols,
  data: Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 12.9898 + shift) * 2 + shift),
});

const space = { id: 'xy', shape: [3], dtype: 'float32' } as const;
const binaryTask = { labelSpace: { kind: 'binary', positive: 'a', negative: 'b' } } as const;
const side = { domain: { featureSpace: space, marginal: { kind: 'unobserved' } }, task: binaryTask } as const;

/** A signal that fires after 1.5 s: valid options bound their own work with it. */
const timeout = (call: Made): AbortSignal => {
  const c = new AbortController();
  const timer = setTimeout(() => c.abort(), 1500);
  call.free.push(() => clearTimeout(timer));
  return c.signal;
};

const FIXTURES: Fixtures = {
  matrix: () => matrixOf(10, 3, 0),
  matrix2: () => matrixOf(12, 3, 1),
  probabilities: () => ({ rows: 10, cols: 2, data: Float32Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 0.25 + (i % 4) / 8 : 0.75 - ((i - 1) % 4) / 8)) }),
  labels: () => Array.from({ length: 10 }, (_, i) => i % 2),
  ids: () => Array.from({ length: 10 }, (_, i) => i % 3),
  space: () => space,
  spaceArgs: () => ({ id: 'xy', shape: [3] }),
  marginal: () => ({ kind: 'unobserved', source: 'a' }),
  statistics: () => ({ count: 5, mean: new Float32Array(3) }),
  labelSpace: () => binaryTask.labelSpace,
  classes: () => ['a', 'b', 'c'],
  domain: () => side.domain,
  task: () => binaryTask,
  side: () => side,
  problem: () => ({ source: side, target: side, labels: { source: true, target: true } }),
  evidence: () => ({ marginal: { statistic: 'mmd2', value: 0.01, pValue: 0.5 } }),
  shiftTest: () => ({ statistic: 'mmd2', value: 0.01, pValue: 0.5 }),
  tap: () => ({ kind: 'top' }),
  policy: () => ({ kind: 'top-fraction', fraction: 0.5 }),
  phases: () => [{ ...core.headPhase, minSteps: 2 }],
  recipe: () => core.featureExtractor,
  scratch: () => core.fromScratch,
  model: (call) => source(call as Call),
  backbone: (call) => {
    const b = tfjs.fromLayersModel(source(call as Call));
    if (b._tag === 'Left') throw new Error(b.left.message);
    return b.right;
  },
  x: (call) => {
    const x = tf.randomNormal([24, 8], 0, 1, 'float32', 1);
    call.free.push(() => x.dispose());
    return x;
  },
  y: () => Array.from({ length: 24 }, (_, i) => i % 3),
  signal: timeout,
  string: () => 'a name',
  saver: () => tf.io.withSaveHandler(async () => ({ modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })),
  layer: (call) => {
    const b = FIXTURES['backbone']!(call) as core.Backbone<tf.Tensor, tfjs.TfjsTransferModel>;
    return b.layers[b.top];
  },
  imageBackbone: (call) => {
    const b = tfjs.fromLayersModel(imageSource(call as Call), { input: { range: [-1, 1] } });
    if (b._tag === 'Left') throw new Error(b.left.message);
    return b.right;
  },
  images: pixelImages,
  names: () => ['a', 'b', 'c', 'a', 'b', 'c'],
  png: pngBytes,
  savedClassifier: () => tf.io.fromMemory(savedClassifier),
  graph: () => graph,
  disposedGraph: () => disposedGraph,
  graphBackbone: () => {
    const b = graphs.fromGraphModel(graph);
    if (b._tag === 'Left') throw new Error(b.left.message);
    return b.right;
  },
  graphLayer: () => {
    const b = FIXTURES['graphBackbone']!({ free: [], unreadable: false }) as core.Backbone<tf.Tensor, tfjs.TfjsTransferModel>;
    return b.layers[b.top];
  },
};

type Kind = 'either' | 'task' | 'total';

interface Entry {
  readonly name: string;
  readonly kind: Kind;
  /** The arguments, as specs. */
  readonly args: fc.Arbitrary<ReadonlyArray<Spec>>;
  readonly call: (...args: unknown[]) => unknown;
  /** Cases per `RUNS`. Default 40 (a call that trains or starts threads: fewer). */
  readonly runs?: number;
  /** For a total helper: whether a returned value is of its documented kind. */
  readonly returns?: (value: unknown) => boolean;
}

const args = (...slots: Array<fc.Arbitrary<Spec>>): fc.Arbitrary<ReadonlyArray<Spec>> => fc.tuple(...slots);
const fn = (f: unknown): ((...a: unknown[]) => unknown) => f as (...a: unknown[]) => unknown;

const isString = (v: unknown): boolean => typeof v === 'string';
const isError = (v: unknown): boolean => typeof v === 'object' && v !== null && TAGS.has((v as { _tag: string })._tag) && typeof (v as { message: unknown }).message === 'string';
const finiteOrUndefined = (v: unknown): boolean => v === undefined || (typeof v === 'number' && Number.isFinite(v));

/** Every exported function, by entry point, with how to call it; arguments from `builders`. */
const entries = ({ hostile, slot, options, field }: Builders): ReadonlyArray<Entry> => {
  const embedOptions = options({ pooling: field('average', 'flatten'), batchSize: field(4, 256), signal: slot('signal') });
  const transferOptions = options(
    {
  epochs: field(1),
  batchSize: field(8, 12),
  seed: field(0, 3),
  classes: field(3),
  pooling: field('average', 'flatten'),
  validation: fc.oneof(field({ split: 0.25 }), fc.constant<Spec>({ object: { data: { object: { x: { fixture: 'x' }, y: { fixture: 'y' } } } } })),
  signal: slot('signal'),
  onProgress: field(() => undefined),
  activationStore: field(undefined),
  memoryBytes: field(1e9, 1),
    },
    // Valid options always bound the work: one epoch, and a signal that fires at 1.5 s.
    ['epochs', 'signal'],
  );

  /** Two candidates for autoTransfer that train a few steps each. */
  const QUICK_CANDIDATES = [core.featureExtractor, core.fullFineTune].map((r) => {
    const quick = core.makeRecipe({ ...r, phases: r.phases.map((p) => ({ ...p, epochs: 1, minSteps: 4 })) });
    if (quick._tag === 'Left') throw new Error(quick.left.message);
    return quick.right;
  });

  return [
  // transferkit: errors and the formalism.
  ...(['invalidArgument', 'shapeMismatch', 'notSupported'] as const).map((name): Entry => ({ name, kind: 'total', call: fn(core[name]), args: args(slot('string'), slot('string'), hostile), returns: isError })),
  { name: 'aborted', kind: 'total', call: fn(core.aborted), args: args(slot('string')), returns: isError },
  { name: 'backendFailure', kind: 'total', call: fn(core.backendFailure), args: args(slot('string'), hostile), returns: isError },
  { name: 'described', kind: 'total', call: fn(core.described), args: args(slot('string')), returns: (v) => isString(core.describeValue(v)) },
  { name: 'describeValue', kind: 'total', call: fn(core.describeValue), args: args(hostile), returns: isString },
  { name: 'matrix', kind: 'either', call: fn(core.matrix), args: args(field(2, 0), field(3), fc.oneof(field(new Float32Array(6)), hostile)) },
  { name: 'featureSpace', kind: 'either', call: fn(core.featureSpace), args: args(fc.oneof(slot('spaceArgs'), options({ id: field('x', ''), shape: field([2, 2], [0], []), dtype: field('float32', 'int64') }))) },
  { name: 'featureCount', kind: 'total', call: fn(core.featureCount), args: args(slot('space')), returns: (v) => typeof v === 'number' && Number.isInteger(v) && v >= 0 },
  { name: 'sameFeatureSpace', kind: 'total', call: fn(core.sameFeatureSpace), args: args(slot('space'), slot('space')), returns: (v) => typeof v === 'boolean' },
  { name: 'marginalFromSamples', kind: 'either', call: fn(core.marginalFromSamples), args: args(slot('space'), slot('matrix'), field('a', undefined)) },
  { name: 'marginalFromStatistics', kind: 'either', call: fn(core.marginalFromStatistics), args: args(slot('space'), fc.oneof(slot('statistics'), options({ count: field(5), mean: field(new Float32Array(3)), covariance: slot('matrix') }))) },
  { name: 'unobservedMarginal', kind: 'total', call: fn(core.unobservedMarginal), args: args(hostile), returns: (v) => typeof v === 'object' && v !== null && (v as { kind: string }).kind === 'unobserved' },
  { name: 'domain', kind: 'either', call: fn(core.domain), args: args(slot('space'), slot('marginal')) },
  { name: 'categorical', kind: 'either', call: fn(core.categorical), args: args(fc.oneof(slot('classes'), fc.constant<Spec>({ make: 'huge-array' }))) },
  { name: 'binary', kind: 'either', call: fn(core.binary), args: args(slot('string'), field('other', 'a name')) },
  { name: 'regression', kind: 'either', call: fn(core.regression), args: args(options({ dimensions: field(1, 3), unit: field('m') })) },
  { name: 'classNames', kind: 'total', call: fn(core.classNames), args: args(slot('labelSpace')), returns: (v) => v === undefined || (Array.isArray(v) && v.every(isString)) },
  { name: 'compareLabelSpaces', kind: 'total', call: fn(core.compareLabelSpaces), args: args(slot('labelSpace'), slot('labelSpace')), returns: (v) => ['same', 'same-classes-reordered', 'different'].includes(v as string) },
  { name: 'task', kind: 'either', call: fn(core.task), args: args(slot('labelSpace'), field('rule', undefined)) },
  { name: 'transferProblem', kind: 'either', call: fn(core.transferProblem), args: args(fc.oneof(slot('problem'), options({ source: slot('side'), target: slot('side'), labels: field({ source: true, target: false }) }))) },
  { name: 'validateShiftTest', kind: 'either', call: fn(core.validateShiftTest), args: args(slot('string'), fc.oneof(slot('shiftTest'), options({ statistic: field('mmd2'), value: field(0.1), pValue: field(0.5), alpha: field(0.05) }))) },
  { name: 'classifyScenario', kind: 'either', call: fn(core.classifyScenario), args: args(fc.oneof(slot('problem'), options({ source: slot('side'), target: slot('side'), labels: field({ source: true, target: true }) })), fc.oneof(slot('evidence'), field(undefined))) },
  { name: 'makeRecipe', kind: 'either', call: fn(core.makeRecipe), args: args(options({ tap: slot('tap'), phases: slot('phases'), start: field('pretrained', 'random'), head: field({ hidden: [4], dropout: 0.1 }), rationale: field(['why']), warnings: field([]) })) },
  { name: 'backboneFraction', kind: 'total', call: fn(core.backboneFraction), args: args(slot('policy')), returns: finiteOrUndefined },
  { name: 'isTopTap', kind: 'total', call: fn(core.isTopTap), args: args(slot('tap')), returns: (v) => typeof v === 'boolean' },
  { name: 'tapDepth', kind: 'total', call: fn(core.tapDepth), args: args(slot('tap')), returns: finiteOrUndefined },
  { name: 'fineTunePhase', kind: 'total', call: fn(core.fineTunePhase), args: args(slot('policy')), returns: (v) => typeof v === 'object' && v !== null },
  { name: 'fineTuneRateFactor', kind: 'total', call: fn(core.fineTuneRateFactor), args: args(slot('policy')), returns: (v) => v === core.FINE_TUNE_LEARNING_RATE_FACTOR || v === core.PARTIAL_FINE_TUNE_LEARNING_RATE_FACTOR },
  { name: 'checkLabels', kind: 'either', call: fn(core.checkLabels), args: args(fc.oneof(slot('labels'), fc.constant<Spec>({ make: 'huge-labels' })), field(2, 3, undefined, 2 ** 31 - 1), field(true, false)) },
  { name: 'memoryRowStore', kind: 'either', call: fn(core.memoryRowStore), args: args(options({ chunkFloats: field(16, 1) })) },
  // transferkit: the selector.
  { name: 'selectStrategy', kind: 'either', call: fn(core.selectStrategy), args: args(options({ size: field(5, 500, 0), similarity: field(0, 0.5, 1, { similarity: 0.3 }, { similarity: 0.45, interval: { low: 0.3, high: 0.6 } }, { similarity: 0.3, interval: { low: 0.2, high: 0.4 } }), classes: field(2, 10) })) },
  // transferkit: the metrics on matrices.
  ...(['mmd', 'coral', 'proxyADistance'] as const).map((name): Entry => ({
    name,
    kind: 'either',
    call: fn(core[name]),
    args: args(fc.oneof(slot('matrix'), fc.constant<Spec>({ make: 'huge-matrix' })), slot('matrix2'), options({ permutations: field(0, 20), bandwidth: field(1, 1e-300), seed: field(1), testFraction: field(0.5), l2: field(0, 1e-3), iterations: field(20) })),
  })),
  ...(['logme', 'hScore'] as const).map((name): Entry => ({ name, kind: 'either', call: fn(core[name]), args: args(fc.oneof(slot('matrix'), field({ rows: 10, cols: 3, data: new Float32Array(30) })), slot('labels')) })),
  { name: 'logmeRegression', kind: 'either', call: fn(core.logmeRegression), args: args(slot('matrix'), fc.oneof(slot('matrix'), field({ rows: 10, cols: 1, data: new Float32Array(10) }))) },
  { name: 'leep', kind: 'either', call: fn(core.leep), args: args(slot('probabilities'), slot('labels')) },
  { name: 'nce', kind: 'either', call: fn(core.nce), args: args(fc.oneof(slot('ids'), field([1e9, 0, 1, 0, 1, 0, 1, 0, 1, 0])), slot('labels')) },
  // transferkit: what reads a backbone, and the runner.
  { name: 'measureSimilarity', kind: 'task', runs: 15, call: fn(core.measureSimilarity), args: args(slot('backbone'), slot('x'), slot('x'), options({ at: slot('tap'), pooling: field('average'), permutations: field(5), alpha: field(0.05), seed: field(1), batchSize: field(8), signal: slot('signal') })) },
  { name: 'rankLayers', kind: 'task', runs: 15, call: fn(core.rankLayers), args: args(slot('backbone'), options({ x: slot('x'), y: slot('y') }), options({ candidates: field([{ kind: 'top' }]), pooling: field('average'), batchSize: field(8), signal: slot('signal') })) },
  { name: 'rankBackbones', kind: 'task', runs: 15, call: fn(core.rankBackbones), args: args(fc.oneof(fc.constant<Spec>({ array: [{ object: { name: { fixture: 'string' }, backbone: { fixture: 'backbone' }, x: { fixture: 'x' } } }] }), hostile), slot('y'), embedOptions) },
  { name: 'embed', kind: 'task', runs: 15, call: fn(core.embed), args: args(slot('backbone'), slot('x'), slot('tap'), embedOptions) },
  { name: 'transfer', kind: 'task', runs: 20, call: fn(core.transfer), args: args(slot('backbone'), fc.oneof(slot('recipe'), slot('scratch')), options({ x: slot('x'), y: slot('y') }), transferOptions) },
  {
    name: 'autoTransfer',
    kind: 'task',
    runs: 15,
    call: fn(core.autoTransfer),
    args: args(
      slot('backbone'),
      options({ x: slot('x'), y: slot('y') }),
      // Valid options bound the work: two candidates of a few steps each, and the signal.
      options({ candidates: field(QUICK_CANDIDATES, QUICK_CANDIDATES.slice(1)), budget: field(4, 2.5), folds: field(2, 3), prior: field(core.fromScratch, core.fullFineTune), randomStartCost: field(1.5, 3), seed: field(1), batchSize: field(8), signal: slot('signal'), onProgress: field(() => undefined) }, ['candidates', 'signal']),
    ),
  },
  { name: 'measureTransferGain', kind: 'task', runs: 10, call: fn(core.measureTransferGain), args: args(slot('backbone'), options({ x: slot('x'), y: slot('y') }), options({ fraction: field(0.02, 0.05), folds: field(1, 2), seed: field(1, 2), batchSize: field(8), classes: field(3), signal: slot('signal') }, ['fraction', 'folds', 'signal'])) },
  // transferkit: domain adaptation.
  { name: 'adapt', kind: 'task', runs: 25, call: fn(core.adapt), args: args(fc.oneof(slot('backbone'), slot('graphBackbone')), field(...core.ADAPT_METHODS, 'nope'), options({ target: options({ x: slot('x') }, ['x']), source: options({ x: slot('x'), y: slot('y') }, ['x']) }, ['target']), options({ steps: field(2), batchSize: field(8), seed: field(1), signal: slot('signal') }, ['steps'])) },
  { name: 'autoAdapt', kind: 'task', runs: 10, call: fn(core.autoAdapt), args: args(slot('backbone'), options({ target: options({ x: slot('x') }, ['x']), source: options({ x: slot('x'), y: slot('y') }, ['x']) }, ['target']), options({ steps: field(2), batchSize: field(8), margin: field(0.05, 0), methods: field(['adabn', 'coral'], ['tent']), signal: slot('signal') }, ['steps'])) },
  { name: 'adaptationAdvice', kind: 'total', call: fn(core.adaptationAdvice), args: args(field('inductive', 'transductive', 'unsupervised'), field(true, false)), returns: (v) => typeof v === 'object' && v !== null && Array.isArray((v as { methods?: unknown }).methods) },
  { name: 'pickAdaptation', kind: 'either', call: fn(core.pickAdaptation), args: args(field([{ method: 'source-only', score: 0.1 }, { method: 'tent', score: 0.3 }], [{ method: 'source-only', score: 1 }]), field(0.05, 0)) },
  { name: 'softNeighborhoodDensity', kind: 'either', call: fn(core.softNeighborhoodDensity), args: args(slot('probabilities'), options({ temperature: field(0.05, 0), maxRows: field(6, 0), seed: field(1) })) },
  { name: 'predictionInformation', kind: 'either', call: fn(core.predictionInformation), args: args(slot('probabilities')) },
  ...(['importanceWeights', 'coralMap'] as const).map((name): Entry => ({
    name,
    kind: 'either',
    call: fn(core[name]),
    args: args(fc.oneof(slot('matrix'), fc.constant<Spec>({ make: 'huge-matrix' })), slot('matrix2'), options({ l2: field(1e-2), iterations: field(20), maxWeight: field(10, 0) })),
  })),
  { name: 'model.renormalize, mapHeadInput', kind: 'task', runs: 15, call: async (...a: unknown[]) => {
    const [b, x, opts, map, shift] = a as [core.Backbone<tf.Tensor, tfjs.TfjsTransferModel>, unknown, unknown, unknown, unknown];
    const model = await b.build({ tap: b.layers[b.top]!, head: { hidden: [], dropout: 0 }, classes: 3, pooling: 'average', start: 'pretrained', seed: 1, classifier: 'source' })();
    if (model._tag === 'Left') return model;
    try {
      const renormalized = await model.right.renormalize(x as never, opts as never)();
      return renormalized._tag === 'Left' ? renormalized : model.right.mapHeadInput(map as never, shift as never);
    } finally {
      model.right.dispose();
    }
  }, args: args(fc.constant<Spec>({ fixture: 'backbone' }), slot('x'), options({ batchSize: field(8), signal: slot('signal') }), field({ rows: 12, cols: 12, data: new Float32Array(144) }), field(new Float32Array(12))) },
  { name: 'evaluate', kind: 'task', runs: 10, call: async (...a: unknown[]) => {
    // A trained model to evaluate, or a hostile value in its place.
    const [model, data, classes, opts] = a;
    return core.evaluate(model as never, data as never, classes as never, opts as never)();
  }, args: args(hostile, options({ x: slot('x'), y: slot('y') }), field(3), options({ batchSize: field(8) })) },
  // transferkit/tfjs.
  { name: 'fromLayersModel', kind: 'either', runs: 20, call: fn(tfjs.fromLayersModel), args: args(fc.oneof(slot('model'), fc.constant<Spec>({ make: 'disposed-model' })), options({ top: field('d2', 1, 'nope', 9) })) },
  { name: 'flattenModel', kind: 'either', runs: 20, call: fn(tfjs.flattenModel), args: args(fc.oneof(slot('model'), fc.constant<Spec>({ make: 'disposed-model' }))) },
  { name: 'fromMatrix', kind: 'either', call: fn(tfjs.fromMatrix), args: args(slot('matrix')) },
  { name: 'toMatrix', kind: 'either', call: fn(tfjs.toMatrix), args: args(fc.oneof(slot('x'), fc.constant<Spec>({ make: 'disposed-tensor' }), fc.constant<Spec>({ make: 'string-tensor' }))) },
  { name: 'registerTransferKernels', kind: 'either', runs: 20, call: fn(tfjs.registerTransferKernels), args: args(field('cpu', 'webgl', 'constructor', '__proto__'), options({ kernels: field(['TransferkitAdam'], ['Nope']) })) },
  { name: 'setupBackend', kind: 'task', runs: 20, call: fn(tfjs.setupBackend), args: args(options({ prefer: field(['cpu'], [], ['nope', 'cpu']), kernels: field(false), loadWasm: field(false) })) },
  // transferkit/tfjs/threads.
  { name: 'withThreads', kind: 'task', runs: 4, call: fn(threads.withThreads), args: args(fc.oneof(slot('model'), fc.constant<Spec>({ make: 'disposed-model' })), options({ threads: field(1, 1000), modules: field([]), top: field('d2') })) },
  { name: 'maxThreads', kind: 'total', call: fn(threads.maxThreads), args: args(), returns: (v) => typeof v === 'number' && Number.isInteger(v) && v >= 1 },
  // transferkit/tfjs/graph, and what its backbones do.
  { name: 'fromGraphModel', kind: 'either', call: fn(graphs.fromGraphModel), args: args(fc.oneof({ arbitrary: slot('graph'), weight: 4 }, slot('disposedGraph'), slot('model')), options({ top: field('hidden', 3, 'nope', 0), inputRange: field([0, 1], [1, 0]), inputShape: field([8], [9]) })) },
  { name: 'graph backbone.embed', kind: 'task', runs: 20, call: (...a: unknown[]) => (a[0] as core.Backbone<unknown, never>).embed(a[1], a[2] as never, a[3] as never), args: args(fc.constant<Spec>({ fixture: 'graphBackbone' }), slot('x'), fc.oneof(slot('graphLayer'), slot('layer')), fc.oneof(embedOptions, field({ pooling: 'average', batchSize: 4 }))) },
  { name: 'graph transfer', kind: 'task', runs: 15, call: fn(core.transfer), args: args(slot('graphBackbone'), fc.oneof(slot('recipe'), slot('scratch'), field(core.partialFineTune, core.fullFineTune)), options({ x: slot('x'), y: slot('y') }, ['x', 'y']), transferOptions) },
  // Images in, names out (transferkit/tfjs), and files (transferkit/node).
  { name: 'imageBatch', kind: 'either', runs: 20, call: fn(tfjs.imageBatch), args: args(fc.oneof(slot('imageBackbone'), slot('backbone')), fc.oneof(slot('images'), fc.constant<Spec>({ array: [{ object: { width: { constant: 8 }, height: { constant: 8 }, data: { make: 'huge-array' } } }] })), options({ resize: field(true, false, 'yes') })) },
  { name: 'trainClassifier', kind: 'task', runs: 15, call: fn(tfjs.trainClassifier), args: args(slot('imageBackbone'), options({ images: slot('images'), labels: slot('names') }), options({ epochs: field(1), resize: field(false, true), classNames: field(['a', 'b', 'c'], ['c', 'b', 'a']), seed: field(1), signal: slot('signal') }, ['epochs', 'signal'])) },
  { name: 'classifier.classify, save', kind: 'task', runs: 10, call: async (...a: unknown[]) => {
    const [b, images, names, px, opts, handler] = a;
    const trained = await tfjs.trainClassifier(b as never, { images: images as never, labels: names as never }, { epochs: 1 })();
    if (trained._tag === 'Left') return trained;
    try {
      const outcomes = [await trained.right.classify(px as never, opts as never)(), await trained.right.save(handler as never)()];
      return outcomes.find((o) => o._tag === 'Left') ?? outcomes[0]!;
    } finally {
      trained.right.dispose();
    }
  }, args: args(fc.constant<Spec>({ fixture: 'imageBackbone' }), fc.constant<Spec>({ fixture: 'images' }), fc.constant<Spec>({ fixture: 'names' }), slot('images'), options({ topK: field(1, 3), resize: field(false, true) }), slot('saver')) },
  { name: 'loadClassifier', kind: 'task', runs: 15, call: fn(tfjs.loadClassifier), args: args(fc.oneof(slot('savedClassifier'), field('nowhere://x')), options({ maxWeightBytes: field(1e9, 1), maxWeightValues: field(1e9, 1) })) },
  { name: 'readImage', kind: 'task', runs: 20, call: fn(node.readImage), args: args(fc.oneof(slot('png'), field('/nonexistent/a.png', new Uint8Array([1, 2, 3]))), options({ maxPixels: field(1e6, 2) })) },
  { name: 'readImages', kind: 'task', runs: 20, call: fn(node.readImages), args: args(fc.oneof(fc.constant<Spec>({ array: [{ fixture: 'png' }, { fixture: 'png' }] }), fc.constant<Spec>({ array: [{ fixture: 'png' }, { constant: 7 }] })), options({ maxPixels: field(1e6, 2) })) },
  { name: 'fileHandler', kind: 'total', call: fn(node.fileHandler), args: args(fc.oneof(field('/tmp/transferkit-fuzz-model'), hostile)), returns: (v) => typeof v === 'object' && v !== null && typeof (v as { save?: unknown }).save === 'function' && typeof (v as { load?: unknown }).load === 'function' },
  // transferkit/node.
  { name: 'diskRowStore', kind: 'either', call: fn(node.diskRowStore), args: args(options({ memoryBytes: field(0, 1024), directory: field('/proc/transferkit-none', undefined) })) },
  // The methods of what the entry points return: a backbone's, and a trained model's.
  { name: 'backbone.count', kind: 'either', runs: 20, call: (...a: unknown[]) => (a[0] as core.Backbone<unknown, never>).count(a[1]), args: args(fc.constant<Spec>({ fixture: 'backbone' }), fc.oneof(slot('x'), fc.constant<Spec>({ make: 'disposed-tensor' }))) },
  { name: 'backbone.embed', kind: 'task', runs: 20, call: (...a: unknown[]) => (a[0] as core.Backbone<unknown, never>).embed(a[1], a[2] as never, a[3] as never), args: args(fc.constant<Spec>({ fixture: 'backbone' }), slot('x'), slot('layer'), fc.oneof(embedOptions, field({ pooling: 'average', batchSize: 4 }))) },
  { name: 'backbone.build', kind: 'task', runs: 20, call: (...a: unknown[]) => (a[0] as core.Backbone<unknown, never>).build(a[1] as never), args: args(fc.constant<Spec>({ fixture: 'backbone' }), options({ tap: slot('layer'), head: field({ hidden: [], dropout: 0 }), classes: field(3), pooling: field('average'), start: field('pretrained', 'random'), seed: field(1) })) },
  { name: 'model.predict, save, weights', kind: 'task', runs: 15, call: async (...a: unknown[]) => {
    const [b, x, y, px, opts, handler] = a as [core.Backbone<tf.Tensor, tfjs.TfjsTransferModel>, tf.Tensor, number[], unknown, unknown, unknown];
    const trained = await core.transfer(b, core.featureExtractor, { x, y }, { epochs: 1 })();
    if (trained._tag === 'Left') return trained;
    const model = trained.right.model;
    try {
      const outcomes = [await model.predict(px as never, opts as never)(), await model.save(handler as never)(), model.weights()];
      const bad = outcomes.find((o) => o._tag === 'Left');
      return bad ?? outcomes[0];
    } finally {
      model.dispose();
    }
  }, args: args(fc.constant<Spec>({ fixture: 'backbone' }), fc.constant<Spec>({ fixture: 'x' }), fc.constant<Spec>({ fixture: 'y' }), slot('x'), options({ batchSize: field(8) }), slot('saver')) },
  { name: 'model.planPhase', kind: 'task', runs: 15, call: async (...a: unknown[]) => {
    const [b, phase, batchSize, memoryBytes] = a as [core.Backbone<tf.Tensor, tfjs.TfjsTransferModel>, unknown, unknown, unknown];
    const model = await b.build({ tap: b.layers[b.top]!, head: { hidden: [], dropout: 0 }, classes: 3, pooling: 'average', start: 'pretrained', seed: 1 })();
    if (model._tag === 'Left') return model;
    try {
      return model.right.planPhase(phase as never, batchSize as never, memoryBytes as never);
    } finally {
      model.right.dispose();
    }
  }, args: args(fc.constant<Spec>({ fixture: 'backbone' }), fc.oneof({ arbitrary: field(core.fullFineTune.phases[1]), weight: 3 }, hostile), fc.oneof({ arbitrary: field(8), weight: 3 }, hostile), fc.oneof({ arbitrary: field(undefined, 1e9), weight: 3 }, hostile)) },
  // A head saved alone and put back on a backbone (or a hostile value in its place), then predicting.
  { name: 'attachHead', kind: 'task', runs: 10, call: async (...a: unknown[]) => {
    const [b, x, y, onto, px, opts] = a as [core.Backbone<tf.Tensor, tfjs.TfjsTransferModel>, tf.Tensor, number[], unknown, unknown, unknown];
    const trained = await core.transfer(b, core.featureExtractor, { x, y }, { epochs: 1 })();
    if (trained._tag === 'Left') return trained;
    let artifacts: tf.io.ModelArtifacts | undefined;
    const saved = await trained.right.model.saveHead(
      tf.io.withSaveHandler(async (m) => {
        artifacts = m;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    )();
    trained.right.model.dispose();
    if (saved._tag === 'Left') return saved;
    const head = await tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
    try {
      const attached = tfjs.attachHead(onto as never, head);
      return attached._tag === 'Left' ? attached : await attached.right.predict(px as never, opts as never)();
    } finally {
      head.dispose();
    }
  }, args: args(fc.constant<Spec>({ fixture: 'backbone' }), fc.constant<Spec>({ fixture: 'x' }), fc.constant<Spec>({ fixture: 'y' }), fc.oneof(fc.constant<Spec>({ fixture: 'backbone' }), hostile), slot('x'), options({ batchSize: field(8) })) },
  ];
};

/** Each entry, its arguments drawn all valid one time in four, with hostile values mixed in otherwise. */
const ENTRIES: ReadonlyArray<Entry> = (() => {
  const [valid, mixed] = [entries(builders(0)), entries(builders(3))];
  return mixed.map((entry, i) => ({ ...entry, args: fc.oneof({ arbitrary: valid[i]!.args, weight: 1 }, { arbitrary: entry.args, weight: 3 }) }));
})();

const TASK_RESULT = (v: unknown): v is { _tag: string } => typeof v === 'object' && v !== null && '_tag' in v;

/** Every number in a value (tensors and models skipped), up to a million. */
const numbers = (value: unknown): number[] => {
  const out: number[] = [];
  const seen = new Set<unknown>();
  const visit = (v: unknown): void => {
    if (out.length > 1_000_000) return;
    if (typeof v === 'number') out.push(v);
    else if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      const a = v as unknown as ArrayLike<number>;
      for (let i = 0; i < a.length && out.length <= 1_000_000; i++) out.push(Number(a[i]));
    } else if (typeof v === 'object' && v !== null && !seen.has(v) && !(v instanceof tf.Tensor) && !(v instanceof tfl.LayersModel)) {
      seen.add(v);
      if (v instanceof Map) v.forEach(visit);
      else Object.values(v).forEach(visit);
    }
  };
  visit(value);
  return out;
};

/** Frees what a Right holds: a tensor, a trained model, a threaded backbone, kernels registered. */
const release = async (value: unknown): Promise<void> => {
  if (value instanceof tf.Tensor) value.dispose();
  else if (typeof value === 'object' && value !== null) {
    const v = value as { model?: { dispose?: () => void }; dispose?: () => void; close?: () => Promise<void>; unregister?: () => void; kernels?: { unregister?: () => void } };
    v.model?.dispose?.();
    if (typeof v.dispose === 'function') v.dispose();
    await v.close?.();
    v.unregister?.();
    v.kernels?.unregister?.();
  }
};

/** What went wrong with one call, or undefined when it ended well. */
const verdict = (entry: Entry, outcome: unknown, call: Call): string | undefined => {
  // A total helper may hand back what it was given (an unobserved marginal keeps its name, a phase
  // its policy), so only its documented kind is checked; the numeric ones check finiteness there.
  if (entry.kind === 'total') return entry.returns!(outcome) ? undefined : `returned ${core.describeValue(outcome)}`;
  if (!TASK_RESULT(outcome) || (outcome._tag !== 'Left' && outcome._tag !== 'Right')) return `not an Either: ${core.describeValue(outcome)}`;
  if (outcome._tag === 'Right') {
    const bad = numbers((outcome as unknown as { right: unknown }).right).find((n) => !Number.isFinite(n));
    return bad === undefined ? undefined : `a Right holding ${bad}`;
  }
  const e = (outcome as unknown as { left: core.TransferError & { expected?: string } }).left;
  if (!TAGS.has(e._tag) || typeof e.message !== 'string' || e.message.length === 0) return `an unknown error ${core.describeValue(e)}`;
  if (INTERNAL.test(e.message)) return `an error in internal words: ${e.message}`;
  if ((e._tag === 'InvalidArgument' || e._tag === 'ShapeMismatch' || e._tag === 'NotSupported') && !(typeof e.expected === 'string' && e.expected.length > 0)) return `no expectation in ${e.message}`;
  if (e.expected === core.UNREADABLE_EXPECTED && !call.unreadable) return `the catch-all error for readable arguments: ${e.message}`;
  return undefined;
};

/** Runs one call and judges it; says whether it was a Right (the suite checks that success paths run too). */
const runCall = async (entry: Entry, specs: ReadonlyArray<Spec>): Promise<boolean> => {
  const call: Call = { free: [], unreadable: false, sources: [] };
  const before = tf.memory().numTensors;
  let problem: string | undefined;
  let made: unknown[] = [];
  let right = false;
  try {
    made = specs.map((s) => make(s, FIXTURES, call));
    let outcome: unknown;
    try {
      const returned = entry.call(...made);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const bound = new Promise((resolve) => (timer = setTimeout(() => resolve('timed out'), BOUND_MS)));
      const settled = entry.kind === 'task' && typeof returned === 'function' ? (returned as () => Promise<unknown>)() : returned;
      outcome = await Promise.race([Promise.resolve(settled), bound]);
      clearTimeout(timer);
      if (outcome === 'timed out') problem = `no answer within ${BOUND_MS} ms`;
    } catch (thrown) {
      problem = `threw ${(thrown as Error)?.message ?? core.describeValue(thrown)}`;
    }
    problem ??= verdict(entry, outcome, call);
    right = TASK_RESULT(outcome) && outcome._tag === 'Right';
    if (problem === undefined && TASK_RESULT(outcome) && outcome._tag === 'Right') await release((outcome as unknown as { right: unknown }).right);
    const graphNow = graphWeights(graph);
    if ([...graphBefore].some(([k, v]) => !graphNow.get(k)?.every((x, i) => Object.is(x, v[i])))) problem ??= 'the source graph changed';
    for (const { model, weights } of call.sources) {
      const now = model.weights.length === 0 ? weights : snapshot(model);
      if ([...weights].some(([k, v]) => !now.get(k)?.every((x, i) => Object.is(x, v[i])))) problem ??= 'the source model changed';
    }
  } finally {
    call.free.forEach((f) => f());
    await tf.setBackend('cpu');
  }
  const leaked = tf.memory().numTensors - before;
  if (leaked !== 0) problem ??= `${leaked} tensors leaked`;
  if (problem !== undefined) throw new Error(`${entry.name}(${specs.map((s) => JSON.stringify(s, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v))).join(', ')}): ${problem}`);
  return right;
};

beforeAll(async () => {
  await tf.setBackend('cpu');
  const call: Call = { free: [], unreadable: false, sources: [] };
  const backbone = FIXTURES['imageBackbone']!(call) as tfjs.TfjsBackbone;
  const trained = await tfjs.trainClassifier(backbone, { images: pixelImages(), labels: ['a', 'b', 'c', 'a', 'b', 'c'] }, { epochs: 1 })();
  if (trained._tag === 'Left') throw new Error(trained.left.message);
  await trained.right.save(tf.io.withSaveHandler(async (artifacts) => ((savedClassifier = artifacts), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })))();
  trained.right.dispose();
  call.free.forEach((f) => f());
  graph = await perceptron(8);
  graphBefore = graphWeights(graph);
  disposedGraph = await perceptron(8);
  disposedGraph.dispose();
});

afterAll(async () => {
  graph?.dispose();
  await tf.setBackend('cpu');
});

/** The exported functions of an entry point (classes excluded: none is exported as a value). */
const functionsOf = (entry: Record<string, unknown>): string[] => Object.keys(entry).filter((k) => typeof entry[k] === 'function').sort();

describe('the boundary fuzz suite', () => {
  it('covers every exported function of every entry point', () => {
    const covered = new Set(ENTRIES.map((e) => e.name));
    const exported = [...functionsOf(core), ...functionsOf(tfjs), ...functionsOf(graphs), ...functionsOf(threads), ...functionsOf(node)];
    expect(exported.filter((name) => !covered.has(name))).toEqual([]);
  });

  it.each(ENTRIES.map((e) => [e.name, e] as const))('%s: no throw, no hang, a clear Left or a finite Right, no leak, the source unchanged', async (_, entry) => {
    let rights = 0;
    await fc.assert(
      fc.asyncProperty(entry.args, async (specs) => {
        if (await runCall(entry, specs)) rights++;
      }),
      { seed: SEED, numRuns: Math.max(1, Math.round((entry.runs ?? 40) * RUNS)), endOnFailure: true },
    );
    // The generated cases reach the success path too, not only the checks (evaluate is given no trained model).
    if (entry.kind !== 'total' && entry.name !== 'evaluate') expect(rights).toBeGreaterThan(0);
  }, 600_000);
});
