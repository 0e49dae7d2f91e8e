/**
 * One training phase on the tfjs backend.
 *
 * The phase's policy splits the copied graph into a frozen prefix and a trainable suffix. The prefix
 * is compiled for inference (BatchNorm folded into the convolution before it, activations fused;
 * see compile.ts), runs once per example, a batch at a time, and its outputs are appended to row
 * stores (in-memory chunks by default, or on disk); every step then runs only the suffix and the
 * head on gathered rows. Gradients flow only to the variables of the layers that train, so nothing frozen
 * moves, and a new policy takes effect in the next phase with no re-compile to forget.
 *
 * The copied backbone layers run in inference mode even while they train, as the Keras
 * transfer-learning guide advises for fine-tuning: BatchNorm keeps normalising with its moving
 * statistics (which never move) while its scale and offset train, so unfreezing does not swap the
 * statistics the head was trained on for those of small batches. Only the new head runs in
 * training mode (its dropout). A model that starts from random weights (`Parts.batchStatistics`)
 * has no statistics worth keeping: its layers train in training mode, BatchNorm on batch
 * statistics, updating its moving ones, as in ordinary training.
 *
 * A session may also split each step's batch with {@link GradientShare}s (worker threads, from
 * transferkit/tfjs/threads, which also brings the step that splits it: threads/sharedStep.ts):
 * since BatchNorm runs on its moving statistics, the parts are independent and their gradients
 * simply add up (a from-scratch model takes no shares). So do the losses and correct counts of a
 * batch it evaluates, which the shares split with it too (threads/sharedEvaluation.ts). The
 * caching lives in caching.ts, a step's arithmetic in steps.ts, and what other threads may do for
 * a session in contracts.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { either as E } from 'fp-ts';
import type { BatchOutcome, InputSet, PhaseArgs, PhaseSession } from '../../../core/backbone';
import type { Objective } from '../../../core/objective';
import type { Phase } from '../../../core/recipe';
import { aborted, backendFailure, type TransferError } from '../../../core/errors';
import { deriveSeed } from '../../../core/random';
import { chunkedRows, DEFAULT_CHUNK_FLOATS } from '../../../core/rowStore';
import { compilePrefix, Stopped, type CompiledPrefix } from '../compile';
import { adam } from '../kernels/adam';
import { applyPolicy, replay, split, type Layer } from '../graph';
import { reestimateBatchNorm } from './batchNorm';
import { cachePrefix, type Cached } from './caching';
import type { GradientShare, GradientSharing, RemotePrefix, SessionInternals, ShareSpec } from './contracts';
import { borrowed, inputRows, type TfjsInputs } from '../inputRows';
import type { Parts } from './parts';
import { planStep, stepBudget, stepBytesPerExample } from '../memory';
import { accumulatePasses, countCorrect, crossEntropy, forwardPass, gatherRows, MICRO_BATCH_SEEDS, partLoss, readInto, sumPasses, tensorOf, variableGradsOrThrow, weightKey } from './steps';
import { AdaptationLoss, readsUnlabelled } from './adaptationLoss';
import { isKernel, WeightPenalty } from './penalty';

/** One phase on this thread: steps on the cached rows, optionally split with gradient shares. */
export class TfjsPhaseSession implements PhaseSession {
  #optimizer: tf.Optimizer;
  /** The trained weights' values at the last checkpoint, in the order of `#variables`. */
  #saved: Float32Array[] | undefined;
  readonly #variables: tf.Variable[];
  /** The weight penalty (L2, or L2-SP) on the kernels that train. */
  readonly #penalty: WeightPenalty;
  /** The adaptation objective's loss, when the phase has one. */
  readonly #adaptation: AdaptationLoss | undefined;
  /** The current step's unlabelled indices (see {@link PhaseSession.step}). */
  #unlabelledStep: Int32Array | undefined;
  /** The trainable weights' keys (`layer/weight`), in the order of `#variables`. */
  readonly #keys: string[];
  #shares: ReadonlyArray<GradientShare> = [];
  #sharing: GradientSharing | undefined;
  /** How many times the trained weights have changed: see {@link SessionInternals.changes}. */
  #changes = 0;
  /** What a shared step reads and calls (see {@link SessionInternals}). */
  readonly #internals: SessionInternals;

