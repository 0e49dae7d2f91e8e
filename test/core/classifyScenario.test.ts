import { describe, expect, it } from 'vitest';
import { classifyScenario, NEGATIVE_TRANSFER_WARNING, type ScenarioEvidence, type ShiftTest } from 'transferkit';
import {
  blogsEn,
  newswireDe,
  newswireEn,
  newswireEnAgain,
  problem,
  relevance,
  relevanceAgain,
  relevanceUndeclared,
  tenTopics,
  userRelevance,
} from '../fixtures/documents';
import { err, ok } from '../fixtures/either';

const shifted: ShiftTest = { statistic: 'mmd2', value: 0.042, pValue: 0.001 };
const notShifted: ShiftTest = { statistic: 'mmd2', value: 0.0003, pValue: 0.61 };

const classify = (p: Parameters<typeof classifyScenario>[0], evidence?: ScenarioEvidence) => ok(classifyScenario(p, evidence));

describe('classifyScenario: Pan & Yang §2.3, the document-classification examples', () => {
  it('same domain, same task → ordinary learning', () => {
    const r = classify(problem([newswireEn, relevance], [newswireEnAgain, relevanceAgain]));
    expect(r.scenario).toEqual({ kind: 'ordinary-learning' });
    expect(r.comparisons.marginal).toMatchObject({ verdict: 'same', basis: 'declared' });
    expect(r.comparisons.conditional).toMatchObject({ verdict: 'same', basis: 'declared' });
    expect(r.warnings).toEqual([]);
  });

  it('ten target classes instead of two → task transfer caused by the label space', () => {
    const r = classify(problem([newswireEn, relevance], [newswireEnAgain, tenTopics]));
    expect(r.scenario).toEqual({ kind: 'task-transfer', causes: ['label-space'] });
    expect(r.comparisons.labelSpace.reason).toContain('2 classes');
    expect(r.comparisons.labelSpace.reason).toContain('10 classes');
    // P(Y|X) over different label spaces is not a comparison to make.
    expect(r.comparisons.conditional.verdict).toBe('unknown');
  });

  it('same labels assigned by another rule → task transfer caused by P(Y|X)', () => {
    const r = classify(problem([newswireEn, relevance], [newswireEnAgain, userRelevance]));
    expect(r.scenario).toEqual({ kind: 'task-transfer', causes: ['conditional'] });
  });

  it('documents in another language → heterogeneous domain adaptation (feature space)', () => {
    const r = classify(problem([newswireEn, relevance], [newswireDe, relevanceAgain]));
    expect(r.scenario).toEqual({ kind: 'domain-adaptation', causes: ['feature-space'], heterogeneous: true });
    expect(r.comparisons.featureSpace.reason).toContain('bag-of-words-de');
    // No adaptation method reads inputs from another feature space: none applies, and it says what to do.
    expect(r.adaptation?.methods).toEqual([]);
    expect(r.adaptation?.reasons.join(' ')).toContain('input space');
  });

  it('documents on other topics, shift measured → domain adaptation (P(X), covariate shift)', () => {
    const r = classify(problem([newswireEn, relevance], [blogsEn, relevanceAgain]), { marginal: shifted });
    expect(r.scenario).toEqual({ kind: 'domain-adaptation', causes: ['marginal'], heterogeneous: false });
    expect(r.comparisons.marginal).toMatchObject({ verdict: 'differs', basis: 'measured', test: shifted });
    expect(r.comparisons.marginal.reason).toContain('p = 0.001 < α = 0.05');
    // Covariate shift points to the adaptation methods, with what each needs.
    expect(r.adaptation?.methods).toContain('adabn');
    expect(r.adaptation?.reasons.join(' ')).toMatch(/autoAdapt/);
  });

  it('both differ → the negative-transfer case, and the value carries the warning', () => {
    const r = classify(problem([newswireEn, relevance], [newswireDe, tenTopics]));
    expect(r.scenario).toEqual({
      kind: 'both-differ',
      domainCauses: ['feature-space'],
      taskCauses: ['label-space'],
      warning: NEGATIVE_TRANSFER_WARNING,
    });
    expect(r.warnings).toContain(NEGATIVE_TRANSFER_WARNING);
    expect(r.summary).toContain('negative-transfer risk');
  });

  it('every cause is listed when several differ at once', () => {
    const r = classify(problem([newswireEn, relevance], [blogsEn, userRelevance]), { marginal: shifted });
    expect(r.scenario).toMatchObject({ kind: 'both-differ', domainCauses: ['marginal'], taskCauses: ['conditional'] });
  });
});

