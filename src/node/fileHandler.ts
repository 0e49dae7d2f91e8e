/**
 * A tfjs IO handler for a directory on disk, for Node, where tfjs's own `file://` handler needs
 * tfjs-node (whose install downloads a binary). It writes `model.json` and `weights.bin` as
 * tfjs-node does, and reads them back, refusing weight paths that leave the directory before it
 * opens any file. Written against the shape of a tfjs IO handler, so this entry imports no tfjs.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { either as E } from 'fp-ts';
import { carry, described, invalidArgument, thrownMessage } from '../core/errors';
import { checkManifestPaths, MAX_WEIGHT_BYTES } from '../core/modelFiles';

/** A weight as a model.json's manifest declares it (tfjs's `WeightsManifestEntry`). */
export interface WeightSpec {
  /** The weight's name. */
  readonly name: string;
  /** Its shape. */
  readonly shape: number[];
  /** Its dtype once loaded. */
  readonly dtype: 'float32' | 'int32' | 'bool' | 'string' | 'complex64';
  /** How it is stored when quantised. */
  readonly quantization?: {
    /** The step between stored values. */
    readonly scale?: number;
    /** The value stored as 0. */
    readonly min?: number;
    /** The stored dtype. */
    readonly dtype: 'uint16' | 'uint8' | 'float16';
  };
}

/** What a model is made of, as tfjs's IO handlers pass it (tfjs's `ModelArtifacts`, the fields used here). */
export interface ModelFiles {
  /** The model's topology: JSON for a LayersModel. */
  modelTopology?: {} | ArrayBuffer;
  /** Its weights' names, shapes and dtypes, in the order of the weight data. */
  weightSpecs?: WeightSpec[];
  /** The weights' bytes. */
  weightData?: ArrayBuffer | ArrayBuffer[];
  /** The model's format, e.g. `'layers-model'`. */
  format?: string;
  /** What made it. */
  generatedBy?: string;
  /** What converted it, if anything. */
  convertedBy?: string | null;
  /** How it was compiled, if it was (tfjs's `TrainingConfig`). */
  trainingConfig?: {
    /** The optimizer's configuration. */
    optimizer_config: {};
    /** The loss, or one per output. */
    loss: string | string[] | { [output: string]: string };
  };
  /** Its user-defined metadata (a classifier's class names and input spec among them). */
  userDefinedMetadata?: {};
}

/** What a save reports (tfjs's `SaveResult`). */
export interface FileSaveResult {
  /** What was written. */
  modelArtifactsInfo: {
    /** When. */
    dateSaved: Date;
    /** Always JSON: a LayersModel's topology. */
    modelTopologyType: 'JSON';
    /** Characters of the topology's JSON. */
    modelTopologyBytes?: number;
    /** Characters of the weight specs' JSON. */
    weightSpecsBytes?: number;
    /** Bytes of weights.bin. */
    weightDataBytes?: number;
  };
}

/** A tfjs IO handler that saves to and loads from one directory. */
export interface FileHandler {
  /** Writes model.json and weights.bin into the directory (made if needed). */
  save(artifacts: ModelFiles): Promise<FileSaveResult>;
  /** Reads them back, refusing weight paths outside the directory before it opens any file. */
  load(): Promise<ModelFiles>;
}

/** The largest model.json read: 64 MB (Keras topologies are kilobytes to a few megabytes). */
export const MAX_MODEL_JSON_BYTES = 64 * 2 ** 20;

const MODEL_JSON = 'model.json';
const WEIGHTS_FILE = 'weights.bin';

const concatenated = (data: ArrayBuffer | ArrayBuffer[] | undefined): Uint8Array => {
  const parts = data === undefined ? [] : Array.isArray(data) ? data : [data];
  const out = new Uint8Array(parts.reduce((n, b) => n + b.byteLength, 0));
  let at = 0;
  for (const part of parts) (out.set(new Uint8Array(part), at), (at += part.byteLength));
  return out;
};

const refuse = (path: string, expected: string, received: unknown): Error => carry(invalidArgument(path, expected, received));

/**
 * A tfjs IO handler for `directory`: `save` writes `model.json` (topology, weight manifest,
 * metadata) and `weights.bin` into it, making it if needed; `load` reads them back. Pass it where
 * tfjs takes a handler: a classifier's `save` and `loadClassifier` (transferkit/tfjs), a
 * LayersModel's `save`, `tf.loadLayersModel`.
 *
 * `load` refuses, before it opens a weight file, a manifest path with a `..` segment, an absolute
 * path or a URL, a model.json over {@link MAX_MODEL_JSON_BYTES}, and weight files over 1 GiB in
 * all; `loadClassifier` returns each as a typed `InvalidArgument`.
 *
 * @param directory - where the model's files go (anything but a non-empty string: `save` and
 * `load` fail with an `InvalidArgument` that says so)
 *
 * @example
 * ```ts
 * import { fileHandler } from 'transferkit/node';
 *
 * const handler = fileHandler('./my-classifier'); // classifier.save(handler), loadClassifier(handler)
 * console.log(typeof handler.save, typeof handler.load); // function function
 * ```
 */
