/**
 * `npm run calibrate`: the calibration grid of issue #16 — 3 sources × 8 target domains × 4 sizes
 * (5, 20, 100, 600 labelled images per class) × 3 seeds — run cell by cell into
 * docs/results/grid/ (cells.ts), seed by seed; then the probe (probe.ts: on the first fold, and on every fold below 30 per class as shipped) and the race (race.ts)
 * on every cell; then the summary, docs/results/grid-summary.md (summary.ts). Every step is
 * resumable: a cell whose file exists is not run again. Hours on 2 cores (the residual and
 * MobileNet-style sources take about 2 minutes a cell).
 *
 *   npm run calibrate                     every missing cell, probe and race, then the summary
 *   npm run calibrate -- --source cnn     one source's
 *   npm run calibrate -- --domain parity  one domain's grid cells
 *   npm run calibrate -- --summary        the summary alone, from what is there
 *   npm run calibrate -- --cells          the grid cells alone: no probe, race or summary
 *   npm run calibrate -- --measure        the probe and the race on the cells there are, and the summary
 */
import '@tensorflow/tfjs-backend-cpu';
import { setupBackend } from 'transferkit/tfjs';
import { unwrap } from '../mnist/sourceModel';
import { CHOICES, loadSource, readCell, runGridCell, SEEDS, SIZES } from './cells';
import { runProbes } from './probe';
import { runRaces } from './race';
import { summarize } from './summary';
import { GRID_DOMAINS, type GridDomainName } from './domains';
import { GRID_SOURCE_NAMES, type GridSourceName } from './sources';

const flag = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
};
const sources = GRID_SOURCE_NAMES.filter((s) => flag('source') === undefined || s === flag('source')) as GridSourceName[];
const domains = GRID_DOMAINS.map((d) => d.name).filter((d) => flag('domain') === undefined || d === flag('domain')) as GridDomainName[];
if (process.argv.includes('--summary')) {
  console.log(summarize());
  process.exit(0);
}
console.log(unwrap(await setupBackend()()).description.split(';')[0]);
const started = performance.now();
for (const name of process.argv.includes('--measure') ? [] : sources) {
  // Seed by seed: a grid stopped part way has every domain and size of its first seeds.
  const keys = SEEDS.flatMap((seed) => domains.flatMap((domain) => SIZES.map((perClass) => ({ source: name, domain, perClass, seed }))));
  const missing = keys.filter((k) => readCell(k) === undefined);
  if (missing.length === 0) continue;
  const source = await loadSource(name);
  for (const key of missing) {
    const cell = await runGridCell(source, key);
    const minutes = ((performance.now() - started) / 60_000).toFixed(1);
    console.log(`${minutes} min ${name} ${key.domain} ${key.perClass}/class seed ${key.seed}: ${CHOICES.map((k) => `${k} ${(100 * cell.results[k].accuracy).toFixed(1)} (${(cell.results[k].ms / 1000).toFixed(1)} s)`).join(', ')}; similarity ${cell.signals.similarity.toFixed(3)}, logme ${cell.signals.logme.toFixed(3)} / random ${cell.signals.logmeRandom.toFixed(3)}`);
  }
  source.dispose();
}
if (process.argv.includes('--cells')) process.exit(0);
const only = flag('source') as GridSourceName | undefined;
await runProbes(only);
await runProbes(only, true);
await runRaces(only);
console.log(summarize());
