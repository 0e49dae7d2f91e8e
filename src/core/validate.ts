/**
 * Small argument checks shared by every factory. Each returns the value unchanged on success, or
 * an {@link InvalidArgument} naming the path, what was expected and what came.
 */
import { either as E } from 'fp-ts';
import { invalidArgument, type TransferError } from './errors';

type Check<A> = (path: string, value: unknown) => E.Either<TransferError, A>;

const check =
  <A>(expected: string, ok: (value: unknown) => value is A): Check<A> =>
  (path, value) =>
    ok(value) ? E.right(value) : E.left(invalidArgument(path, expected, value));

const isNumber = (v: unknown): v is number => typeof v === 'number';

/** A finite number (not NaN, not ±Infinity). */
export const finiteNumber: Check<number> = check('a finite number', (v): v is number => isNumber(v) && Number.isFinite(v));

/** An integer ≥ 0. */
export const nonNegativeInteger: Check<number> = check(
  'a non-negative integer',
  (v): v is number => isNumber(v) && Number.isInteger(v) && v >= 0,
);

/** A finite number ≥ 0, such as a penalty or a tolerance. */
export const nonNegativeNumber: Check<number> = check('a finite number ≥ 0', (v): v is number => isNumber(v) && Number.isFinite(v) && v >= 0);

/** An integer ≥ 1. */
export const positiveInteger: Check<number> = check(
  'a positive integer',
  (v): v is number => isNumber(v) && Number.isInteger(v) && v >= 1,
);

/** A number > 0 and finite. */
export const positiveNumber: Check<number> = check(
  'a finite number > 0',
  (v): v is number => isNumber(v) && Number.isFinite(v) && v > 0,
);

/** A number in the closed interval [0, 1]. */
export const unitInterval: Check<number> = check(
  'a number in [0, 1]',
  (v): v is number => isNumber(v) && v >= 0 && v <= 1,
);

/** A number in the half-open interval [0, 1). */
export const unitIntervalOpenAbove: Check<number> = check(
  'a number in [0, 1)',
  (v): v is number => isNumber(v) && v >= 0 && v < 1,
);

/** A number in the half-open interval (0, 1]. */
export const unitIntervalOpenBelow: Check<number> = check(
  'a number in (0, 1]',
  (v): v is number => isNumber(v) && v > 0 && v <= 1,
);

/** A number in the open interval (0, 1). */
export const openUnitInterval: Check<number> = check(
  'a number in (0, 1)',
  (v): v is number => isNumber(v) && v > 0 && v < 1,
);

/** A string with at least one non-space character. */
export const nonEmptyString: Check<string> = check(
  'a non-empty string',
  (v): v is string => typeof v === 'string' && v.trim().length > 0,
);

/** A boolean. */
export const boolean: Check<boolean> = check('true or false', (v): v is boolean => typeof v === 'boolean');

/** Checks every item of an array with `item`, stopping at the first failure; paths are `path[i]`. */
export const everyItem =
  <A>(item: Check<A>) =>
  (path: string, values: ReadonlyArray<unknown>): E.Either<TransferError, ReadonlyArray<A>> => {
    const out: A[] = [];
    for (const [i, v] of values.entries()) {
      const r = item(`${path}[${i}]`, v);
      if (E.isLeft(r)) return r;
      out.push(r.right);
    }
    return E.right(out);
  };

/** An integer (any sign), such as a seed. */
export const integer: Check<number> = check('an integer', (v): v is number => isNumber(v) && Number.isInteger(v));

/** An integer from `min` to `max`, inclusive. */
export const integerIn = (min: number, max: number): Check<number> =>
  check(`an integer from ${min} to ${max}`, (v): v is number => isNumber(v) && Number.isInteger(v) && v >= min && v <= max);

/** One of a few strings, listed in the error. */
export const oneOf = <S extends string>(choices: ReadonlyArray<S>): Check<S> =>
  check(choices.map((c) => `'${c}'`).join(' or '), (v): v is S => typeof v === 'string' && (choices as ReadonlyArray<string>).includes(v));

/** An optional value: `undefined` passes as `fallback`, anything else must pass `item`. */
export const optional =
  <A>(item: Check<A>, fallback: A) =>
  (path: string, value: unknown): E.Either<TransferError, A> =>
    value === undefined ? E.right(fallback) : item(path, value);

/** An `AbortSignal` (anything with a boolean `aborted`, so a signal from another realm or a polyfill passes). */
export const abortSignal: Check<AbortSignal> = check(
  'an AbortSignal',
  (v): v is AbortSignal => typeof v === 'object' && v !== null && typeof (v as { aborted?: unknown }).aborted === 'boolean',
);
