import { either as E, function as F } from 'fp-ts';
import { guard, isRecord } from './boundary';
import { checkDomain, type Domain } from './domain';
import { invalidArgument, within, type TransferError } from './errors';
import { checkTask, type Task } from './task';
import { boolean } from './validate';

/** One side of a transfer problem: a domain and a task on it. */
export interface Side {
  /** The feature space and marginal P(X). */
  readonly domain: Domain;
  /** The label space and conditional P(Y | X). */
  readonly task: Task;
}

/**
 * A transfer problem (Pan & Yang 2009, Definition 3): learn the target's f_t with the help of the
 * source domain D_s and task T_s. `labels` says where labelled data exist, which fixes the learning
 * setting: target labels → inductive; source labels only → transductive; none → unsupervised.
 */
export interface TransferProblem {
  /** Where the pretrained knowledge comes from. */
  readonly source: Side;
  /** The problem to solve. */
  readonly target: Side;
  /** Whether labelled examples exist on each side. */
  readonly labels: {
    /** Labelled source examples exist. */
    readonly source: boolean;
    /** Labelled target examples exist. */
    readonly target: boolean;
  };
}

/** Arguments of {@link transferProblem}. */
export interface TransferProblemArgs {
  /** The source domain and task, where the pretrained knowledge comes from. */
  readonly source: Side;
  /** The target domain and task, the problem to solve. */
  readonly target: Side;
  /** Whether labelled examples exist on each side. Default: both `true`. */
  readonly labels?: {
    /** Labelled source examples exist. */
    readonly source: boolean;
    /** Labelled target examples exist. */
    readonly target: boolean;
  };
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
 * @function
 */
export const transferProblem = guard('transferProblem', (args: TransferProblemArgs): E.Either<TransferError, TransferProblem> => {
  if (!isRecord(args)) return E.left(invalidArgument('args', 'a transfer problem { source, target, labels? }', args));
  const labels = args.labels ?? { source: true, target: true };
  if (!isRecord(labels)) return E.left(invalidArgument('labels', '{ source: boolean, target: boolean } (or nothing)', labels));
  return F.pipe(
    E.Do,
    E.bind('source', () => checkSide('source', args.source)),
    E.bind('target', () => checkSide('target', args.target)),
    E.chainFirst(() => boolean('labels.source', labels.source)),
    E.chainFirst(() => boolean('labels.target', labels.target)),
    E.map(({ source, target }) => ({ source, target, labels: { source: labels.source, target: labels.target } })),
  );
});

/** Checks one side of a problem: a domain and a task, with paths under `path`. */
const checkSide = (path: string, value: unknown): E.Either<TransferError, Side> =>
  !isRecord(value)
    ? E.left(invalidArgument(path, 'a side { domain, task }', value))
    : F.pipe(
        E.Do,
        E.bind('domain', () => checkDomain(`${path}.domain`, value['domain'])),
        E.bind('task', () => checkTask(`${path}.task`, value['task'])),
      );

/** Checks that a value is a {@link TransferProblem} (as `transferProblem` makes one), paths under `problem`; returns a checked copy. */
export const checkProblem = (value: unknown): E.Either<TransferError, TransferProblem> => {
  if (!isRecord(value)) return E.left(invalidArgument('problem', 'a transfer problem { source, target, labels }', value));
  if (value['labels'] === undefined) return E.left(invalidArgument('problem.labels', '{ source: boolean, target: boolean }', undefined));
  return E.mapLeft((e: TransferError) => within('problem', e))(transferProblem(value as unknown as TransferProblemArgs));
};
