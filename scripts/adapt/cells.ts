/**
 * The adaptation benchmark's cells (scripts/adapt/bench.ts writes them, summary.ts reads them):
 * what each run records, and where the cells live.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { ADAPT_METHODS, type AdaptMethod } from 'transferkit';
import type { Evidence } from './evidence';
import type { ShiftName } from './shifts';

export const RESULTS = new URL('../../docs/results/adaptation/', import.meta.url);
export const SEEDS = [1, 2, 3] as const;

/** The oracles: the source fine-tuned with the target's labels, and the architecture trained on them from scratch. */
export type Oracle = 'oracle-fine-tune' | 'oracle-scratch';

/** A method, self-training from a method (`pseudo-label` is self-training from `adabn`), or an oracle. */
export type RunName = AdaptMethod | `${AdaptMethod}+self-training` | Oracle;

/** The methods self-training is run from, besides AdaBN (that is `pseudo-label`). */
export const SELF_TRAINING_FROM: ReadonlyArray<AdaptMethod> = ADAPT_METHODS.filter((m) => !['source-only', 'adabn', 'pseudo-label'].includes(m));

/** One method's run in one cell. */
export interface MethodRun extends Evidence {
  readonly method: RunName;
  /** Accuracy on the held-out target test set, in [0, 1]. */
  readonly accuracy: number;
  readonly ms: number;
  readonly steps: number;
  readonly stop: string;
}

export interface Cell {
  readonly target: ShiftName;
  readonly seed: number;
  readonly backend: string;
  readonly runs: ReadonlyArray<MethodRun>;
}

export const cellFile = (target: string, seed: number): URL => new URL(`${target}-${seed}.json`, RESULTS);

export const readCells = (): Cell[] =>
  readdirSync(RESULTS)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(new URL(f, RESULTS), 'utf8')) as Cell);

