/**
 * A head on its own: saved without the backbone it was trained on, and put back on that backbone.
 * An app that already ships the pretrained model then ships only the head (a few kB instead of the
 * whole network). Only a head whose backbone never trained can be saved alone: the backbone's own
 * embedding is then what the head was trained on.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { either as E, type taskEither as TE } from 'fp-ts';
import type { LayerInfo, Pooling } from '../../core/backbone';
import { guard, guardTask, isRecord, optionsAt } from '../../core/boundary';
import { described, invalidArgument, shapeMismatch, type TransferError } from '../../core/errors';
import type { Matrix } from '../../core/matrix';
import { optional, positiveInteger } from '../../core/validate';
import type { TfjsBackbone } from './backbone';
import type { TfjsInputs } from './inputRows';
import { fromMatrix, predictedMatrix } from './matrix';
import type { Parts } from './session/parts';

/** The key of a saved head's user-defined metadata (in its model.json) that says where it attaches. */
export const HEAD_METADATA_KEY = 'transferkit_head';

/** Where a saved head attaches: the tap's name, how its activations were pooled, the head's width. */
export interface HeadMetadata {
  /** The name of the backbone layer the head reads. */
  readonly tap: string;
  /** How that layer's activations were pooled into the head's input. */
  readonly pooling: Pooling;
  /** Inputs of the head: the pooled tap's width. */
  readonly features: number;
  /** How many classes the head predicts. */
  readonly classes: number;
}

/** A saved head put back on its backbone: predicts as the whole trained model did. */
export interface AttachedHead {
  /** The backbone layer it reads. */
  readonly tap: LayerInfo;
  /** How many classes it predicts. */
  readonly classes: number;
  /** Class probabilities, one row per example: the backbone's embedding at the tap, then the head. */
  predict(inputs: TfjsInputs, options?: { readonly batchSize?: number }): TE.TaskEither<TransferError, Matrix>;
}

/**
 * The model `saveHead` writes: the pooled features → the trained head's own layers (applied once
 * more: no new weights) → a softmax, with its metadata. Built once per transfer model.
 */
export const headForExport = (parts: Parts): tfl.LayersModel => {
  const features = parts.pooled.shape[1]!;
  const input = tfl.input({ shape: [features] });
  const logits = parts.head.reduce((h, layer) => layer.apply(h) as tfl.SymbolicTensor, input);
  const probabilities = tfl.layers.softmax({ name: 'transferkit_head_softmax' }).apply(logits) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: probabilities, name: 'transferkit_head' });
  const meta: HeadMetadata = { tap: parts.tap, pooling: parts.pooling, features, classes: parts.classes };
  model.setUserDefinedMetadata({ [HEAD_METADATA_KEY]: meta });
  return model;
};

/** The width of a layer's output once pooled: its channels for average pooling (rank 3–4), every value for flatten. */
const pooledWidth = (layer: LayerInfo, pooling: Pooling): number => {
  const dims = layer.outputShape.slice(1).map((d) => d ?? Number.NaN);
  return dims.length <= 1 || pooling === 'average' ? dims[dims.length - 1]! : dims.reduce((a, b) => a * b, 1);
};

const readMetadata = (head: tfl.LayersModel): E.Either<TransferError, HeadMetadata> => {
  const all = head.getUserDefinedMetadata() as Record<string, unknown> | undefined;
  const m = all?.[HEAD_METADATA_KEY] as Partial<HeadMetadata> | undefined;
  const valid =
    isRecord(m) && typeof m.tap === 'string' && (m.pooling === 'average' || m.pooling === 'flatten') && Number.isInteger(m.features) && Number.isInteger(m.classes);
  return valid ? E.right(m as HeadMetadata) : E.left(invalidArgument('head', `a head saved by a transfer model's saveHead (its metadata '${HEAD_METADATA_KEY}' says where it attaches)`, described('a model without that metadata')));
};

/**
 * Puts a head saved by `saveHead` (and loaded with `tf.loadLayersModel`) back on the backbone it
 * was trained on. The caller keeps owning both: disposing them is theirs.
 *
 * @returns the head on the backbone; `InvalidArgument` for a model that is no saved head, or a
 * backbone without its tap layer; `ShapeMismatch` when the tap's pooled width is not the head's
 *
 * @function
 */
export const attachHead = guard('attachHead', (backbone: TfjsBackbone, head: tfl.LayersModel): E.Either<TransferError, AttachedHead> => {
  if (!isRecord(backbone) || !Array.isArray(backbone.layers) || typeof backbone.embed !== 'function') {
    return E.left(invalidArgument('backbone', 'a backbone from fromLayersModel', backbone));
  }
  if (!isRecord(head) || typeof (head as { getUserDefinedMetadata?: unknown }).getUserDefinedMetadata !== 'function') {
    return E.left(invalidArgument('head', 'a tfjs LayersModel loaded from what saveHead wrote', head));
  }
  const meta = readMetadata(head);
  if (E.isLeft(meta)) return meta;
  const { tap: name, pooling, features, classes } = meta.right;
  const tap = backbone.layers.find((l) => l.name === name);
  if (tap === undefined) return E.left(invalidArgument('backbone', `the backbone the head was trained on (with a layer '${name}')`, described('a backbone without it')));
  const width = pooledWidth(tap, pooling);
  if (width !== features) return E.left(shapeMismatch('head', `a head on ${width} features (the pooled '${name}')`, `${features} features`));
  const predict = guardTask('head.predict', (x: TfjsInputs, options?: { readonly batchSize?: number }): TE.TaskEither<TransferError, Matrix> => async () => {
    const given = optionsAt('options', options);
    if (E.isLeft(given)) return given;
    const batchSize = optional(positiveInteger, 256)('options.batchSize', given.right.batchSize);
    if (E.isLeft(batchSize)) return batchSize;
    const rows = await backbone.embed(x, tap, { pooling, batchSize: batchSize.right })();
    if (E.isLeft(rows)) return rows;
    const input = fromMatrix(rows.right);
    if (E.isLeft(input)) return input;
    try {
      return predictedMatrix(head, input.right, batchSize.right, 'predicting with the head');
    } finally {
      input.right.dispose();
    }
  });
  return E.right({ tap, classes, predict });
});
