/**
 * The selection rules the benchmark compares, each a score per method from what the unlabelled
 * target shows (evidence.ts), then the library's pick with its negative-adaptation guard.
 */
import { ADAPT_METHODS, pickAdaptation, type AdaptMethod } from 'transferkit';
import type { MethodRun, RunName } from './cells';

/**
 * `information then self-training` is autoAdapt's rule: the methods but self-training scored by
 * prediction information, the guard, then self-training from the chosen one. The others pick among
 * the methods (self-training included) by one score: prediction information, SND, or confidence
 * (the negated mean entropy).
 */
export type SelectionRule = 'information then self-training' | 'information' | 'snd' | 'confidence';
export const SELECTION_RULES: ReadonlyArray<SelectionRule> = ['information then self-training', 'information', 'snd', 'confidence'];

const scoreOf = (rule: SelectionRule, r: MethodRun): number =>
  rule === 'snd' ? r.snd : rule === 'confidence' ? -r.entropy : r.marginalEntropy - r.entropy;

/** The run a rule ends on among a cell's runs, the guard keeping source-only unless the pick beats it by more than `margin`. */
export const select = (rule: SelectionRule, runs: ReadonlyArray<MethodRun>, margin: number): RunName => {
  const candidates = ADAPT_METHODS.filter((m) => rule !== 'information then self-training' || m !== 'pseudo-label');
  const scores = runs.filter((r): r is MethodRun & { method: AdaptMethod } => (candidates as ReadonlyArray<string>).includes(r.method)).map((r) => ({ method: r.method, score: scoreOf(rule, r) }));
  const picked = pickAdaptation(scores, margin);
  if (picked._tag === 'Left') throw new Error(picked.left.message);
  const method = picked.right.method;
  if (rule !== 'information then self-training' || method === 'source-only') return method;
  return method === 'adabn' ? 'pseudo-label' : `${method}+self-training`;
};
