/**
 * The selection rules the benchmark compares, each a score per method from what the unlabelled
 * target shows (evidence.ts), then the library's pick with its negative-adaptation guard.
 */
import { ADAPT_METHODS, pickAdaptation, type AdaptMethod } from 'transferkit';
import type { MethodRun } from './bench';

export type SelectionRule = 'information' | 'snd' | 'confidence';
export const SELECTION_RULES: ReadonlyArray<SelectionRule> = ['information', 'snd', 'confidence'];

const scoreOf = (rule: SelectionRule, r: MethodRun): number =>
  rule === 'information' ? r.marginalEntropy - r.entropy : rule === 'snd' ? r.snd : -r.entropy;

/** The method a rule picks among a cell's runs, the guard keeping source-only unless the pick beats it by more than `margin`. */
export const select = (rule: SelectionRule, runs: ReadonlyArray<MethodRun>, margin: number): AdaptMethod => {
  const scores = runs.filter((r): r is MethodRun & { method: AdaptMethod } => (ADAPT_METHODS as ReadonlyArray<string>).includes(r.method)).map((r) => ({ method: r.method, score: scoreOf(rule, r) }));
  const picked = pickAdaptation(scores, margin);
  if (picked._tag === 'Left') throw new Error(picked.left.message);
  return picked.right.method;
};
