import type { Domain } from './domain';
import { describeShiftTest, shiftDetected, type ShiftTest } from './evidence';
import { sameFeatureSpace } from './featureSpace';
import { compareLabelSpaces } from './labelSpace';
import type { Finding } from './scenario';
import type { Task } from './task';

const measured = (test: ShiftTest): Finding => ({
  verdict: shiftDetected(test) ? 'differs' : 'same',
  basis: 'measured',
  reason: describeShiftTest(test),
  test,
});

const unknown = (reason: string): Finding => ({ verdict: 'unknown', basis: 'none', reason });

const declared = (verdict: 'same' | 'differs', reason: string): Finding => ({ verdict, basis: 'declared', reason });

const shape = (s: ReadonlyArray<number>): string => `[${s.join(', ')}]`;

/** 𝒳_s vs 𝒳_t: always decided, from the declared spaces. */
export const compareFeatureSpaces = (source: Domain, target: Domain): Finding => {
  const a = source.featureSpace;
  const b = target.featureSpace;
  return sameFeatureSpace(a, b)
    ? declared('same', `both are ${a.id} ${shape(a.shape)} ${a.dtype}`)
    : declared('differs', `source is ${a.id} ${shape(a.shape)} ${a.dtype}, target is ${b.id} ${shape(b.shape)} ${b.dtype}`);
};

/**
 * P(X_s) vs P(X_t): measured evidence first; else one declared data source on both sides means one
 * distribution; else unknown. Marginals on different feature spaces are not compared without evidence.
 */
export const compareMarginals = (source: Domain, target: Domain, sameSpace: boolean, test?: ShiftTest): Finding => {
  if (test !== undefined) return measured(test);
  if (!sameSpace) return unknown('the feature spaces differ, so the marginals are over different spaces');
  const a = source.marginal.source;
  if (a !== undefined && a === target.marginal.source) return declared('same', `both are drawn from ${a}`);
  return unknown('no shift test was given and the domains do not declare one data source; measure it (e.g. MMD)');
};

/** 𝒴_s vs 𝒴_t: always decided, from the declared label spaces. */
export const compareLabelSpacesOf = (source: Task, target: Task): Finding => {
  const relation = compareLabelSpaces(source.labelSpace, target.labelSpace);
  const describe = (t: Task): string => {
    const s = t.labelSpace;
    if (s.kind === 'regression') return `regression (${s.dimensions}-d${s.unit === undefined ? '' : `, ${s.unit}`})`;
    const names = s.kind === 'binary' ? [s.negative, s.positive] : s.classes;
    return `${names.length} classes {${names.join(', ')}}`;
  };
  if (relation === 'different') return declared('differs', `source has ${describe(source)}, target has ${describe(target)}`);
  return declared(
    'same',
    relation === 'same' ? `both have ${describe(source)}` : `the same classes in another order: map target label ids to the source's`,
  );
};

/**
 * P(Y_s | X) vs P(Y_t | X): measured evidence first; else declared labelling rules; else unknown
 * (and say whether the target has labels to measure it with).
 */
export const compareConditionals = (
  source: Task,
  target: Task,
  sameLabels: boolean,
  targetLabelled: boolean,
  test?: ShiftTest,
): Finding => {
  if (test !== undefined) return measured(test);
  if (!sameLabels) return unknown('the label spaces differ, so the conditionals are over different labels');
  const a = source.labelling;
  const b = target.labelling;
  if (a !== undefined && b !== undefined) {
    return a === b
      ? declared('same', `both label by ${a}`)
      : declared('differs', `source labels by ${a}, target by ${b}`);
  }
  return unknown(
    targetLabelled
      ? 'no conditional-shift test was given and the tasks do not both name their labelling rule'
      : 'there are no target labels to estimate P(Y_t | X) with, and the tasks do not both name their labelling rule',
  );
};
