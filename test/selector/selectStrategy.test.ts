import fc from 'fast-check';
import { either as E } from 'fp-ts';
import { describe, expect, it } from 'vitest';
import {
  backboneFraction,
  FINE_TUNE_MIN_EXAMPLES_PER_CLASS,
  FULL_FINE_TUNE_MAX_SIMILARITY,
  NEGATIVE_TRANSFER_SIMILARITY,
  NO_GAIN_SIMILARITY,
  SCRATCH_MAX_MS,
  SCRATCH_MIN_STEPS,
  scratchPhase,
  selectStrategy,
  tapDepth,
  TOP_TAP_MIN_SIMILARITY,
  type Recipe,
  type SelectStrategyArgs,
} from 'transferkit';
import { err, ok } from '../fixtures/either';

const select = (args: SelectStrategyArgs): Recipe => ok(selectStrategy(args));

/** How much of the backbone a recipe ever trains: 0 (frozen) … 1 (everything); NaN fails every comparison. */
const fineTuning = (r: Recipe): number => backboneFraction(r.trainable) ?? Number.NaN;
/** The tap's relative depth; the selector only makes top and relative taps, NaN fails every comparison. */
const depth = (r: Recipe): number => tapDepth(r.tap) ?? Number.NaN;

describe('selectStrategy: the four quadrants (CS231n), with the calibrated boundaries', () => {
  it('small + similar → feature extractor: a head on the top features, backbone frozen', () => {
    const r = select({ size: 10, similarity: 0.9, classes: 5 });
    expect(r.kind).toBe('feature-extractor');
    expect(r.tap).toEqual({ kind: 'top' });
    expect(r.phases.map((p) => p.trains.kind)).toEqual(['head-only']);
  });

  it('large + similar → partial fine-tune: head first, then the upper part at a lower learning rate', () => {
    const r = select({ size: 50_000, similarity: 0.9, classes: 5 });
    expect(r.kind).toBe('partial-fine-tune');
    expect(r.tap).toEqual({ kind: 'top' });
    expect(r.phases.map((p) => p.name)).toEqual(['head', 'fine-tune']);
    const [head, tune] = r.phases;
    expect(tune!.learningRate).toBeLessThan(head!.learningRate);
    expect(fineTuning(r)).toBeGreaterThan(0);
    expect(fineTuning(r)).toBeLessThan(1);
  });

  it('small + different → earlier-layer tap, backbone frozen', () => {
    const r = select({ size: 10, similarity: 0.1, classes: 5 });
    expect(r.kind).toBe('earlier-layer-tap');
    expect(depth(r)).toBeLessThan(1);
    expect(fineTuning(r)).toBe(0);
  });

  it('large + different → full fine-tune from the pretrained start, down to the negative-transfer threshold', () => {
    const r = select({ size: 50_000, similarity: NEGATIVE_TRANSFER_SIMILARITY, classes: 5 });
    expect(r.kind).toBe('full-fine-tune');
    expect(r.start).toBe('pretrained');
    expect(r.trainable).toEqual({ kind: 'all' });
  });

  it('below the negative-transfer threshold, from 5 per class on → from scratch: nothing transfers', () => {
    for (const perClass of [FINE_TUNE_MIN_EXAMPLES_PER_CLASS, 100, 10_000]) {
      for (const similarity of [0, 0.05, NEGATIVE_TRANSFER_SIMILARITY - 1e-9]) {
        const r = select({ size: perClass * 5, similarity, classes: 5 });
        expect(r.kind, `${perClass} per class, similarity ${similarity}`).toBe('from-scratch');
        expect(r).toMatchObject({ start: 'random', tap: { kind: 'top' }, trainable: { kind: 'all' }, phases: [scratchPhase] });
        expect(r.warnings.join(' ')).toMatch(/compare with the full-fine-tune preset/);
      }
    }
    // Below 5 per class the backbone stays frozen instead, and the warning points at from-scratch.
    const few = select({ size: 10, similarity: 0.05, classes: 5 });
    expect(few.kind).toBe('earlier-layer-tap');
    expect(few.warnings.join(' ')).toMatch(/from scratch/);
  });

  it('from 5 per class on, from the negative-transfer threshold through the similarities the grid of #16 measured (up to 0.76) to FULL_FINE_TUNE_MAX_SIMILARITY, everything fine-tunes', () => {
    for (const perClass of [FINE_TUNE_MIN_EXAMPLES_PER_CLASS, 20, 100, 600]) {
      for (const similarity of [NEGATIVE_TRANSFER_SIMILARITY, 0.5, 0.7, 0.76, 0.83, FULL_FINE_TUNE_MAX_SIMILARITY]) {
        const r = select({ size: perClass * 5, similarity, classes: 5 });
        expect(r.kind, `${perClass} per class, similarity ${similarity}`).toBe('full-fine-tune');
        expect(r.phases.map((p) => p.trains.kind)).toEqual(['head-only', 'all']);
      }
    }
  });
});

