/**
 * The public boundary's last line: a JavaScript caller can pass a value that throws as soon as it
 * is read — a revoked Proxy, an object whose getter throws — and no check can look at such a
 * value without reading it. Every exported function that returns an `Either` or a `TaskEither`
 * runs inside {@link guard} or {@link guardTask}, which turn such a throw into an
 * `InvalidArgument` naming the function. Everything that can be checked is checked before this
 * (null, wrong types, NaN, out-of-range values each get their own error); the boundary tests
 * assert that this error appears only for values that throw when read.
 */
import { either as E, type taskEither as TE } from 'fp-ts';
import { described, invalidArgument, thrownMessage, type TransferError } from './errors';

/** What the boundary says when reading an argument threw. */
export const UNREADABLE_EXPECTED = 'arguments that can be read (no revoked Proxy, no property getter that throws)';

/** The error for a throw while `name` read its arguments. */
export const unreadable = (name: string, thrown: unknown): TransferError =>
  invalidArgument(name, UNREADABLE_EXPECTED, described(`a value that threw when read (${thrownMessage(thrown)})`));

/**
 * `f`, with any throw turned into a `Left` (see the module comment). Returns `f`'s own type, so
 * its generics and parameter names (which the API reference shows) are kept.
 */
export const guard = <F extends (...args: never[]) => E.Either<TransferError, unknown>>(name: string, f: F): F =>
  ((...args: Parameters<F>) => {
    try {
      return f(...args);
    } catch (thrown) {
      return E.left(unreadable(name, thrown));
    }
  }) as F;

/** {@link guard} for a function that returns a `TaskEither`: a throw when it is called or run, or a rejection, becomes a `Left`. */
export const guardTask = <F extends (...args: never[]) => TE.TaskEither<TransferError, unknown>>(name: string, f: F): F =>
  ((...args: Parameters<F>) =>
    async () => {
      try {
        return await f(...args)();
      } catch (thrown) {
        return E.left(unreadable(name, thrown));
      }
    }) as F;

/** True for an object (not null): what a field can be read from. */
export const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

/** Options as given: `undefined` becomes `{}`; anything else that is not an object is an error at `path`. */
export const optionsAt = <A extends object>(path: string, value: A | undefined): E.Either<TransferError, A> =>
  value === undefined ? E.right({} as A) : isRecord(value) && !Array.isArray(value) ? E.right(value) : E.left(invalidArgument(path, 'an options object (or nothing)', value));

/**
 * For the few exported helpers that return a plain value (not an `Either`): `f()`, or `fallback`
 * when reading the argument throws. Each documents its fallback.
 */
export const quietly = <R>(fallback: R, f: () => R): R => {
  try {
    return f();
  } catch {
    return fallback;
  }
};