describe('classifyScenario: evidence, not assumptions', () => {
  it('no evidence about P(X) → undetermined, never assumed equal; it names what to measure', () => {
    const r = classify(problem([newswireEn, relevance], [blogsEn, relevanceAgain]));
    expect(r.comparisons.marginal).toMatchObject({ verdict: 'unknown', basis: 'none' });
    expect(r.scenario).toEqual({
      kind: 'undetermined',
      candidates: ['ordinary-learning', 'domain-adaptation'],
      unknown: ['marginal'],
    });
    expect(r.summary).toContain('whether P(X) differs');
  });

  it('unknown P(X) with a known task change keeps both-differ among the candidates and warns', () => {
    const r = classify(problem([newswireEn, relevance], [blogsEn, tenTopics]));
    expect(r.scenario).toEqual({ kind: 'undetermined', candidates: ['task-transfer', 'both-differ'], unknown: ['marginal'] });
    expect(r.warnings.join(' ')).toContain('may both differ');
  });

  it('nothing measured and nothing declared → all four scenarios remain possible', () => {
    const r = classify(problem([newswireEn, relevance], [blogsEn, relevanceUndeclared]));
    expect(r.scenario).toEqual({
      kind: 'undetermined',
      candidates: ['ordinary-learning', 'task-transfer', 'domain-adaptation', 'both-differ'],
      unknown: ['marginal', 'conditional'],
    });
  });

  it('a test with p ≥ α counts as no detected shift, and says so with its numbers', () => {
    const r = classify(problem([newswireEn, relevance], [blogsEn, relevanceAgain]), { marginal: notShifted });
    expect(r.scenario).toEqual({ kind: 'ordinary-learning' });
    expect(r.comparisons.marginal).toMatchObject({ verdict: 'same', basis: 'measured' });
    expect(r.comparisons.marginal.reason).toBe('mmd2 = 3.00e-4, p = 0.61 ≥ α = 0.05: no shift detected');
  });

  it('the significance level is the test’s own when given', () => {
    const r = classify(problem([newswireEn, relevance], [blogsEn, relevanceAgain]), { marginal: { ...notShifted, pValue: 0.03, alpha: 0.01 } });
    expect(r.comparisons.marginal.verdict).toBe('same');
    const r2 = classify(problem([newswireEn, relevance], [blogsEn, relevanceAgain]), { marginal: { ...notShifted, pValue: 0.03 } });
    expect(r2.comparisons.marginal.verdict).toBe('differs');
  });

  it('measured evidence outranks a declaration', () => {
    const r = classify(problem([newswireEn, relevance], [newswireEnAgain, relevanceAgain]), { marginal: shifted, conditional: shifted });
    expect(r.scenario).toMatchObject({ kind: 'both-differ', domainCauses: ['marginal'], taskCauses: ['conditional'] });
  });

  it('a conditional test decides P(Y|X) when no labelling rule is declared', () => {
    const r = classify(problem([newswireEn, relevanceUndeclared], [newswireEnAgain, relevanceUndeclared]), { conditional: notShifted });
    expect(r.scenario).toEqual({ kind: 'ordinary-learning' });
    expect(r.comparisons.conditional.basis).toBe('measured');
  });

  it('without target labels the unknown conditional says there is nothing to estimate it from', () => {
    const r = classify(problem([newswireEn, relevanceUndeclared], [newswireEnAgain, relevanceUndeclared], { source: true, target: false }));
    expect(r.comparisons.conditional.verdict).toBe('unknown');
    expect(r.comparisons.conditional.reason).toContain('no target labels');
  });

  it('a binary space and a two-class categorical space with the same names are one label space', () => {
    const reordered = { labelSpace: { kind: 'categorical' as const, classes: ['irrelevant', 'relevant'] }, labelling: 'editor-relevance' };
    const r = classify(problem([newswireEn, relevance], [newswireEnAgain, reordered]));
    expect(r.scenario).toEqual({ kind: 'ordinary-learning' });
    const swapped = { ...reordered, labelSpace: { kind: 'categorical' as const, classes: ['relevant', 'irrelevant'] } };
    const r2 = classify(problem([newswireEn, relevance], [newswireEnAgain, swapped]));
    expect(r2.comparisons.labelSpace).toMatchObject({ verdict: 'same' });
    expect(r2.comparisons.labelSpace.reason).toContain('another order');
  });

  it.each<[string, ShiftTest]>([
    ['pValue above 1', { statistic: 'mmd2', value: 0.1, pValue: 1.5 }],
    ['pValue NaN', { statistic: 'mmd2', value: 0.1, pValue: Number.NaN }],
    ['value Infinity', { statistic: 'mmd2', value: Number.POSITIVE_INFINITY, pValue: 0.5 }],
    ['alpha 0', { statistic: 'mmd2', value: 0.1, pValue: 0.5, alpha: 0 }],
    ['empty statistic', { statistic: ' ', value: 0.1, pValue: 0.5 }],
  ])('malformed evidence (%s) → InvalidArgument naming the field', (_, test) => {
    const e = err(classifyScenario(problem([newswireEn, relevance], [blogsEn, relevanceAgain]), { conditional: test }));
    expect(e._tag).toBe('InvalidArgument');
    expect(e.path).toMatch(/^evidence\.conditional\./);
  });
});

