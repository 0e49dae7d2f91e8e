/**
 * The three jobs of `npm run bench -- workload`, shared by the orchestrator (bench/workload.ts),
 * the children that run one of them (workloadJob.ts, storedJob.ts for `bench -- flat`) and
 * bench/checkExport.ts, with the digits' resize they all use; bench/workload.py holds the same numbers for
 * PyTorch's side. The backbone is the nsfwjs MobileNetV2 at 224², cut at its top (`out_relu`,
 * 7×7×1280), average pooled, with a new linear head over 10 digits.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayerInfo, Recipe } from 'transferkit';
import { SIDE } from '../../scripts/mnist/data';
import { SIZE } from '../../scripts/pretrained/model';

/** Digits 0–9. */
export const CLASSES = 10;

/** Where the backbone is cut: MobileNetV2's last activation, before the pretrained head. */
export const TOP = 'out_relu';

export type JobName = 'a' | 'b' | 'c';

export interface Job {
  /** The label for the job. */
  readonly title: string;
  /** Epochs of the full job. */
  readonly epochs: number;
  /** Adam's learning rate. */
  readonly learningRate: number;
  readonly batch: number;
  /** What trains besides the head: nothing, the layers whose names match, or everything. */
  readonly trains: 'head' | 'all' | RegExp;
}

export const WORKLOAD_JOBS: Record<JobName, Job> = {
  a: { title: '(a) feature extractor + linear head', epochs: 30, learningRate: 1e-3, batch: 32, trains: 'head' },
  // The last three inverted-residual blocks (14, 15, 16) and the 1×1 conv after them; PyTorch's
  // side cuts after block_13_project_BN, the last layer before block 14.
  b: { title: '(b) partial fine-tune: blocks 14–16 + head', epochs: 5, learningRate: 1e-4, batch: 32, trains: /^(block_1[456]_|Conv_1)/ },
  c: { title: '(c) full fine-tune', epochs: 2, learningRate: 1e-4, batch: 8, trains: 'all' },
};

/** What one (job, implementation) process prints. */
export interface JobResult {
  /**
   * Per epoch: seconds since the clock started, the held-out accuracy after it, and (tfjs `fit`)
   * the seconds its evaluation took.
   */
  readonly epochs: ReadonlyArray<{ readonly seconds: number; readonly accuracy: number; readonly evalSeconds?: number }>;
  /** The process's peak resident memory. */
  readonly peakMB: number;
  readonly notes: ReadonlyArray<string>;
  /** PyTorch's version and threads, and the seconds its expert loop spent caching, when PyTorch ran the job. */
  readonly torch?: string;
  readonly threads?: number;
  readonly cacheSeconds?: number;
}

/**
 * The one-phase recipe of a job over a backbone's layers: the head alone, the layers with weights
 * that job (b) names (the top ones of the backbone), or everything; Adam, no L2, a linear head.
 */
export const jobRecipe = (name: JobName, layers: ReadonlyArray<LayerInfo>, epochs: number): { recipe: Recipe; trainedLayers: number } => {
  const job = WORKLOAD_JOBS[name];
  const pattern = job.trains instanceof RegExp ? job.trains : undefined;
  const count = pattern === undefined ? 0 : layers.filter((l) => pattern.test(l.name) && l.params > 0).length;
  const trains = job.trains === 'head' ? ({ kind: 'head-only' } as const) : job.trains === 'all' ? ({ kind: 'all' } as const) : ({ kind: 'top-layers', count } as const);
  const recipe: Recipe = {
    kind: job.trains === 'head' ? 'feature-extractor' : job.trains === 'all' ? 'full-fine-tune' : 'partial-fine-tune',
    start: 'pretrained',
    tap: { kind: 'top' },
    trainable: trains,
    phases: [{ name, trains, epochs, learningRate: job.learningRate, optimizer: 'adam', regularization: { l2: 0 } }],
    head: { hidden: [], dropout: 0 },
    rationale: [],
    warnings: [],
  };
  return { recipe, trainedLayers: count };
};

/**
 * `count` 28² digits as 224² RGB images: bilinear with half-pixel centres, as bench/keras_graph.py
 * and bench/workload.py resize (PyTorch's align_corners=False), the grey channel repeated.
 */
export const digitsAt224 = (pixels: Float32Array, count: number): tf.Tensor4D =>
  tf.tidy(() => tf.tile(tf.image.resizeBilinear(tf.tensor4d(pixels, [count, SIDE, SIDE, 1]), [SIZE, SIZE], false, true), [1, 1, 1, 3]));

/** The process's peak resident memory so far, in MB (every thread's wasm heap included). */
export const peakMB = (): number => process.resourceUsage().maxRSS / 1024;
