import { either as E, function as F } from 'fp-ts';
import type { Domain } from './domain';
import type { TransferError } from './errors';
import type { Task } from './task';
import { boolean } from './validate';

/** One side of a transfer problem: a domain and a task on it. */
export interface Side {
  readonly domain: Domain;
  readonly task: Task;
}

/**
 * A transfer problem (Pan & Yang 2009, Definition 3): learn the target's f_t with the help of the
 * source domain D_s and task T_s. `labels` says where labelled data exist, which fixes the learning
 * setting: target labels → inductive; source labels only → transductive; none → unsupervised.
 */
export interface TransferProblem {
  readonly source: Side;
  readonly target: Side;
  /** Whether labelled examples exist on each side. */
  readonly labels: { readonly source: boolean; readonly target: boolean };
}

/** Arguments of {@link transferProblem}. */
export interface TransferProblemArgs {
  /** The source domain and task, where the pretrained knowledge comes from. */
  readonly source: Side;
  /** The target domain and task, the problem to solve. */
  readonly target: Side;
  /** Whether labelled examples exist on each side. Default: both `true`. */
  readonly labels?: { readonly source: boolean; readonly target: boolean };
}

/**
 * Makes a {@link TransferProblem}.
 *
 * @example
 * ```ts
 * import { binary, domain, featureSpace, task, transferProblem, unobservedMarginal } from 'transferkit';
 * import { either as E, function as F } from 'fp-ts';
 *
 * // Sentiment of product reviews (labelled) → sentiment of tweets (unlabelled): transductive.
 * const problem = F.pipe(
 *   E.Do,
 *   E.bind('words', () => featureSpace({ id: 'bag-of-words-en', shape: [2000] })),
 *   E.bind('sentiment', () => F.pipe(binary('positive', 'negative'), E.chain((labels) => task(labels)))),
 *   E.bind('reviews', ({ words }) => domain(words, unobservedMarginal('reviews'))),
 *   E.bind('tweets', ({ words }) => domain(words, unobservedMarginal('tweets'))),
 *   E.chain(({ sentiment, reviews, tweets }) =>
 *     transferProblem({
 *       source: { domain: reviews, task: sentiment },
 *       target: { domain: tweets, task: sentiment },
 *       labels: { source: true, target: false },
 *     }),
 *   ),
 * );
 * ```
 */
export const transferProblem = (args: TransferProblemArgs): E.Either<TransferError, TransferProblem> => {
  const labels = args.labels ?? { source: true, target: true };
  return F.pipe(
    boolean('labels.source', labels.source),
    E.chain(() => boolean('labels.target', labels.target)),
    E.map(() => ({ source: args.source, target: args.target, labels: { source: labels.source, target: labels.target } })),
  );
};
