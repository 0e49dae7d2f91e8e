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
  /** The case, for `switch` and `E.isLeft` narrowing. */
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
  /** The case, for `switch` and `E.isLeft` narrowing. */
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
  /** The case, for `switch` and `E.isLeft` narrowing. */
  readonly _tag: 'NotSupported';
  /** What was asked for. */
  readonly path: string;
  /** What would have been supported. */
  readonly expected: string;
  /** What this model or backend is. */
  readonly received: string;
  /** The whole sentence. */
  readonly message: string;
}

/** Long work stopped because its `AbortSignal` fired; `where` says how far it got. */
export interface Aborted {
  /** The case, for `switch` and `E.isLeft` narrowing. */
  readonly _tag: 'Aborted';
  /** The phase, epoch and batch at which it stopped, e.g. `"phase fine-tune, epoch 2, batch 7"`. */
  readonly where: string;
  /** The whole sentence. */
  readonly message: string;
}

/** The tensor library threw; the library's own message is kept in `cause`. */
export interface BackendFailure {
  /** The case, for `switch` and `E.isLeft` narrowing. */
  readonly _tag: 'BackendFailure';
  /** What transferkit was doing, e.g. `"copying the source model"`. */
  readonly operation: string;
  /** The thrown error's message. */
  readonly cause: string;
  /** The whole sentence: the operation and the cause. */
  readonly message: string;
}

/** Every error transferkit returns. Switch on `_tag`. */
export type TransferError = InvalidArgument | ShapeMismatch | NotSupported | Aborted | BackendFailure;

const DESCRIBED: unique symbol = Symbol('transferkit.described');

/** A value already described in words, rendered verbatim by {@link describeValue}. */
export interface Described {
  /** The words. */
  readonly [DESCRIBED]: string;
}

/**
 * Marks text that describes a value which cannot be shown itself (a disposed tensor, a model), so
 * error messages print it as is rather than quoted.
 */
export const described = (words: string): Described => ({ [DESCRIBED]: typeof words === 'string' ? words : describeValue(words) });

const isDescribed = (value: object): value is Described => DESCRIBED in value;

/** The items an array-like shows in a message: at most this many, then the count. */
const SHOWN_ITEMS = 8;

const describeItems = (value: ArrayLike<unknown>): string => {
  const length = value.length;
  const shown: string[] = [];
  // Only the items shown are read: a 30-million-element array costs no more than a short one.
  for (let i = 0; i < Math.min(length, SHOWN_ITEMS); i++) shown.push(describeValue(value[i]));
  return `[${shown.join(', ')}${length > SHOWN_ITEMS ? `, ... (${length} items)` : ''}]`;
};

/**
 * Renders any value for an error message: short, unambiguous, never throwing.
 *
 * NaN, Infinity, -0 and `undefined` are spelled out (JSON would turn them into `null`);
 * long arrays and strings are cut, reading only what is shown. A value that throws when looked at
 * (a revoked Proxy, a getter that throws) is `"an unreadable value"`.
 */
export const describeValue = (value: unknown): string => {
  try {
    if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
    if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
    if (value === undefined || value === null || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
    if (typeof value === 'symbol') return value.toString();
    if (typeof value === 'function') return 'a function';
    if (isDescribed(value)) return value[DESCRIBED];
    if (Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView))) return describeItems(value as unknown as ArrayLike<unknown>);
    return 'an object';
  } catch {
    return 'an unreadable value';
  }
};

/** Text for a message from anything (a path or an expectation a caller passed, a thrown value), never throwing. */
const text = (value: unknown): string => (typeof value === 'string' ? value : describeValue(value));

/** The message of anything thrown, never throwing itself. */
export const thrownMessage = (thrown: unknown): string => {
  try {
    if (thrown instanceof Error) return String(thrown.message);
  } catch {
    // fall through: an Error-like Proxy
  }
  return text(thrown);
};

/** Builds an {@link InvalidArgument}; `received` is rendered with {@link describeValue}. */
export const invalidArgument = (path: string, expected: string, received: unknown): TransferError => {
  const [where, wanted, shown] = [text(path), text(expected), describeValue(received)];
  return { _tag: 'InvalidArgument', path: where, expected: wanted, received: shown, message: `${where}: expected ${wanted}, received ${shown}` };
};

