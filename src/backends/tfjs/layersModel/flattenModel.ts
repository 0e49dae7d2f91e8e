/**
 * A model that nests models as layers (a Teachable Machine export: a Sequential of a Sequential of
 * a functional MobileNet and a Sequential head; Keras's `Sequential([base_model, pooling, dense])`)
 * made into one flat functional model, so that every inner layer can be a tap.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { either as E } from 'fp-ts';
import { guard } from '../../../core/boundary';
import { backendFailure, described, invalidArgument, notSupported, type TransferError } from '../../../core/errors';
import { release, type Layer, type SymbolicTensor } from '../graph';

type Mapped = Map<number, SymbolicTensor>;

/** A nested model's call that cannot be flattened, with why. */
class Unflattenable extends Error {}

/** A unique name among `taken`: `name`, or `name_1`, `name_2`, ... */
const unique = (name: string, taken: Set<string>): string => {
  let chosen = name;
  for (let k = 1; taken.has(chosen); k++) chosen = `${name}_${k}`;
  taken.add(chosen);
  return chosen;
};

/**
 * A new layer like `layer`, its initialisers set to zeros while it is built (drawing random weights
 * only to overwrite them is slow on a large model) and given back once built, so the copy describes
 * itself, and a random start drawn from it, as the source does.
 */
const copyLayer = (layer: Layer, name: string): Layer => {
  const registered = tf.serialization.SerializationMap.getMap().classNameMap[layer.getClassName()];
  if (registered === undefined) throw new Unflattenable(`the layer '${layer.name}' of the unregistered class ${layer.getClassName()}`);
  const [cls, fromConfig] = registered;
  const config = Object.fromEntries(
    Object.entries(layer.getConfig()).map(([key, value]) => [key, key.endsWith('Initializer') && value !== null ? { className: 'Zeros', config: {} } : value]),
  );
  return fromConfig(cls, { ...config, name } as tf.serialization.ConfigDict) as unknown as Layer;
};

/** What flattening makes: the copies with the layers they copy, and the names taken. */
interface Flattening {
  readonly made: Array<[Layer, Layer]>;
  readonly copied: Set<Layer>;
  readonly taken: Set<string>;
}

/**
 * The flat tensor that computes `t`, made by walking back through the call that produced it:
 * a nested model's call is expanded (its inputs bound to the call's), any other layer is copied
 * once. `env` holds what is already made, by tensor id, in the scope of one container.
 */
const resolve = (t: SymbolicTensor, env: Mapped, state: Flattening): SymbolicTensor => {
  const known = env.get(t.id);
  if (known !== undefined) return known;
  const layer = t.sourceLayer as Layer;
  const node = layer.inboundNodes[t.nodeIndex];
  if (node === undefined || node.inputTensors.length === 0) throw new Unflattenable(`the tensor of '${layer.name}', which this model reads but does not compute`);
  const args = node.inputTensors.map((input) => resolve(input, env, state));
  let produced: SymbolicTensor[];
  if (layer instanceof tfl.LayersModel) {
    if (layer.inputs.length !== args.length) throw new Unflattenable(`the nested model '${layer.name}', called on ${args.length} inputs for its ${layer.inputs.length}`);
    const inner: Mapped = new Map(layer.inputs.map((input, k) => [input.id, args[k]!] as const));
    produced = layer.outputs.map((output) => resolve(output, inner, state));
  } else {
    if (state.copied.has(layer)) throw new Unflattenable(`the layer '${layer.name}', called more than once (a shared layer, or one in a nested model called twice)`);
    state.copied.add(layer);
    const fresh = copyLayer(layer, unique(layer.name, state.taken));
    state.made.push([fresh, layer]);
    const out = fresh.apply(args.length === 1 ? args[0]! : args) as SymbolicTensor | SymbolicTensor[];
    produced = Array.isArray(out) ? out : [out];
  }
  node.outputTensors.forEach((output, k) => env.set(output.id, produced[k]!));
  return env.get(t.id)!;
};

/**
 * A flat functional copy of a model that nests models as layers: the same computation, with every
 * layer of every nested model (Sequential or functional, at any depth) a layer of its own, so that
 * {@link fromLayersModel} can take it and any inner layer can be a tap. A model with no nested
 * model is copied flat as well.
 *
 * The copy's layers are new objects, and its weights share their values with the source's (tfjs
 * counts the references), so flattening costs almost no memory and the source is never changed.
 * The caller owns the copy and disposes it (the source stays usable). Layer names are kept; a name
 * that two nested models both use gets a suffix (`_1`, `_2`, ...) the second time.
 *
 * @param model - the model to flatten; it is read, never changed
 * @returns the flat copy, or `NotSupported` for a model whose nested model or layer is called more
 * than once (tied weights cannot be split into copies) or that has a layer class tfjs does not
 * know, `InvalidArgument` for what is not a usable LayersModel
 *
 * @example
 * ```ts
 * import '@tensorflow/tfjs-backend-cpu';
 * import * as tfl from '@tensorflow/tfjs-layers';
 * import { either as E } from 'fp-ts';
 * import { flattenModel, fromLayersModel } from 'transferkit/tfjs';
 *
 * const base = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [4], units: 8, name: 'features' })] });
 * const model = tfl.sequential({ layers: [base, tfl.layers.dense({ units: 3, activation: 'softmax' })] });
 * const flat = flattenModel(model);
 * if (E.isRight(flat)) {
 *   const backbone = fromLayersModel(flat.right);
 *   if (E.isRight(backbone)) console.log(backbone.right.layers[backbone.right.top]!.name); // 'features'
 *   flat.right.dispose();
 * }
 * model.dispose();
 * ```
 * @function
 */
export const flattenModel = guard('flattenModel', (model: tfl.LayersModel): E.Either<TransferError, tfl.LayersModel> => {
  if (!(model instanceof tfl.LayersModel)) return E.left(invalidArgument('model', 'a tfjs-layers LayersModel', model));
  let weights: tf.Tensor[];
  try {
    weights = model.getWeights();
  } catch {
    return E.left(invalidArgument('model', 'a usable model', described('a disposed model')));
  }
  if (weights.some((w) => w.isDisposed)) return E.left(invalidArgument('model', 'a usable model', described('a disposed model')));
  const state: Flattening = { made: [], copied: new Set(), taken: new Set() };
  try {
    const inputs = model.inputs.map((t) => tfl.input({ shape: t.shape.slice(1) as number[], dtype: t.dtype, name: unique(t.sourceLayer.name, state.taken) }));
    const env: Mapped = new Map(model.inputs.map((t, k) => [t.id, inputs[k]!] as const));
    const outputs = model.outputs.map((t) => resolve(t, env, state));
    for (const [fresh, source] of state.made) {
      fresh.setWeights(source.getWeights());
      const from = source as unknown as Record<string, unknown>;
      const to = fresh as unknown as Record<string, unknown>;
      for (const key of Object.keys(to)) if (key.endsWith('Initializer') && key in from) to[key] = from[key];
      fresh.trainable = source.trainable;
    }
    return E.right(tfl.model({ inputs, outputs, name: `${model.name}_flat` }));
  } catch (thrown) {
    state.made.forEach(([fresh]) => release(fresh));
    return E.left(thrown instanceof Unflattenable ? notSupported('model', 'a model whose nested models and layers are each called once, of classes tfjs knows', thrown.message) : backendFailure('flattening the model', thrown));
  }
});
