/**
 * The adaptation benchmark's tables, from its cells (scripts/adapt/bench.ts): accuracy per method
 * and target, the gain over source-only, wall time, and how each unsupervised selection rule
 * does, with its one constant (the guard's margin) chosen leave-one-target-out.
 */
import { ADAPT_METHODS, type AdaptMethod } from 'transferkit';
import { spearman } from '../mnist/spearman';
import { SELF_TRAINING_FROM, type Cell, type MethodRun, type RunName } from './cells';
import { DESIGN_SHIFTS, HELD_OUT_SHIFTS, SHIFTS } from './shifts';
import { SELECTION_RULES, select, type SelectionRule } from './selection';

const mean = (v: ReadonlyArray<number>): number => v.reduce((a, b) => a + b, 0) / v.length;
const sd = (v: ReadonlyArray<number>): number => {
  const m = mean(v);
  return v.length < 2 ? 0 : Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1));
};
const pts = (v: number): string => (100 * v).toFixed(1);
const run = (cell: Cell, method: RunName): MethodRun => cell.runs.find((r) => r.method === method)!;
/** Every run of a cell but the oracles': what `adapt` can produce. */
const methodRuns = (cell: Cell): ReadonlyArray<MethodRun> => cell.runs.filter((r) => !r.method.startsWith('oracle'));

/** The guard margins a rule's constant is chosen from (leave one target out). */
export const MARGINS = [0, 0.02, 0.05, 0.1, 0.2, 0.3] as const;

interface RuleScore {
  /** Per target: mean over seeds of (selected − source-only), points/100. */
  readonly vsSource: Map<string, number>;
  /** Per target: mean over seeds of (best run of `adapt` in the cell, self-training from any method included − selected). */
  readonly vsBest: Map<string, number>;
  /** Worst single cell of selected − source-only. */
  readonly worstCell: number;
}

const score = (cells: ReadonlyArray<Cell>, pick: (c: Cell) => RunName): RuleScore => {
  const vsSource = new Map<string, number[]>();
  const vsBest = new Map<string, number[]>();
  let worstCell = Infinity;
  for (const c of cells) {
    const chosen = run(c, pick(c)).accuracy;
    const base = run(c, 'source-only').accuracy;
    const best = Math.max(...methodRuns(c).map((r) => r.accuracy));
    vsSource.set(c.target, [...(vsSource.get(c.target) ?? []), chosen - base]);
    vsBest.set(c.target, [...(vsBest.get(c.target) ?? []), best - chosen]);
    worstCell = Math.min(worstCell, chosen - base);
  }
  const avg = (m: Map<string, number[]>) => new Map([...m].map(([k, v]) => [k, mean(v)]));
  return { vsSource: avg(vsSource), vsBest: avg(vsBest), worstCell };
};

/** The margin with the best (lowest) mean shortfall from the best method, among those never more than 2 points below source-only on any target of `cells`. */
const fitMargin = (cells: ReadonlyArray<Cell>, rule: SelectionRule): number => {
  let chosen: number = MARGINS[0];
  let bestGap = Infinity;
  for (const margin of MARGINS) {
    const s = score(cells, (c) => select(rule, c.runs, margin));
    const safe = Math.min(...s.vsSource.values()) >= -0.02;
    const gap = mean([...s.vsBest.values()]) + (safe ? 0 : 10);
    if (gap < bestGap - 1e-12) {
      bestGap = gap;
      chosen = margin;
    }
  }
  return chosen;
};

/** A table of accuracy (mean ± sd over seeds) per target for `names`, with a mean row. */
const accuracyTable = (cells: ReadonlyArray<Cell>, targets: ReadonlyArray<string>, names: ReadonlyArray<RunName>): { readonly lines: string[]; readonly means: Map<string, number> } => {
  const lines = [`| target | ${names.join(' | ')} |`, `|---|${names.map(() => '---:').join('|')}|`];
  const per = new Map<string, number[]>();
  for (const t of targets) {
    const cs = cells.filter((c) => c.target === t);
    const row = names.map((m) => {
      const v = cs.map((c) => run(c, m).accuracy);
      per.set(m, [...(per.get(m) ?? []), mean(v)]);
      return `${pts(mean(v))} ± ${pts(sd(v))}`;
    });
    lines.push(`| ${t} | ${row.join(' | ')} |`);
  }
  const means = new Map([...per].map(([m, v]) => [m, mean(v)]));
  lines.push(`| **mean** | ${names.map((m) => `**${pts(means.get(m)!)}**`).join(' | ')} |`);
  return { lines, means };
};