/** Builds a {@link ShapeMismatch}; `expected` and `received` are already descriptions of shapes. */
export const shapeMismatch = (path: string, expected: string, received: string): TransferError => {
  const [where, wanted, came] = [text(path), text(expected), text(received)];
  return { _tag: 'ShapeMismatch', path: where, expected: wanted, received: came, message: `${where}: expected ${wanted}, received ${came}` };
};

/** Builds a {@link NotSupported}. */
export const notSupported = (path: string, expected: string, received: string): TransferError => {
  const [where, wanted, came] = [text(path), text(expected), text(received)];
  return { _tag: 'NotSupported', path: where, expected: wanted, received: came, message: `${where}: not supported here; expected ${wanted}, received ${came}` };
};

/** Builds an {@link Aborted}. */
export const aborted = (where: string): TransferError => {
  const at = text(where);
  return { _tag: 'Aborted', where: at, message: `aborted at ${at}` };
};

/**
 * What a WebAssembly trap means for the caller. tfjs's wasm backend reports an exhausted heap as
 * one of several traps ("Aborted()", "memory access out of bounds", "table index is out of
 * bounds", measured on a 224² MobileNetV2 at too large a batch), and none says what happened.
 */
const TRAP =
  'the WebAssembly module trapped; on the wasm backend that is most often its heap (4 GB at most) running out, and a smaller batchSize needs less. A module that trapped does not compute again in this process';

/** Whether `thrown` is a WebAssembly trap; false for anything that cannot even be asked (a revoked proxy). */
const isTrap = (thrown: unknown): boolean => {
  // WebAssembly is a global of every engine transferkit runs on, but not of the ES library types.
  const trap = (globalThis as { WebAssembly?: { RuntimeError?: abstract new () => Error } }).WebAssembly?.RuntimeError;
  try {
    return trap !== undefined && thrown instanceof trap;
  } catch {
    return false;
  }
};

/**
 * What the process's first WebAssembly trap was doing: a module that trapped computes nothing
 * again, so every later failure says so (the one piece of state the errors keep; a trap is per
 * process, as the module is).
 */
let trappedWhile: string | undefined;

/** Builds a {@link BackendFailure} from anything thrown. */
export const backendFailure = (operation: string, thrown: unknown): TransferError => {
  const trap = isTrap(thrown);
  const earlier = !trap && trappedWhile !== undefined ? ` (a WebAssembly module trapped earlier in this process, while ${trappedWhile}, and does not compute again: restart the process or reload the page)` : '';
  if (trap) trappedWhile ??= text(operation);
  const [doing, cause] = [text(operation), `${thrownMessage(thrown)}${trap ? ` (${TRAP})` : earlier}`];
  return { _tag: 'BackendFailure', operation: doing, cause, message: `${doing} failed: ${cause}` };
};

/** The same error, found inside `prefix` (e.g. `target`): its path and message say so. */
export const within = (prefix: string, error: TransferError): TransferError =>
  'path' in error ? { ...error, path: `${prefix}.${error.path}`, message: `${prefix}.${error.message}` } : { ...error, message: `${prefix}: ${error.message}` };

const CARRIED: unique symbol = Symbol.for('transferkit.carriedError');

/**
 * An `Error` that carries a {@link TransferError} through an interface that can only throw (a
 * tfjs IO handler's `load`), for the caller on the other side to return as it is.
 */
export const carry = (error: TransferError): Error => Object.assign(new Error(error.message), { [CARRIED]: error });

/** The {@link TransferError} a thrown value carries (see {@link carry}), if it carries one. */
export const carriedError = (thrown: unknown): TransferError | undefined => {
  try {
    const error = typeof thrown === 'object' && thrown !== null ? (thrown as { [CARRIED]?: unknown })[CARRIED] : undefined;
    return typeof error === 'object' && error !== null && typeof (error as { _tag?: unknown })._tag === 'string' ? (error as TransferError) : undefined;
  } catch {
    return undefined;
  }
};
