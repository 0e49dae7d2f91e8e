/**
 * Checks of a saved model read from elsewhere (a file, a URL, a browser's storage), made on its
 * JSON before any of it reaches the tensor library: a model file is input like any other, and one
 * crafted (or damaged) can name files outside its directory, declare weights of terabytes, or carry
 * keys that reach JavaScript's object prototypes. Plain data in, an `Either` out; no tensor.
 */
import { either as E } from 'fp-ts';
import { isRecord } from './boundary';
import { described, invalidArgument, shapeMismatch, type TransferError } from './errors';

/** Limits on what a saved model may declare. */
export interface ModelFileLimits {
  /** Bytes of all weights together. Default {@link MAX_WEIGHT_BYTES}. */
  readonly maxWeightBytes?: number;
  /** Values in one weight. Default {@link MAX_WEIGHT_VALUES}. */
  readonly maxWeightValues?: number;
}

/** 1 GiB of weights: more than any model transferkit's backends can train in a browser (the wasm heap is 4 GB). */
export const MAX_WEIGHT_BYTES = 2 ** 30;

/** 2^28 values in one weight (1 GiB of float32). */
export const MAX_WEIGHT_VALUES = 2 ** 28;

/** How deep a model's JSON may nest: Keras topologies nest about 10 levels; 64 leaves room and bounds the walk. */
export const MAX_JSON_DEPTH = 64;

/** Keys that reach an object's prototype when a parser or a merge copies them. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Bytes of one stored value, by dtype (and by quantization dtype, which replaces it on disk). */
const BYTES: Readonly<Record<string, number>> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** One weight as a model file declares it: name, shape, dtype, and the bytes it takes. */
export interface DeclaredWeight {
  /** Its name. */
  readonly name: string;
  /** Its shape. */
  readonly shape: ReadonlyArray<number>;
  /** Bytes it takes in the weight data. */
  readonly bytes: number;
}

/**
 * The first key of a JSON value (at any depth) that could reach a prototype (`__proto__`,
 * `constructor`, `prototype`), as a path; or an error for a value nested past {@link MAX_JSON_DEPTH}.
 */
export const checkJsonKeys = (path: string, value: unknown): E.Either<TransferError, void> => {
  const stack: Array<{ readonly at: string; readonly v: unknown; readonly depth: number }> = [{ at: path, v: value, depth: 0 }];
  while (stack.length > 0) {
    const { at, v, depth } = stack.pop()!;
    if (!isRecord(v)) continue;
    if (depth > MAX_JSON_DEPTH) return E.left(invalidArgument(at, `JSON nested at most ${MAX_JSON_DEPTH} levels deep`, described('deeper nesting')));
    for (const key of Object.keys(v)) {
      if (PROTOTYPE_KEYS.has(key)) return E.left(invalidArgument(`${at}.${key}`, `model JSON without the keys ${[...PROTOTYPE_KEYS].join(', ')} (they reach JavaScript's object prototypes)`, described(`the key ${JSON.stringify(key)}`)));
      stack.push({ at: Array.isArray(v) ? `${at}[${key}]` : `${at}.${key}`, v: (v as Record<string, unknown>)[key], depth: depth + 1 });
    }
  }
  return E.right(undefined);
};

/**
 * Whether a weight file's path stays in the model's own directory: relative, without a `..`
 * segment, a drive letter, a URL scheme, a NUL, or a leading slash or backslash.
 */
export const isContainedPath = (p: unknown): p is string =>
  typeof p === 'string' &&
  p.length > 0 &&
  p.length <= 1024 &&
  !p.includes('\0') &&
  !/^[\\/]/.test(p) &&
  !/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(p) &&
  !p.split(/[\\/]/).some((segment) => segment === '..');

/** Checks a weight manifest's paths: each a path inside the model's directory ({@link isContainedPath}). */
export const checkManifestPaths = (manifest: unknown): E.Either<TransferError, ReadonlyArray<string>> => {
  if (!Array.isArray(manifest)) return E.left(invalidArgument('weightsManifest', 'an array of weight groups { paths, weights }', manifest));
  const paths: string[] = [];
  for (const [g, group] of manifest.entries()) {
    const groupPaths = isRecord(group) ? group['paths'] : undefined;
    if (!Array.isArray(groupPaths)) return E.left(invalidArgument(`weightsManifest[${g}].paths`, 'an array of file paths', groupPaths));
    for (const [i, p] of groupPaths.entries()) {
      if (!isContainedPath(p)) return E.left(invalidArgument(`weightsManifest[${g}].paths[${i}]`, "a relative path inside the model's directory (no '..' segment, no absolute path, no URL)", p));
      paths.push(p);
    }
  }
  return E.right(paths);
};

/**
 * Checks a model's weight specs: each with a name, a shape of non-negative integers within the
 * limits, and a dtype a LayersModel stores (float32, int32, bool, or quantized uint8, uint16,
 * float16); their bytes together within the limit.
 *
 * @returns each weight with its bytes, in order
 */
