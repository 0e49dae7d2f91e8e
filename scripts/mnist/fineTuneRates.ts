/**
 * The fine-tune learning rate, measured (issue 22): the partial and the full fine-tune presets on
 * the MNIST study's grid (4 target domains × 5, 20, 100 images per digit × 3 seeds), from each
 * committed source model (the CNN and the MobileNet-style net, sourceModel.ts), with the
 * fine-tune phase at several multiples of the head's learning rate. Scored on the study's 500
 * held-out images. The head phase and everything else keep their defaults, the divergence guard
 * included; how often it acted is recorded.
 *
 * The factor is chosen out of sample, for each preset: for each domain, the factor with the best
 * mean accuracy on the other three domains (both sources) is scored on the one left out; and for
 * each source, the factor best on the other source is scored on it. Resumable: one results file
 * per source, cells already there are skipped.
 *
 * Run: npm run study:rates [-- <source>]  (wasm, 1 thread per process)
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fineTuneRateFactor, HEAD_LEARNING_RATE, presets, type RecipeKind } from 'transferkit';
import { DOMAINS, type DomainName } from './data';
import { openSourceBackbone, SOURCES, type SourceName } from './sourceModel';
import { forEachCell, trainAndScore, type CellSpec } from './study';

const SIZES = [5, 20, 100] as const;
const SEEDS = [0, 1, 2] as const;
/** Multiples of the head's learning rate for the fine-tune phase; the default is among them. */
export const FACTORS = [0.3, 0.1, 0.03, 0.01] as const;
const KINDS = ['partial-fine-tune', 'full-fine-tune'] as const satisfies ReadonlyArray<RecipeKind>;
const SOURCE_NAMES = Object.keys(SOURCES) as SourceName[];
const resultsFile = (source: SourceName): URL => new URL(`../../docs/results/fine-tune-rates-${source}.json`, import.meta.url);

interface Run {
  readonly accuracy: number;
  readonly ms: number;
  /** Times the divergence guard restored weights and lowered the rate in the fine-tune phase. */
  readonly divergences: number;
  /** The fine-tune phase's rate at its end. */
  readonly finalRate: number;
}

interface Cell extends CellSpec {
  /** By recipe kind, then by factor (as a string key). */
  readonly runs: Record<string, Record<string, Run>>;
}

/** `-- <source>` runs that source only (two processes can then share the cores); the summary waits for every source. */
const only = process.argv[2] as SourceName | undefined;
if (only !== undefined && !SOURCE_NAMES.includes(only)) throw new Error(`unknown source '${only}'; the sources are ${SOURCE_NAMES.join(', ')}`);
const CELLS = DOMAINS.length * SIZES.length * SEEDS.length;
const results: Record<string, Cell[]> = {};
for (const name of SOURCE_NAMES) {
  if (only !== undefined && name !== only) {
    results[name] = existsSync(resultsFile(name)) ? (JSON.parse(readFileSync(resultsFile(name), 'utf8')) as Cell[]) : [];
    continue;
  }
  const { source, backbone } = await openSourceBackbone(name);
  console.log(`source ${name}`);
  results[name] = await forEachCell<Cell>(
    resultsFile(name),
    SIZES,
    SEEDS,
    async (spec, { train, test }) => {
      const runs: Cell['runs'] = {};
      for (const kind of KINDS) {
        runs[kind] = {};
        for (const factor of FACTORS) {
          const started = performance.now();
          const { accuracy, history } = await trainAndScore(backbone, presets[kind], train, test, {
            seed: spec.seed,
            phases: { 'fine-tune': { learningRate: HEAD_LEARNING_RATE * factor } },
          });
          const fineTune = history.find((p) => p.name === 'fine-tune')!;
          runs[kind]![String(factor)] = { accuracy, ms: performance.now() - started, divergences: fineTune.divergences.length, finalRate: fineTune.learningRate };
        }
      }
      return { ...spec, runs };
    },
    (c) => KINDS.map((k) => `${k}: ${FACTORS.map((f) => `${f} ${(100 * c.runs[k]![String(f)]!.accuracy).toFixed(1)}`).join(' ')}`).join('; '),
  );
  source.dispose();
}

const missing = SOURCE_NAMES.filter((name) => results[name]!.length < CELLS);
if (missing.length > 0) {
  console.log(`not summarised yet: ${missing.join(', ')} still to run`);
  process.exit(0);
}

