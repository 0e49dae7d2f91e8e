/**
 * One phase's epochs on an open session, with the divergence guard: the batches, progress, the
 * time budget, early stopping, and what happens when the loss blows up.
 *
 * The guard (on unless `options.divergenceGuard: false`). Before the first step the phase
 * measures its starting loss on the training examples (and on the validation data, when there is
 * some) in inference mode, and keeps a checkpoint of the weights it trains. Then:
 * - a step whose loss is not finite, or after which the smoothed training loss (an exponential
 *   average of the batches' losses, {@link SMOOTHING}) is above the limit ({@link divergenceLimit})
 *   set by the starting loss, is a divergence: the phase puts back its best checkpoint, goes on at
 *   a tenth of the rate, with a fresh optimizer state, and reports it. After
 *   {@link MAX_DIVERGENCES} of them it ends there, on the checkpoint (`stop: 'diverged'`);
 * - after each epoch, a new best becomes the checkpoint: the validation loss when there is one,
 *   else the loss of the weights now on the training examples of the start's measurement,
 *   measured every few epochs ({@link PROBE_SPACING}); a validation loss above the limit is a
 *   divergence too;
 * - at the end, a phase whose last validation loss is worse than its starting one, or whose
 *   output is no longer finite, ends on its best checkpoint instead (`weights: 'best'`). So a
 *   phase never returns a model worse, on its own validation data, than the one it started from.
 *
 * Two earlier forms of the guard were wrong on a real model (a linear head on a 384-channel tap
 * of MobileNetV2): one batch's loss above the limit counted as a divergence, though a fresh head
 * at Adam 1e-3 overshoots for a few steps and recovers; and the checkpoint criterion was the
 * epoch's mean of the losses measured before each update, which says nothing of the weights
 * after the last one, so "best" weights were often worse than the start. That head ended at
 * chance (33.3 %); with the smoothed loss and a measured checkpoint it reaches the accuracy the
 * other taps do (docs/results/pretrained-taps.json).
 *
 * A model from random weights is judged on its training losses alone (its inference-mode losses
 * mean nothing until its BatchNorm statistics are re-estimated, after the phase): its limit starts
 * from ln(classes), its checkpoints follow the epoch's mean training loss, and it never ends on a
 * checkpoint for a loss measured in inference mode unless that loss is not finite.
 *
 * A collapse the guard is made for, measured (issue 22): a partial fine-tune of a pretrained 224²
 * MobileNetV2 at Adam 1e-3 went from loss 0.098 to 2.1 to 10.7 in two steps, and stayed there.
 */
import { either as E } from 'fp-ts';
import type { InputSet, PhaseSession } from '../core/backbone';
import { aborted, backendFailure, described, invalidArgument, thrownMessage, type TransferError } from '../core/errors';
import { deriveSeed, permutation, seededRandom } from '../core/random';
import type { Phase } from '../core/recipe';
import { yieldToEventLoop } from '../core/yieldToEventLoop';
import type { CheckedOptions, Plan, Progress } from './plan';

/** One epoch's numbers. */
export interface EpochReport {
  /** Mean training loss over the epoch's batches (nats), each measured before its update; a batch the guard caught is left out. */
  readonly loss: number;
  /** Training accuracy over the same batches, in [0, 1]. */
  readonly accuracy: number;
  /** Loss on the validation data after the epoch, when there are any. */
  readonly validationLoss?: number;
  /** Accuracy on the validation data after the epoch, when there are any. */
  readonly validationAccuracy?: number;
}

/** A divergence the guard caught: where, the loss that crossed the limit, and the rate the phase went on at. */
export interface Divergence {
  /** The step (0-based, within the phase) whose loss crossed the limit; after an epoch, the epoch's last step. */
  readonly step: number;
  /** Whether the smoothed training loss or the validation loss crossed it. */
  readonly on: 'training' | 'validation';
  /** The loss that crossed it: the smoothed training loss, or the validation loss (NaN or ±Infinity when not finite). */
  readonly loss: number;
  /** The limit it crossed: the phase's starting loss plus the larger of itself and ln(classes). */
  readonly limit: number;
  /** The learning rate the phase went on at, from its best checkpoint; the last rate when the guard gave up. */
  readonly learningRate: number;
}

/** How many divergences a phase survives: the next one ends it on its best checkpoint. */
export const MAX_DIVERGENCES = 3;

