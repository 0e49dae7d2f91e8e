/**
 * What training from scratch costs against a full fine-tune in the calibration grid: the ratio of
 * their wall times in each cell of docs/results/calibration-mnist.json (written by
 * `npm run calibrate:first`), as the median and range the selector's rationale quotes.
 *
 * Run: npx tsx scripts/mnist/scratchCost.ts
 */
import { readFileSync } from 'node:fs';
import type { CellResult } from './study';

const cells = JSON.parse(readFileSync(new URL('../../docs/results/calibration-mnist.json', import.meta.url), 'utf8')) as CellResult[];
const ms = (cell: CellResult, method: string): number => cell.results.find((r) => r.method === method)!.ms;
const ratios = cells.map((c) => ms(c, 'from-scratch') / ms(c, 'full-fine-tune')).sort((a, b) => a - b);
const median = ratios.length % 2 === 1 ? ratios[(ratios.length - 1) / 2]! : (ratios[ratios.length / 2 - 1]! + ratios[ratios.length / 2]!) / 2;
console.log(`from scratch / full fine-tune, wall time over ${ratios.length} cells: median ${median.toFixed(1)}×, ${ratios[0]!.toFixed(1)}–${ratios.at(-1)!.toFixed(1)}×`);
