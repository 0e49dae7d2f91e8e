/**
 * The adaptation benchmark's tables, from its cells (scripts/adapt/bench.ts): accuracy per method
 * and target, the gain over source-only, wall time, and how each unsupervised selection rule
 * does, with its one constant (the guard's margin) chosen leave-one-target-out.
 */
import { ADAPT_METHODS, type AdaptMethod } from 'transferkit';
import type { Cell, MethodRun, Oracle } from './bench';
import { SELECTION_RULES, select, type SelectionRule } from './selection';

const mean = (v: ReadonlyArray<number>): number => v.reduce((a, b) => a + b, 0) / v.length;
const sd = (v: ReadonlyArray<number>): number => {
  const m = mean(v);
  return v.length < 2 ? 0 : Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1));
};
const pts = (v: number): string => (100 * v).toFixed(1);
const run = (cell: Cell, method: AdaptMethod | Oracle): MethodRun => cell.runs.find((r) => r.method === method)!;

/** The guard margins a rule's constant is chosen from (leave one target out). */
export const MARGINS = [0, 0.02, 0.05, 0.1, 0.2, 0.3] as const;

interface RuleScore {
  /** Per target: mean over seeds of (selected − source-only), points/100. */
  readonly vsSource: Map<string, number>;
  /** Per target: mean over seeds of (best method in the cell − selected). */
  readonly vsBest: Map<string, number>;
  /** Worst single cell of selected − source-only. */
  readonly worstCell: number;
}

const score = (cells: ReadonlyArray<Cell>, pick: (c: Cell) => AdaptMethod): RuleScore => {
  const vsSource = new Map<string, number[]>();
  const vsBest = new Map<string, number[]>();
  let worstCell = Infinity;
  for (const c of cells) {
    const chosen = run(c, pick(c)).accuracy;
    const base = run(c, 'source-only').accuracy;
    const best = Math.max(...ADAPT_METHODS.map((m) => run(c, m).accuracy));
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

export const summarize = (cells: ReadonlyArray<Cell>): string => {
  if (cells.length === 0) return 'no cells yet';
  const targets = [...new Set(cells.map((c) => c.target))];
  const methods: Array<AdaptMethod | Oracle> = [...ADAPT_METHODS, 'oracle-fine-tune', 'oracle-scratch'];
  const lines: string[] = [];
  lines.push(`${cells.length} cells (${targets.length} targets × seeds ${[...new Set(cells.map((c) => c.seed))].join(', ')}), backend ${cells[0]!.backend}`);
  lines.push('', '### Target test accuracy (%), mean ± sd over seeds', '', `| target | ${methods.join(' | ')} |`, `|---|${methods.map(() => '---:').join('|')}|`);
  const byMethod = new Map<string, number[]>();
  for (const t of targets) {
    const cs = cells.filter((c) => c.target === t);
    const row = methods.map((m) => {
      const v = cs.map((c) => run(c, m).accuracy);
      byMethod.set(m, [...(byMethod.get(m) ?? []), mean(v)]);
      return `${pts(mean(v))} ± ${pts(sd(v))}`;
    });
    lines.push(`| ${t} | ${row.join(' | ')} |`);
  }
  lines.push(`| **mean** | ${methods.map((m) => `**${pts(mean(byMethod.get(m)!))}**`).join(' | ')} |`);
  const base = mean(byMethod.get('source-only')!);
  const gains = ADAPT_METHODS.map((m) => [m, mean(byMethod.get(m)!) - base] as const).sort((a, b) => b[1] - a[1]);
  lines.push('', `Gain over source-only, mean over targets (points): ${gains.map(([m, g]) => `${m} ${g >= 0 ? '+' : ''}${pts(g)}`).join(', ')}`);
  lines.push('', '### Wall time per run (s), mean over cells', '', `| ${methods.join(' | ')} |`, `|${methods.map(() => '---:').join('|')}|`, `| ${methods.map((m) => (mean(cells.map((c) => run(c, m).ms)) / 1000).toFixed(1)).join(' | ')} |`);
  lines.push('', '### Unsupervised selection (no target label read), guard margin chosen leave-one-target-out', '');
  lines.push('| rule | worst target: selected − source-only | mean shortfall from the best method | worst cell | margins chosen |', '|---|---:|---:|---:|---|');
  for (const rule of SELECTION_RULES) {
    const margins = new Map(targets.map((t) => [t, fitMargin(cells.filter((c) => c.target !== t), rule)]));
    const s = score(cells, (c) => select(rule, c.runs, margins.get(c.target)!));
    lines.push(`| ${rule} | ${pts(Math.min(...s.vsSource.values()))} | ${pts(mean([...s.vsBest.values()]))} | ${pts(s.worstCell)} | ${targets.map((t) => `${t} ${margins.get(t)}`).join(', ')} |`);
  }
  lines.push('', '### Per target, the leave-one-target-out selection', '');
  for (const rule of SELECTION_RULES) {
    const margins = new Map(targets.map((t) => [t, fitMargin(cells.filter((c) => c.target !== t), rule)]));
    const picks = targets.map((t) => {
      const cs = cells.filter((c) => c.target === t);
      const chosen = cs.map((c) => select(rule, c.runs, margins.get(t)!));
      return `${t}: ${chosen.join('/')} (${pts(mean(cs.map((c, i) => run(c, chosen[i]!).accuracy - run(c, 'source-only').accuracy)))})`;
    });
    lines.push(`- ${rule}: ${picks.join('; ')}`);
  }
  return lines.join('\n');
};
