/**
 * The core's public surface: Pan & Yang's formalism, errors, recipes and phases, labels, row
 * stores and the model interface. Listed name by name, so a helper the core uses internally (the
 * structural checks, seeded randomness, tap resolution) is not public by accident; every function
 * here returns an `Either`, or is total on any input (its doc says what it returns for a value it
 * cannot read).
 */
export {
  aborted,
  backendFailure,
  described,
  describeValue,
  invalidArgument,
  notSupported,
  shapeMismatch,
  type Aborted,
  type BackendFailure,
  type Described,
  type InvalidArgument,
  type NotSupported,
  type ShapeMismatch,
  type TransferError,
} from './errors';
export { UNREADABLE_EXPECTED } from './boundary';
export { matrix, type Matrix } from './matrix';
export { featureCount, featureSpace, sameFeatureSpace, type DType, type FeatureSpace, type FeatureSpaceArgs } from './featureSpace';
export { marginalFromSamples, marginalFromStatistics, unobservedMarginal, type Marginal } from './marginal';
export { domain, type Domain } from './domain';
export { binary, categorical, classNames, compareLabelSpaces, regression, type LabelSpace, type LabelSpaceRelation } from './labelSpace';
export { task, type Task } from './task';
export { transferProblem, type Side, type TransferProblem, type TransferProblemArgs } from './transferProblem';
export { DEFAULT_SIGNIFICANCE, validateShiftTest, type ScenarioEvidence, type ShiftTest } from './evidence';
export type { Basis, Comparisons, DomainCause, Finding, LearningSetting, Scenario, ScenarioKind, ScenarioReport, TaskCause, Verdict } from './scenario';
export { classifyScenario, NEGATIVE_TRANSFER_WARNING } from './classifyScenario';
export {
  backboneFraction,
  isTopTap,
  makeRecipe,
  tapDepth,
  type HeadSpec,
  type EarlyStopping,
  type Phase,
  type Recipe,
  type RecipeArgs,
  type RecipeKind,
  type Regularization,
  type Start,
  type StrategyKind,
  type Tap,
  type TrainablePolicy,
} from './recipe';
export {
  FINE_TUNE_EPOCHS,
  FINE_TUNE_LEARNING_RATE_FACTOR,
  FINE_TUNE_MIN_STEPS,
  fineTunePhase,
  fineTuneRateFactor,
  HEAD_EPOCHS,
  HEAD_L2,
  HEAD_LEARNING_RATE,
  HEAD_MIN_STEPS,
  HEAD_PATIENCE_STEPS,
  headPhase,
  PARTIAL_FINE_TUNE_LEARNING_RATE_FACTOR,
  SCRATCH_LEARNING_RATE,
  SCRATCH_MAX_MS,
  SCRATCH_MIN_STEPS,
  scratchPhase,
} from './phases';
export { MAX_IMAGE_SIDE, MAX_SOURCE_SIDE, type ChannelOrder, type InputSpec, type InputSpecArgs, type Normalization } from './inputSpec';
export { MAX_CLASS_NAME_LENGTH } from './namedClasses';
export { CLASSIFIER_FORMAT, CLASSIFIER_METADATA_KEY, type ClassifierMetadata } from './classifierMetadata';
export { MAX_JSON_DEPTH, MAX_WEIGHT_BYTES, MAX_WEIGHT_VALUES, type ModelFileLimits } from './modelFiles';
export { checkLabels, MAX_CLASS_ID, type ClassIdArray, type ClassIds, type Labels } from './labels';
export type { Adversarial, Alignment, Objective } from './objective';
export { ADAPT_METHODS, adaptationAdvice, BATCH_NORM_METHODS, SOURCE_FREE_METHODS, SOURCE_LABEL_METHODS, TRAINING_METHODS, type AdaptationAdvice, type AdaptMethod } from './adaptationMethods';
export type { Backbone, BatchOutcome, BuildSpec, Capabilities, EmbedOptions, InputSet, LayerInfo, PhaseArgs, PhaseSession, Pooling, StepPlan, TransferModel } from './backbone';
export { DEFAULT_CHUNK_FLOATS, MAX_CHUNK_FLOATS, memoryRowStore, type MemoryRowStoreOptions, type RowStore, type RowStoreFactory } from './rowStore';