describe('selectStrategy: continuous and monotone between the corners', () => {
  const size = fc.integer({ min: 1, max: 5_000_000 });
  const similarity = fc.double({ min: 0, max: 1, noNaN: true });
  const classes = fc.option(fc.integer({ min: 2, max: 1000 }), { nil: undefined });
  const withClasses = (args: SelectStrategyArgs, c: number | undefined): SelectStrategyArgs =>
    c === undefined ? args : { ...args, classes: c };

  it('more data never gives less fine-tuning', () => {
    fc.assert(
      fc.property(size, size, similarity, classes, (a, b, s, c) => {
        const [small, large] = a <= b ? [a, b] : [b, a];
        const rSmall = select(withClasses({ size: small, similarity: s }, c));
        const rLarge = select(withClasses({ size: large, similarity: s }, c));
        expect(fineTuning(rLarge)).toBeGreaterThanOrEqual(fineTuning(rSmall));
        expect(rLarge.phases.length).toBeGreaterThanOrEqual(rSmall.phases.length);
      }),
      { numRuns: 2000 },
    );
  });

  it('once it trains from scratch, less similarity or more data never brings transfer back', () => {
    fc.assert(
      fc.property(size, size, similarity, similarity, classes, (a, b, x, y, c) => {
        const [small, large] = a <= b ? [a, b] : [b, a];
        const [low, high] = x <= y ? [x, y] : [y, x];
        if (select(withClasses({ size: small, similarity: high }, c)).kind !== 'from-scratch') return;
        expect(select(withClasses({ size: large, similarity: low }, c)).kind).toBe('from-scratch');
      }),
      { numRuns: 2000 },
    );
  });

  it('lower similarity never gives a later tap', () => {
    fc.assert(
      fc.property(size, similarity, similarity, classes, (n, a, b, c) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        const rLow = select(withClasses({ size: n, similarity: low }, c));
        const rHigh = select(withClasses({ size: n, similarity: high }, c));
        expect(depth(rLow)).toBeLessThanOrEqual(depth(rHigh));
      }),
      { numRuns: 2000 },
    );
  });

  it('every valid input gives a recipe whose parts agree', () => {
    fc.assert(
      fc.property(size, similarity, classes, (n, s, c) => {
        const r = select(withClasses({ size: n, similarity: s }, c));
        expect(r.rationale.length).toBeGreaterThanOrEqual(3);
        expect(r.start).toBe(r.kind === 'from-scratch' ? 'random' : 'pretrained');
        if (r.kind === 'from-scratch') {
          expect(r.phases).toEqual([scratchPhase]);
          expect(s).toBeLessThan(NEGATIVE_TRANSFER_SIMILARITY);
          return;
        }
        expect(r.phases[0]!.trains.kind).toBe('head-only');
        if (r.kind === 'feature-extractor' || r.kind === 'earlier-layer-tap') expect(r.phases).toHaveLength(1);
        else expect(r.phases).toHaveLength(2);
        if (r.kind === 'earlier-layer-tap') expect(s).toBeLessThan(TOP_TAP_MIN_SIMILARITY);
      }),
      { numRuns: 1000 },
    );
  });

  it('the size thresholds count examples per class when classes are given', () => {
    const perClass = FINE_TUNE_MIN_EXAMPLES_PER_CLASS;
    expect(select({ size: perClass * 10 - 10, similarity: 0.4, classes: 10 }).kind).toBe('earlier-layer-tap');
    expect(select({ size: perClass * 10, similarity: 0.6, classes: 10 }).kind).toBe('full-fine-tune');
    expect(select({ size: perClass * 10 - 10, similarity: 0.6 }).kind).toBe('full-fine-tune');
  });

  it('the tap climbs with similarity while the backbone is frozen', () => {
    const depths = [0, 0.1, 0.2, 0.3, 0.4, 0.5].map((s) => depth(select({ size: 8, similarity: s, classes: 2 })));
    expect(depths).toEqual([0.75, 0.8, 0.85, 0.9, 0.95, 1]);
  });

  it('the fine-tuned fraction falls as similarity rises, at a fixed size', () => {
    const fractions = [0, 0.25, 0.5, 0.75, 1].map((s) => fineTuning(select({ size: 3000, similarity: s, classes: 10 })));
    for (let i = 1; i < fractions.length; i++) expect(fractions[i]).toBeLessThanOrEqual(fractions[i - 1]!);
    expect(fractions[0]).toBeGreaterThan(fractions[4]!);
  });
});

