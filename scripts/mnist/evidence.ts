/**
 * Evidence for the measurements on real data (issue "Measure instead of guess"): on MNIST, with the
 * committed source model (digits 0–4), does the measured similarity order the target domains as
 * expected, and does LogME's ranking of layers agree with the accuracy of tapping each layer?
 *
 * Run: npm run evidence:measuring   (writes docs/results/measuring-mnist.md; a few minutes on 2 cores)
 * `measuringEvidence` is also called by a test on smaller samples.
 */
import * as tf from '@tensorflow/tfjs-core';
import { evaluate, headPhase, makeRecipe, measureSimilarity, rankLayers, transfer, type Recipe } from 'transferkit';
import { fromLayersModel } from 'transferkit/tfjs';
import { DOMAINS, SOURCE_DIGITS, SPLITS, take, TARGET_DIGITS, type DomainName } from './data';
import { loadSourceModel, SOURCE_TOP, unwrap } from './sourceModel';

export interface DomainEvidence {
  readonly domain: DomainName;
  readonly similarity: number;
  /** The layer the similarity was measured at (the top feature layer). */
  readonly layer: string;
  readonly proxyADistance: number;
  readonly mmd2: number;
  readonly pValue: number;
  /** Per candidate layer: LogME on the labelled target examples and the held-out accuracy of a head tapped there. */
  readonly layers: ReadonlyArray<{ readonly name: string; readonly logme: number; readonly accuracy: number }>;
  /** Kendall's τ between the LogME order and the accuracy order of the layers. */
  readonly kendallTau: number;
}

export interface EvidenceOptions {
  /** Images per digit in each unlabelled similarity sample. */
  readonly similarityPerDigit: number;
  /** Labelled target examples per digit (for LogME and for training each head). */
  readonly labelledPerDigit: number;
  /** Held-out target images per digit. */
  readonly testPerDigit: number;
  /** Epochs of each head (it trains on cached embeddings, so many are cheap). */
  readonly epochs: number;
  /** Adam learning rate of each head. */
  readonly learningRate: number;
}

/** Kendall's τ-a between two score lists over the same items: (concordant − discordant) / pairs. */
export const kendallTau = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): number => {
  let score = 0;
  let pairs = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = i + 1; j < a.length; j++) {
      score += Math.sign(a[i]! - a[j]!) * Math.sign(b[i]! - b[j]!);
      pairs++;
    }
  }
  return pairs === 0 ? 0 : score / pairs;
};

/**
 * Across domains: Kendall's τ between the measured similarity and the held-out accuracy of a frozen
 * head on the layer it was measured at — does the similarity order the domains as that head does?
 */
export const similarityTau = (results: ReadonlyArray<DomainEvidence>): number =>
  kendallTau(
    results.map((r) => r.similarity),
    results.map((r) => r.layers.find((l) => l.name === r.layer)?.accuracy ?? Number.NaN),
  );

const images = (x: Float32Array, count: number): tf.Tensor4D => tf.tensor4d(x, [count, 28, 28, 1]);

export const measuringEvidence = async (options: EvidenceOptions, log: (line: string) => void = () => undefined): Promise<DomainEvidence[]> => {
  const model = await loadSourceModel();
  const backbone = unwrap(fromLayersModel(model, SOURCE_TOP));
  const sourceSet = take(SOURCE_DIGITS, SPLITS.source.trainEnd, options.similarityPerDigit);
  const source = images(sourceSet.x, sourceSet.count);
  const out: DomainEvidence[] = [];
  try {
    for (const domain of DOMAINS) {
      // Held-out target images: the similarity sample from the start of the range, the test set from its end.
      const sample = take(TARGET_DIGITS, SPLITS.target.trainEnd, options.similarityPerDigit, domain);
      const labelled = take(TARGET_DIGITS, 0, options.labelledPerDigit, domain);
      const test = take(TARGET_DIGITS, SPLITS.target.testEnd - options.testPerDigit, options.testPerDigit, domain);
      const [target, x, testX] = [images(sample.x, sample.count), images(labelled.x, labelled.count), images(test.x, test.count)];
      try {
        const measured = unwrap(await measureSimilarity(backbone, source, target, { seed: 1 })());
        const ranked = unwrap(await rankLayers(backbone, { x, y: labelled.y })());
        const layers = [];
        for (const { layer, logme } of ranked) {
          // Exactly `options.epochs`: the default head phase's step floor (minSteps) is left out.
          const { minSteps: _floor, ...head } = headPhase;
          const phase = { ...head, epochs: options.epochs, learningRate: options.learningRate };
          const recipe: Recipe = unwrap(makeRecipe({ tap: { kind: 'layer', name: layer.name }, phases: [phase] }));
          const result = unwrap(await transfer(backbone, recipe, { x, y: labelled.y }, { seed: 1, batchSize: 25 })());
          const accuracy = unwrap(await evaluate(result.model, { x: testX, y: test.y }, 5)()).accuracy;
          result.model.dispose();
          layers.push({ name: layer.name, logme, accuracy });
        }
        const kendall = kendallTau(layers.map((l) => l.logme), layers.map((l) => l.accuracy));
        out.push({ domain, similarity: measured.similarity, layer: measured.layer, proxyADistance: measured.proxyADistance, mmd2: measured.marginalShift.value, pValue: measured.marginalShift.pValue, layers, kendallTau: kendall });
        log(`${domain}: similarity ${measured.similarity.toFixed(3)}, τ ${kendall.toFixed(2)}`);
      } finally {
        tf.dispose([target, x, testX]);
      }
    }
  } finally {
    source.dispose();
    model.dispose();
  }
  return out;
};
