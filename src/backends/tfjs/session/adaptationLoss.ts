/**
 * A phase's loss under a domain-adaptation objective (core/objective.ts): the labelled batch's
 * weighted cross-entropy, and the unlabelled batch's terms (entropy, feature alignment, DANN's
 * domain classifier), on the features the head reads. It owns the domain classifier and its
 * optimizer, freed by {@link AdaptationLoss.dispose}.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Objective } from '../../../core/objective';
import { deriveSeed } from '../../../core/random';
import { adam } from '../kernels/adam';
import { applySuffix } from '../suffix';
import { coralLoss, DomainClassifier, meanEntropy, mmdLoss, reversalWeight, weightedCrossEntropy } from './adaptationTerms';
import { countCorrect } from './steps';

/** One pass's inputs: the labelled rows (with their labels and weights), the unlabelled rows. */
export interface AdaptationBatch {
  readonly xs: tf.Tensor[];
  readonly y: tf.Tensor;
  /** One weight per labelled row. */
  readonly weights: tf.Tensor;
  /** The unlabelled rows' inputs to the trainable part; absent when the objective has no unlabelled term. */
  readonly unlabelled?: tf.Tensor[];
}

/** What the loss runs: the trainable suffix (if any) and the head, and whether BatchNorm runs on batch statistics. */
export interface AdaptationParts {
  readonly suffix: tfl.LayersModel | undefined;
  readonly head: tfl.LayersModel;
  readonly dropout: number;
  readonly classes: number;
  readonly batchStatistics: boolean;
  /** The head's input width. */
  readonly features: number;
}

/** Whether an objective reads unlabelled rows. */
export const readsUnlabelled = (o: Objective): boolean => (o.entropy ?? 0) > 0 || o.alignment !== undefined || o.adversarial !== undefined;

export class AdaptationLoss {
  readonly #domain: DomainClassifier | undefined;
  readonly #domainOptimizer: tf.Optimizer | undefined;
  readonly #domainNames: ReadonlySet<string>;

  constructor(
    private readonly parts: AdaptationParts,
    private readonly objective: Objective,
    seed: number,
  ) {
    const a = objective.adversarial;
    this.#domain = a === undefined ? undefined : new DomainClassifier(parts.features, a.hidden, deriveSeed(seed, 31));
    this.#domainOptimizer = a === undefined ? undefined : adam(a.learningRate);
    this.#domainNames = new Set(this.#domain?.variables.map((v) => v.name) ?? []);
  }

  /** Variables the loss trains besides the model's (the domain classifier's). */
  get ownVariables(): ReadonlyArray<tf.Variable> {
    return this.#domain?.variables ?? [];
  }

  /** The features (the head's input) and logits of rows, in training mode. */
  #run(xs: tf.Tensor[], seed: number): { features: tf.Tensor; logits: tf.Tensor } {
    const { suffix, head, dropout, batchStatistics } = this.parts;
    const features = suffix === undefined ? xs[0]! : applySuffix(suffix, xs, batchStatistics, seed);
    const dropped = dropout > 0 ? tf.dropout(features, dropout, undefined, seed) : features;
    return { features, logits: head.apply(dropped, { training: true }) as tf.Tensor };
  }

  /**
   * The pass's loss (before the weight penalty), reporting the labelled rows' summed loss and
   * correct count (the unlabelled terms' value per row where nothing is labelled).
   */
  loss(batch: AdaptationBatch, seed: number, step: number, report: (lossSum: number, correct: number) => void): tf.Scalar {
    const o = this.objective;
    const terms: tf.Scalar[] = [];
    const needLabelled = o.supervised > 0 || o.alignment !== undefined || o.adversarial !== undefined;
    const labelled = needLabelled ? this.#run(batch.xs, seed) : undefined;
    const n = batch.y.shape[0]!;
    if (labelled !== undefined && o.supervised > 0) terms.push(tf.mul(o.supervised, weightedCrossEntropy(labelled.logits, batch.y, this.parts.classes, batch.weights)) as tf.Scalar);
    const u = batch.unlabelled === undefined ? undefined : this.#run(batch.unlabelled, deriveSeed(seed, 1));
    if (u !== undefined) {
      if ((o.entropy ?? 0) > 0) terms.push(tf.mul(o.entropy!, meanEntropy(u.logits)) as tf.Scalar);
      if (o.alignment !== undefined && labelled !== undefined) {
        const align = o.alignment.kind === 'coral' ? coralLoss(labelled.features, u.features) : mmdLoss(labelled.features, u.features);
        terms.push(tf.mul(o.alignment.weight, align) as tf.Scalar);
      }
      if (this.#domain !== undefined && labelled !== undefined) {
        const a = o.adversarial!;
        terms.push(this.#domain.loss(labelled.features, u.features, reversalWeight(a.weight, step, a.rampSteps)));
      }
    }
    const total = terms.length === 0 ? tf.scalar(0) : (tf.addN(terms) as tf.Scalar);
    const value = total.dataSync()[0]!;
    report(value * n, labelled === undefined ? 0 : countCorrect(labelled.logits, batch.y));
    return total;
  }

  /** Applies the domain classifier's gradients with its own optimizer; returns the others. */
  applyOwn(grads: tf.NamedTensorMap): tf.NamedTensorMap {
    if (this.#domainOptimizer === undefined) return grads;
    const own: tf.NamedTensorMap = {};
    const rest: tf.NamedTensorMap = {};
    for (const [name, g] of Object.entries(grads)) (this.#domainNames.has(name) ? own : rest)[name] = g;
    this.#domainOptimizer.applyGradients(own);
    return rest;
  }

  dispose(): void {
    this.#domain?.dispose();
    this.#domainOptimizer?.dispose();
  }
}
