import type * as tfl from '@tensorflow/tfjs-layers';
import type { Pooling } from '../../../core/backbone';
import type { Layer, SymbolicTensor } from '../graph';

/** What a session needs of a transfer model. */
export interface Parts {
  /** The copied model's input. */
  readonly input: SymbolicTensor;
  /** The copied layers the tap depends on, then the pooling layer, in order. */
  readonly graph: ReadonlyArray<Layer>;
  /** The copied backbone layers a policy can train (the graph without the input and pooling). */
  readonly backbone: ReadonlyArray<Layer>;
  /** The tap layer's name, and how its output is pooled (what a head saved alone attaches to). */
  readonly tap: string;
  readonly pooling: Pooling;
  /** The pooled tap output: the head's input. */
  readonly pooled: SymbolicTensor;
  /** The head's layers, and the head as a model from a pooled vector to one logit per class (the whole model adds the softmax). */
  readonly head: ReadonlyArray<Layer>;
  readonly headModel: tfl.LayersModel;
  readonly classes: number;
  readonly dropout: number;
  /**
   * Whether the backbone layers that train run in training mode (BatchNorm on batch statistics,
   * updating its moving ones): for a model from random weights. Otherwise they run in inference mode.
   */
  readonly batchStatistics: boolean;
}