/** How each selection rule does on `cells`, its guard margin chosen leave-one-target-out over `fitOn` (which holds `cells`' targets or not). */
const selectionTable = (cells: ReadonlyArray<Cell>, fitOn: ReadonlyArray<Cell>): string[] => {
  const targets = [...new Set(cells.map((c) => c.target))];
  const lines = ['| rule | worst target: selected − source-only | mean shortfall from the best run | worst cell | margins chosen |', '|---|---:|---:|---:|---|'];
  const detail: string[] = [];
  for (const rule of SELECTION_RULES) {
    const margins = new Map(targets.map((t) => [t, fitMargin(fitOn.filter((c) => c.target !== t), rule)]));
    const s = score(cells, (c) => select(rule, c.runs, margins.get(c.target)!));
    lines.push(`| ${rule} | ${pts(Math.min(...s.vsSource.values()))} | ${pts(mean([...s.vsBest.values()]))} | ${pts(s.worstCell)} | ${targets.map((t) => `${t} ${margins.get(t)}`).join(', ')} |`);
    const picks = targets.map((t) => {
      const cs = cells.filter((c) => c.target === t);
      const chosen = cs.map((c) => select(rule, c.runs, margins.get(t)!));
      return `${t}: ${chosen.join(' / ')} (${pts(mean(cs.map((c, i) => run(c, chosen[i]!).accuracy - run(c, 'source-only').accuracy)))} over source-only, ${pts(s.vsBest.get(t)!)} below the best run)`;
    });
    detail.push(`- ${rule}: ${picks.join('; ')}`);
  }
  return [...lines, '', ...detail];
};

/** How well each score, read without labels, ranks the methods of a cell by their target accuracy: Spearman's ρ per cell, mean and worst. */
const validatorTable = (cells: ReadonlyArray<Cell>): string[] => {
  const scores: ReadonlyArray<readonly [string, (r: MethodRun) => number]> = [
    ['prediction information', (r) => r.marginalEntropy - r.entropy],
    ['soft neighbourhood density', (r) => r.snd],
    ['confidence (− mean entropy)', (r) => -r.entropy],
  ];
  const lines = ['| score | ρ over the methods but self-training, mean (worst cell) | ρ over every method, mean (worst cell) |', '|---|---:|---:|'];
  for (const [name, f] of scores) {
    const over = (pick: (r: MethodRun) => boolean) => cells.map((c) => {
      const runs = methodRuns(c).filter(pick);
      return spearman(runs.map(f), runs.map((r) => r.accuracy));
    });
    const bases = over((r) => (ADAPT_METHODS as ReadonlyArray<string>).includes(r.method) && r.method !== 'pseudo-label');
    const all = over(() => true);
    lines.push(`| ${name} | ${mean(bases).toFixed(2)} (${Math.min(...bases).toFixed(2)}) | ${mean(all).toFixed(2)} (${Math.min(...all).toFixed(2)}) |`);
  }
  return lines;
};

export const summarize = (cells: ReadonlyArray<Cell>): string => {
  if (cells.length === 0) return 'no cells yet';
  const targets = SHIFTS.filter((t) => cells.some((c) => c.target === t));
  const methods: RunName[] = [...ADAPT_METHODS, 'oracle-fine-tune', 'oracle-scratch'];
  const lines: string[] = [];
  lines.push(`${cells.length} cells (${targets.length} targets × seeds ${[...new Set(cells.map((c) => c.seed))].join(', ')}), backend ${cells[0]!.backend}`);
  const singles = accuracyTable(cells, targets, methods);
  lines.push('', '### Target test accuracy (%), mean ± sd over seeds', '', ...singles.lines);
  const base = singles.means.get('source-only')!;
  const gains = ADAPT_METHODS.map((m) => [m, singles.means.get(m)! - base] as const).sort((a, b) => b[1] - a[1]);
  lines.push('', `Gain over source-only, mean over targets (points): ${gains.map(([m, g]) => `${m} ${g >= 0 ? '+' : ''}${pts(g)}`).join(', ')}`);
  const composites: RunName[] = ['pseudo-label', ...SELF_TRAINING_FROM.map((m): RunName => `${m}+self-training`)];
  lines.push('', '### Self-training from each method (`pseudo-label` starts from AdaBN), test accuracy (%)', '', ...accuracyTable(cells, targets, composites).lines);
  const timed: RunName[] = [...methods, ...composites.slice(1)];
  lines.push('', '### Wall time per run (s), mean over cells', '', `| ${timed.join(' | ')} |`, `|${timed.map(() => '---:').join('|')}|`, `| ${timed.map((m) => (mean(cells.map((c) => run(c, m).ms)) / 1000).toFixed(1)).join(' | ')} |`);
  lines.push('', '### Which score read without labels predicts target accuracy: rank correlation with it, per cell', '', ...validatorTable(cells));
  const design = cells.filter((c) => DESIGN_SHIFTS.includes(c.target));
  const heldOut = cells.filter((c) => HELD_OUT_SHIFTS.includes(c.target));
  lines.push('', '### Unsupervised selection (no target label read) on the targets the rule was designed on; guard margin chosen leave-one-target-out', '', ...selectionTable(design, design));
  if (heldOut.length > 0) {
    lines.push('', '### Unsupervised selection on the held-out targets (added after the rule was fixed); guard margin chosen on the design targets', '', ...selectionTable(heldOut, design));
    lines.push('', '### Unsupervised selection on all targets; guard margin chosen leave-one-target-out', '', ...selectionTable(cells, cells));
  }
  return lines.join('\n');
};