describe('selectStrategy: reasons and warnings', () => {
  it('states the size per class and why the backbone stays frozen', () => {
    const r = select({ size: 15, similarity: 0.9, classes: 5 });
    expect(r.rationale[0]).toBe('15 labelled examples over 5 classes is 3 per class.');
    expect(r.rationale.join(' ')).toContain('stays frozen');
  });

  it('cites the calibration for a full fine-tune, and the prior where the grid did not reach', () => {
    expect(select({ size: 100, similarity: 0.6, classes: 5 }).rationale.join(' ')).toContain('calibration grid of #16');
    expect(select({ size: 500, similarity: 0.9, classes: 5 }).rationale.join(' ')).toContain('measured no target this similar');
    expect(select({ size: 500, similarity: 0.9, classes: 5 }).warnings).toEqual([]);
  });

  it('warns of negative transfer at low similarity, and says why it trains from scratch', () => {
    expect(select({ size: 10, similarity: 0.05, classes: 5 }).warnings.join(' ')).toContain('negative transfer');
    const r = select({ size: 500, similarity: 0.05, classes: 5 });
    expect(r.rationale.join(' ')).toMatch(/below 0\.46: a short fine-tune of the source scores more than 8 points below a short run from random weights/);
    expect(r.rationale.join(' ')).toContain('random weights');
  });

  it("states from-scratch's cost, from the phase it runs, and names the cheaper alternative", () => {
    const r = select({ size: 500, similarity: 0.05, classes: 5 });
    const cost = r.rationale.find((line) => line.startsWith('It is the costliest choice'));
    expect(cost).toContain(`at least ${SCRATCH_MIN_STEPS} full-network steps`);
    expect(cost).toContain(`${SCRATCH_MAX_MS / 60_000} minutes by default`);
    expect(r.phases[0]!.maxMs).toBe(SCRATCH_MAX_MS);
    expect(r.warnings.join(' ')).toMatch(/let autoTransfer race the two.*full-fine-tune preset/);
  });

  it("takes measureTransferGain's result as is, and says the similarity was measured on the target's labels", () => {
    const gain = { similarity: 0.4, pretrained: { accuracy: 0.5, loss: 1, ms: 1 }, random: { accuracy: 0.7, loss: 0.8, ms: 1 }, scored: 30, fraction: 0.125 };
    const r = select({ size: 100, similarity: gain, classes: 5 });
    expect(r.kind).toBe('from-scratch');
    expect(r.rationale.join(' ')).toContain("was measured on the target's labels");
  });

  describe("with measureTransferGain's interval, it trains from scratch only where the probe showed the source hurts", () => {
    const gain = (similarity: number, low: number, high: number) => ({ similarity, interval: { low, high } });

    it('from scratch when the interval lies below 0.5, whatever the point reading (here above the 0.46 threshold)', () => {
      expect(NO_GAIN_SIMILARITY).toBe(0.5);
      const r = select({ size: 100, similarity: gain(0.48, 0.47, 0.49), classes: 5 });
      expect(r.kind).toBe('from-scratch');
      expect(r.rationale.join(' ')).toMatch(/interval reaches only 0\.49: the probe showed, at the 5 % level, that the source does worse than random weights/);
      expect(r.warnings.join(' ')).toMatch(/The interval lies below 0\.5, a test at the 5 % level: of the 56 grid cells it put there/);
    });

    it('a full fine-tune when the reading is below the threshold but the interval reaches above 0.5: the probe could not tell', () => {
      const bare = select({ size: 25, similarity: 0.4, classes: 5 });
      expect(bare.kind).toBe('from-scratch');
      const r = select({ size: 25, similarity: gain(0.4, 0.28, 0.52), classes: 5 });
      expect(r.kind).toBe('full-fine-tune');
      expect(r.warnings.join(' ')).toMatch(/Similarity 0\.4 is below 0\.5, but its interval reaches 0\.52: .*could not tell/);
      // An interval that reaches 0.5 exactly has not shown anything either.
      expect(select({ size: 25, similarity: gain(0.4, 0.3, 0.5), classes: 5 }).kind).toBe('full-fine-tune');
    });

    it('below 5 per class the backbone stays frozen, interval or not: the tap follows the reading', () => {
      for (const s of [0.2, 0.45, 0.7]) {
        const withInterval = select({ size: 20, similarity: gain(s, Math.max(0, s - 0.2), Math.min(1, s + 0.2)), classes: 5 });
        expect(withInterval).toEqual(select({ size: 20, similarity: { similarity: s }, classes: 5 }));
      }
    });

    it('stays monotone with an interval: from scratch exactly when it lies below 0.5 (from 5 per class on), and more data or a lower interval never brings transfer back', () => {
      const unit = fc.double({ min: 0, max: 1, noNaN: true });
      fc.assert(
        fc.property(fc.integer({ min: 10, max: 100_000 }), fc.integer({ min: 1, max: 100 }), unit, unit, unit, (n, more, s, a, b) => {
          const [low, high] = a <= b ? [a, b] : [b, a];
          const r = select({ size: n, similarity: gain(s, low, high), classes: 2 });
          expect(r.kind === 'from-scratch').toBe(high < NO_GAIN_SIMILARITY);
          if (r.kind !== 'from-scratch') return;
          expect(select({ size: n * more, similarity: gain(s, low, high), classes: 2 }).kind).toBe('from-scratch');
          expect(select({ size: n, similarity: gain(s * low, low * low, low), classes: 2 }).kind).toBe('from-scratch');
        }),
        { numRuns: 1000 },
      );
    });

    it('refuses an interval that is not { low, high } in [0, 1] with low ≤ high, naming the field', () => {
      const bad: ReadonlyArray<[unknown, string]> = [
        [null, 'similarity.interval'],
        [0.4, 'similarity.interval'],
        [{ low: 0.6, high: 0.4 }, 'similarity.interval'],
        [{ low: Number.NaN, high: 0.4 }, 'similarity.interval.low'],
        [{ low: 0.1, high: 1.5 }, 'similarity.interval.high'],
        [{ low: 0.1 }, 'similarity.interval.high'],
      ];
      for (const [interval, path] of bad) {
        const left = err(selectStrategy({ size: 100, similarity: { similarity: 0.4, interval } as never, classes: 5 }));
        expect(left._tag).toBe('InvalidArgument');
        expect(left.path).toBe(path);
      }
    });
  });

  it('warns when a class cannot have an example, and when examples per class are few', () => {
    expect(select({ size: 3, similarity: 0.9, classes: 5 }).warnings.join(' ')).toContain('at least 2 classes have no example');
    expect(select({ size: 20, similarity: 0.9, classes: 5 }).warnings.join(' ')).toContain('Only 4 labelled examples per class');
  });

  it('with no labelled target example makes no recipe: NotSupported, pointing to the adaptation methods that need no target label', () => {
    const left = selectStrategy({ size: 0, similarity: 0.7, classes: 2 });
    expect(E.isLeft(left) && left.left._tag).toBe('NotSupported');
    const message = E.isLeft(left) ? left.left.message : '';
    expect(message).toContain('adapt()');
    for (const method of ['adabn', 'tent', 'pseudo-label', 'coral', 'dann']) expect(message).toContain(`'${method}'`);
  });
});

