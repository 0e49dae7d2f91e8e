/**
 * Loads a classifier saved by an {@link ImageClassifier}'s `save`, through any tfjs IO handler,
 * checking what it reads before tfjs builds anything from it (src/core/modelFiles.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { either as E, type taskEither as TE } from 'fp-ts';
import { guardTask, isRecord, optionsAt } from '../../../core/boundary';
import { readClassifierMetadata, type ClassifierMetadata } from '../../../core/classifierMetadata';
import { backendFailure, carriedError, carry, described, invalidArgument, shapeMismatch, type TransferError } from '../../../core/errors';
import { checkJsonKeys, checkLayerClasses, checkWeightBytes, checkWeightSpecs, isContainedPath, type ModelFileLimits } from '../../../core/modelFiles';
import { nonNegativeInteger, optional } from '../../../core/validate';
import { predictedMatrix } from '../matrix';
import { checkInputs } from '../inputs';
import { defaultPredictBatch } from '../transferModel';
import { makeClassifier, type ImageClassifier } from './classifier';

/** Options of {@link loadClassifier}. */
export interface LoadClassifierOptions extends ModelFileLimits {}

/** Whether a URL is fetched over HTTP (its weight paths are then checked before each fetch). */
const isHttp = (url: string): boolean => /^https?:\/\//i.test(url);

/** The load handler a source names, or an error listing what works. */
const loadHandler = (source: unknown): E.Either<TransferError, tf.io.IOHandler> => {
  const expected = "a tfjs IO handler with load() (fileHandler(directory) of transferkit/node in Node), an http(s) URL of a model.json, or a URL tfjs has a handler for: 'indexeddb://…', 'localstorage://…' in a browser";
  if (typeof source === 'string') {
    if (isHttp(source)) {
      // tfjs fetches each weight file at its manifest path relative to the model.json: a path
      // that leaves the model's directory is refused before anything is fetched.
      const weightUrlConverter = async (path: string): Promise<string> => {
        if (!isContainedPath(path)) throw carry(invalidArgument('weightsManifest.paths', "relative paths inside the model's directory (no '..' segment, no absolute path, no URL)", path));
        return new URL(path, source).href;
      };
      return E.right(tf.io.http(source, { weightUrlConverter }));
    }
    const handlers = tf.io.getLoadHandlers(source);
    return handlers.length === 1 ? E.right(handlers[0]!) : E.left(invalidArgument('source', expected, source));
  }
  return isRecord(source) && typeof source['load'] === 'function' ? E.right(source as tf.io.IOHandler) : E.left(invalidArgument('source', expected, source));
};

/** Bytes of weight data, whether one buffer or several. */
const byteLength = (data: unknown): number | undefined => {
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (Array.isArray(data) && data.every((b) => b instanceof ArrayBuffer)) return data.reduce((n: number, b: ArrayBuffer) => n + b.byteLength, 0);
  return data === undefined ? 0 : undefined;
};

/** Every check of a classifier's artifacts, in the order the reader meets them. */
const checkArtifacts = (artifacts: unknown, limits: ModelFileLimits): E.Either<TransferError, ClassifierMetadata> => {
  if (!isRecord(artifacts)) return E.left(invalidArgument('artifacts', 'model artifacts { modelTopology, weightSpecs, weightData, userDefinedMetadata }', artifacts));
  const { modelTopology, weightSpecs, weightData, userDefinedMetadata, trainingConfig } = artifacts;
  if (!isRecord(modelTopology) || modelTopology instanceof ArrayBuffer) return E.left(invalidArgument('modelTopology', "a LayersModel's JSON topology (as a classifier's save writes it)", modelTopology instanceof ArrayBuffer ? described('a binary graph (a GraphModel)') : modelTopology));
  for (const [path, json] of [['modelTopology', modelTopology], ['userDefinedMetadata', userDefinedMetadata], ['trainingConfig', trainingConfig]] as const) {
    const keys = checkJsonKeys(path, json);
    if (E.isLeft(keys)) return keys;
  }
  const known = new Set(Object.keys(tf.serialization.SerializationMap.getMap().classNameMap));
  const classes = checkLayerClasses(modelTopology, known);
  if (E.isLeft(classes)) return classes;
  const weights = checkWeightSpecs(weightSpecs ?? [], limits);
  if (E.isLeft(weights)) return weights;
  const bytes = byteLength(weightData);
  if (bytes === undefined) return E.left(invalidArgument('weightData', 'an ArrayBuffer, or an array of them', weightData));
  const sized = checkWeightBytes(weights.right, bytes);
  if (E.isLeft(sized)) return sized;
  return readClassifierMetadata(userDefinedMetadata);
};

