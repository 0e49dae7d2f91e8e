/**
 * An image classifier: a trained model with its class names and its input spec, so that images go
 * in and names come out, and a save that keeps both. Made by `trainClassifier` or `loadClassifier`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { either as E, type taskEither as TE } from 'fp-ts';
import { guardTask, isRecord, optionsAt } from '../../../core/boundary';
import { CLASSIFIER_FORMAT, CLASSIFIER_METADATA_KEY, type ClassifierMetadata } from '../../../core/classifierMetadata';
import { backendFailure, carriedError, described, invalidArgument, type TransferError } from '../../../core/errors';
import type { InputSpec } from '../../../core/inputSpec';
import type { Matrix } from '../../../core/matrix';
import { boolean, integerIn, optional } from '../../../core/validate';
import { imageBatch, type ImageSource } from '../images/imageBatch';

/** One class and how probable the classifier finds it. */
export interface Classification {
  /** The class's name. */
  readonly label: string;
  /** Its probability, in [0, 1]. */
  readonly probability: number;
}

/** Options of {@link ImageClassifier.classify}. */
export interface ClassifyOptions {
  /** How many classes to give per image, most probable first. Default: every class. */
  readonly topK?: number;
  /** Resize and convert images that do not fit the input spec (see `imageBatch`). Default `false`. */
  readonly resize?: boolean;
}

/** A classifier of images that knows its classes' names and its input. The caller disposes it. */
export interface ImageClassifier {
  /** The classes' names, in the order of the model's outputs. */
  readonly classNames: ReadonlyArray<string>;
  /** The input it takes, as an image (size, channels, how pixels become inputs). */
  readonly inputSpec: InputSpec;
  /** For each image, its classes most probable first (`topK` of them); errors as `imageBatch` gives them. */
  classify(images: ReadonlyArray<ImageSource>, options?: ClassifyOptions): TE.TaskEither<TransferError, ReadonlyArray<ReadonlyArray<Classification>>>;
  /** Class probabilities, one row per input of an already preprocessed batch (a tensor of the model's input shape). */
  predict(x: tf.Tensor): TE.TaskEither<TransferError, Matrix>;
  /**
   * Saves the model with its class names and input spec (in its metadata) through a tfjs IO
   * handler (`fileHandler(directory)` of transferkit/node, `tf.io.withSaveHandler(…)`) or a URL
   * tfjs has a handler for (`'indexeddb://name'`, `'downloads://name'`, `'localstorage://name'`).
   */
  save(handlerOrUrl: tf.io.IOHandler | string): TE.TaskEither<TransferError, tf.io.SaveResult>;
  /** Whether {@link ImageClassifier.dispose} was called. */
  readonly isDisposed: boolean;
  /** Frees the model (never a backbone it was trained on). */
  dispose(): void;
}

/** What a classifier is made of: how it predicts, how it saves its model, how it frees it. */
export interface ClassifierParts {
  readonly classNames: ReadonlyArray<string>;
  readonly inputSpec: InputSpec;
  readonly predict: (x: tf.Tensor) => Promise<E.Either<TransferError, Matrix>>;
  readonly save: (handler: tf.io.IOHandler) => Promise<E.Either<TransferError, tf.io.SaveResult>>;
  readonly dispose: () => void;
}

/** The save handler a URL names, or an error listing what works. */
const saveHandler = (handlerOrUrl: unknown): E.Either<TransferError, tf.io.IOHandler> => {
  const expected = "a tfjs IO handler with save() (fileHandler(directory) of transferkit/node in Node), or a URL tfjs has a handler for: 'indexeddb://…', 'downloads://…', 'localstorage://…' in a browser";
  if (typeof handlerOrUrl === 'string') {
    const handlers = tf.io.getSaveHandlers(handlerOrUrl);
    return handlers.length === 1 ? E.right(handlers[0]!) : E.left(invalidArgument('handlerOrUrl', expected, handlerOrUrl));
  }
  return isRecord(handlerOrUrl) && typeof handlerOrUrl['save'] === 'function' ? E.right(handlerOrUrl as tf.io.IOHandler) : E.left(invalidArgument('handlerOrUrl', expected, handlerOrUrl));
};

/** `handler`, with the classifier's metadata added to what it saves (the model's own metadata kept). */
const withMetadata = (handler: tf.io.IOHandler, meta: ClassifierMetadata): tf.io.IOHandler => ({
  save: (artifacts) => handler.save!({ ...artifacts, userDefinedMetadata: { ...(artifacts.userDefinedMetadata ?? {}), [CLASSIFIER_METADATA_KEY]: meta as unknown as object } }),
});

/** The `topK` most probable classes of each row. */
const ranked = (probs: Matrix, names: ReadonlyArray<string>, topK: number): ReadonlyArray<ReadonlyArray<Classification>> => {
  const out: Classification[][] = [];
  for (let r = 0; r < probs.rows; r++) {
    const row = Array.from(probs.data.subarray(r * probs.cols, (r + 1) * probs.cols), (probability, c) => ({ label: names[c]!, probability }));
    row.sort((a, b) => b.probability - a.probability);
    out.push(row.slice(0, topK));
  }
  return out;
};

const disposedError = (): TransferError => invalidArgument('classifier', 'a classifier that has not been disposed', described('a disposed classifier'));

/** A classifier from its parts. */
export const makeClassifier = (parts: ClassifierParts): ImageClassifier => {
  let disposed = false;
  const { classNames, inputSpec } = parts;
  const meta: ClassifierMetadata = { format: CLASSIFIER_FORMAT, classNames, input: inputSpec };
  return {
    classNames,
    inputSpec,
    get isDisposed() {
      return disposed;
    },
    classify: guardTask('classifier.classify', (images: ReadonlyArray<ImageSource>, options?: ClassifyOptions) => async () => {
      if (disposed) return E.left(disposedError());
      const given = optionsAt('options', options);
      if (E.isLeft(given)) return given;
      const topK = optional(integerIn(1, classNames.length), classNames.length)('options.topK', given.right.topK);
      if (E.isLeft(topK)) return topK;
      const resize = optional(boolean, false)('options.resize', given.right.resize);
      if (E.isLeft(resize)) return resize;
      const x = imageBatch(inputSpec, images, { resize: resize.right });
      if (E.isLeft(x)) return x;
      try {
        const probs = await parts.predict(x.right);
        return E.map((p: Matrix) => ranked(p, classNames, topK.right))(probs);
      } finally {
        x.right.dispose();
      }
    }),
    predict: guardTask('classifier.predict', (x: tf.Tensor) => async () => (disposed ? E.left(disposedError()) : parts.predict(x))),
    save: guardTask('classifier.save', (handlerOrUrl: tf.io.IOHandler | string) => async () => {
      if (disposed) return E.left(disposedError());
      const handler = saveHandler(handlerOrUrl);
      if (E.isLeft(handler)) return handler;
      try {
        return await parts.save(withMetadata(handler.right, meta));
      } catch (thrown) {
        return E.left(carriedError(thrown) ?? backendFailure('saving the classifier', thrown));
      }
    }),
    dispose: () => {
      if (disposed) return;
      disposed = true;
      parts.dispose();
    },
  };
};
