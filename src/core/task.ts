import { either as E } from 'fp-ts';
import type { TransferError } from './errors';
import type { LabelSpace } from './labelSpace';
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
 * @param labelSpace - the label space 𝒴
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
 */
export const task = (labelSpace: LabelSpace, labelling?: string): E.Either<TransferError, Task> =>
  labelling === undefined
    ? E.right({ labelSpace })
    : E.map((name: string) => ({ labelSpace, labelling: name }))(nonEmptyString('labelling', labelling));
