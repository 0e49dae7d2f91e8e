/** The MNIST study's pieces: one small cell end to end, and its chart. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from 'transferkit/tfjs';
import { ok } from '../fixtures/either';
import { studyChart } from '../../scripts/mnist/chart';
import { loadSourceModel } from '../../scripts/mnist/sourceModel';
import { runCell, type CellResult } from '../../scripts/mnist/study';

beforeAll(async () => {
  // The wasm backend with transferkit's kernels, as the study runs: the selector's probe trains six short runs.
  ok(await setupBackend()());
});

describe('the MNIST study', () => {
  it('runs a cell: a strategy and the selector, scored on held-out images, with nothing left behind', async () => {
    const source = await loadSourceModel();
    const before = tf.memory().numTensors;
    const cell = await runCell(source, { domain: 'unchanged', perDigit: 4, seed: 1 }, ['feature-extractor', 'selector']);
    expect(tf.memory().numTensors).toBe(before);
    source.dispose();
    expect(cell.similarity).toBeGreaterThan(0);
    expect(cell.similarity).toBeLessThanOrEqual(1);
    expect(cell.results.map((r) => r.method)).toEqual(['feature-extractor', 'selector']);
    for (const r of cell.results) {
      expect(r.accuracy).toBeGreaterThanOrEqual(0);
      expect(r.accuracy).toBeLessThanOrEqual(1);
    }
    // 4 images per digit is below the 5 it takes to fine-tune, and same-kind digits are similar
    // enough for the top tap: the pick is exactly the feature-extractor preset, so its run is reused.
    expect(cell.results[1]).toMatchObject({ ran: 'feature-extractor', reused: true, accuracy: cell.results[0]!.accuracy });
    expect(cell.results[0]!.accuracy).toBeGreaterThan(0.4); // chance is 0.2
  }, 120_000);

  it('refuses more labelled images per digit than the training range holds', async () => {
    const source = await loadSourceModel();
    await expect(runCell(source, { domain: 'unchanged', perDigit: 601, seed: 0 }, ['feature-extractor'])).rejects.toThrow(/more than the 600 training images/);
    source.dispose();
  });

  it('charts accuracy by size: a panel per domain, a line per method, labelled axes and a legend', () => {
    const cell = (domain: 'unchanged' | 'permuted', perDigit: number, a: number): CellResult => ({
      domain,
      perDigit,
      seed: 0,
      similarity: 0.5,
      results: [
        { method: 'from-scratch', ran: 'from-scratch', accuracy: a, ms: 1 },
        { method: 'selector', ran: 'feature-extractor', accuracy: a + 0.1, ms: 1 },
      ],
    });
    const svg = studyChart([cell('unchanged', 5, 0.3), cell('unchanged', 100, 0.6), cell('permuted', 5, 0.2), cell('permuted', 100, 0.5)], 'a <title>');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('a &lt;title&gt;');
    expect(svg.match(/class="series"/g)).toHaveLength(4);
    expect(svg.match(/class="legend"/g)).toHaveLength(2);
    expect(svg).toContain('labelled target images per digit (log scale)');
    expect(svg).toContain('test accuracy');
    expect(svg).toContain('target: digits 5–9, permuted');
    // The from-scratch line of the first panel runs from 30 % to 60 %.
    expect(svg).toMatch(/data-method="from-scratch" points="20\.0,182\.0 340\.0,104\.0"/);
  });
});
