/**
 * What a saved classifier carries beside its weights, so that whoever loads it can feed it images
 * and read names: its class names and its input spec. Stored as the model's user-defined metadata
 * under {@link CLASSIFIER_METADATA_KEY}.
 */
import { either as E } from 'fp-ts';
import { isRecord } from './boundary';
import { described, invalidArgument, type TransferError } from './errors';
import { checkInputSpec, type InputSpec } from './inputSpec';
import { checkClassNames } from './namedClasses';

/** The key of a saved classifier's metadata in its model.json (`userDefinedMetadata`). */
export const CLASSIFIER_METADATA_KEY = 'transferkit_classifier';

/** The format of {@link ClassifierMetadata}, for loaders to tell versions apart. */
export const CLASSIFIER_FORMAT = 1;

/** A saved classifier's own description. */
export interface ClassifierMetadata {
  /** {@link CLASSIFIER_FORMAT}. */
  readonly format: number;
  /** Its classes' names, in the order of its outputs. */
  readonly classNames: ReadonlyArray<string>;
  /** What its input is, as an image. */
  readonly input: InputSpec;
}

/**
 * Reads a classifier's metadata out of a model's user-defined metadata.
 *
 * @returns the metadata; `InvalidArgument` for a model saved without it (not by a classifier's
 * `save`), a format this version does not read, or bad class names or input spec
 */
export const readClassifierMetadata = (userDefined: unknown): E.Either<TransferError, ClassifierMetadata> => {
  const meta = isRecord(userDefined) ? userDefined[CLASSIFIER_METADATA_KEY] : undefined;
  const path = `userDefinedMetadata.${CLASSIFIER_METADATA_KEY}`;
  if (!isRecord(meta)) return E.left(invalidArgument(path, "a classifier's metadata (class names, input spec), as a classifier's save writes it", described('a model without it')));
  if (meta['format'] !== CLASSIFIER_FORMAT) return E.left(invalidArgument(`${path}.format`, `format ${CLASSIFIER_FORMAT}`, meta['format']));
  const names = checkClassNames(`${path}.classNames`, meta['classNames']);
  if (E.isLeft(names)) return names;
  const input = checkInputSpec(`${path}.input`, meta['input']);
  if (E.isLeft(input)) return input;
  return E.right({ format: CLASSIFIER_FORMAT, classNames: names.right, input: input.right });
};