describe('classifyScenario: the learning setting (Pan & Yang Table 2)', () => {
  it.each([
    [{ source: true, target: true }, 'inductive'], // multi-task learning
    [{ source: false, target: true }, 'inductive'], // self-taught learning
    [{ source: true, target: false }, 'transductive'], // domain adaptation, sample selection bias, covariate shift
    [{ source: false, target: false }, 'unsupervised'],
  ] as const)('labels %o → %s', (labels, setting) => {
    const r = classify(problem([newswireEn, relevance], [blogsEn, relevanceAgain], labels), { marginal: shifted });
    expect(r.setting).toBe(setting);
    expect(r.summary).toContain(`Setting: ${setting}.`);
  });

  it('Table 1: transductive transfer assumes one task; other target labels with none to learn from is flagged', () => {
    const r = classify(problem([newswireEn, relevance], [newswireEnAgain, tenTopics], { source: true, target: false }));
    expect(r.setting).toBe('transductive');
    expect(r.warnings.join(' ')).toContain('no target labels');
  });

  it('Table 1: inductive transfer with related but different tasks carries no such warning', () => {
    const r = classify(problem([newswireEn, relevance], [newswireEnAgain, tenTopics]));
    expect(r.setting).toBe('inductive');
    expect(r.warnings).toEqual([]);
  });
});

describe('classifyScenario: the report reads as a whole', () => {
  it('the summary names the scenario, the setting and every comparison with its basis', () => {
    const r = classify(problem([newswireEn, relevance], [blogsEn, relevanceAgain]), { marginal: shifted });
    expect(r.summary.split('\n')).toEqual([
      'Domain adaptation (different domain, same task): P(X) differs. Setting: inductive.',
      'feature space 𝒳: same (declared; both are bag-of-words-en [5000] float32)',
      'marginal P(X): differs (measured; mmd2 = 0.042, p = 0.001 < α = 0.05: shift detected)',
      'label space 𝒴: same (declared; both have 2 classes {irrelevant, relevant})',
      'conditional P(Y|X): same (declared; both label by editor-relevance)',
    ]);
  });
});