/** What the learning rate is multiplied by after each divergence. */
export const DIVERGENCE_RATE_FACTOR = 0.1;

/**
 * The loss above which the smoothed training loss (or the validation loss) counts as diverged: the phase's starting loss plus the larger of
 * itself and ln(classes), the loss of a uniform guess. A phase that starts well (a trained head,
 * loss 0.1 on 3 classes: limit 1.2) is caught once it does worse than guessing; one that starts
 * from a random head (loss ≈ ln 3, limit ≈ 2.2) has room for the noise of its first steps.
 */
export const divergenceLimit = (startLoss: number, classes: number): number => startLoss + Math.max(startLoss, Math.log(classes));

/** Training diverged: the loss is not finite and the guard is off, or it is not finite from the start. */
export const diverged = (when: string): TransferError => backendFailure('a training step', new Error(`the loss ${when} is not finite (training diverged: try a lower learning rate)`));

/** Calls the caller's progress callback; a throw from it ends the run with an error that says so. */
const report = <X>(options: CheckedOptions<X>, progress: Progress): E.Either<TransferError, void> => {
  try {
    options.onProgress?.(progress);
    return E.right(undefined);
  } catch (thrown) {
    return E.left(invalidArgument('options.onProgress', 'a progress callback that returns', described(`one that threw (${thrownMessage(thrown)})`)));
  }
};

/** Mean loss and accuracy over examples of a set, evaluated a batch at a time (so memory holds one batch). */
const evaluateAll = async (session: PhaseSession, set: InputSet, indices: Int32Array, batchSize: number): Promise<E.Either<TransferError, { loss: number; accuracy: number }>> => {
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < indices.length; start += batchSize) {
    const outcome = await session.evaluate(set, indices.subarray(start, start + batchSize));
    if (E.isLeft(outcome)) return outcome;
    lossSum += outcome.right.lossSum;
    correct += outcome.right.correct;
  }
  return E.right({ loss: lossSum / indices.length, accuracy: correct / indices.length });
};

const validationOutcome = async <X>(session: PhaseSession, p: Plan<X>): Promise<E.Either<TransferError, { loss: number; accuracy: number } | undefined>> => {
  const v = p.validation;
  if (v.kind === 'none') return E.right(undefined);
  if (v.kind === 'split') return evaluateAll(session, 'train', v.indices, p.batchSize);
  return evaluateAll(session, 'validation', Int32Array.from({ length: v.count }, (_, i) => i), p.batchSize);
};

/** At most this many training examples measure the phase's starting and final loss. */
const PROBE_EXAMPLES = 256;

/**
 * With no validation data, the checkpoint's loss is measured on the probe examples once at least
 * this many times their number have been trained on since the last measurement: a step costs
 * about three forward passes, so the measurements add about a ninth to the phase.
 */
export const PROBE_SPACING = 3;

/** The weight of each new batch loss in the smoothed training loss the guard compares with its limit. */
export const SMOOTHING = 0.5;

/** The epochs a phase runs: its own, or more when that many batches would fall short of its `minSteps`. */
const epochsOf = (phase: Phase, batchesPerEpoch: number): number =>
  phase.minSteps === undefined ? phase.epochs : Math.max(phase.epochs, Math.ceil(phase.minSteps / batchesPerEpoch));

/** The optimisation steps a phase takes on `examples` training examples in batches of `batchSize`, as {@link runEpochs} runs it without a step override. */
export const phaseSteps = (phase: Phase, examples: number, batchSize: number): number => {
  const batches = Math.ceil(examples / batchSize);
  return epochsOf(phase, batches) * batches;
};

/** The phase's time budget: its own `maxMs` or the caller's `maxPhaseMs`, whichever is less. */
const budgetOf = (phase: Phase, maxPhaseMs: number | undefined): number => Math.min(phase.maxMs ?? Infinity, maxPhaseMs ?? Infinity);

/** What a phase's epochs produced. */
export interface EpochsRun {
  readonly epochs: EpochReport[];
  readonly steps: number;
  readonly stop: 'epochs' | 'time-budget' | 'early-stopping' | 'diverged';
  readonly divergences: Divergence[];
  readonly learningRate: number;
  readonly weights: 'last' | 'best';
}