/** One run of the grid: which source, cell and recipe, and its accuracy by factor. */
interface Row {
  readonly source: SourceName;
  readonly domain: DomainName;
  readonly perDigit: number;
  readonly kind: string;
  readonly byFactor: Record<string, Run>;
}
const rows: Row[] = SOURCE_NAMES.flatMap((source) =>
  results[source]!.flatMap((c) => KINDS.map((kind) => ({ source, domain: c.domain, perDigit: c.perDigit, kind, byFactor: c.runs[kind]! }))),
);
const mean = (a: ReadonlyArray<number>): number => a.reduce((s, v) => s + v, 0) / a.length;
/** Points below the best factor of the same run. */
const regret = (r: Row, factor: number): number => 100 * (Math.max(...FACTORS.map((f) => r.byFactor[String(f)]!.accuracy)) - r.byFactor[String(factor)]!.accuracy);
const bestFactor = (fit: ReadonlyArray<Row>): number =>
  FACTORS.reduce((best, f) => (mean(fit.map((r) => r.byFactor[String(f)]!.accuracy)) > mean(fit.map((r) => r.byFactor[String(best)]!.accuracy)) ? f : best), FACTORS[0] as number);

const lines: string[] = [];
const say = (line: string): void => {
  console.log(line);
  lines.push(line);
};
say('In-sample, every factor: mean accuracy (%), mean / worst regret against the best factor of the same run (points), guard actions per run');
for (const source of SOURCE_NAMES) {
  for (const kind of KINDS) {
    for (const f of FACTORS) {
      const rs = rows.filter((r) => r.source === source && r.kind === kind);
      const regrets = rs.map((r) => regret(r, f));
      say(
        `  ${source} ${kind} ×${f}${f === fineTuneRateFactor(presets[kind].trainable) ? ' (default)' : ''}: ${mean(rs.map((r) => 100 * r.byFactor[String(f)]!.accuracy)).toFixed(1)} %, ` +
          `regret ${mean(regrets).toFixed(1)} / ${Math.max(...regrets).toFixed(1)}, ${mean(rs.map((r) => r.byFactor[String(f)]!.divergences)).toFixed(2)} guard actions`,
      );
    }
  }
}
/** Mean and standard error. */
const meanAndError = (a: ReadonlyArray<number>): { mean: number; error: number } => {
  const m = mean(a);
  return { mean: m, error: Math.sqrt(a.reduce((s, v) => s + (v - m) ** 2, 0) / (a.length - 1) / a.length) };
};
// Each preset gets its own factor (the defaults differ by policy: fineTuneRateFactor), so each is
// chosen and held out on its own runs.
for (const kind of KINDS) {
  const ofKind = rows.filter((r) => r.kind === kind);
  say(`${kind}: leave one domain out (the factor with the best mean accuracy on the other three domains, both sources), its regret on the domain left out (mean / worst)`);
  const heldOut: number[] = [];
  for (const domain of DOMAINS) {
    const f = bestFactor(ofKind.filter((r) => r.domain !== domain));
    const regrets = ofKind.filter((r) => r.domain === domain).map((r) => regret(r, f));
    heldOut.push(...regrets);
    say(`  ${domain}: ×${f}, regret ${mean(regrets).toFixed(1)} / ${Math.max(...regrets).toFixed(1)}`);
  }
  say(`  every domain held out: regret ${mean(heldOut).toFixed(1)} / ${Math.max(...heldOut).toFixed(1)}`);
  say(`${kind}: leave one source out (fit on the other source), the factor chosen and its regret on the source left out (mean / worst)`);
  for (const source of SOURCE_NAMES) {
    const f = bestFactor(ofKind.filter((r) => r.source !== source));
    const regrets = ofKind.filter((r) => r.source === source).map((r) => regret(r, f));
    say(`  ${source}: ×${f}, regret ${mean(regrets).toFixed(1)} / ${Math.max(...regrets).toFixed(1)}`);
  }
  say(`${kind}: ×0.3 against ×0.1, paired by run (points: mean ± standard error; runs where ×0.3 won / lost)`);
  for (const source of SOURCE_NAMES) {
    const d = ofKind.filter((r) => r.source === source).map((r) => 100 * (r.byFactor['0.3']!.accuracy - r.byFactor['0.1']!.accuracy));
    const { mean: m, error } = meanAndError(d);
    say(`  ${source}: ${m >= 0 ? '+' : ''}${m.toFixed(2)} ± ${error.toFixed(2)}; ${d.filter((v) => v > 0).length} / ${d.filter((v) => v < 0).length}`);
  }
}
writeFileSync(new URL('../../docs/results/fine-tune-rates.md', import.meta.url), `# Fine-tune learning rates on the MNIST grid\n\nMade by \`npm run study:rates\` (scripts/mnist/fineTuneRates.ts): \`partial-fine-tune\` and \`full-fine-tune\` with the fine-tune phase at multiples of the head's rate (Adam ${HEAD_LEARNING_RATE}), 4 domains × 5, 20, 100 per digit × 3 seeds, from the CNN and the MobileNetV2-style source; accuracy on 500 held-out images. A guard action is the divergence guard restoring the best weights at a tenth of the rate.\n\n\`\`\`\n${lines.join('\n')}\n\`\`\`\n`);
