import { either as E } from 'fp-ts';
import { adaptationAdvice } from './adaptationMethods';
import { guard, isRecord } from './boundary';
import { compareConditionals, compareFeatureSpaces, compareLabelSpacesOf, compareMarginals } from './compare';
import { invalidArgument, type TransferError } from './errors';
import { validateShiftTest, type ScenarioEvidence, type ShiftTest } from './evidence';
import type {
  Comparisons,
  DomainCause,
  Finding,
  LearningSetting,
  Scenario,
  ScenarioKind,
  ScenarioReport,
  TaskCause,
  Verdict,
} from './scenario';
import { checkProblem, type TransferProblem } from './transferProblem';

/** The warning every `both-differ` report carries. */
export const NEGATIVE_TRANSFER_WARNING =
  'Both the domain and the task differ: this is where transfer most often hurts (negative transfer). ' +
  'Compare against a model trained from scratch on the target data before trusting the transferred one.';

/**
 * Classifies a transfer problem into Pan & Yang's scenarios, from the declared spaces and the
 * measured evidence; what neither decides is reported as unknown, never assumed equal.
 *
 * @param problem - source and target domains and tasks, and where labels exist
 * @param evidence - optional shift tests for the marginals and the conditionals
 * @returns the scenario, the learning setting, every comparison with its basis, warnings and a
 * summary; or `InvalidArgument` when a test in `evidence` is malformed (p-value outside [0, 1], ...)
 * or `problem` is not a transfer problem (each side a domain and a task, as the factories make them)
 *
 * @remarks
 * Pan & Yang, "A Survey on Transfer Learning", IEEE TKDE 22(10), 2009: D = {𝒳, P(X)},
 * T = {𝒴, P(Y|X)}. D_s ≠ D_t when 𝒳_s ≠ 𝒳_t or P(X_s) ≠ P(X_t); T_s ≠ T_t when 𝒴_s ≠ 𝒴_t or
 * P(Y_s|X) ≠ P(Y_t|X) (§2.3). The setting follows their Table 2: target labels → inductive,
 * source labels only → transductive, none → unsupervised.
 *
 * @example
 * ```ts
 * import { classifyScenario, type TransferProblem } from 'transferkit';
 * import { either as E } from 'fp-ts';
 *
 * const space = { id: 'bag-of-words-en', shape: [5000], dtype: 'float32' } as const;
 * const problem: TransferProblem = {
 *   source: { domain: { featureSpace: space, marginal: { kind: 'unobserved' } }, task: { labelSpace: { kind: 'binary', positive: 'sports', negative: 'other' } } },
 *   target: { domain: { featureSpace: space, marginal: { kind: 'unobserved' } }, task: { labelSpace: { kind: 'categorical', classes: ['a', 'b', 'c'] } } },
 *   labels: { source: true, target: true },
 * };
 * const report = classifyScenario(problem, { marginal: { statistic: 'mmd2', value: 0.001, pValue: 0.6 } });
 * if (E.isRight(report)) console.log(report.right.scenario.kind); // 'task-transfer'
 * ```
 * @function
 */
export const classifyScenario = guard('classifyScenario', (problem: TransferProblem, evidence: ScenarioEvidence = {}): E.Either<TransferError, ScenarioReport> => {
  if (!isRecord(evidence)) return E.left(invalidArgument('evidence', 'shift tests { marginal?, conditional? } (or nothing)', evidence));
  const tests: { marginal?: ShiftTest; conditional?: ShiftTest } = {};
  for (const key of ['marginal', 'conditional'] as const) {
    const test = evidence[key] as ShiftTest | undefined;
    if (test !== undefined) {
      const checked = validateShiftTest(`evidence.${key}`, test);
      if (E.isLeft(checked)) return checked;
      tests[key] = checked.right;
    }
  }
  const checkedProblem = checkProblem(problem);
  if (E.isLeft(checkedProblem)) return checkedProblem;
  const valid = checkedProblem.right;
  const comparisons = compare(valid, tests);
  const scenario = decide(comparisons);
  const setting = learningSetting(valid);
  const warnings = warningsFor(scenario, setting, comparisons);
  const adaptation = scenario.kind === 'domain-adaptation' ? { adaptation: adaptationAdvice(setting, scenario.heterogeneous) } : {};
  return E.right({ scenario, setting, comparisons, warnings, summary: summarise(scenario, setting, comparisons), ...adaptation });
});

/** Pan & Yang's Table 2: the setting is fixed by where labels exist. */
export const learningSetting = (problem: TransferProblem): LearningSetting =>
  problem.labels.target ? 'inductive' : problem.labels.source ? 'transductive' : 'unsupervised';

const compare = (problem: TransferProblem, evidence: ScenarioEvidence): Comparisons => {
  const { source, target } = problem;
  const featureSpace = compareFeatureSpaces(source.domain, target.domain);
  const labelSpace = compareLabelSpacesOf(source.task, target.task);
  return {
    featureSpace,
    marginal: compareMarginals(source.domain, target.domain, featureSpace.verdict === 'same', evidence.marginal),
    labelSpace,
    conditional: compareConditionals(
      source.task,
      target.task,
      labelSpace.verdict === 'same',
      problem.labels.target,
      evidence.conditional,
    ),
  };
};