export const checkWeightSpecs = (specs: unknown, limits: ModelFileLimits = {}): E.Either<TransferError, ReadonlyArray<DeclaredWeight>> => {
  const maxBytes = limits.maxWeightBytes ?? MAX_WEIGHT_BYTES;
  const maxValues = limits.maxWeightValues ?? MAX_WEIGHT_VALUES;
  if (!Array.isArray(specs)) return E.left(invalidArgument('weightSpecs', 'an array of weight specs { name, shape, dtype }', specs));
  const out: DeclaredWeight[] = [];
  let total = 0;
  for (const [i, spec] of specs.entries()) {
    const at = `weightSpecs[${i}]`;
    if (!isRecord(spec) || typeof spec['name'] !== 'string') return E.left(invalidArgument(at, 'a weight spec { name, shape, dtype }', spec));
    const shape = spec['shape'];
    if (!Array.isArray(shape) || shape.length > 8 || !shape.every((d) => Number.isInteger(d) && d >= 0)) return E.left(invalidArgument(`${at}.shape`, 'a shape: at most 8 non-negative integers', shape));
    let values = 1;
    for (const d of shape as number[]) values *= d;
    if (values > maxValues) return E.left(invalidArgument(`${at}.shape`, `a weight of at most ${maxValues} values`, described(`[${shape.join(', ')}]: ${values} values`)));
    const quantization = spec['quantization'];
    const stored = isRecord(quantization) ? quantization['dtype'] : spec['dtype'];
    const size = typeof stored === 'string' && Object.hasOwn(BYTES, stored) ? BYTES[stored]! : undefined;
    if (size === undefined || !['float32', 'int32', 'bool'].includes(spec['dtype'] as string)) {
      return E.left(invalidArgument(`${at}.dtype`, "'float32', 'int32' or 'bool' (quantized as 'uint8', 'uint16' or 'float16')", isRecord(quantization) ? stored : spec['dtype']));
    }
    total += values * size;
    if (total > maxBytes) return E.left(invalidArgument('weightSpecs', `weights of at most ${maxBytes} bytes in all`, described(`more than that by ${spec['name']}`)));
    out.push({ name: spec['name'], shape: shape as number[], bytes: values * size });
  }
  return E.right(out);
};

/** Checks that the weight data holds exactly the bytes the specs declare. */
export const checkWeightBytes = (weights: ReadonlyArray<DeclaredWeight>, byteLength: number): E.Either<TransferError, void> => {
  const declared = weights.reduce((n, w) => n + w.bytes, 0);
  return declared === byteLength ? E.right(undefined) : E.left(shapeMismatch('weightData', `${declared} bytes (what the ${weights.length} weight specs' shapes and dtypes declare)`, `${byteLength} bytes`));
};

/**
 * The class names of every layer in a Keras-style model topology (`model_config` or the topology
 * itself: `config.layers[].class_name`, nested models included), with the path of each.
 */
export const layerClasses = (topology: unknown): ReadonlyArray<{ readonly path: string; readonly className: unknown }> => {
  const found: Array<{ readonly path: string; readonly className: unknown }> = [];
  const visit = (model: unknown, at: string, depth: number): void => {
    if (!isRecord(model) || depth > MAX_JSON_DEPTH) return;
    const config = model['config'];
    const layers = isRecord(config) ? config['layers'] : Array.isArray(config) ? config : undefined;
    if (!Array.isArray(layers)) return;
    for (const [i, layer] of layers.entries()) {
      const here = `${at}.layers[${i}]`;
      const className = isRecord(layer) ? layer['class_name'] : undefined;
      found.push({ path: here, className });
      if (isRecord(layer) && isRecord(layer['config']) && Array.isArray((layer['config'] as Record<string, unknown>)['layers'])) visit(layer, here, depth + 1);
    }
  };
  const root = isRecord(topology) && isRecord(topology['model_config']) ? topology['model_config'] : topology;
  visit(root, 'modelTopology', 0);
  return found;
};

/** Checks that every layer class in a topology is one `known` accepts; the error lists the known ones. */
export const checkLayerClasses = (topology: unknown, known: ReadonlySet<string>): E.Either<TransferError, void> => {
  const layers = layerClasses(topology);
  if (layers.length === 0) return E.left(invalidArgument('modelTopology', 'a LayersModel topology with its layers (config.layers)', described('none found')));
  for (const { path, className } of layers) {
    if (typeof className !== 'string' || !known.has(className)) {
      const names = [...known].sort();
      const shown = names.length <= 40 ? names.join(', ') : `${names.slice(0, 40).join(', ')}, … (${names.length} in all)`;
      return E.left(invalidArgument(`${path}.class_name`, `a class tfjs-layers has registered: ${shown}`, className));
    }
  }
  return E.right(undefined);
};