/** The model fits its metadata: one image input of the spec's size and channels, one output per class. */
const checkModel = (model: tfl.LayersModel, meta: ClassifierMetadata): E.Either<TransferError, void> => {
  const { height, width, channels } = meta.input;
  const input = model.inputs.length === 1 ? model.inputs[0]!.shape : undefined;
  const output = model.outputs.length === 1 ? model.outputs[0]!.shape : undefined;
  const want = `[N, ${height}, ${width}, ${channels}]`;
  if (input === undefined || input.length !== 4 || [height, width, channels].some((d, i) => input[i + 1] !== null && input[i + 1] !== d)) {
    return E.left(shapeMismatch('modelTopology', `one input of shape ${want} (the metadata's input spec)`, input === undefined ? `${model.inputs.length} inputs` : `[${input.map((d) => d ?? 'N').join(', ')}]`));
  }
  if (output === undefined || output.length !== 2 || output[1] !== meta.classNames.length) {
    return E.left(shapeMismatch('modelTopology', `one output of ${meta.classNames.length} probabilities (one per class name)`, output === undefined ? `${model.outputs.length} outputs` : `[${output.map((d) => d ?? 'N').join(', ')}]`));
  }
  return E.right(undefined);
};

/**
 * Loads a classifier that an {@link ImageClassifier}'s `save` wrote, with its class names and
 * input spec. Before tfjs builds anything, it checks what it read: weight paths that leave the
 * model's directory (`..`, absolute, a URL; through `fileHandler` of transferkit/node, or an
 * http(s) URL), byte lengths that disagree with the declared shapes, keys that reach object
 * prototypes (`__proto__`, `constructor`, `prototype`) anywhere in the topology or metadata,
 * layer classes tfjs-layers does not know, and declared weights past the limits.
 *
 * @param source - an IO handler with `load()` (`fileHandler(directory)` of transferkit/node,
 * `tf.io.fromMemory(…)`), an http(s) URL of a model.json, or a URL tfjs has a handler for
 * (`'indexeddb://name'`)
 * @param options - limits on the declared weights (defaults: 1 GiB in all, 2^28 values in one)
 * @returns the classifier (the caller disposes it), or a typed error naming what was wrong and
 * where; nothing is left behind on any path
 *
 * @example
 * ```ts
 * import { either as E } from 'fp-ts';
 * import { loadClassifier } from 'transferkit/tfjs';
 *
 * export const names = async () => {
 *   const classifier = await loadClassifier('indexeddb://my-classifier')();
 *   return E.map((c: { readonly classNames: ReadonlyArray<string> }) => c.classNames)(classifier);
 * };
 * ```
 * @function
 */
export const loadClassifier = guardTask('loadClassifier', (source: tf.io.IOHandler | string, options?: LoadClassifierOptions): TE.TaskEither<TransferError, ImageClassifier> => async () => {
  const given = optionsAt('options', options);
  if (E.isLeft(given)) return given;
  const maxWeightBytes = optional(nonNegativeInteger, undefined as number | undefined)('options.maxWeightBytes', given.right.maxWeightBytes);
  if (E.isLeft(maxWeightBytes)) return maxWeightBytes;
  const maxWeightValues = optional(nonNegativeInteger, undefined as number | undefined)('options.maxWeightValues', given.right.maxWeightValues);
  if (E.isLeft(maxWeightValues)) return maxWeightValues;
  const limits: ModelFileLimits = { ...(maxWeightBytes.right === undefined ? {} : { maxWeightBytes: maxWeightBytes.right }), ...(maxWeightValues.right === undefined ? {} : { maxWeightValues: maxWeightValues.right }) };
  const handler = loadHandler(source);
  if (E.isLeft(handler)) return handler;
  let artifacts: tf.io.ModelArtifacts;
  try {
    artifacts = await handler.right.load!();
  } catch (thrown) {
    return E.left(carriedError(thrown) ?? backendFailure('reading the model', thrown));
  }
  const meta = checkArtifacts(artifacts, limits);
  if (E.isLeft(meta)) return meta;
  let model: tfl.LayersModel;
  try {
    model = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (thrown) {
    return E.left(backendFailure('building the model', thrown));
  }
  const fits = checkModel(model, meta.right);
  if (E.isLeft(fits)) {
    model.dispose();
    return fits;
  }
  const batchSize = defaultPredictBatch(model);
  return E.right(
    makeClassifier({
      classNames: meta.right.classNames,
      inputSpec: meta.right.input,
      predict: async (x) => {
        const n = checkInputs(model, x);
        return E.isLeft(n) ? n : predictedMatrix(model, x, batchSize, 'predicting');
      },
      save: async (h) => {
        try {
          return E.right(await model.save(h));
        } catch (thrown) {
          return E.left(carriedError(thrown) ?? backendFailure('saving the classifier', thrown));
        }
      },
      dispose: () => model.dispose(),
    }),
  );
});
