/**
 * What unsupervised selection can see of an adapted model: numbers from its predictions on the
 * unlabelled target inputs alone (no target label is read).
 */
import { either as E } from 'fp-ts';
import { predictionInformation, softNeighborhoodDensity, type Matrix } from 'transferkit';

export interface Evidence {
  /** Soft neighbourhood density of the predictions (Saito et al. 2021); higher: denser clusters. */
  readonly snd: number;
  /** Mean entropy of each prediction (nats); lower: more confident. */
  readonly entropy: number;
  /** Entropy of the mean prediction (nats), ln 10 when the predicted classes are balanced. */
  readonly marginalEntropy: number;
  /** Share of target inputs whose predicted class is the source-only model's. */
  readonly agreement: number;
}

const argmax = (row: ArrayLike<number>, from: number, n: number): number => {
  let best = 0;
  for (let j = 1; j < n; j++) if (row[from + j]! > row[from + best]!) best = j;
  return best;
};

export const candidateEvidence = (p: Matrix, sourceOnly: Float32Array): Evidence => {
  const snd = softNeighborhoodDensity(p, { seed: 1 });
  const info = predictionInformation(p);
  let agree = 0;
  for (let i = 0; i < p.rows; i++) if (argmax(p.data, i * p.cols, p.cols) === argmax(sourceOnly, i * p.cols, p.cols)) agree++;
  if (E.isLeft(snd) || E.isLeft(info)) throw new Error('predictions that are not probabilities');
  return { snd: snd.right.value, entropy: info.right.entropy, marginalEntropy: info.right.marginalEntropy, agreement: agree / p.rows };
};
