import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderSelectorMap } from '../../scripts/selectorMap';

describe('docs/selector-map.svg', () => {
  const svg = renderSelectorMap();

  it('is what `npm run docs:chart` makes from the current selector (regenerate it when this fails)', () => {
    expect(readFileSync(new URL('../../docs/selector-map.svg', import.meta.url), 'utf8')).toBe(svg);
  });

  it('shows all four strategies, labelled axes and the named thresholds', () => {
    for (const label of ['feature-extractor', 'earlier-layer-tap', 'partial-fine-tune', 'full-fine-tune']) expect(svg).toContain(`>${label}<`);
    for (const colour of ['rgb(70,130,200)', 'rgb(165,30,40)']) expect(svg).toContain(`fill="${colour}"/>`);
    expect(svg).toContain('labelled target examples per class');
    expect(svg).toContain('similarity (measured gain of transfer; 0.5: none)');
    expect(svg).toContain('FINE_TUNE_MIN (5)');
    expect(svg).toContain('FULL_FINE_TUNE_MAX_SIMILARITY (0.85)');
  });
});
