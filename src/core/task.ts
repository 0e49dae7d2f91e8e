import { either as E } from 'fp-ts';
import { guard, isRecord } from './boundary';
import { invalidArgument, within, type TransferError } from './errors';
import { checkLabelSpace, type LabelSpace } from './labelSpace';
import { nonEmptyString } from './validate';

/**
 * A task T = {𝒴, f(·)} (Pan & Yang 2009, Definition 2): a label space and the predictive function
 * f, which from a probabilistic view is the conditional P(Y | X).
 *
 * f is learned, not given, so a task carries what can be known of it: the label space, and
 * optionally `labelling`, a name for the rule that assigns labels (e.g. `"reuters-topics-v2"`). Two
 * tasks that name the same labelling have the same P(Y | X) by declaration; otherwise whether their
 * conditionals differ is a question for measured evidence (see `classifyScenario`).
 */
export interface Task {
  /** 𝒴: what a label is. */
  readonly labelSpace: LabelSpace;
  /** A name for the labelling rule f, when one is known. */
  readonly labelling?: string;
}

/**
 * Makes a {@link Task}.
 *
 * @param labelSpace - the label space 𝒴 (as `categorical`, `binary` or `regression` make one)
 * @param labelling - optional name of the labelling rule; must be non-empty when given
 *
 * @example
 * ```ts
 * import { categorical, task } from 'transferkit';
 * import { either as E, function as F } from 'fp-ts';
 *
 * const lowDigits = F.pipe(
 *   categorical(['0', '1', '2', '3', '4']),
 *   E.chain((labels) => task(labels, 'mnist-digit-identity')),
 * );
 * ```
 * @function
 */
export const task = guard('task', (labelSpace: LabelSpace, labelling?: string): E.Either<TransferError, Task> => {
  const space = checkLabelSpace('labelSpace', labelSpace);
  if (E.isLeft(space)) return space;
  return labelling === undefined
    ? E.right({ labelSpace: space.right })
    : E.map((name: string) => ({ labelSpace: space.right, labelling: name }))(nonEmptyString('labelling', labelling));
});

/** Checks that a value is a {@link Task}: a label space and, optionally, a labelling name, with paths under `path`. */
export const checkTask = (path: string, value: unknown): E.Either<TransferError, Task> =>
  isRecord(value)
    ? E.mapLeft((e: TransferError) => within(path, e))(task(value['labelSpace'] as LabelSpace, value['labelling'] as string | undefined))
    : E.left(invalidArgument(path, 'a task { labelSpace, labelling? }', value));
