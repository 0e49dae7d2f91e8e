/**
 * Which signal predicts whether transfer helps: candidate signals measured on every cell of the
 * committed calibration grid (docs/results/calibration-mnist.json: 4 target domains × 4 sizes × 3
 * seeds, one source), against the gain that cell observed, the best of the four strategies minus
 * from scratch. Spearman's rank correlation for each signal, over the 48 cells. Evidence for issue
 * #16's first item; nothing here feeds the selector yet.
 *
 * The signals, each from the cell's own training images and labels only:
 * - `similarity`: today's, 1 − PAD/2 at the top feature layer (`measureSimilarity`, per domain, as
 *   the study measured it);
 * - `logme`: LogME of the pretrained top features on the target labels (You et al. 2021, "LogME:
 *   Practical Assessment of Pre-trained Models for Transfer Learning");
 * - `logmeRandom`: the same for the same architecture with random weights (seeded);
 * - `logmeGain`: `logme − logmeRandom`, how much the pretrained weights add over the architecture
 *   alone.
 *
 * Run: npx tsx scripts/mnist/signals.ts (a few minutes on 2 cores). Resumable: cells already in
 * docs/results/signals-mnist.json are skipped.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { logme, type Matrix } from 'transferkit';
import { fromLayersModel, setupBackend, type TfjsBackbone } from 'transferkit/tfjs';
import { SIDE, type DomainName } from './data';
import { spearman } from './spearman';
import { loadSourceModel, sourceArchitecture, SOURCE_TOP, unwrap } from './sourceModel';
import { cellSets, type CellResult } from './study';

const OUT = new URL('../../docs/results/signals-mnist.json', import.meta.url);
const GRID = new URL('../../docs/results/calibration-mnist.json', import.meta.url);
/** Seeds of the random-weight copies: the signal averages over them. */
const RANDOM_SEEDS = [101, 102, 103] as const;

interface Row {
  readonly domain: DomainName;
  readonly perDigit: number;
  readonly seed: number;
  /** The grid's observed gain: the best strategy's accuracy minus from scratch's (points). */
  readonly gain: number;
  readonly similarity: number;
  readonly logme: number;
  readonly logmeRandom: number;
  readonly logmeGain: number;
}

const embedTop = async (backbone: TfjsBackbone, x: tf.Tensor): Promise<Matrix> =>
  unwrap(await backbone.embed(x, backbone.layers[backbone.top]!, { pooling: 'average', batchSize: 256 })());

if (process.argv[1] !== undefined && new URL(import.meta.url).pathname === process.argv[1]) {
  const grid = JSON.parse(readFileSync(GRID, 'utf8')) as CellResult[];
  const rows: Row[] = existsSync(OUT) ? (JSON.parse(readFileSync(OUT, 'utf8')) as Row[]) : [];
  unwrap(await setupBackend()());
  const source = await loadSourceModel();
  const pretrained = unwrap(fromLayersModel(source, SOURCE_TOP));
  const randoms = RANDOM_SEEDS.map((s) => sourceArchitecture(s));
  const randomBackbones = randoms.map((m) => unwrap(fromLayersModel(m, SOURCE_TOP)));
  for (const cell of grid) {
    if (rows.some((r) => r.domain === cell.domain && r.perDigit === cell.perDigit && r.seed === cell.seed)) continue;
    const of = (m: string): number => cell.results.find((r) => r.method === m)!.accuracy;
    const best = Math.max(...['feature-extractor', 'earlier-layer-tap', 'partial-fine-tune', 'full-fine-tune'].map(of));
    const { train } = cellSets(cell);
    const x = tf.tensor4d(train.x, [train.count, SIDE, SIDE, 1]);
    const y = Array.from(train.y);
    const score = async (b: TfjsBackbone): Promise<number> => unwrap(logme(await embedTop(b, x), y)).value;
    const l = await score(pretrained);
    let lr = 0;
    for (const b of randomBackbones) lr += (await score(b)) / randomBackbones.length;
    x.dispose();
    rows.push({ domain: cell.domain, perDigit: cell.perDigit, seed: cell.seed, gain: 100 * (best - of('from-scratch')), similarity: cell.similarity, logme: l, logmeRandom: lr, logmeGain: l - lr });
    writeFileSync(OUT, `${JSON.stringify(rows, null, 1)}\n`);
    console.log(`${cell.domain} ${cell.perDigit} per digit, seed ${cell.seed}: gain ${rows.at(-1)!.gain.toFixed(1)}, logme ${l.toFixed(3)}, random ${lr.toFixed(3)}`);
  }
  const gains = rows.map((r) => r.gain);
  for (const key of ['similarity', 'logme', 'logmeRandom', 'logmeGain'] as const) {
    console.log(`Spearman ρ of ${key} with the observed gain, over ${rows.length} cells: ${spearman(rows.map((r) => r[key]), gains).toFixed(2)}`);
  }
  for (const perDigit of [5, 20, 100, 600]) {
    const at = rows.filter((r) => r.perDigit === perDigit);
    console.log(`  at ${perDigit} per digit (${at.length} cells): similarity ${spearman(at.map((r) => r.similarity), at.map((r) => r.gain)).toFixed(2)}, logmeGain ${spearman(at.map((r) => r.logmeGain), at.map((r) => r.gain)).toFixed(2)}`);
  }
  source.dispose();
  randoms.forEach((m) => m.dispose());
}