  constructor(
    private readonly parts: Parts,
    private readonly suffix: tfl.LayersModel | undefined,
    private readonly cached: Record<InputSet, { rows: Cached[]; labels: Int32Array } | undefined>,
    /** The unlabelled inputs' cached rows, when the phase has some. */
    private readonly unlabelled: Cached[] | undefined,
    private readonly args: PhaseArgs<TfjsInputs>,
    /** The backbone layers this phase trains. */
    readonly trained: ReadonlySet<Layer>,
    readonly cacheMs: number,
    readonly cacheThreads: number,
    /** Examples per forward and backward pass: a batch with more accumulates gradients over several (memory.ts). */
    readonly microBatch: number,
  ) {
    const { learningRate, optimizer } = args.phase;
    this.#optimizer = optimizer === 'adam' ? adam(learningRate) : tf.train.sgd(learningRate);
    const objective = args.objective;
    const head = objective?.trains === 'normalization' ? [] : parts.head;
    const layers = [...trained, ...head];
    const weights = layers.flatMap((l) => l.trainableWeights);
    this.#variables = weights.map((w) => w.read() as tf.Variable);
    this.#keys = layers.flatMap((l) => l.trainableWeights.map((w) => weightKey(l.name, w.originalName)));
    // tfjs makes variable names unique with a suffix (`kernel_1` for the second model built in a
    // process), which once hid every kernel from the L2 penalty after the first run; the original
    // name is stable.
    const kernels = (ls: ReadonlyArray<Layer>) => ls.flatMap((l) => l.trainableWeights).filter(isKernel).map((w) => w.read() as tf.Variable);
    const { l2, startingPoint } = args.phase.regularization;
    this.#penalty = new WeightPenalty(kernels([...trained]), kernels(head), l2, startingPoint ?? 0);
    try {
      this.#adaptation =
        objective === undefined
          ? undefined
          : new AdaptationLoss(
              { suffix, head: parts.headModel, dropout: parts.dropout, classes: parts.classes, batchStatistics: parts.batchStatistics || objective.batchStatistics === true, features: parts.pooled.shape[1]! },
              objective,
              args.seed,
            );
    } catch (thrown) {
      // The L2-SP anchors are this session's; a session that never opens must not keep them.
      this.#penalty.dispose();
      throw thrown;
    }
    const graded = [...this.#variables, ...(this.#adaptation?.ownVariables ?? [])];
    this.#internals = {
      variables: this.#variables,
      train: cached.train!,
      sets: cached,
      seed: args.seed,
      spare: [],
      changes: () => this.#changes,
      sent: [],
      ownOutcome: (set, indices) => this.#outcome(set, indices),
      ownGradients: (indices, seed, scale) =>
        accumulatePasses(indices.length, this.microBatch, (start, end, k) => {
          let lossSum = Number.NaN;
          let correct = 0;
          const grads = tf.tidy(() => {
            const { xs, y } = this.#batch('train', indices.subarray(start, end));
            const passSeed = k === 0 ? seed : deriveSeed(seed, MICRO_BATCH_SEEDS + k);
            const report = (l: number, c: number): void => {
              lossSum = l;
              correct = c;
            };
            const share = (scale * (end - start)) / indices.length;
            // The weight penalty belongs to the step, not to each pass: the first carries it.
            if (this.#adaptation !== undefined) {
              const unlabelled = this.#unlabelledPass(indices.length, start, end);
              return variableGradsOrThrow(() => this.#adapted(indices.subarray(start, end), xs, y, unlabelled, passSeed, share, report, k === 0), graded).grads;
            }
            return variableGradsOrThrow(() => this.#objective(xs, y, passSeed, share, report, k === 0), this.#variables).grads;
          });
          return { grads, lossSum, correct };
        }),
      apply: (grads) => this.#apply(grads),
    };
  }

  #apply(grads: tf.NamedTensorMap): void {
    this.#changes++;
    this.#optimizer.applyGradients(this.#adaptation === undefined ? grads : this.#adaptation.applyOwn(grads));
  }

  /** The unlabelled rows of a pass over labelled rows [start, end) of `n`: the same share of the step's unlabelled indices. */
  #unlabelledPass(n: number, start: number, end: number): tf.Tensor[] | undefined {
    const u = this.#unlabelledStep;
    if (u === undefined || u.length === 0 || !readsUnlabelled(this.args.objective!)) return undefined;
    const from = Math.floor((start * u.length) / n);
    const to = Math.max(from + 1, Math.floor((end * u.length) / n));
    const rows = this.unlabelled ?? this.cached.train!.rows;
    return rows.map((r) => gatherRows(r, u.subarray(from, Math.min(u.length, to))));
  }

