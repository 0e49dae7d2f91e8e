/**
 * Work that follows the grid cell by cell (the probe signal, the race): for every cell the grid
 * has run (docs/results/grid/), runs `work` on its training and test images once and writes what
 * it returns to docs/results/<dir>/<source>/<domain>-<perClass>-<seed>.json. Resumable like the
 * grid: a cell whose file exists is skipped.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import type { Digits } from '../mnist/fitSource';
import { loadSource, type CellKey, type GridCell, type LoadedSource } from './cells';
import { gridDomain, testSet, trainingSet } from './domains';
import { GRID_SOURCE_NAMES, type GridSourceName } from './sources';

const RESULTS = new URL('../../docs/results/', import.meta.url);

export const outFile = (dir: string, key: CellKey): URL => new URL(`${dir}/${key.source}/${key.domain}-${key.perClass}-${key.seed}.json`, RESULTS);

/** Every cell the grid has run, source by source. */
export const gridCells = (source?: GridSourceName): GridCell[] =>
  GRID_SOURCE_NAMES.filter((s) => source === undefined || s === source).flatMap((s) => {
    const dir = new URL(`grid/${s}/`, RESULTS);
    return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as GridCell) : [];
  });

export interface CellImages {
  readonly train: { readonly x: tf.Tensor4D; readonly y: Int32Array };
  readonly test: { readonly x: tf.Tensor4D; readonly y: Int32Array };
  readonly classes: number;
}

const images = (set: Digits): tf.Tensor4D => tf.tensor4d(set.x, [set.count, 28, 28, 1]);

/** Runs `work` on each grid cell (that `wanted` accepts, when given) that has no file in `dir` yet, logging `describe` of each result. */
export const forEachGridCell = async <R>(dir: string, work: (source: LoadedSource, cell: GridCell, images: CellImages) => Promise<R>, describe: (r: R) => string, only?: GridSourceName, wanted: (cell: GridCell) => boolean = () => true): Promise<void> => {
  for (const name of GRID_SOURCE_NAMES.filter((s) => only === undefined || s === only)) {
    const cells = gridCells(name).filter((c) => wanted(c) && !existsSync(outFile(dir, c)));
    if (cells.length === 0) continue;
    const source = await loadSource(name);
    for (const cell of cells) {
      const domain = gridDomain(cell.domain);
      const train = trainingSet(domain, cell.perClass, cell.seed);
      const test = testSet(domain);
      const cellImages = { train: { x: images(train), y: train.y }, test: { x: images(test), y: test.y }, classes: domain.classes.length };
      try {
        const result = await work(source, cell, cellImages);
        mkdirSync(new URL('.', outFile(dir, cell)), { recursive: true });
        writeFileSync(outFile(dir, cell), `${JSON.stringify({ source: cell.source, domain: cell.domain, perClass: cell.perClass, seed: cell.seed, ...result }, null, 1)}\n`);
        console.log(`${cell.source} ${cell.domain} ${cell.perClass}/class seed ${cell.seed}: ${describe(result)}`);
      } finally {
        tf.dispose([cellImages.train.x, cellImages.test.x]);
      }
    }
    source.dispose();
  }
};
