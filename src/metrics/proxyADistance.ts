import { either as E, function as F } from 'fp-ts';
import { guard, optionsAt } from '../core/boundary';
import type { TransferError } from '../core/errors';
import type { Matrix } from '../core/matrix';
import { permutation, seededRandom } from '../core/random';
import { integer, integerIn, nonNegativeNumber, openUnitInterval, optional } from '../core/validate';
import { checkPair } from './checks';
import { fitLogistic, stack, standardise } from './logistic';

/** Result of {@link proxyADistance}. */
export interface ProxyADistanceResult {
  /** 2(1 − 2ε), in [0, 2]: 0 when the domains cannot be told apart, 2 when perfectly separable. */
  readonly value: number;
  /** Whether a larger value is better for transfer: false here, since a larger value is a larger shift. */
  readonly higherIsBetter: false;
  /** The domain classifier's held-out balanced error ε (clipped at 0.5). */
  readonly error: number;
}

/** Options of {@link proxyADistance}. */
export interface ProxyADistanceOptions {
  /** Fraction of each sample held out to measure the error, in (0, 1). Default 0.5. */
  readonly testFraction?: number;
  /** L2 penalty of the logistic-regression domain classifier, a finite number ≥ 0. Default 1e-3. */
  readonly l2?: number;
  /** Gradient steps, an integer from 1 to {@link PAD_MAX_ITERATIONS}. Default 300. */
  readonly iterations?: number;
  /** Seeds the split, an integer. Default 0. */
  readonly seed?: number;
}

/** The most gradient steps the domain classifier takes: a bound on the work, far past convergence. */
export const PAD_MAX_ITERATIONS = 100_000;

/**
 * Proxy A-distance between two samples: train a linear classifier to tell the domains apart and
 * turn its held-out error into a distance.
 *
 * @remarks Ben-David, Blitzer, Crammer & Pereira, "Analysis of Representations for Domain
 * Adaptation", NIPS 2006: d_A ≈ 2(1 − 2ε) for the error ε of a domain classifier. The classifier
 * here is L2-regularised logistic regression on standardised features, trained on a seeded split of
 * each sample; ε is the balanced error (the mean of the two domains' error rates, so chance is 0.5
 * whatever the sample sizes), clipped at 0.5.
 *
 * @example
 * ```ts
 * import { matrix, proxyADistance } from 'transferkit';
 * import { either as E } from 'fp-ts';
 *
 * const a = matrix(6, 1, new Float32Array([0, 0.1, 0.2, 0.3, 0.4, 0.5]));
 * const b = matrix(6, 1, new Float32Array([5, 5.1, 5.2, 5.3, 5.4, 5.5]));
 * if (E.isRight(a) && E.isRight(b)) console.log(proxyADistance(a.right, b.right)); // value 2: separable
 * ```
 * @function
 */
export const proxyADistance = guard('proxyADistance', (source: Matrix, target: Matrix, optionsIn: ProxyADistanceOptions = {}): E.Either<TransferError, ProxyADistanceResult> => {
  const pair = checkPair(source, target);
  if (E.isLeft(pair)) return pair;
  const checked = F.pipe(
    optionsAt('options', optionsIn),
    E.bindTo('options'),
    E.bind('fraction', ({ options }) => openUnitInterval('options.testFraction', options.testFraction ?? 0.5)),
    E.bind('l2', ({ options }) => nonNegativeNumber('options.l2', options.l2 ?? 1e-3)),
    E.bind('iterations', ({ options }) => optional(integerIn(1, PAD_MAX_ITERATIONS), 300)('options.iterations', options.iterations)),
    E.bind('seed', ({ options }) => optional(integer, 0)('options.seed', options.seed)),
  );
  if (E.isLeft(checked)) return checked;
  const { fraction, l2, iterations, seed } = checked.right;
  const [a, b] = pair.right;
  const random = seededRandom(seed);
  const cut = (n: number): [Int32Array, Int32Array] => {
    const order = permutation(n, random);
    const held = Math.min(n - 1, Math.max(1, Math.round(fraction * n)));
    return [order.slice(held), order.slice(0, held)];
  };
  const [aTrain, aTest] = cut(a.rows);
  const [bTrain, bTest] = cut(b.rows);
  const train = stack(a, aTrain, b, bTrain);
  const test = stack(a, aTest, b, bTest);
  standardise(train, test, a.cols);
  const { w, b: bias } = fitLogistic(train, a.cols, l2, iterations);
  const wrong = [0, 0];
  for (let i = 0; i < test.n; i++) {
    let z = bias;
    for (let j = 0; j < a.cols; j++) z += w[j]! * test.x[i * a.cols + j]!;
    const domain = test.y[i]!;
    if ((z > 0 ? 1 : 0) !== domain) wrong[domain]! += 1;
  }
  const error = Math.min(0.5, (wrong[0]! / aTest.length + wrong[1]! / bTest.length) / 2);
  return E.right({ value: 2 * (1 - 2 * error), higherIsBetter: false, error });
});
