import { either as E } from 'fp-ts';
import { guard } from '../core/boundary';
import type { TransferError } from '../core/errors';
import type { Matrix } from '../core/matrix';
import { checkProbabilities } from './checks';

/** Result of {@link predictionInformation}. */
export interface PredictionInformation {
  /** Entropy of the mean prediction minus the mean entropy of the predictions (nats), from −ln k to ln k. */
  readonly value: number;
  /** Entropy of the mean prediction (nats): ln k when the predicted classes are balanced, 0 when all collapse onto one. */
  readonly marginalEntropy: number;
  /** Mean entropy of each prediction (nats): 0 when every prediction is certain. */
  readonly entropy: number;
  /** A larger value is better: confident predictions spread over the classes. */
  readonly higherIsBetter: true;
}

/**
 * The mutual information between inputs and predicted classes under a model's predictions on
 * unlabelled inputs, I = H(E[p]) − E[H(p)]: high when each prediction is confident and the
 * classes are used evenly; low for a model unsure of everything, and for one that puts everything
 * in one class. A validator of adapted models that reads no target label.
 *
 * @remarks The information-maximisation objective of Shi & Sha ("Information-Theoretical Learning
 * of Discriminative Clusters for Unsupervised Domain Adaptation", ICML 2012), used as a
 * validation score by Musgrave, Belongie & Lim ("Benchmarking Validation Methods for Unsupervised
 * Domain Adaptation", 2022), where it ranked among the better validators. transferkit's adaptation
 * benchmark measured it against soft neighbourhood density (docs/adaptation.md).
 *
 * @param probabilities - class probabilities on the target inputs, one row each (at least 2)
 *
 * @example
 * ```ts
 * import { matrix, predictionInformation } from 'transferkit';
 * import { either as E } from 'fp-ts';
 *
 * const p = matrix(4, 2, new Float32Array([0.9, 0.1, 0.8, 0.2, 0.1, 0.9, 0.3, 0.7]));
 * if (E.isRight(p)) console.log(predictionInformation(p.right));
 * ```
 * @function
 */
export const predictionInformation = guard('predictionInformation', (probabilities: Matrix): E.Either<TransferError, PredictionInformation> => {
  const checked = checkProbabilities('probabilities', probabilities);
  if (E.isLeft(checked)) return checked;
  const { rows, cols, data } = checked.right;
  const mean = new Float64Array(cols);
  let entropy = 0;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = data[i * cols + j]!;
      if (v > 0) entropy -= v * Math.log(v);
      mean[j] = mean[j]! + v / rows;
    }
  }
  let marginalEntropy = 0;
  for (const v of mean) if (v > 0) marginalEntropy -= v * Math.log(v);
  return E.right({ value: marginalEntropy - entropy / rows, marginalEntropy, entropy: entropy / rows, higherIsBetter: true });
});
