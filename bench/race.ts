/**
 * What the validation race costs: `autoTransfer` with its default budget (2 full fine-tunes,
 * estimated from the candidates' phases, with a step from random weights timed on the cell)
 * against one full fine-tune (`transfer` with `fullFineTune`), same backbone, data and seed, in
 * alternating rounds. On cells of the
 * calibration grid (scripts/grid/): its three sources at sizes 5 to 600 per class. The issue's
 * goal: at most 2.5×.
 * Run: npm run bench -- race
 */
import * as tf from '@tensorflow/tfjs-core';
import { either as E } from 'fp-ts';
import { autoTransfer, fullFineTune, transfer } from 'transferkit';
import { setupBackend } from 'transferkit/tfjs';
import { loadSource } from '../scripts/grid/cells';
import { gridDomain, trainingSet, type GridDomainName } from '../scripts/grid/domains';
import type { GridSourceName } from '../scripts/grid/sources';
import { alternate } from './support/alternate';

const ROUNDS = 2;
const CELLS: ReadonlyArray<readonly [GridSourceName, GridDomainName, number]> = [
  ['cnn', 'digits', 5],
  ['cnn', 'permuted', 20],
  ['cnn', 'inverted', 100],
  ['cnn', 'parity', 600],
  ['residual', 'noisy', 20],
  ['mobilenet', 'rotated', 100],
];

const orThrow = <A>(result: E.Either<{ readonly message: string }, A>): A => {
  if (E.isLeft(result)) throw new Error(result.left.message);
  return result.right;
};

export const run = async (): Promise<void> => {
  const choice = orThrow(await setupBackend()());
  console.log(`The race against one full fine-tune, ${choice.description.split(' (')[0]}, median of ${ROUNDS} alternating rounds`);
  console.log('| source | domain | per class | race (s) | full fine-tune (s) | ratio | winner | random-start price | last rung |', '\n|---|---|---:|---:|---:|---:|---|---:|---:|');
  const ratios: number[] = [];
  for (const [name, domain, perClass] of CELLS) {
    const source = await loadSource(name);
    const set = trainingSet(gridDomain(domain), perClass, 0);
    const x = tf.tensor4d(set.x, [set.count, 28, 28, 1]);
    const data = { x, y: Array.from(set.y) };
    let winner = '';
    let price = 0;
    // The last rung's fraction, or none when the budget fitted one candidate and nothing raced.
    let lastRung = 'none';
    try {
      const [race, full] = await alternate(
        async () => {
          const r = orThrow(await autoTransfer(source.backbone, data, { seed: 0 })());
          winner = r.race.winner;
          price = r.race.randomStartCost.value;
          lastRung = String(r.race.fractions.at(-1) ?? 'none');
          r.model.dispose();
        },
        async () => orThrow(await transfer(source.backbone, fullFineTune, data, { seed: 0 })()).model.dispose(),
        ROUNDS,
      );
      ratios.push(race / full);
      console.log(`| ${name} | ${domain} | ${perClass} | ${(race / 1000).toFixed(1)} | ${(full / 1000).toFixed(1)} | ${(race / full).toFixed(2)}× | ${winner} | ${price.toFixed(2)} | ${lastRung} |`);
    } finally {
      x.dispose();
      source.dispose();
    }
  }
  console.log(`Largest ratio ${Math.max(...ratios).toFixed(2)}×, median ${[...ratios].sort((a, b) => a - b)[Math.floor(ratios.length / 2)]!.toFixed(2)}×`);
};