describe('selectStrategy: the outputs the docs show', () => {
  it('README quick start: 200 examples, 10 classes, similarity 0.6', () => {
    const r = select({ size: 200, similarity: 0.6, classes: 10 });
    expect(r.kind).toBe('full-fine-tune');
    expect(r.trainable).toEqual({ kind: 'all' });
  });

  it('docs/choosing-a-strategy.md: 3,000 examples, 10 classes, similarity 0.95', () => {
    const r = select({ size: 3000, similarity: 0.95, classes: 10 });
    expect(r.kind).toBe('partial-fine-tune');
    expect(r.trainable).toEqual({ kind: 'top-fraction', fraction: 0.6 });
    expect(r.phases.map((p) => `${p.name} ${p.epochs} epochs (≥ ${p.minSteps} steps), lr ${p.learningRate}`)).toEqual([
      'head 30 epochs (≥ 2000 steps), lr 0.01',
      'fine-tune 10 epochs (≥ 300 steps), lr 0.003',
    ]);
  });
});

describe('selectStrategy: bad input is a Left that says what was expected', () => {
  it.each<[string, SelectStrategyArgs, string, string]>([
    ['negative size', { size: -1, similarity: 0.5 }, 'size', 'a non-negative integer'],
    ['fractional size', { size: 10.5, similarity: 0.5 }, 'size', 'a non-negative integer'],
    ['NaN size', { size: Number.NaN, similarity: 0.5 }, 'size', 'a non-negative integer'],
    ['similarity above 1', { size: 10, similarity: 1.01 }, 'similarity', 'a number in [0, 1]'],
    ['similarity below 0', { size: 10, similarity: -0.1 }, 'similarity', 'a number in [0, 1]'],
    ['NaN similarity', { size: 10, similarity: Number.NaN }, 'similarity', 'a number in [0, 1]'],
    ['one class', { size: 10, similarity: 0.5, classes: 1 }, 'classes', 'an integer ≥ 2 (a classification target has at least two classes)'],
    ['fractional classes', { size: 10, similarity: 0.5, classes: 2.5 }, 'classes', 'an integer ≥ 2 (a classification target has at least two classes)'],
    [
      "measureSimilarity's result (1 − PAD/2, another scale)",
      { size: 10, similarity: { similarity: 0.9, proxyADistance: 0.2 } as never },
      'similarity',
      "measureTransferGain's result, or a number on its scale (0.5: the source's weights help no more than random ones)",
    ],
  ])('%s', (_, args, path, expected) => {
    expect(err(selectStrategy(args))).toMatchObject({ _tag: 'InvalidArgument', path, expected });
  });
});
