/**
 * `npm run calibrate -- --summary` (or `npx tsx scripts/grid/summary.ts`): what the calibration grid
 * of issue #16 says, from the cells it has run (docs/results/grid/, grid-probe/, grid-race/).
 * Writes docs/results/grid-summary.md:
 *
 * 1. each candidate signal's Spearman ρ with the cell's observed gain (the best of the four
 *    strategies minus from scratch), over all cells and per size;
 * 2. the regret of each fixed policy, of the selector's rule with each signal, and of the race,
 *    per group of cells (a source, a domain and a size; accuracies averaged over its seeds)
 *    against the best of the five choices in the group;
 * 3. the selector's rule refitted leave-one-domain-out: for every domain, the rule's thresholds
 *    that do best on the other domains, judged on the one left out. That is the headline.
 *
 * The rule is the selector's shape (selectStrategy): below `minFineTune` examples per class a
 * frozen head (on the top features at or above `topTap`, on an earlier layer below it); from there,
 * from scratch below `scratch`, a partial fine-tune above `partial`, else a full fine-tune. A pick
 * is scored by the preset of its kind run in the cell.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { FINE_TUNE_MIN_EXAMPLES_PER_CLASS, FULL_FINE_TUNE_MAX_SIMILARITY, NEGATIVE_TRANSFER_SIMILARITY, NO_GAIN_SIMILARITY, PROBE_CONFIDENCE_Z, selectStrategy, type RecipeKind, type TransferGain } from 'transferkit';
import { gainSimilarity, similarityInterval } from '../../src/strategy/race/interval';
import { spearman } from '../mnist/spearman';
import { CHOICES, SIZES, SMALL_PER_CLASS, type GridCell } from './cells';
import { GRID_DOMAINS, type GridDomainName } from './domains';
import { gridCells, outFile } from './perCell';
import type { RaceRecord } from './race';

const STRATEGIES: ReadonlyArray<RecipeKind> = ['feature-extractor', 'earlier-layer-tap', 'partial-fine-tune', 'full-fine-tune'];

interface Row {
  readonly cell: GridCell;
  readonly acc: Readonly<Record<RecipeKind, number>>;
  /** The best strategy minus from scratch, points. */
  readonly gain: number;
  readonly signals: Readonly<Record<string, number>>;
  /** The probe as shipped (every fold below SMALL_PER_CLASS per class, else the first). */
  readonly probe?: TransferGain;
  /** Whether the cell was there when the interval rule was chosen (grid-seen-by-interval-rule.json). */
  readonly seen: boolean;
  readonly race?: RaceRecord;
  readonly racePrior?: RaceRecord;
  /** The race with its first prior order (the earlier tap second), before it was changed. */
  readonly raceFirst?: RaceRecord;
  /** The race before it timed the price of a step from random weights (all at 1.5). */
  readonly raceFixed?: RaceRecord;
  /** The race with its rungs on every fold below SMALL_PER_CLASS per class, tried and not shipped (above that size, the shipped race). */
  readonly raceEveryFold?: RaceRecord;
}

/** The probe's accuracy gap on all three folds below 30 examples per class, on the first above: `measureTransferGain`'s default, what the selector reads. */
const EVERY = 'probe (accuracy gap, every fold below 30 per class; as shipped)';
/** The probe's accuracy gap on its first fold at every size (`folds: 1`), the shipped reading until it took every fold on small data. */
const ONE = 'probe (accuracy gap, first fold)';
/** How many signals a row has when every one was measured. */
const SIGNALS = 5;

const read = <A>(file: URL): A | undefined => (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as A) : undefined);

