import type { ShiftTest } from './evidence';

/** A comparison's outcome. `unknown`: there was no declaration and no evidence to decide it. */
export type Verdict = 'same' | 'differs' | 'unknown';

/** How a verdict was reached: from declared spaces or names, from a measured test, or not at all. */
export type Basis = 'declared' | 'measured' | 'none';

/** The outcome of comparing one part of the source with the same part of the target. */
export interface Finding {
  readonly verdict: Verdict;
  readonly basis: Basis;
  /** One sentence saying why. */
  readonly reason: string;
  /** The test behind a measured verdict. */
  readonly test?: ShiftTest;
}

/** The four comparisons Pan & Yang's definitions rest on. */
export interface Comparisons {
  /** 𝒳_s vs 𝒳_t. */
  readonly featureSpace: Finding;
  /** P(X_s) vs P(X_t). */
  readonly marginal: Finding;
  /** 𝒴_s vs 𝒴_t. */
  readonly labelSpace: Finding;
  /** P(Y_s | X) vs P(Y_t | X). */
  readonly conditional: Finding;
}

/** What makes two domains differ. `feature-space`: heterogeneous; `marginal`: covariate shift. */
export type DomainCause = 'feature-space' | 'marginal';

/** What makes two tasks differ. `label-space`: other labels; `conditional`: the same labels assigned differently. */
export type TaskCause = 'label-space' | 'conditional';

/** The scenario kinds of Pan & Yang's §2.3, by which of domain and task differ. */
export type ScenarioKind = 'ordinary-learning' | 'task-transfer' | 'domain-adaptation' | 'both-differ';

/**
 * The transfer scenario.
 *
 * - `ordinary-learning`: D_s = D_t and T_s = T_t; no transfer is needed.
 * - `task-transfer`: D_s = D_t, T_s ≠ T_t.
 * - `domain-adaptation`: D_s ≠ D_t, T_s = T_t; `heterogeneous` when the feature spaces differ.
 * - `both-differ`: D_s ≠ D_t and T_s ≠ T_t; the case where transfer most risks hurting (negative
 *   transfer), and the value carries that warning.
 * - `undetermined`: a comparison that would decide it is unknown; `candidates` are the scenarios
 *   still possible and `unknown` names what to measure.
 */
export type Scenario =
  | { readonly kind: 'ordinary-learning' }
  | { readonly kind: 'task-transfer'; readonly causes: ReadonlyArray<TaskCause> }
  | { readonly kind: 'domain-adaptation'; readonly causes: ReadonlyArray<DomainCause>; readonly heterogeneous: boolean }
  | {
      readonly kind: 'both-differ';
      readonly domainCauses: ReadonlyArray<DomainCause>;
      readonly taskCauses: ReadonlyArray<TaskCause>;
      /** The negative-transfer warning: compare against training from scratch. */
      readonly warning: string;
    }
  | {
      readonly kind: 'undetermined';
      readonly candidates: ReadonlyArray<ScenarioKind>;
      readonly unknown: ReadonlyArray<'marginal' | 'conditional'>;
    };

/**
 * Pan & Yang's second axis, from where labels exist (their Table 2):
 * `inductive` — target labels (source labels or not); `transductive` — source labels only;
 * `unsupervised` — no labels on either side.
 */
export type LearningSetting = 'inductive' | 'transductive' | 'unsupervised';

/** What `classifyScenario` returns. */
export interface ScenarioReport {
  readonly scenario: Scenario;
  readonly setting: LearningSetting;
  /** Each comparison with its verdict, basis and reason. */
  readonly comparisons: Comparisons;
  /** Risks a user should act on, e.g. negative transfer; empty when there are none. */
  readonly warnings: ReadonlyArray<string>;
  /** One paragraph that says all of the above in words. */
  readonly summary: string;
}