export const fileHandler = (directory: string): FileHandler => {
  const root = typeof directory === 'string' && directory.length > 0 ? resolve(directory) : undefined;
  const at = (): string => {
    if (root === undefined) throw refuse('directory', 'a directory path (a non-empty string)', directory);
    return root;
  };
  return {
    async save(artifacts: ModelFiles): Promise<FileSaveResult> {
      const root = at();
      if (artifacts.modelTopology instanceof ArrayBuffer) throw new Error('fileHandler saves LayersModels (a JSON topology), not binary graphs');
      const weights = concatenated(artifacts.weightData);
      const json = JSON.stringify({
        modelTopology: artifacts.modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.trainingConfig === undefined ? {} : { trainingConfig: artifacts.trainingConfig }),
        ...(artifacts.userDefinedMetadata === undefined ? {} : { userDefinedMetadata: artifacts.userDefinedMetadata }),
      });
      mkdirSync(root, { recursive: true });
      writeFileSync(join(root, WEIGHTS_FILE), weights);
      writeFileSync(join(root, MODEL_JSON), json);
      return {
        modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', modelTopologyBytes: JSON.stringify(artifacts.modelTopology ?? null).length, weightSpecsBytes: JSON.stringify(artifacts.weightSpecs ?? []).length, weightDataBytes: weights.byteLength },
      };
    },
    async load(): Promise<ModelFiles> {
      const root = at();
      const jsonPath = join(root, MODEL_JSON);
      let size: number;
      try {
        size = statSync(jsonPath).size;
      } catch (thrown) {
        throw refuse('source', `a directory with a ${MODEL_JSON}`, described(`${JSON.stringify(root)} (${thrownMessage(thrown)})`));
      }
      if (size > MAX_MODEL_JSON_BYTES) throw refuse(MODEL_JSON, `at most ${MAX_MODEL_JSON_BYTES} bytes`, described(`${size} bytes`));
      let json: Record<string, unknown>;
      try {
        json = JSON.parse(readFileSync(jsonPath, 'utf8')) as Record<string, unknown>;
      } catch (thrown) {
        throw refuse(MODEL_JSON, 'JSON', described(thrownMessage(thrown)));
      }
      if (typeof json !== 'object' || json === null || Array.isArray(json)) throw refuse(MODEL_JSON, 'a JSON object { modelTopology, weightsManifest, ... }', json);
      const manifest = json['weightsManifest'] ?? [];
      const paths = checkManifestPaths(manifest);
      if (E.isLeft(paths)) throw carry(paths.left);
      const files = paths.right.map((p) => resolve(root, p));
      const outside = files.find((f) => !f.startsWith(root + sep));
      if (outside !== undefined) throw refuse('weightsManifest', "paths inside the model's directory", outside);
      let total = 0;
      for (const f of files) {
        try {
          total += statSync(f).size;
        } catch (thrown) {
          throw refuse('weightsManifest', 'weight files that exist', described(`${JSON.stringify(f)} (${thrownMessage(thrown)})`));
        }
      }
      if (total > MAX_WEIGHT_BYTES) throw refuse('weightsManifest', `weight files of at most ${MAX_WEIGHT_BYTES} bytes in all`, described(`${total} bytes`));
      const data = concatenated(files.map((f) => {
        const b = readFileSync(f);
        return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
      }));
      const specs = (manifest as Array<{ weights?: unknown }>).flatMap((group) => (Array.isArray(group.weights) ? (group.weights as WeightSpec[]) : []));
      const { modelTopology, format, generatedBy, convertedBy, trainingConfig, userDefinedMetadata } = json as ModelFiles;
      return {
        ...(modelTopology === undefined ? {} : { modelTopology }),
        weightSpecs: specs,
        weightData: data.buffer as ArrayBuffer,
        ...(format === undefined ? {} : { format }),
        ...(generatedBy === undefined ? {} : { generatedBy }),
        ...(convertedBy === undefined ? {} : { convertedBy }),
        ...(trainingConfig === undefined ? {} : { trainingConfig }),
        ...(userDefinedMetadata === undefined ? {} : { userDefinedMetadata }),
      };
    },
  };
};
