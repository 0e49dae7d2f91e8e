/**
 * A backbone's input spec, from its model's input shape and what the user declared: shared by
 * every tfjs model kind.
 */
import { either as E } from 'fp-ts';
import { within, type TransferError } from '../../../core/errors';
import { inputRangeOf, inputSpecFor, type InputSpec } from '../../../core/inputSpec';

/** What a backbone knows of its input: the spec (where one can be made), and the range its inputs should lie in. */
export interface DeclaredInput {
  /** The input as an image; absent where the user said nothing that makes one. */
  readonly spec?: InputSpec;
  /** The range of values inputs should lie in: the declared `inputRange`, else the spec's. */
  readonly range?: readonly [number, number];
}

/**
 * The input a backbone declares. With `input`, a spec from it and the model's input shape (an
 * error where they disagree); with only `inputRange` and an image input of known size, a spec that
 * maps pixels onto that range; otherwise none.
 */
export const declaredInput = (modelShape: ReadonlyArray<number | null>, input: unknown, range: readonly [number, number] | undefined): E.Either<TransferError, DeclaredInput> => {
  if (input !== undefined) {
    const spec = inputSpecFor(modelShape, input, range);
    if (E.isLeft(spec)) return E.left(within('options', spec.left));
    return E.right({ spec: spec.right, range: range ?? inputRangeOf(spec.right) });
  }
  if (range === undefined) return E.right({});
  const [, h, w, c] = modelShape;
  const image = modelShape.length === 4 && h != null && w != null && (c === 1 || c === 3);
  const spec = image ? inputSpecFor(modelShape, { range }) : undefined;
  return E.right(spec !== undefined && E.isRight(spec) ? { spec: spec.right, range } : { range });
};