/** Reads every result and writes docs/results/grid-summary.md; returns its text. */
export const summarize = (): string => {
const seenCells = new Set(read<{ cells: string[] }>(new URL('../../docs/results/grid-seen-by-interval-rule.json', import.meta.url))?.cells ?? []);
const rows: Row[] = gridCells().map((cell) => {
  const acc = Object.fromEntries(CHOICES.map((k) => [k, 100 * cell.results[k].accuracy])) as Record<RecipeKind, number>;
  const probe = read<{ probe: TransferGain }>(outFile('grid-probe', cell))?.probe;
  // On every fold below SMALL_PER_CLASS per class (grid-probe-folds/), else the first fold's (the same run).
  const everyFold = cell.perClass < SMALL_PER_CLASS ? read<{ probe: TransferGain }>(outFile('grid-probe-folds', cell))?.probe : probe;
  const gap = (p: TransferGain): number => gainSimilarity(p.pretrained.accuracy, p.random.accuracy);
  const race = read<RaceRecord>(outFile('grid-race', cell));
  const racePrior = read<RaceRecord>(outFile('grid-race-prior', cell));
  const raceFirst = read<RaceRecord>(outFile('grid-race-first-order', cell));
  const raceFixed = read<RaceRecord>(outFile('grid-race-price-1.5', cell));
  const raceEveryFold = cell.perClass < SMALL_PER_CLASS ? read<RaceRecord>(outFile('grid-race-every-fold', cell)) : race;
  return {
    cell,
    acc,
    seen: seenCells.has(`${cell.source}/${cell.domain}-${cell.perClass}-${cell.seed}`),
    ...(everyFold === undefined ? {} : { probe: everyFold }),
    gain: Math.max(...STRATEGIES.map((k) => acc[k])) - acc['from-scratch'],
    signals: {
      'similarity (1 − PAD/2)': cell.signals.similarity,
      'LogME gain (pretrained − random)': cell.signals.logme - cell.signals.logmeRandom,
      ...(probe === undefined ? {} : { 'probe (loss ratio)': probe.random.loss / (probe.pretrained.loss + probe.random.loss), [ONE]: gap(probe) }),
      ...(everyFold === undefined ? {} : { [EVERY]: gap(everyFold) }),
    },
    ...(race === undefined ? {} : { race }),
    ...(racePrior === undefined ? {} : { racePrior }),
    ...(raceFirst === undefined ? {} : { raceFirst }),
    ...(raceFixed === undefined ? {} : { raceFixed }),
    ...(raceEveryFold === undefined ? {} : { raceEveryFold }),
  };
});

/** The shipped probe's interval at quantile z (`measureTransferGain`'s, from its two accuracies and the rows they were scored on; the files predate the field). */
const intervalOf = (r: Row, z = PROBE_CONFIDENCE_Z): TransferGain['interval'] | undefined =>
  r.probe === undefined ? undefined : similarityInterval(r.probe.pretrained.accuracy, r.probe.random.accuracy, r.probe.scored, z);
const mean = (xs: ReadonlyArray<number>): number => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
const f1 = (x: number): string => x.toFixed(1);
const f2 = (x: number): string => x.toFixed(2);
/** Mean / worst of regrets. */
const mw = (r: ReadonlyArray<number>): string => `${f1(mean(r))} / ${f1(Math.max(...r))}`;

/** A group: one source, domain and size, over its seeds. */
interface Group {
  readonly key: string;
  readonly domain: GridDomainName;
  readonly rows: ReadonlyArray<Row>;
  /** The best of the five choices' mean accuracies. */
  readonly best: number;
}
/** Rows grouped by source, domain and size: each analysis groups the rows it has (a seed without a probe is left out of the probe's). */
const groupRows = (rs: ReadonlyArray<Row>): Group[] => {
  const groups: Array<{ key: string; domain: GridDomainName; rows: Row[] }> = [];
  for (const r of rs) {
    const key = `${r.cell.source} ${r.cell.domain} ${r.cell.perClass}`;
    const g = groups.find((x) => x.key === key);
    if (g === undefined) groups.push({ key, domain: r.cell.domain, rows: [r] });
    else g.rows.push(r);
  }
  return groups.map((g) => ({ ...g, best: Math.max(...CHOICES.map((k) => mean(g.rows.map((r) => r.acc[k])))) }));
};

/** A policy's regret in a group: the best choice's mean accuracy minus the mean of the policy's picks' accuracies. */
const regretIn = (g: Group, pick: (r: Row) => number): number => g.best - mean(g.rows.map(pick));

interface Rule {
  readonly minFineTune: number;
  readonly scratch: number;
  readonly partial: number;
  readonly topTap: number;
}
const decide = (rule: Rule, perClass: number, s: number): RecipeKind =>
  perClass < rule.minFineTune ? (s >= rule.topTap ? 'feature-extractor' : 'earlier-layer-tap') : s < rule.scratch ? 'from-scratch' : s > rule.partial ? 'partial-fine-tune' : 'full-fine-tune';

/** Candidate thresholds for a signal: below everything, above everything, and midway between neighbouring values. */
const cuts = (values: ReadonlyArray<number>): number[] => {
  const v = [...new Set(values)].sort((a, b) => a - b);
  const step = Math.max(1, Math.floor(v.length / 24));
  const mids = v.slice(0, -1).filter((_, i) => i % step === 0).map((x, i) => (x + v[Math.min(v.length - 1, i * step + 1)]!) / 2);
  return [-Infinity, ...mids, Infinity];
};

const ruleRegret = (rule: Rule, signal: string, gs: ReadonlyArray<Group>): number[] =>
  gs.map((g) => regretIn(g, (r) => r.acc[decide(rule, r.cell.perClass, r.signals[signal]!)]));

/** The rule with the least mean regret on `gs` (ties: the least worst, then the first found). */
const fit = (signal: string, gs: ReadonlyArray<Group>): Rule => {
  const values = gs.flatMap((g) => g.rows.map((r) => r.signals[signal]!));
  const c = cuts(values);
  let best: { rule: Rule; mean: number; worst: number } | undefined;
  for (const minFineTune of [5, 6, 21]) {
    for (const scratch of c) {
      for (const partial of [Infinity, ...c.filter((x) => x > scratch)]) {
        for (const topTap of minFineTune > 5 ? c : [Infinity]) {
          const rule = { minFineTune, scratch, partial, topTap };
          const r = ruleRegret(rule, signal, gs);
          const m = mean(r);
          const w = Math.max(...r);
          if (best === undefined || m < best.mean - 1e-9 || (Math.abs(m - best.mean) <= 1e-9 && w < best.worst)) best = { rule, mean: m, worst: w };
        }
      }
    }
  }
  return best!.rule;
};

const complete = groupRows(rows.filter((r) => Object.keys(r.signals).length === SIGNALS));
const signalNames = Object.keys(rows.find((r) => Object.keys(r.signals).length === SIGNALS)?.signals ?? rows[0]?.signals ?? {});
const domains = GRID_DOMAINS.map((d) => d.name).filter((d) => complete.some((g) => g.domain === d));
const out: string[] = [];
const sources = [...new Set(rows.map((r) => r.cell.source))];
out.push(
  '# The calibration grid of #16: results so far',
  '',
  `Made by \`npx tsx scripts/grid/summary.ts\` on ${new Date().toISOString().slice(0, 10)} from the cells in docs/results/grid/ (${rows.length} cells: ${sources.map((s) => `${s} ${rows.filter((r) => r.cell.source === s).length}`).join(', ')}), grid-probe/ (${rows.filter((r) => r.signals['probe (loss ratio)'] !== undefined).length}) and grid-race/ (${rows.filter((r) => r.race !== undefined).length}).`,
  'A group is one source, domain and size; its accuracies are means over the seeds it has. Regret: the best of the five choices in the group minus the policy (points of test accuracy).',
  '',
  '## Which signal predicts the gain of transfer',
  '',
  "Spearman's ρ between each signal and the cell's gain (the best strategy's accuracy minus from scratch's), over the cells that have every signal:",
  '',
  `| signal | all | ${SIZES.map((n) => `${n} per class`).join(' | ')} |`,
  `|---|---:|${SIZES.map(() => '---:').join('|')}|`,
);
const withAll = rows.filter((r) => Object.keys(r.signals).length === signalNames.length);
for (const s of signalNames) {
  const rho = (rs: Row[]) => (rs.length < 4 ? '–' : f2(spearman(rs.map((r) => r.signals[s]!), rs.map((r) => r.gain))));
  out.push(`| ${s} | ${rho(withAll)} | ${SIZES.map((n) => rho(withAll.filter((r) => r.cell.perClass === n))).join(' | ')} |`);
}
out.push('', '## Regret, in sample', '', `Over the ${complete.length} groups that have every signal.`, '', '| policy | mean | worst |', '|---|---:|---:|');
const line = (name: string, r: ReadonlyArray<number>) => out.push(`| ${name} | ${f1(mean(r))} | ${f1(Math.max(...r))} |`);
for (const k of CHOICES) line(`always ${k}`, complete.map((g) => regretIn(g, (r) => r.acc[k])));
for (const s of signalNames) line(`the rule on ${s}, fitted to all groups`, ruleRegret(fit(s, complete), s, complete));
const GAP = EVERY;
const EVERY_FOLD_RACE = 'the race with every fold a rung below 30 per class where the budget fit two candidates so (tried, not shipped; from 30 per class on, the shipped race)';
/** What the shipped selector picks for a row from its probe (undefined without one). */
const shipped = (r: Row): RecipeKind | undefined => {
  const similarity = r.signals[GAP];
  if (similarity === undefined) return undefined;
  const interval = intervalOf(r);
  const picked = selectStrategy({ size: r.cell.perClass * r.cell.classes, similarity: { similarity, ...(interval === undefined ? {} : { interval }) }, classes: r.cell.classes });
  return picked._tag === 'Right' ? picked.right.kind : undefined;
};
const SHIPPED = `\`selectStrategy\` as shipped: the probe as shipped with its interval, from scratch only where the interval lies below ${NO_GAIN_SIMILARITY} (nothing fitted)`;
const shippedRegret = (gs: ReadonlyArray<Group>): number[] => gs.map((g) => regretIn(g, (r) => r.acc[shipped(r)!]));
if (signalNames.includes(GAP)) line(SHIPPED, shippedRegret(complete));
for (const [i, [name, get]] of ([
  ['the race (autoTransfer as shipped: default budget, PRIOR_ORDER, a step from random weights timed on the cell, a fold a rung)', (r: Row) => r.race],
  [EVERY_FOLD_RACE, (r: Row) => r.raceEveryFold],
  ['the race before it timed that step (every step from random weights priced at 1.5 fine-tune steps)', (r: Row) => r.raceFixed],
  ['the race with its first order (the earlier tap second)', (r: Row) => r.raceFirst],
] as const).entries()) {
  // A variant is compared with the shipped race on the same cells (seeds), so that the two differ only in what was changed.
  const variant = i > 0;
  const raced = groupRows(rows.filter((r) => get(r) !== undefined && (!variant || r.race !== undefined)));
  if (raced.length === 0) continue;
  out.push('', `${name[0]!.toUpperCase()}${name.slice(1)}, on the ${raced.length} groups it has run${variant ? ', beside the shipped race on the same cells' : ''}. Nothing in it is fitted to this grid by a program, but it was shaped by hand after seeing cnn groups (its second shortlist order; docs/study.md), so only the other sources' groups are out of sample for it:`, '', '| policy | mean | worst |', '|---|---:|---:|');
  line(variant ? 'autoTransfer, this variant' : 'autoTransfer', raced.map((g) => regretIn(g, (r) => 100 * get(r)!.accuracy)));
  if (variant) line('autoTransfer as shipped (same cells)', raced.map((g) => regretIn(g, (r) => 100 * r.race!.accuracy)));
  for (const k of CHOICES) line(`always ${k} (same groups)`, raced.map((g) => regretIn(g, (r) => r.acc[k])));
  const bySource = [...new Set(raced.map((g) => g.rows[0]!.cell.source))];
  if (bySource.length > 1) {
    out.push('', 'By source (mean / worst):', '', `| source | groups | autoTransfer${variant ? ', this variant | as shipped' : ''} | always full fine-tune |`, `|---|---:|---:|${variant ? '---:|' : ''}---:|`);
    for (const src of bySource) {
      const gs = raced.filter((g) => g.rows[0]!.cell.source === src);
      const shippedCol = variant ? ` ${mw(gs.map((g) => regretIn(g, (r) => 100 * r.race!.accuracy)))} |` : '';
      out.push(`| ${src} | ${gs.length} | ${mw(gs.map((g) => regretIn(g, (r) => 100 * get(r)!.accuracy)))} |${shippedCol} ${mw(gs.map((g) => regretIn(g, (r) => r.acc['full-fine-tune'])))} |`);
    }
    // The sources the race's design never saw.
    const held = raced.filter((g) => g.rows[0]!.cell.source !== 'cnn');
    if (held.length > 0 && held.length < raced.length) {
      const shippedCol = variant ? ` ${mw(held.map((g) => regretIn(g, (r) => 100 * r.race!.accuracy)))} |` : '';
      out.push(`| out of sample (all but cnn) | ${held.length} | ${mw(held.map((g) => regretIn(g, (r) => 100 * get(r)!.accuracy)))} |${shippedCol} ${mw(held.map((g) => regretIn(g, (r) => r.acc['full-fine-tune'])))} |`);
    }
  }
  if (name === EVERY_FOLD_RACE) {
    // Cell by cell: where the variant trained its rungs on every fold, and where the budget did not fit that and it ran the shipped race again (the race's own noise).
    const paired = rows.filter((r) => r.raceEveryFold !== undefined && r.race !== undefined && r.cell.perClass < SMALL_PER_CLASS);
    out.push('', 'Cell by cell, the variant\'s winner minus the shipped race\'s on the same cell (test accuracy, points): where the variant trained every fold, and where the budget did not fit that so it ran the shipped race again.', '', '| source | every fold: cells | mean | where it reran the shipped race: cells | mean | largest move |', '|---|---:|---:|---:|---:|---:|');
    for (const src of [...new Set(paired.map((r) => r.cell.source))]) {
      const of = (every: boolean): number[] => paired.filter((r) => r.cell.source === src && (r.raceEveryFold!.everyFold === true) === every).map((r) => 100 * (r.raceEveryFold!.accuracy - r.race!.accuracy));
      const e = of(true);
      const again = of(false);
      out.push(`| ${src} | ${e.length} | ${e.length === 0 ? '–' : f2(mean(e))} | ${again.length} | ${again.length === 0 ? '–' : f2(mean(again))} | ${again.length === 0 ? '–' : f1(Math.max(...again.map(Math.abs)))} |`);
    }
  }
}
if (signalNames.includes(GAP)) {
  out.push(
    '',
    '## `selectStrategy` as shipped, source by source',
    '',
    "On the probe as shipped (every fold below 30 per class), with its interval: from 5 per class on, from scratch only where the interval lies below 0.5, else a full fine-tune. Nothing in that rule is fitted (0.5 is where the source helps no more than random weights, and the interval's level is the conventional one-sided 5 %), but it was chosen on 2026-12-07 after seeing the 236 cells listed in grid-seen-by-interval-rule.json; the next section scores it on the cells run after. Beside it, the threshold it replaced (0.46 on the similarity alone, fitted on 2026-12-07 to the CNN's groups and the residual net's first seed).",
    '',
    '| source | groups | `selectStrategy` | the 0.46 threshold | always full fine-tune | always from scratch |',
    '|---|---:|---:|---:|---:|---:|',
  );
  const threshold = (gs: ReadonlyArray<Group>): number[] => ruleRegret({ minFineTune: 5, scratch: NEGATIVE_TRANSFER_SIMILARITY, partial: Infinity, topTap: Infinity }, GAP, gs);
  for (const src of sources) {
    const gs = complete.filter((g) => g.rows[0]!.cell.source === src);
    if (gs.length === 0) continue;
    out.push(`| ${src} | ${gs.length} | ${mw(shippedRegret(gs))} | ${mw(threshold(gs))} | ${mw(gs.map((g) => regretIn(g, (r) => r.acc['full-fine-tune'])))} | ${mw(gs.map((g) => regretIn(g, (r) => r.acc['from-scratch'])))} |`);
  }
  // How much the interval's level matters: the same rule at other quantiles than PROBE_CONFIDENCE_Z.
  const atLevel = [1, 1.28, PROBE_CONFIDENCE_Z, 1.96, 2.33].map((z) => {
    const pick = (r: Row): RecipeKind => (r.cell.perClass >= FINE_TUNE_MIN_EXAMPLES_PER_CLASS && intervalOf(r, z)!.high < NO_GAIN_SIMILARITY ? 'from-scratch' : 'full-fine-tune');
    return `z ${z}: ${mw(complete.map((g) => regretIn(g, (r) => r.acc[pick(r)])))}`;
  });
  out.push('', `The interval rule at other levels (the quantile z of each one-sided bound; shipped ${PROBE_CONFIDENCE_Z}), mean / worst over the ${complete.length} groups: ${atLevel.join('; ')}.`);
  // The cells run after the interval rule was chosen: held-out seeds (and, for the MobileNet-style net's third seed, cells of a seed it never saw).
  const freshRows = rows.filter((r) => !r.seen && r.signals[GAP] !== undefined);
  const fresh = groupRows(freshRows);
  out.push('', '## Cells run after the interval rule was chosen', '');
  if (fresh.length === 0) out.push('None yet.');
  else {
    out.push(
      `${freshRows.length} cells in ${fresh.length} groups (each group over the new seeds alone): held out from the interval rule and from the 0.46 threshold alike.`,
      '',
      '| policy | mean | worst |',
      '|---|---:|---:|',
    );
    line('`selectStrategy` as shipped (the interval rule)', shippedRegret(fresh));
    line('the 0.46 threshold', threshold(fresh));
    for (const k of CHOICES) line(`always ${k}`, fresh.map((g) => regretIn(g, (r) => r.acc[k])));
  }
  // Where the partial fine-tune's region starts: how high the signal reached, and where a partial fine-tune beat the full one.
  const read = rows.filter((r) => r.signals[GAP] !== undefined);
  const values = read.map((r) => r.signals[GAP]!);
  const above = read.filter((r) => r.signals[GAP]! > FULL_FINE_TUNE_MAX_SIMILARITY).map((r) => `${r.cell.source} ${r.cell.domain} ${r.cell.perClass}/class seed ${r.cell.seed} (${f2(r.signals[GAP]!)})`);
  const below = read.filter((r) => r.signals[GAP]! < NEGATIVE_TRANSFER_SIMILARITY);
  const fineTuneWon = below.map((r) => r.acc['full-fine-tune'] - r.acc['from-scratch']).filter((d) => d > 0);
  const shown = read.filter((r) => intervalOf(r)!.high < NO_GAIN_SIMILARITY);
  const shownWon = shown.map((r) => r.acc['full-fine-tune'] - r.acc['from-scratch']).filter((d) => d > 0);
  const untold = read.filter((r) => r.signals[GAP]! < NO_GAIN_SIMILARITY && intervalOf(r)!.high >= NO_GAIN_SIMILARITY);
  const untoldBy = untold.map((r) => r.acc['full-fine-tune'] - r.acc['from-scratch']);
  const partialWins = complete
    .map((g) => ({ g, by: mean(g.rows.map((r) => r.acc['partial-fine-tune'])) - mean(g.rows.map((r) => r.acc['full-fine-tune'])) }))
    .filter((x) => x.by > 0.5)
    .map((x) => `${x.g.key} (${f1(x.by)})`);
  // In sample, the rule's regret as the from-scratch threshold moves (a full fine-tune from 5 per class on, else from scratch below it).
  const landscape = [0.4, 0.42, 0.44, 0.45, 0.46, 0.47, 0.48, 0.49, 0.5, 0.52].map((t) => {
    const r = ruleRegret({ minFineTune: 5, scratch: t, partial: Infinity, topTap: Infinity }, GAP, complete);
    return `${t.toFixed(2)}: ${f1(mean(r))} / ${f1(Math.max(...r))}`;
  });
  out.push('', `In sample, on the probe as shipped, the rule's regret (mean / worst) with its from-scratch threshold at ${landscape.join('; ')}.`);
  out.push(
    '',
    `The probe's interval lay below ${NO_GAIN_SIMILARITY}, where the selector trains from scratch from 5 per class on, in ${shown.length} cells; in ${shownWon.length} of them a full fine-tune still beat from scratch${shownWon.length === 0 ? '' : `, by up to ${f1(Math.max(...shownWon))} points`}. ${untold.length} cells read below ${NO_GAIN_SIMILARITY} with an interval reaching above it (the probe could not tell; the selector fine-tunes): a full fine-tune beat from scratch in ${untoldBy.filter((d) => d > 0).length} of them${untoldBy.some((d) => d > 0) ? `, by up to ${f1(Math.max(...untoldBy))} points` : ''}, and lost in ${untoldBy.filter((d) => d < 0).length}${untoldBy.some((d) => d < 0) ? `, by up to ${f1(-Math.min(...untoldBy))}` : ''}.`,
    '',
    `Without the interval, the selector trains from scratch below NEGATIVE_TRANSFER_SIMILARITY (${NEGATIVE_TRANSFER_SIMILARITY}): ${below.length} cells read below it; in ${fineTuneWon.length} of them a full fine-tune still beat from scratch${fineTuneWon.length === 0 ? '' : `, by up to ${f1(Math.max(...fineTuneWon))} points`}.`,
    '',
    `The probe's accuracy gap ranged from ${f2(Math.min(...values))} to ${f2(Math.max(...values))} over ${read.length} cells; ${above.length} read above FULL_FINE_TUNE_MAX_SIMILARITY (${FULL_FINE_TUNE_MAX_SIMILARITY})${above.length === 0 ? '' : `: ${above.join(', ')}, where \`selectStrategy\` picks a partial fine-tune of a fraction the cell did not run, scored here by the partial preset`}. A partial fine-tune beat the full one by more than half a point in ${partialWins.length} of ${complete.length} groups${partialWins.length === 0 ? '' : ` (by points: ${partialWins.join(', ')})`}.`,
  );
}
out.push('', '## Leave one domain out', '', 'For each domain: the rule fitted on every other domain (all sources, sizes and seeds), its regret on the domain left out.', '');
out.push(`| signal | ${domains.join(' | ')} | mean | worst |`, `|---|${domains.map(() => '---:').join('|')}|---:|---:|`);
for (const s of signalNames) {
  const perDomain = domains.map((d) => {
    const rule = fit(s, complete.filter((g) => g.domain !== d));
    return ruleRegret(rule, s, complete.filter((g) => g.domain === d));
  });
  const all = perDomain.flat();
  out.push(`| the rule on ${s} | ${perDomain.map((r) => `${f1(mean(r))} / ${f1(Math.max(...r))}`).join(' | ')} | ${f1(mean(all))} | ${f1(Math.max(...all))} |`);
}
if (signalNames.includes(GAP)) {
  // Nothing in it is fitted, so the domain left out is scored as it is in sample.
  const per = domains.map((d) => shippedRegret(complete.filter((g) => g.domain === d)));
  out.push(`| ${SHIPPED} | ${per.map(mw).join(' | ')} | ${f1(mean(per.flat()))} | ${f1(Math.max(...per.flat()))} |`);
}
for (const k of CHOICES) {
  const per = domains.map((d) => complete.filter((g) => g.domain === d).map((g) => regretIn(g, (r) => r.acc[k])));
  const all = per.flat();
  out.push(`| always ${k} | ${per.map((r) => `${f1(mean(r))} / ${f1(Math.max(...r))}`).join(' | ')} | ${f1(mean(all))} | ${f1(Math.max(...all))} |`);
}
out.push('', 'Cells: mean / worst regret over the domain\'s groups.', '');

for (const s of [ONE, EVERY].filter((x) => signalNames.includes(x))) {
  // A threshold below every reading: the rule never trains from scratch.
  const held = domains.map((d) => {
    const t = fit(s, complete.filter((g) => g.domain !== d)).scratch;
    return `${d} ${Number.isFinite(t) ? f2(t) : 'never'}`;
  });
  out.push(`The rule on ${s}, fitted without each domain, trains from scratch below: ${held.join(', ')}.`, '');
}
// A second way to hold out: the rule fitted on two sources, judged on the third.
const heldSources = sources.filter((src) => complete.some((g) => g.rows[0]!.cell.source === src));
if (heldSources.length > 1) {
  out.push('## Leave one source out', '', 'For each source: the rule fitted on the other sources\' groups, its regret on the source left out (mean / worst).', '');
  out.push(`| signal | ${heldSources.join(' | ')} | mean | worst |`, `|---|${heldSources.map(() => '---:').join('|')}|---:|---:|`);
  const ofSource = (src: string) => (g: Group): boolean => g.rows[0]!.cell.source === src;
  for (const sig of signalNames) {
    const per = heldSources.map((src) => ruleRegret(fit(sig, complete.filter((g) => !ofSource(src)(g))), sig, complete.filter(ofSource(src))));
    const all = per.flat();
    out.push(`| the rule on ${sig} | ${per.map(mw).join(' | ')} | ${f1(mean(all))} | ${f1(Math.max(...all))} |`);
  }
  if (signalNames.includes(GAP)) {
    const per = heldSources.map((src) => shippedRegret(complete.filter(ofSource(src))));
    out.push(`| ${SHIPPED} | ${per.map(mw).join(' | ')} | ${f1(mean(per.flat()))} | ${f1(Math.max(...per.flat()))} |`);
  }
  out.push('');
}
const best = signalNames[0] === undefined ? undefined : signalNames;
if (best !== undefined) {
  out.push('## Rules fitted to all groups', '');
  for (const s of signalNames) out.push(`- ${s}: ${JSON.stringify(fit(s, complete))}`);
}
writeFileSync(new URL('../../docs/results/grid-summary.md', import.meta.url), `${out.join('\n')}\n`);
return out.join('\n');
};

if (process.argv[1] !== undefined && new URL(import.meta.url).pathname === process.argv[1]) console.log(summarize());