/** A pair of findings combined: differs if either differs, same if both are same, else unknown. */
const combine = (a: Finding, b: Finding): Verdict =>
  a.verdict === 'differs' || b.verdict === 'differs' ? 'differs' : a.verdict === 'same' && b.verdict === 'same' ? 'same' : 'unknown';

const KIND: Record<'same' | 'differs', Record<'same' | 'differs', ScenarioKind>> = {
  same: { same: 'ordinary-learning', differs: 'task-transfer' },
  differs: { same: 'domain-adaptation', differs: 'both-differ' },
};

const decide = (c: Comparisons): Scenario => {
  const domain = combine(c.featureSpace, c.marginal);
  const task = combine(c.labelSpace, c.conditional);
  const domainCauses: DomainCause[] = [];
  if (c.featureSpace.verdict === 'differs') domainCauses.push('feature-space');
  if (c.marginal.verdict === 'differs') domainCauses.push('marginal');
  const taskCauses: TaskCause[] = [];
  if (c.labelSpace.verdict === 'differs') taskCauses.push('label-space');
  if (c.conditional.verdict === 'differs') taskCauses.push('conditional');

  if (domain === 'unknown' || task === 'unknown') {
    const options = (v: Verdict): ReadonlyArray<'same' | 'differs'> => (v === 'unknown' ? ['same', 'differs'] : [v]);
    const candidates = options(domain).flatMap((d) => options(task).map((t) => KIND[d][t]));
    const unknown: Array<'marginal' | 'conditional'> = [];
    if (domain === 'unknown') unknown.push('marginal');
    if (task === 'unknown') unknown.push('conditional');
    return { kind: 'undetermined', candidates, unknown };
  }
  switch (KIND[domain][task]) {
    case 'ordinary-learning':
      return { kind: 'ordinary-learning' };
    case 'task-transfer':
      return { kind: 'task-transfer', causes: taskCauses };
    case 'domain-adaptation':
      return { kind: 'domain-adaptation', causes: domainCauses, heterogeneous: domainCauses.includes('feature-space') };
    case 'both-differ':
      return { kind: 'both-differ', domainCauses, taskCauses, warning: NEGATIVE_TRANSFER_WARNING };
  }
};

const warningsFor = (scenario: Scenario, setting: LearningSetting, c: Comparisons): ReadonlyArray<string> => {
  const warnings: string[] = [];
  if (scenario.kind === 'both-differ') warnings.push(scenario.warning);
  if (scenario.kind === 'undetermined' && scenario.candidates.includes('both-differ')) {
    warnings.push(
      `Domain and task may both differ (unknown: ${scenario.unknown.join(' and ')}); if they do, transfer risks ` +
        'hurting. Measure what is unknown, or compare against a model trained from scratch.',
    );
  }
  if (setting !== 'inductive' && c.labelSpace.verdict === 'differs') {
    warnings.push(
      'The target label space differs from the source and there are no target labels: nothing tells a model which ' +
        'target class is which. Label some target examples (inductive transfer) or reuse only the features, unsupervised.',
    );
  }
  return warnings;
};

const SCENARIO_TEXT: Record<ScenarioKind, string> = {
  'ordinary-learning': 'ordinary learning (source and target are one problem; no transfer is needed)',
  'task-transfer': 'task transfer (same domain, different task)',
  'domain-adaptation': 'domain adaptation (different domain, same task)',
  'both-differ': 'domain and task both differ (negative-transfer risk)',
};

const CAUSE_TEXT: Record<DomainCause | TaskCause, string> = {
  'feature-space': 'the feature spaces differ',
  marginal: 'P(X) differs',
  'label-space': 'the label spaces differ',
  conditional: 'P(Y|X) differs',
};

const summarise = (scenario: Scenario, setting: LearningSetting, c: Comparisons): string => {
  const head =
    scenario.kind === 'undetermined'
      ? `Undetermined: one of ${scenario.candidates.map((k) => SCENARIO_TEXT[k]).join('; or ')}. ` +
        `Unknown: ${scenario.unknown.map((u) => (u === 'marginal' ? 'whether P(X) differs' : 'whether P(Y|X) differs')).join(' and ')}.`
      : `${SCENARIO_TEXT[scenario.kind]}${causesOf(scenario)}.`;
  const lines = (Object.keys(c) as Array<keyof Comparisons>).map(
    (k) => `${LABEL[k]}: ${c[k].verdict} (${c[k].basis === 'none' ? 'no basis' : c[k].basis}; ${c[k].reason})`,
  );
  return [`${capitalise(head)} Setting: ${setting}.`, ...lines].join('\n');
};

const LABEL: Record<keyof Comparisons, string> = {
  featureSpace: 'feature space 𝒳',
  marginal: 'marginal P(X)',
  labelSpace: 'label space 𝒴',
  conditional: 'conditional P(Y|X)',
};

const causesOf = (s: Scenario): string => {
  const causes =
    s.kind === 'task-transfer' || s.kind === 'domain-adaptation'
      ? s.causes
      : s.kind === 'both-differ'
        ? [...s.domainCauses, ...s.taskCauses]
        : [];
  return causes.length === 0 ? '' : `: ${causes.map((x) => CAUSE_TEXT[x]).join(', ')}`;
};

const capitalise = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
