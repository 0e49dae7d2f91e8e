/**
 * A new head on part of a backbone, whatever the model kind: the tap's output pooled to one vector
 * per example, seeded dense layers to one logit per class, a softmax, and the parts a phase
 * session needs. The part below the tap is the model adapter's (a copy of a LayersModel's layers,
 * a GraphModel run to a node).
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { either as E } from 'fp-ts';
import type { BuildSpec, Pooling } from '../../core/backbone';
import { shapeMismatch, type TransferError } from '../../core/errors';
import { deriveSeed } from '../../core/random';
import type { Layer, SymbolicTensor } from './graph';
import type { Parts } from './session/parts';

/** A name not used by any of `taken`: `base`, else `base_2`, `base_3`, … */
export const freshName = (base: string, taken: Set<string>): string => {
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}_${i}`;
  taken.add(name);
  return name;
};

/** The layer that turns the tap's output into one vector per example, or none for a vector already. */
const poolingLayer = (output: SymbolicTensor, pooling: Pooling, name: string): E.Either<TransferError, Layer | undefined> => {
  const rank = output.shape.length;
  if (rank === 2) return E.right(undefined);
  if (pooling === 'flatten') return E.right(tfl.layers.flatten({ name }));
  if (rank === 4) return E.right(tfl.layers.globalAveragePooling2d({ name }));
  if (rank === 3) return E.right(tfl.layers.globalAveragePooling1d({ name }));
  return E.left(shapeMismatch('tap', "an output of rank 2, 3 or 4 for average pooling (or pooling: 'flatten')", `rank ${rank}`));
};

/**
 * The head's layers: hidden ReLU dense layers, then a linear layer of one logit per class;
 * initialisation seeded. Training reads the logits (a stable log-softmax loss, steps.ts); the
 * whole model adds the softmax after them, so it predicts and saves probabilities.
 */
const headLayers = (spec: BuildSpec, taken: Set<string>): Layer[] => {
  const units = [...spec.head.hidden, spec.classes];
  return units.map((n, i) =>
    tfl.layers.dense({
      units: n,
      activation: i === units.length - 1 ? 'linear' : 'relu',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: deriveSeed(spec.seed, 100 + i) }),
      biasInitializer: 'zeros',
      name: freshName(i === units.length - 1 ? 'transferkit_head_output' : `transferkit_head_hidden_${i}`, taken),
    }),
  );
};

const applyAll = (layers: ReadonlyArray<Layer>, x: SymbolicTensor): SymbolicTensor =>
  layers.reduce((h, layer) => layer.apply(h) as SymbolicTensor, x);

/** What a new head goes on: the input, the layers up to the tap (in order), the tap's output. */
export interface HeadBase {
  readonly input: SymbolicTensor;
  readonly graph: ReadonlyArray<Layer>;
  readonly tapOutput: SymbolicTensor;
  /** Layer names already in use (the head's get fresh ones). */
  readonly taken: Set<string>;
  /** The whole model's name. */
  readonly name: string;
}

/** A transfer model's parts and the whole model, before a {@link TfjsTransferModel} owns them. */
export interface Assembled {
  readonly parts: Parts;
  readonly full: tfl.LayersModel;
}

/**
 * Pools the tap's output, adds the seeded head and a softmax, and makes the whole model. The layers
 * it makes are pushed on `created` as they are made, so a caller frees them if anything fails.
 */
export const withHead = (base: HeadBase, spec: BuildSpec, created: Layer[]): E.Either<TransferError, Assembled> => {
  const { input, graph, tapOutput, taken } = base;
  const pool = poolingLayer(tapOutput, spec.pooling, freshName('transferkit_pool', taken));
  if (E.isLeft(pool)) return pool;
  const pooled = pool.right === undefined ? tapOutput : (pool.right.apply(tapOutput) as SymbolicTensor);
  const head = headLayers(spec, taken);
  const softmax = tfl.layers.softmax({ name: freshName('transferkit_head_softmax', taken) });
  created.push(...(pool.right === undefined ? [] : [pool.right]), ...head, softmax);
  const headInput = tfl.input({ shape: pooled.shape.slice(1) as number[] });
  const headModel = tfl.model({ inputs: headInput, outputs: applyAll(head, headInput) });
  const probabilities = softmax.apply(applyAll(head, pooled)) as SymbolicTensor;
  const full = tfl.model({ inputs: input, outputs: probabilities, name: base.name });
  const parts: Parts = {
    input,
    graph: pool.right === undefined ? graph : [...graph, pool.right],
    backbone: graph.filter((l) => l.getClassName() !== 'InputLayer'),
    tap: spec.tap.name,
    pooling: spec.pooling,
    pooled,
    head,
    headModel,
    classes: spec.classes,
    dropout: spec.head.dropout,
    batchStatistics: spec.start === 'random',
  };
  return E.right({ parts, full });
};
