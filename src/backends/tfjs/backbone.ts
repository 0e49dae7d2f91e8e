/**
 * What every tfjs backbone shares, whatever its model kind: its type, and the checks it makes of
 * what it is asked (the runner asks with checked values; a caller of its own gets the same
 * checks): the layer to embed at, the spec to build from.
 */
import { either as E } from 'fp-ts';
import { POOLINGS, type Backbone, type BuildSpec, type LayerInfo } from '../../core/backbone';
import { isRecord } from '../../core/boundary';
import { invalidArgument, within, type TransferError } from '../../core/errors';
import { MAX_CLASS_ID } from '../../core/labels';
import { headPhase } from '../../core/phases';
import { makeRecipe } from '../../core/recipe';
import { isInputKind } from '../../core/resolveTap';
import { integer, integerIn, oneOf, optional } from '../../core/validate';
import type { StoredInputs, TfjsInputs } from './inputRows';
import type { TfjsTransferModel } from './transferModel';

/**
 * A tfjs model (a LayersModel, a GraphModel) seen as a {@link Backbone}: inputs are tensors or
 * {@link StoredInputs} (rows of a row store), trained models are {@link TfjsTransferModel}s.
 */
export type TfjsBackbone = Backbone<TfjsInputs, TfjsTransferModel>;

/** The layer `at` names, if it is one of the model's layers (its name and index both match). */
export const layerAt = (layers: ReadonlyArray<LayerInfo>, at: LayerInfo): E.Either<TransferError, LayerInfo> => {
  const found = isRecord(at) ? layers.find((l) => l.name === at.name && l.index === at.index) : undefined;
  return found === undefined ? E.left(invalidArgument('at', `one of the backbone's layers (backbone.layers): ${layers.map((l) => l.name).join(', ')}`, isRecord(at) ? at.name : at)) : E.right(found);
};

/**
 * Checks what `build` is given (the runner gives it checked values; a caller of its own gets the
 * same checks): a tap among the layers up to the top, a head, a class count, pooling, start, seed.
 */
export const checkBuildSpec = (layers: ReadonlyArray<LayerInfo>, top: number, spec: BuildSpec): E.Either<TransferError, BuildSpec> => {
  if (!isRecord(spec)) return E.left(invalidArgument('spec', 'a build spec { tap, head, classes, pooling, start, seed } (transfer makes one)', spec));
  const { tap, head, classes, pooling, start, seed, classifier } = spec;
  const tapLayer = layerAt(layers, tap);
  if (E.isLeft(tapLayer)) return E.left(within('spec', tapLayer.left));
  if (tapLayer.right.index > top || isInputKind(tapLayer.right.kind)) return E.left(invalidArgument('spec.tap', `a layer from 1 to ${top} (the top feature layer)`, tapLayer.right.name));
  const recipe = makeRecipe({ tap: { kind: 'top' }, phases: [headPhase], head, start: 'pretrained' });
  if (E.isLeft(recipe)) return E.left(within('spec', recipe.left));
  const checks = [
    integerIn(2, MAX_CLASS_ID + 1)('spec.classes', classes),
    oneOf(POOLINGS)('spec.pooling', pooling),
    oneOf(['pretrained', 'random'] as const)('spec.start', start),
    integer('spec.seed', seed),
    optional(oneOf(['new', 'source'] as const), 'new' as const)('spec.classifier', classifier),
  ];
  const bad = checks.find(E.isLeft);
  return bad !== undefined ? (bad as E.Left<TransferError>) : E.right({ tap: tapLayer.right, head: recipe.right.head, classes, pooling, start, seed, ...(classifier === 'source' ? { classifier } : {}) });
};