  /** The adaptation objective's loss for a pass, times its share, plus the weight penalty (once per step). */
  #adapted(indices: Int32Array, xs: tf.Tensor[], y: tf.Tensor, unlabelled: tf.Tensor[] | undefined, seed: number, scale: number, report: (lossSum: number, correct: number) => void, withPenalty: boolean): tf.Scalar {
    const given = this.args.objective!.exampleWeights;
    const weights = given === undefined ? tf.ones([indices.length]) : tf.tensor1d(Float32Array.from(indices, (i) => given[i] ?? 0));
    const loss = this.#adaptation!.loss({ xs, y, weights, ...(unlabelled === undefined ? {} : { unlabelled }) }, seed, this.#stepNumber, report);
    const scaled = scale === 1 ? loss : (tf.mul(scale, loss) as tf.Scalar);
    return withPenalty && this.#penalty.active ? (tf.add(scaled, this.#penalty.value()) as tf.Scalar) : scaled;
  }

  /** The step being taken (DANN's schedule reads it). */
  #stepNumber = 0;

  /** Summed loss and correct count over these examples of a set, in inference mode, on this thread. */
  #outcome(set: InputSet, indices: Int32Array): BatchOutcome {
    return sumPasses(indices.length, this.microBatch, (start, end) =>
      tf.tidy(() => {
        const { xs, y } = this.#batch(set, indices.subarray(start, end));
        const logits = this.#forward(xs, false, 0);
        return { lossSum: crossEntropy(logits, y, this.parts.classes).dataSync()[0]! * (end - start), correct: countCorrect(logits, y) };
      }),
    );
  }

  #forward(xs: tf.Tensor[], training: boolean, seed: number): tf.Tensor {
    return forwardPass(this.suffix, this.parts.headModel, this.parts.dropout, xs, training, seed, this.parts.batchStatistics);
  }

  /** What this thread minimises for its part of a batch: {@link partLoss}, plus the L2 penalty (once per step). */
  #objective(xs: tf.Tensor[], y: tf.Tensor, seed: number, scale: number, report: (lossSum: number, correct: number) => void, withL2: boolean): tf.Scalar {
    const { suffix, parts } = this;
    const part = { suffix, head: parts.headModel, dropout: parts.dropout, classes: parts.classes, batchStatistics: parts.batchStatistics };
    const loss = partLoss(part, xs, y, seed, scale, report);
    if (!withL2 || !this.#penalty.active) return loss;
    return tf.add(loss, this.#penalty.value()) as tf.Scalar;
  }

  #batch(set: InputSet, indices: Int32Array): { xs: tf.Tensor[]; y: tf.Tensor } {
    const c = this.cached[set]!;
    return { xs: c.rows.map((r) => gatherRows(r, indices)), y: tf.tensor1d(indices.map((i) => c.labels[i]!), 'int32') };
  }

  /** What a {@link GradientShare} needs to compute part of each batch. */
  shareSpec(batchSize: number): ShareSpec {
    const rows = this.cached.train!.rows;
    return {
      suffix: this.suffix,
      head: this.parts.headModel,
      dropout: this.parts.dropout,
      classes: this.parts.classes,
      trained: this.#keys,
      shapes: this.#variables.map((v) => v.shape),
      rowShapes: rows.map((r) => r.shape),
      maxRows: batchSize,
      microBatch: this.microBatch,
    };
  }

  get trainThreads(): number {
    return this.#shares.length + 1;
  }

  /** From now on each step and each evaluated batch is split between this thread and the shares, as `sharing` splits them. */
  attachShares(shares: ReadonlyArray<GradientShare>, sharing: GradientSharing): void {
    this.#shares = shares;
    this.#sharing = sharing;
  }

  /** Whether a batch of `n` examples is split with the shares: each part has one at least. */
  #splits(n: number): boolean {
    return this.#adaptation === undefined && this.#sharing !== undefined && this.#shares.length > 0 && n > this.#shares.length;
  }

  step(indices: Int32Array, stepNumber: number, unlabelled?: Int32Array): E.Either<TransferError, BatchOutcome> | Promise<E.Either<TransferError, BatchOutcome>> {
    if (this.#splits(indices.length)) return this.#sharing!.step(this.#internals, this.#shares, indices, stepNumber);
    this.#unlabelledStep = unlabelled;
    this.#stepNumber = stepNumber;
    try {
      // What optimizer.minimize does (gradients, then one update), with the gradients computed as a shared step computes its own part's.
      const { grads, lossSum, correct } = this.#internals.ownGradients(indices, deriveSeed(this.args.seed, stepNumber), 1);
      try {
        tf.tidy(() => this.#apply(grads));
      } finally {
        tf.dispose(Object.values(grads));
      }
      // A loss that is not finite is the runner's to judge (its divergence guard).
      return E.right({ lossSum, correct });
    } catch (thrown) {
      return E.left(backendFailure('a training step', thrown));
    }
  }

  evaluate(set: InputSet, indices: Int32Array): E.Either<TransferError, BatchOutcome> | Promise<E.Either<TransferError, BatchOutcome>> {
    if (this.#splits(indices.length)) return this.#sharing!.evaluate(this.#internals, this.#shares, set, indices);
    try {
      return E.right(this.#outcome(set, indices));
    } catch (thrown) {
      return E.left(backendFailure('evaluating', thrown));
    }
  }

  checkpoint(): E.Either<TransferError, void> {
    try {
      this.#saved = this.#variables.map((v, i) => readInto(v, this.#saved?.[i] ?? new Float32Array(v.size)));
      return E.right(undefined);
    } catch (thrown) {
      return E.left(backendFailure('keeping a checkpoint of the weights', thrown));
    }
  }

  restore(learningRate?: number): E.Either<TransferError, void> {
    const saved = this.#saved;
    if (saved === undefined) return E.left(backendFailure('restoring the weights', new Error('no checkpoint was kept')));
    try {
      this.#changes++;
      this.#variables.forEach((v, i) => tf.tidy(() => v.assign(tensorOf(saved[i]!, v.shape))));
      if (learningRate !== undefined) {
        const { optimizer } = this.args.phase;
        const fresh = optimizer === 'adam' ? adam(learningRate) : tf.train.sgd(learningRate);
        this.#optimizer.dispose();
        this.#optimizer = fresh;
      }
      return E.right(undefined);
    } catch (thrown) {
      return E.left(backendFailure('restoring the weights', thrown));
    }
  }

  finish(train: Int32Array): E.Either<TransferError, number> {
    const suffix = this.suffix;
    const onBatches = this.args.objective?.batchStatistics === true;
    if ((!this.parts.batchStatistics && !onBatches) || suffix === undefined) return E.right(0);
    try {
      const size = Math.min(this.args.batchSize, this.microBatch);
      // After a phase on batch statistics of unlabelled inputs (TENT), inference normalises as those inputs do.
      const rows = onBatches && this.unlabelled !== undefined ? this.unlabelled : this.cached.train!.rows;
      const count = onBatches && this.unlabelled !== undefined ? this.unlabelled[0]!.store.rows : train.length;
      const order = onBatches && this.unlabelled !== undefined ? Int32Array.from({ length: count }, (_, i) => i) : train;
      const batches = Array.from({ length: Math.ceil(count / size) }, (_, b) => () => rows.map((r) => gatherRows(r, order.subarray(b * size, (b + 1) * size))));
      return E.right(reestimateBatchNorm(suffix, batches, deriveSeed(this.args.seed, 9_999)));
    } catch (thrown) {
      return E.left(backendFailure('re-estimating the BatchNorm statistics', thrown));
    }
  }

  dispose(): void {
    this.#saved = undefined;
    this.#shares.forEach((share) => share.dispose());
    this.#shares = [];
    this.#optimizer.dispose();
    this.#penalty.dispose();
    this.#adaptation?.dispose();
    for (const set of [this.cached.train, this.cached.validation]) set?.rows.forEach((c) => c.store.dispose());
    this.unlabelled?.forEach((c) => c.store.dispose());
  }
}

/**
 * A phase's trainable part (its policy applied to the copied layers: what trains, the suffix that
 * runs each step, the cached tensors it reads) and how its steps fit memory (memory.ts).
 */
export const planSteps = (parts: Parts, phase: Phase, batchSize: number, memoryBytes: number | undefined, objective?: Objective) => {
  const byPolicy = applyPolicy(parts.backbone, phase.trains);
  // TENT trains BatchNorm's scale and offset alone: the other layers the policy named are frozen again.
  const trained = objective?.trains === 'normalization' ? new Set([...byPolicy].filter((l) => l.getClassName() === 'BatchNormalization')) : byPolicy;
  for (const layer of byPolicy) layer.trainable = trained.has(layer);
  const { suffix, crossing } = split(parts.graph, trained, parts.pooled);
  const onBatches = parts.batchStatistics || objective?.batchStatistics === true;
  const bytes = stepBytesPerExample([...suffix, ...parts.head], crossing, onBatches && suffix.length > 0);
  return { trained, suffix, crossing, memory: planStep(phase.name, bytes, stepBudget(memoryBytes), batchSize) };
};

/**
 * Opens a phase: applies its policy, splits the graph, caches the frozen prefix's outputs — on
 * `remote` threads when given and the prefix's weights are still the source's, else here.
 */
export const openSession = async (parts: Parts, args: PhaseArgs<TfjsInputs>, remote?: RemotePrefix): Promise<E.Either<TransferError, TfjsPhaseSession>> => {
  let prefix: CompiledPrefix | undefined;
  let train: Cached[] = [];
  let unlabelled: Cached[] | undefined;
  try {
    const { trained, suffix, crossing, memory } = planSteps(parts, args.phase, args.batchSize, args.memoryBytes, args.objective);
    if (E.isLeft(memory)) return memory;
    const suffixModel = suffix.length === 0 ? undefined : replay(suffix, crossing, parts.pooled);
    const inSuffix = new Set(suffix);
    const prefixChanged = parts.batchStatistics || args.objective !== undefined || (remote !== undefined && parts.graph.some((l) => !inSuffix.has(l) && remote.changed.has(l)));
    // Read once: closing the threads mid-phase makes their requests fail, not this loop spin.
    const threadCount = remote?.caching.count ?? 0;
    // Batches are read as float32 (int32 inputs cast a batch at a time), so the threads take floats too.
    const elsewhere = threadCount === 0 || prefixChanged ? undefined : remote!.caching.plan(parts, crossing, threadCount);
    const store = args.store ?? chunkedRows(DEFAULT_CHUNK_FLOATS);
    const started = performance.now();
    const inputOnly = crossing.length === 1 && crossing[0]!.id === parts.input.id;
    const run = (x: TfjsInputs): Promise<Cached[]> => {
      const rows = inputRows(x);
      // Nothing frozen runs on the inputs (full fine-tune): stored inputs are read in place, not copied.
      if (inputOnly && rows.store !== undefined) return Promise.resolve([{ store: borrowed(rows.store), shape: rows.shape }]);
      if (elsewhere !== undefined) return elsewhere(rows, args.batchSize, store, args.signal);
      prefix ??= compilePrefix(parts.input, crossing);
      return cachePrefix(prefix, crossing, rows, args.batchSize, store, args.signal);
    };
    let validation: { rows: Cached[]; labels: Int32Array } | undefined;
    try {
      train = await run(args.inputs);
      const v = args.validation;
      validation = v === undefined ? undefined : { rows: await run(v.inputs), labels: v.labels };
      unlabelled = args.unlabelled === undefined ? undefined : await run(args.unlabelled);
    } finally {
      if (elsewhere !== undefined) await remote!.caching.done();
    }
    const cacheMs = performance.now() - started;
    const cacheThreads = elsewhere !== undefined ? threadCount : crossing.every((t) => t.id === parts.input.id) ? 0 : 1;
    return E.right(new TfjsPhaseSession(parts, suffixModel, { train: { rows: train, labels: args.labels }, validation }, unlabelled, args, trained, cacheMs, cacheThreads, memory.right.microBatch));
  } catch (thrown) {
    train.forEach((c) => c.store.dispose());
    unlabelled?.forEach((c) => c.store.dispose());
    if (thrown instanceof Stopped) return E.left(aborted(`phase ${args.phase.name}, caching the frozen part, batch ${thrown.done + 1} of ${thrown.of}`));
    return E.left(backendFailure(`starting phase ${args.phase.name}`, thrown));
  } finally {
    prefix?.dispose();
  }
};
