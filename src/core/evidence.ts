import { either as E, function as F } from 'fp-ts';
import { guard, isRecord } from './boundary';
import { invalidArgument, type TransferError } from './errors';
import { finiteNumber, nonEmptyString, openUnitInterval, unitInterval } from './validate';

/** The significance level used when a {@link ShiftTest} does not give one. */
export const DEFAULT_SIGNIFICANCE = 0.05;

/**
 * The outcome of a two-sample test for a distribution shift, e.g. MMD² with a permutation p-value
 * comparing source and target samples.
 *
 * The shift counts as detected when `pValue < alpha`. When it is not detected, transferkit reports
 * "no shift detected at level alpha", which is evidence of similarity at that sample size, not proof
 * of equality; the report keeps the numbers so a reader can judge.
 */
export interface ShiftTest {
  /** The test statistic's name, e.g. `"mmd2"`. */
  readonly statistic: string;
  /** The statistic's value, on the statistic's own scale. */
  readonly value: number;
  /** The p-value, in [0, 1]. */
  readonly pValue: number;
  /** The significance level in (0, 1). Default {@link DEFAULT_SIGNIFICANCE} (0.05). */
  readonly alpha?: number;
}

/**
 * Measured evidence for `classifyScenario`, one test per comparison that was measured.
 * A comparison with no evidence is reported as unknown, never assumed equal.
 */
export interface ScenarioEvidence {
  /** A test of P(X_s) = P(X_t), on samples of both domains in one feature space. */
  readonly marginal?: ShiftTest;
  /** A test of P(Y_s | X) = P(Y_t | X); needs labelled target data. */
  readonly conditional?: ShiftTest;
}

/** Checks a {@link ShiftTest}: a named statistic, a finite value, a p-value in [0, 1], alpha in (0, 1). */
export const validateShiftTest = guard('validateShiftTest', (path: string, test: ShiftTest): E.Either<TransferError, ShiftTest> => {
  const where = typeof path === 'string' ? path : 'test';
  if (!isRecord(test)) return E.left(invalidArgument(where, 'a shift test { statistic, value, pValue, alpha? }', test));
  return F.pipe(
    nonEmptyString(`${where}.statistic`, test.statistic),
    E.chain(() => finiteNumber(`${where}.value`, test.value)),
    E.chain(() => unitInterval(`${where}.pValue`, test.pValue)),
    E.chain(() => openUnitInterval(`${where}.alpha`, test.alpha ?? DEFAULT_SIGNIFICANCE)),
    E.map(() => ({ statistic: test.statistic, value: test.value, pValue: test.pValue, ...(test.alpha === undefined ? {} : { alpha: test.alpha }) })),
  );
});

/** True when the test detects a shift: p-value below its significance level. */
export const shiftDetected = (test: ShiftTest): boolean => test.pValue < (test.alpha ?? DEFAULT_SIGNIFICANCE);

/** One line that states a test's outcome with its numbers. */
export const describeShiftTest = (test: ShiftTest): string => {
  const alpha = test.alpha ?? DEFAULT_SIGNIFICANCE;
  const p = `p = ${formatP(test.pValue)}`;
  return shiftDetected(test)
    ? `${test.statistic} = ${format(test.value)}, ${p} < α = ${alpha}: shift detected`
    : `${test.statistic} = ${format(test.value)}, ${p} ≥ α = ${alpha}: no shift detected`;
};

const format = (x: number): string => (Math.abs(x) >= 1e-3 || x === 0 ? String(Number(x.toPrecision(4))) : x.toExponential(2));
const formatP = (p: number): string => (p >= 1e-3 ? String(Number(p.toPrecision(3))) : p.toExponential(1));
