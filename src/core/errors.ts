/**
 * Errors as data. Every fallible function in transferkit returns `Either<TransferError, A>`
 * (or `TaskEither` when asynchronous); nothing in the public API throws.
 *
 * Each case carries a human-readable `message` plus the values a program needs to react:
 * `expected` (what would have been accepted, naming the valid choices) and `received`
 * (what came, rendered as text so the error stays printable and serialisable).
 */

/** A value that is outside what a function accepts: a wrong type, range or shape of argument. */
export interface InvalidArgument {
  readonly _tag: 'InvalidArgument';
  /** Where the value was found, as a path into the arguments, e.g. `"similarity"` or `"labelSpace.classes[2]"`. */
  readonly path: string;
  /** What would have been accepted. */
  readonly expected: string;
  /** What came, rendered as text. */
  readonly received: string;
  /** The whole sentence: path, expected and received. */
  readonly message: string;
}

/** Two values that must agree in size or shape do not. */
export interface ShapeMismatch {
  readonly _tag: 'ShapeMismatch';
  /** Where the disagreement was found. */
  readonly path: string;
  /** The shape or size that would have been accepted. */
  readonly expected: string;
  /** The shape or size that came. */
  readonly received: string;
  /** The whole sentence. */
  readonly message: string;
}

/** The operation is valid in general but not for this model or backend (e.g. fine-tuning a frozen graph). */
export interface NotSupported {
  readonly _tag: 'NotSupported';
  /** What was asked for. */
  readonly path: string;
  /** What would have been supported. */
  readonly expected: string;
  /** What this model or backend is. */
  readonly received: string;
  readonly message: string;
}

/** Long work stopped because its `AbortSignal` fired; `where` says how far it got. */
export interface Aborted {
  readonly _tag: 'Aborted';
  /** The phase, epoch and batch at which it stopped, e.g. `"phase fine-tune, epoch 2, batch 7"`. */
  readonly where: string;
  readonly message: string;
}

/** The tensor library threw; the library's own message is kept in `cause`. */
export interface BackendFailure {
  readonly _tag: 'BackendFailure';
  /** What transferkit was doing, e.g. `"copying the source model"`. */
  readonly operation: string;
  /** The thrown error's message. */
  readonly cause: string;
  readonly message: string;
}

/** Every error transferkit returns. Switch on `_tag`. */
export type TransferError = InvalidArgument | ShapeMismatch | NotSupported | Aborted | BackendFailure;

const DESCRIBED: unique symbol = Symbol('transferkit.described');

/** A value already described in words, rendered verbatim by {@link describeValue}. */
export interface Described {
  readonly [DESCRIBED]: string;
}

/**
 * Marks text that describes a value which cannot be shown itself (a disposed tensor, a model), so
 * error messages print it as is rather than quoted.
 */
export const described = (text: string): Described => ({ [DESCRIBED]: text });

const isDescribed = (value: unknown): value is Described => typeof value === 'object' && value !== null && DESCRIBED in value;

/**
 * Renders any value for an error message: short, unambiguous, never throwing.
 *
 * NaN, Infinity, -0 and `undefined` are spelled out (JSON would turn them into `null`);
 * long arrays and strings are cut.
 */
export const describeValue = (value: unknown): string => {
  if (typeof value === 'number') {
    if (Object.is(value, -0)) return '-0';
    return String(value);
  }
  if (typeof value === 'string') {
    const cut = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return JSON.stringify(cut);
  }
  if (value === undefined || value === null || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  if (typeof value === 'function') return 'a function';
  if (isDescribed(value)) return value[DESCRIBED];
  if (Array.isArray(value) || ArrayBuffer.isView(value)) {
    const items = Array.from(value as ArrayLike<unknown>);
    const shown = items.slice(0, 8).map(describeValue).join(', ');
    return `[${shown}${items.length > 8 ? `, ... (${items.length} items)` : ''}]`;
  }
  return 'an object';
};

/** Builds an {@link InvalidArgument}; `received` is rendered with {@link describeValue}. */
export const invalidArgument = (path: string, expected: string, received: unknown): TransferError => {
  const shown = describeValue(received);
  return {
    _tag: 'InvalidArgument',
    path,
    expected,
    received: shown,
    message: `${path}: expected ${expected}, received ${shown}`,
  };
};

/** Builds a {@link ShapeMismatch}; `expected` and `received` are already descriptions of shapes. */
export const shapeMismatch = (path: string, expected: string, received: string): TransferError => ({
  _tag: 'ShapeMismatch',
  path,
  expected,
  received,
  message: `${path}: expected ${expected}, received ${received}`,
});

/** Builds a {@link NotSupported}. */
export const notSupported = (path: string, expected: string, received: string): TransferError => ({
  _tag: 'NotSupported',
  path,
  expected,
  received,
  message: `${path}: not supported here; expected ${expected}, received ${received}`,
});

/** Builds an {@link Aborted}. */
export const aborted = (where: string): TransferError => ({ _tag: 'Aborted', where, message: `aborted at ${where}` });

/** Builds a {@link BackendFailure} from anything thrown. */
export const backendFailure = (operation: string, thrown: unknown): TransferError => {
  const cause = thrown instanceof Error ? thrown.message : String(thrown);
  return { _tag: 'BackendFailure', operation, cause, message: `${operation} failed: ${cause}` };
};

/** The same error, found inside `prefix` (e.g. `target`): its path and message say so. */
export const within = (prefix: string, error: TransferError): TransferError =>
  'path' in error ? { ...error, path: `${prefix}.${error.path}`, message: `${prefix}.${error.message}` } : { ...error, message: `${prefix}: ${error.message}` };
