import type { AdaptationAdvice } from './adaptationMethods';
import type { ShiftTest } from './evidence';

/** A comparison's outcome. `unknown`: there was no declaration and no evidence to decide it. */
export type Verdict = 'same' | 'differs' | 'unknown';

/** How a verdict was reached: from declared spaces or names, from a measured test, or not at all. */
export type Basis = 'declared' | 'measured' | 'none';

/** The outcome of comparing one part of the source with the same part of the target. */
export interface Finding {
  /** Same, differs, or unknown. */
  readonly verdict: Verdict;
  /** Whether it was declared, measured, or neither. */
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
  | {
      /** Same domain, same task. */
      readonly kind: 'ordinary-learning';
    }
  | {
      /** Same domain, another task. */
      readonly kind: 'task-transfer';
      /** What differs in the task: the label space, the conditional, or both. */
      readonly causes: ReadonlyArray<TaskCause>;
    }
  | {
      /** Another domain, the same task. */
      readonly kind: 'domain-adaptation';
      /** What differs in the domain: the feature space, the marginal, or both. */
      readonly causes: ReadonlyArray<DomainCause>;
      /** The feature spaces differ (heterogeneous adaptation). */
      readonly heterogeneous: boolean;
    }
  | {
      /** Both the domain and the task differ. */
      readonly kind: 'both-differ';
      /** What differs in the domain. */
      readonly domainCauses: ReadonlyArray<DomainCause>;
      /** What differs in the task. */
      readonly taskCauses: ReadonlyArray<TaskCause>;
      /** The negative-transfer warning: compare against training from scratch. */
      readonly warning: string;
    }
  | {
      /** Not decided: a comparison that would decide it is unknown. */
      readonly kind: 'undetermined';
      /** The scenarios still possible. */
      readonly candidates: ReadonlyArray<ScenarioKind>;
      /** What to measure to decide: the marginals, the conditionals, or both. */
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
  /** Which of Pan & Yang's scenarios this problem is. */
  readonly scenario: Scenario;
  /** Inductive, transductive or unsupervised, from where labels exist. */
  readonly setting: LearningSetting;
  /** Each comparison with its verdict, basis and reason. */
  readonly comparisons: Comparisons;
  /** Risks a user should act on, e.g. negative transfer; empty when there are none. */
  readonly warnings: ReadonlyArray<string>;
  /** One paragraph that says all of the above in words. */
  readonly summary: string;
  /**
   * For domain adaptation: the adaptation methods that apply (`adapt`, `autoAdapt`) and why,
   * from the setting and whether the feature spaces differ. Absent for the other scenarios.
   */
  readonly adaptation?: AdaptationAdvice;
}