/** The guard's state through a phase. */
interface Guard {
  /** Whether losses measured in inference mode describe the model as it trains (not for a random start). */
  readonly measured: boolean;
  readonly trainLimit: number;
  /** The training loss at the start, on the probe examples (ln(classes) for a random start). */
  readonly startTrain: number;
  /** The exponential average of the batch losses since the start or the last restore. */
  smoothed: number;
  readonly validationLimit: number | undefined;
  readonly startValidation: number | undefined;
  best: number;
  rate: number;
  readonly divergences: Divergence[];
}

/**
 * Runs one phase's epochs on an open session. The signal is read before every step, so none
 * starts after it fires. With a time budget, the phase ends after the step that reaches it; the
 * epoch it cuts short is reported over the batches it ran. With early stopping and validation
 * data, it ends after the epoch that finds `patience` steps since the best validation loss. With
 * `steps`, it ends after exactly that many steps. The divergence guard is described at the top of
 * this file.
 */
export const runEpochs = async <X>(session: PhaseSession, p: Plan<X>, phase: Phase, phaseIndex: number, steps?: number): Promise<E.Either<TransferError, EpochsRun>> => {
  const { signal } = p.options;
  const epochs: EpochReport[] = [];
  const batches = Math.ceil(p.train.length / p.batchSize);
  const total = steps === undefined ? epochsOf(phase, batches) : Math.ceil(steps / batches);
  const budget = budgetOf(phase, p.options.maxPhaseMs);
  const patience = p.validation.kind === 'none' ? undefined : phase.earlyStopping;
  const probe = p.train.subarray(0, Math.min(p.train.length, PROBE_EXAMPLES));
  let guard: Guard | undefined;
  if (p.options.divergenceGuard) {
    // A model from random weights trains on batch statistics, and its moving ones are re-estimated
    // only after the phase: until then a loss measured in inference mode says nothing of it. Its
    // guard starts from ln(classes), what a random start scores, and reads only training losses.
    const measured = p.recipe.start !== 'random';
    let startLoss = Math.log(p.classes);
    let v: { loss: number } | undefined;
    if (measured) {
      const start = await evaluateAll(session, 'train', probe, p.batchSize);
      if (E.isLeft(start)) return start;
      if (!Number.isFinite(start.right.loss)) return E.left(diverged('before the first step'));
      startLoss = start.right.loss;
      const validation = await validationOutcome(session, p);
      if (E.isLeft(validation)) return validation;
      v = validation.right;
    }
    const kept = session.checkpoint();
    if (E.isLeft(kept)) return kept;
    guard = {
      measured,
      trainLimit: divergenceLimit(startLoss, p.classes),
      startTrain: startLoss,
      smoothed: startLoss,
      validationLimit: v === undefined ? undefined : divergenceLimit(v.loss, p.classes),
      startValidation: v?.loss,
      best: v?.loss ?? startLoss,
      rate: phase.learningRate,
      divergences: [],
    };
  }
  /** Puts back the best checkpoint after a divergence, at a lower rate; false once the guard gives up. */
  const recover = (g: Guard, on: Divergence['on'], step: number, loss: number, limit: number): E.Either<TransferError, boolean> => {
    const giveUp = g.divergences.length >= MAX_DIVERGENCES;
    if (!giveUp) g.rate *= DIVERGENCE_RATE_FACTOR;
    g.divergences.push({ step, on, loss, limit, learningRate: g.rate });
    g.smoothed = g.startTrain;
    const restored = session.restore(giveUp ? undefined : g.rate);
    return E.isLeft(restored) ? restored : E.right(!giveUp);
  };
  let bestStep = { loss: Infinity, step: 0 };
  const started = performance.now();
  let stop: EpochsRun['stop'] = 'epochs';
  let weights: EpochsRun['weights'] = 'last';
  let step = 0;
  let sinceProbe = 0;
  for (let epoch = 1; epoch <= total && stop === 'epochs'; epoch++) {
    const order = permutation(p.train.length, seededRandom(deriveSeed(p.seed, 1000 * (phaseIndex + 1) + epoch)));
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    for (let b = 0; b < batches; b++) {
      if (signal?.aborted === true) return E.left(aborted(`phase ${phase.name}, epoch ${epoch}, batch ${b + 1}`));
      const batch = order.slice(b * p.batchSize, (b + 1) * p.batchSize).map((i) => p.train[i]!);
      const outcome = await session.step(batch, step++);
      if (E.isLeft(outcome)) return outcome;
      const loss = outcome.right.lossSum / batch.length;
      if (guard === undefined && !Number.isFinite(loss)) return E.left(diverged('of a step'));
      if (guard !== undefined) guard.smoothed += SMOOTHING * (loss - guard.smoothed);
      if (guard !== undefined && !(guard.smoothed <= guard.trainLimit)) {
        const goOn = recover(guard, 'training', step - 1, guard.smoothed, guard.trainLimit);
        if (E.isLeft(goOn)) return goOn;
        if (!goOn.right) {
          stop = 'diverged';
          weights = 'best';
          break;
        }
      } else {
        lossSum += outcome.right.lossSum;
        correct += outcome.right.correct;
        seen += batch.length;
      }
      const progress = { phase: phase.name, phaseIndex, phases: p.recipe.phases.length, epoch, epochs: total, batch: b + 1, batches };
      const told = report(p.options, { ...progress, loss: seen === 0 ? loss : lossSum / seen, accuracy: seen === 0 ? 0 : correct / seen });
      if (E.isLeft(told)) return told;
      if (performance.now() - started >= budget) {
        stop = 'time-budget';
        break;
      }
      if (step === steps) break;
      await yieldToEventLoop();
    }
    if (signal?.aborted === true) return E.left(aborted(`phase ${phase.name}, the end of epoch ${epoch}`));
    if (stop === 'diverged') break;
    const validation = await validationOutcome(session, p);
    if (E.isLeft(validation)) return validation;
    const v = validation.right;
    epochs.push({ loss: seen === 0 ? Number.NaN : lossSum / seen, accuracy: seen === 0 ? Number.NaN : correct / seen, ...(v === undefined ? {} : { validationLoss: v.loss, validationAccuracy: v.accuracy }) });
    if (guard !== undefined) {
      if (v !== undefined && guard.validationLimit !== undefined && !(v.loss <= guard.validationLimit)) {
        const goOn = recover(guard, 'validation', step - 1, v.loss, guard.validationLimit);
        if (E.isLeft(goOn)) return goOn;
        if (!goOn.right) {
          stop = 'diverged';
          weights = 'best';
        }
        continue;
      }
      sinceProbe += seen;
      let measure = guard.measured ? v?.loss : seen === 0 ? undefined : lossSum / seen;
      if (guard.measured && measure === undefined && sinceProbe >= PROBE_SPACING * probe.length) {
        sinceProbe = 0;
        const now = await evaluateAll(session, 'train', probe, p.batchSize);
        if (E.isLeft(now)) return now;
        measure = now.right.loss;
      }
      if (measure !== undefined && measure < guard.best) {
        guard.best = measure;
        const kept = session.checkpoint();
        if (E.isLeft(kept)) return kept;
      }
    }
    if (patience !== undefined && v !== undefined && stop === 'epochs') {
      if (v.loss < bestStep.loss - (patience.minDelta ?? 0)) bestStep = { loss: v.loss, step };
      else if (step - bestStep.step >= patience.patience) stop = 'early-stopping';
    }
  }
  // The losses checked above are the ones before each update: a last update that blows the
  // weights up would otherwise go unseen. And a phase ends no worse than it started, on validation.
  const final = await evaluateAll(session, 'train', probe, p.batchSize);
  if (E.isLeft(final)) return final;
  const last = epochs[epochs.length - 1]?.validationLoss;
  // Only a validation loss says a phase made the model worse: after a converged head a fine-tune's
  // training loss can end a hair above its start (0.02 against 0.01) on a better model.
  const worse = guard?.measured === true && guard.startValidation !== undefined && last !== undefined && last > guard.startValidation;
  if (guard !== undefined && weights === 'last' && (!Number.isFinite(final.right.loss) || worse)) {
    const restored = session.restore();
    if (E.isLeft(restored)) return restored;
    weights = 'best';
    const again = await evaluateAll(session, 'train', probe, p.batchSize);
    if (E.isLeft(again)) return again;
    if (!Number.isFinite(again.right.loss)) return E.left(diverged('after the last step, and at the best checkpoint,'));
  } else if (guard === undefined && !Number.isFinite(final.right.loss)) {
    return E.left(diverged('after the last step'));
  }
  return E.right({ epochs, steps: step, stop, divergences: guard?.divergences ?? [], learningRate: guard?.rate ?? phase.learningRate, weights });
};
