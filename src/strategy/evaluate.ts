import { either as E, type taskEither as TE } from 'fp-ts';
import type { TransferModel } from '../core/backbone';
import { guardTask, isRecord, optionsAt } from '../core/boundary';
import { described, invalidArgument, shapeMismatch, type TransferError } from '../core/errors';
import { checkLabels } from '../core/labels';
import { optional, positiveInteger } from '../core/validate';
import type { TransferData } from './transfer';

/** Accuracy in [0, 1] and mean cross-entropy (nats) over a labelled set. */
export interface Evaluation {
  /** Share of examples whose most probable class is the true one, in [0, 1]. */
  readonly accuracy: number;
  /** Mean cross-entropy of the true class's probability, in nats. */
  readonly loss: number;
  /** How many examples were scored. */
  readonly count: number;
}

/**
 * Evaluates a trained model on labelled data: accuracy, and mean cross-entropy of the true class's
 * probability (clipped at 1e-7).
 *
 * @param classes - the number of classes the model was trained on (`result.classes`)
 * @function
 */
export const evaluate = guardTask(
  'evaluate',
  <X>(model: TransferModel<X>, data: TransferData<X>, classes: number, options?: { readonly batchSize?: number }): TE.TaskEither<TransferError, Evaluation> =>
  async () => {
    if (!isRecord(model) || typeof model.predict !== 'function') return E.left(invalidArgument('model', 'a trained transfer model (result.model of transfer)', model));
    if (model.isDisposed === true) return E.left(invalidArgument('model', 'a model that has not been disposed', described('a disposed transfer model')));
    if (!isRecord(data)) return E.left(invalidArgument('data', 'labelled data { x, y }', data));
    const given = optionsAt('options', options);
    if (E.isLeft(given)) return given;
    // Unset, the model picks its batch (the tfjs one: up to 256, fewer for large activations).
    const batchSize = optional(positiveInteger, undefined as number | undefined)('options.batchSize', given.right.batchSize);
    if (E.isLeft(batchSize)) return batchSize;
    const { x, y } = data;
    const labels = checkLabels(y, classes, false);
    if (E.isLeft(labels)) return labels;
    const probs = await model.predict(x, batchSize.right === undefined ? {} : { batchSize: batchSize.right })();
    if (E.isLeft(probs)) return probs;
    const { rows, cols, data: p } = probs.right;
    const ids = labels.right.ids;
    if (rows !== ids.length) return E.left(shapeMismatch('y', `${rows} labels (one per input)`, `${ids.length} labels`));
    if (labels.right.classes > cols) return E.left(shapeMismatch('classes', `at most ${cols} classes (the model's outputs)`, `${labels.right.classes} classes`));
    let correct = 0;
    let loss = 0;
    for (let i = 0; i < rows; i++) {
      const row = p.subarray(i * cols, (i + 1) * cols);
      let best = 0;
      for (let j = 1; j < cols; j++) if (row[j]! > row[best]!) best = j;
      if (best === ids[i]) correct++;
      loss -= Math.log(Math.min(1, Math.max(1e-7, row[ids[i]!]!)));
    }
    return E.right({ accuracy: correct / rows, loss: loss / rows, count: rows });
  },
);
