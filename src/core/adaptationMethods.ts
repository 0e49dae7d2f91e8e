/**
 * The domain-adaptation methods by name (run by `adapt` in the strategy layer), what each needs,
 * and which apply to a scenario: what `classifyScenario` and `selectStrategy` point to when the
 * task stays the source's and the target has no labels.
 */
import type { LearningSetting } from './scenario';

/** The methods, by name. */
export type AdaptMethod = 'source-only' | 'adabn' | 'coral' | 'tent' | 'pseudo-label' | 'importance-weighting' | 'deep-coral' | 'mmd' | 'dann';

/** Every method, cheapest first (the order ties are broken in). */
export const ADAPT_METHODS: ReadonlyArray<AdaptMethod> = ['source-only', 'adabn', 'coral', 'tent', 'pseudo-label', 'importance-weighting', 'deep-coral', 'mmd', 'dann'];

/** Methods that need only the pretrained model and unlabelled target inputs. */
export const SOURCE_FREE_METHODS: ReadonlyArray<AdaptMethod> = ['source-only', 'adabn', 'tent', 'pseudo-label'];

/** Methods that read the source's labels (`data.source.y`); CORAL reads only its inputs. */
export const SOURCE_LABEL_METHODS: ReadonlyArray<AdaptMethod> = ['importance-weighting', 'deep-coral', 'mmd', 'dann'];

/** Methods that read BatchNorm layers (and so need a backbone that has some). */
export const BATCH_NORM_METHODS: ReadonlyArray<AdaptMethod> = ['adabn', 'tent'];

/** Methods that train the backbone or its classifier (and so need one that can fine-tune). */
export const TRAINING_METHODS: ReadonlyArray<AdaptMethod> = ['tent', 'pseudo-label', 'importance-weighting', 'deep-coral', 'mmd', 'dann'];

/** Which adaptation methods apply, and why. */
export interface AdaptationAdvice {
  /** The methods that apply (empty when none does). */
  readonly methods: ReadonlyArray<AdaptMethod>;
  /** Why, a sentence each. */
  readonly reasons: ReadonlyArray<string>;
}

const NEEDS =
  "With the source model alone: 'adabn' and 'tent' (where it has BatchNorm) and 'pseudo-label'; with the source's inputs too, " +
  "'coral'; with its labels, 'importance-weighting', 'deep-coral', 'mmd' and 'dann'. autoAdapt runs those that apply, scores them " +
  'without target labels and keeps the source model unless one clearly helps (docs/adaptation.md).';

/**
 * The adaptation methods a domain-adaptation problem can use, from its learning setting and
 * whether the feature spaces differ.
 *
 * @param setting - where labels exist (Pan & Yang's second axis)
 * @param heterogeneous - whether the feature spaces differ
 */
export const adaptationAdvice = (setting: LearningSetting, heterogeneous: boolean): AdaptationAdvice => {
  if (heterogeneous) {
    return {
      methods: [],
      reasons: [
        "The feature spaces differ: every adaptation method reads target inputs in the source model's own input space. Map the " +
          'target into it first (resize, convert channels: imageBatch with resize); what is left is a shift of P(X), which they serve.',
      ],
    };
  }
  if (setting === 'unsupervised') {
    return { methods: [], reasons: ['No labels on either side: there is no trained task to keep, so there is nothing to adapt. Reuse the features (embed) instead.'] };
  }
  if (setting === 'inductive') {
    return {
      methods: ADAPT_METHODS,
      reasons: ['The target has labels: transfer() fine-tunes on them (selectStrategy). The adaptation methods can still use its unlabelled inputs, and autoAdapt scores them on the labelled ones (options.labelledTarget).', NEEDS],
    };
  }
  return { methods: ADAPT_METHODS, reasons: ['Only the source has labels (transductive): the task stays the source\'s, and adapt() moves the model to the target without target labels.', NEEDS] };
};
