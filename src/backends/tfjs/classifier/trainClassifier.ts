/**
 * Images and their class names in, an image classifier out: the backbone's input spec
 * preprocesses the images, `transfer` runs the recipe, and the classifier keeps the names.
 */
import * as tf from '@tensorflow/tfjs-core';
import { either as E, type taskEither as TE } from 'fp-ts';
import { guardTask, isRecord, optionsAt } from '../../../core/boundary';
import { invalidArgument, shapeMismatch, within, type TransferError } from '../../../core/errors';
import { idsFromNames } from '../../../core/namedClasses';
import type { Recipe } from '../../../core/recipe';
import { boolean, optional } from '../../../core/validate';
import { featureExtractor } from '../../../strategy/presets';
import { transfer, type TransferOptions, type TransferResult } from '../../../strategy/transfer';
import type { TfjsBackbone } from '../backbone';
import { imageBatch, specOf, type ImageSource } from '../images/imageBatch';
import type { TfjsInputs } from '../inputRows';
import type { TfjsTransferModel } from '../transferModel';
import { makeClassifier, type ImageClassifier } from './classifier';

/** Labelled images: one class name per image. */
export interface NamedImages {
  /** The images (see `imageBatch` for what counts as one). */
  readonly images: ReadonlyArray<ImageSource>;
  /** Each image's class, by name. */
  readonly labels: ReadonlyArray<string>;
}

/** Options of {@link trainClassifier}: those of `transfer` (but `classes`), and these. */
export interface TrainClassifierOptions extends Omit<TransferOptions<TfjsInputs>, 'classes' | 'validation'> {
  /** The recipe to run. Default: `featureExtractor` (a linear head on the top features, backbone frozen). */
  readonly recipe?: Recipe;
  /** The classes, in the order of the model's outputs. Default: the labels' names in the order they first appear. */
  readonly classNames?: ReadonlyArray<string>;
  /** Resize and convert images that do not fit the backbone's input spec (see `imageBatch`). Default `false`. */
  readonly resize?: boolean;
  /** A seeded random fraction in (0, 1) of the images held out for validation. Default: none. */
  readonly validation?: {
    /** The held-out fraction, in (0, 1). */
    readonly split: number;
  };
}

/** An image classifier trained here, with the history of its training. */
export interface TrainedClassifier extends ImageClassifier {
  /** What `transfer` reported: the recipe, the tap, each phase's epochs and timings (the model is the classifier's). */
  readonly training: Omit<TransferResult<TfjsTransferModel>, 'model'>;
}

/**
 * Trains an image classifier on a backbone from images labelled by name: the images are
 * preprocessed as the backbone's input spec says, the recipe runs through `transfer` (the source
 * model is never changed), and the classifier keeps the class names and the input spec, in memory
 * and in what it saves.
 *
 * @param backbone - a backbone with an input spec: fromLayersModel or fromGraphModel with `input`
 * (or `inputRange`)
 * @param data - the images and their class names
 * @param options - the recipe (default `featureExtractor`), the class order, `resize`, and any
 * option of `transfer`
 * @returns the classifier (the caller disposes it); `InvalidArgument` for a backbone without an
 * input spec, labels that are not names, repeated `classNames`; `ShapeMismatch` for as many labels
 * as images, or an image that does not fit without `resize`; any error of `transfer`
 *
 * @example
 * ```ts
 * import { either as E, taskEither as TE, function as F } from 'fp-ts';
 * import { fromLayersModel, trainClassifier, type ImageSource } from 'transferkit/tfjs';
 * import type * as tfl from '@tensorflow/tfjs-layers';
 *
 * export const teach = (model: tfl.LayersModel, images: ImageSource[], labels: string[]) =>
 *   F.pipe(
 *     TE.fromEither(fromLayersModel(model, { input: { range: [-1, 1] } })),
 *     TE.chain((backbone) => trainClassifier(backbone, { images, labels }, { resize: true })),
 *     TE.tap((classifier) => TE.fromIO(() => console.log(classifier.classNames))),
 *   );
 * ```
 * @function
 */
export const trainClassifier = guardTask('trainClassifier', (backbone: TfjsBackbone, data: NamedImages, options?: TrainClassifierOptions): TE.TaskEither<TransferError, TrainedClassifier> => async () => {
  const spec = specOf('backbone', backbone);
  if (E.isLeft(spec)) return spec;
  const given = optionsAt('options', options);
  if (E.isLeft(given)) return given;
  const { recipe = featureExtractor, classNames, resize: resizeOption, ...transferOptions } = given.right;
  const resize = optional(boolean, false)('options.resize', resizeOption);
  if (E.isLeft(resize)) return resize;
  if (!isRecord(data) || !Array.isArray(data.images) || !Array.isArray(data.labels)) return E.left(invalidArgument('data', 'labelled images { images, labels }: arrays, one class name per image', data));
  if (data.labels.length !== data.images.length) return E.left(shapeMismatch('data.labels', `${data.images.length} labels (one per image)`, `${data.labels.length}`));
  const named = idsFromNames(data.labels, classNames);
  if (E.isLeft(named)) return E.left('path' in named.left && named.left.path.startsWith('labels') ? within('data', named.left) : named.left);
  const x = imageBatch(spec.right, data.images, { resize: resize.right });
  if (E.isLeft(x)) return x;
  try {
    const names = named.right.classNames;
    const result = await transfer(backbone, recipe, { x: x.right, y: named.right.ids }, { ...transferOptions, classes: names.length })();
    if (E.isLeft(result)) return result;
    const { model, ...training } = result.right;
    const classifier = makeClassifier({
      classNames: names,
      inputSpec: spec.right,
      predict: (input: tf.Tensor) => model.predict(input)(),
      save: (handler) => model.save(handler)(),
      dispose: () => model.dispose(),
    });
    return E.right(Object.assign(classifier, { training }));
  } finally {
    x.right.dispose();
  }
});
