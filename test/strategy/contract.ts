/**
 * The contract every backend passes with every strategy (STYLE.md): bad input is a Left (not an
 * exception, not NaN); the source's weights, BatchNorm statistics included, are bit-identical
 * afterwards and the source still predicts the same after the result is disposed; the same seed
 * gives the same result; export and reload predict the same; nothing leaks.
 */
import { either as E } from 'fp-ts';
import { describe, expect, it } from 'vitest';
import { fromScratch, presets, transfer, type Backbone, type Matrix, type Recipe, type TransferModel, type TransferOptions } from 'transferkit';
import { ok } from '../fixtures/either';

/** A source model for one contract run, and what the contract needs to observe it. */
export interface Source<X, M extends TransferModel<X>> {
  readonly backbone: Backbone<X, M>;
  /** Every source weight, copied, BatchNorm statistics included. */
  readonly weights: () => ReadonlyMap<string, Float32Array>;
  /** The source's own predictions on `x`. */
  readonly predict: (x: X) => Float32Array;
  readonly dispose: () => void;
}

export interface Subject<X, M extends TransferModel<X>> {
  readonly name: string;
  readonly source: () => Source<X, M>;
  /** Labelled inputs with `classes` classes; `free` releases them. */
  readonly data: (n: number, classes: number) => { readonly x: X; readonly y: number[]; readonly free: () => void };
  /** Inputs the model must refuse: each with its name and the function that frees it. */
  readonly badInputs: () => ReadonlyArray<{ readonly name: string; readonly x: X; readonly free: () => void }>;
  /** Live tensors (0 for a backend without any). */
  readonly tensorCount: () => number;
  /** Every weight of a trained model, copied. */
  readonly modelWeights: (model: M) => ReadonlyMap<string, Float32Array>;
  /** Exports a trained model, loads it back, and returns its predictions on `x`. */
  readonly reloadAndPredict: (model: M, x: X) => Promise<Float32Array>;
}

const bitEqual = (a: ReadonlyMap<string, Float32Array>, b: ReadonlyMap<string, Float32Array>): string[] =>
  [...a].filter(([k, v]) => {
    const w = b.get(k);
    return w === undefined || w.length !== v.length || v.some((x, i) => !Object.is(x, w[i]));
  }).map(([k]) => k);

const quick: TransferOptions<unknown> = { epochs: 1, batchSize: 8, seed: 3 };

export const runContract = <X, M extends TransferModel<X>>(subject: Subject<X, M>): void => {
  const run = (src: Source<X, M>, recipe: Recipe, data: { x: X; y: number[] }, options: TransferOptions<X> = quick as TransferOptions<X>) =>
    transfer(src.backbone, recipe, data, options)();

  describe(`contract: ${subject.name}`, () => {
    describe.each([...Object.values(presets), fromScratch].map((r) => [r.kind, r] as const))('%s', (_, recipe) => {
      it('trains, leaves the source bit-identical and still predicting the same, and leaks nothing', async () => {
        const src = subject.source();
        const data = subject.data(24, 3);
        const weights = src.weights();
        const predicted = src.predict(data.x);
        const tensors = subject.tensorCount();
        const result = ok(await run(src, recipe, data));
        expect(result.history.map((h) => h.name)).toEqual(recipe.phases.map((p) => p.name));
        expect(result.history.every((h) => h.epochs.every((e) => Number.isFinite(e.loss)))).toBe(true);
        result.model.dispose();
        expect(subject.tensorCount()).toBe(tensors);
        expect(bitEqual(weights, src.weights())).toEqual([]);
        expect(src.predict(data.x)).toEqual(predicted);
        data.free();
        src.dispose();
      });

      it('gives the same model for the same seed, and another head for another seed', async () => {
        const src = subject.source();
        const data = subject.data(24, 3);
        const a = ok(await run(src, recipe, data));
        const b = ok(await run(src, recipe, data));
        const c = ok(await run(src, recipe, data, { ...quick, seed: 4 } as TransferOptions<X>));
        expect(bitEqual(subject.modelWeights(a.model), subject.modelWeights(b.model))).toEqual([]);
        expect(bitEqual(subject.modelWeights(a.model), subject.modelWeights(c.model)).length).toBeGreaterThan(0);
        [a, b, c].forEach((r) => r.model.dispose());
        data.free();
        src.dispose();
      });

      it('exports as one model that loads back and predicts the same', async () => {
        const src = subject.source();
        const data = subject.data(24, 3);
        const result = ok(await run(src, recipe, data));
        const direct: Matrix = ok(await result.model.predict(data.x)());
        const reloaded = await subject.reloadAndPredict(result.model, data.x);
        expect(reloaded.length).toBe(direct.data.length);
        reloaded.forEach((v, i) => expect(v).toBeCloseTo(direct.data[i]!, 6));
        result.model.dispose();
        data.free();
        src.dispose();
      });
    });

    it('refuses bad inputs with a Left, before training, and leaks nothing', async () => {
      const src = subject.source();
      const tensors = subject.tensorCount();
      for (const bad of subject.badInputs()) {
        const r = await run(src, presets['feature-extractor'], { x: bad.x, y: [0, 1, 2] });
        expect(E.isLeft(r), bad.name).toBe(true);
        bad.free();
      }
      expect(subject.tensorCount()).toBe(tensors);
      src.dispose();
    });
  });
};
