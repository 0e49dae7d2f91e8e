/**
 * Renders the map of selectStrategy's decisions over (examples per class, similarity) as SVG.
 * Pure: the same code gives the same bytes, so a test can check the committed chart is current.
 * `npm run docs:chart` writes it to docs/selector-map.svg.
 */
import { either as E } from 'fp-ts';
import {
  backboneFraction,
  EARLIEST_TAP_DEPTH,
  FINE_TUNE_MIN_EXAMPLES_PER_CLASS,
  FULL_FINE_TUNE_MAX_SIMILARITY,
  LARGE_EXAMPLES_PER_CLASS,
  NEGATIVE_TRANSFER_SIMILARITY,
  selectStrategy,
  tapDepth,
  TOP_TAP_MIN_SIMILARITY,
  type Recipe,
  type RecipeKind,
} from 'transferkit';

const CLASSES = 10;
const MIN_PER_CLASS = 1;
const MAX_PER_CLASS = 10_000;
const COLUMNS = 160;
const ROWS = 100;
const PLOT = { left: 80, top: 56, width: 640, height: 400 };
const WIDTH = 1000;
const HEIGHT = 540;

type RGB = readonly [number, number, number];

/** Each strategy's colour; the two continuous ones shade from `light` to `dark`. */
const PALETTE = {
  'feature-extractor': { dark: [70, 130, 200], light: [70, 130, 200] },
  'earlier-layer-tap': { dark: [20, 110, 80], light: [150, 215, 170] },
  'partial-fine-tune': { dark: [215, 110, 20], light: [253, 208, 140] },
  'full-fine-tune': { dark: [165, 30, 40], light: [165, 30, 40] },
  'from-scratch': { dark: [110, 110, 110], light: [110, 110, 110] },
} as const satisfies Record<RecipeKind, { dark: RGB; light: RGB }>;

const rgb = (c: RGB): string => `rgb(${c.map(Math.round).join(',')})`;

/** Colour of a recipe: hue by strategy, shade by darkness t ∈ [0, 1]. */
const shade = (kind: RecipeKind, t: number): string => {
  const { light, dark } = PALETTE[kind];
  return rgb([0, 1, 2].map((i) => light[i]! + (dark[i]! - light[i]!) * t) as unknown as RGB);
};

/** Darker = an earlier tap (depth EARLIEST_TAP_DEPTH → 1) or a larger fine-tuned part (0.1 → 0.9). */
const colourOf = (r: Recipe): string =>
  r.kind === 'earlier-layer-tap'
    ? shade(r.kind, (1 - (tapDepth(r.tap) ?? 1)) / (1 - EARLIEST_TAP_DEPTH))
    : r.kind === 'partial-fine-tune'
      ? shade(r.kind, ((backboneFraction(r.trainable) ?? 0.1) - 0.1) / 0.8)
      : shade(r.kind, 1);

const xOf = (perClass: number): number =>
  PLOT.left + (PLOT.width * Math.log10(perClass / MIN_PER_CLASS)) / Math.log10(MAX_PER_CLASS / MIN_PER_CLASS);
const yOf = (similarity: number): number => PLOT.top + PLOT.height * (1 - similarity);
const fmt = (x: number): string => String(Math.round(x * 10) / 10);

/** One row of cells, adjacent cells of one colour merged into a single rect. */
const rowRects = (row: number): string[] => {
  const similarity = (row + 0.5) / ROWS;
  const cellWidth = PLOT.width / COLUMNS;
  const colours = Array.from({ length: COLUMNS }, (_, col) => {
    const perClass = MIN_PER_CLASS * (MAX_PER_CLASS / MIN_PER_CLASS) ** ((col + 0.5) / COLUMNS);
    const recipe = selectStrategy({ size: Math.round(perClass * CLASSES), similarity, classes: CLASSES });
    if (E.isLeft(recipe)) throw new Error(recipe.left.message);
    return colourOf(recipe.right);
  });
  const rects: string[] = [];
  let start = 0;
  for (let col = 1; col <= COLUMNS; col++) {
    if (col < COLUMNS && colours[col] === colours[start]) continue;
    const y = PLOT.top + PLOT.height * (1 - (row + 1) / ROWS);
    rects.push(
      `<rect x="${fmt(PLOT.left + start * cellWidth)}" y="${fmt(y)}" width="${fmt((col - start) * cellWidth + 0.3)}" height="${fmt(PLOT.height / ROWS + 0.3)}" fill="${colours[start]}"/>`,
    );
    start = col;
  }
  return rects;
};

const text = (x: number, y: number, body: string, attrs = ''): string =>
  `<text x="${fmt(x)}" y="${fmt(y)}" ${attrs}>${body}</text>`;

const axes = (): string[] => {
  const out: string[] = [];
  for (const perClass of [1, 10, 100, 1000, 10_000]) {
    const x = xOf(perClass);
    out.push(`<line x1="${fmt(x)}" y1="${PLOT.top + PLOT.height}" x2="${fmt(x)}" y2="${PLOT.top + PLOT.height + 6}" stroke="#333"/>`);
    out.push(text(x, PLOT.top + PLOT.height + 22, perClass.toLocaleString('en-US'), 'text-anchor="middle"'));
  }
  for (const s of [0, 0.25, 0.5, 0.75, 1]) {
    const y = yOf(s);
    out.push(`<line x1="${PLOT.left - 6}" y1="${fmt(y)}" x2="${PLOT.left}" y2="${fmt(y)}" stroke="#333"/>`);
    out.push(text(PLOT.left - 10, y + 5, String(s), 'text-anchor="end"'));
  }
  out.push(`<rect x="${PLOT.left}" y="${PLOT.top}" width="${PLOT.width}" height="${PLOT.height}" fill="none" stroke="#333"/>`);
  out.push(text(PLOT.left + PLOT.width / 2, HEIGHT - 32, `labelled target examples per class (log scale; ${CLASSES} classes)`, 'text-anchor="middle"'));
  out.push(text(24, PLOT.top + PLOT.height / 2, 'similarity (measured gain of transfer; 0.5: none)', `text-anchor="middle" transform="rotate(-90 24 ${PLOT.top + PLOT.height / 2})"`));
  return out;
};

/** The similarities the calibration grid of #16 measured with `measureTransferGain` as shipped (docs/results/grid-summary.md). */
const MEASURED = { low: 0.3, high: 0.76 } as const;

/** Dashed lines at the named thresholds, labelled with their constants' names. */
const thresholds = (): string[] => {
  const dash = 'stroke="#111" stroke-width="1.2" stroke-dasharray="5 4"';
  const xFine = xOf(FINE_TUNE_MIN_EXAMPLES_PER_CLASS);
  const xLarge = xOf(LARGE_EXAMPLES_PER_CLASS);
  const yTap = yOf(TOP_TAP_MIN_SIMILARITY);
  const yFull = yOf(FULL_FINE_TUNE_MAX_SIMILARITY);
  const yScratch = yOf(NEGATIVE_TRANSFER_SIMILARITY);
  // A white outline keeps a label readable where it crosses a dark region.
  const halo = 'paint-order="stroke" stroke="white" stroke-width="3"';
  return [
    // The region the calibration grid of #16 measured (docs/study.md): 5–600 per class, similarity 0.30–0.76 on the probe as shipped.
    `<rect x="${fmt(xOf(5))}" y="${fmt(yOf(MEASURED.high))}" width="${fmt(xOf(600) - xOf(5))}" height="${fmt(yOf(MEASURED.low) - yOf(MEASURED.high))}" fill="none" stroke="white" stroke-width="1.5" stroke-dasharray="2 3"/>`,
    text(xOf(600) - 6, yOf(MEASURED.high) + 16, 'measured: the calibration grid of #16', `text-anchor="end" font-size="11" fill="white"`),
    `<line x1="${fmt(xFine)}" y1="${fmt(yFull)}" x2="${PLOT.left + PLOT.width}" y2="${fmt(yFull)}" ${dash}/>`,
    text(PLOT.left + PLOT.width - 6, yFull - 6, `FULL_FINE_TUNE_MAX_SIMILARITY (${FULL_FINE_TUNE_MAX_SIMILARITY})`, `text-anchor="end" font-size="11" ${halo}`),
    `<line x1="${fmt(xFine)}" y1="${fmt(yScratch)}" x2="${PLOT.left + PLOT.width}" y2="${fmt(yScratch)}" ${dash}/>`,
    text(PLOT.left + PLOT.width - 6, yScratch - 6, `NEGATIVE_TRANSFER_SIMILARITY (${NEGATIVE_TRANSFER_SIMILARITY})`, `text-anchor="end" font-size="11" ${halo}`),
    `<line x1="${fmt(xFine)}" y1="${PLOT.top}" x2="${fmt(xFine)}" y2="${PLOT.top + PLOT.height}" ${dash}/>`,
    `<line x1="${fmt(xLarge)}" y1="${PLOT.top}" x2="${fmt(xLarge)}" y2="${PLOT.top + PLOT.height}" ${dash}/>`,
    `<line x1="${PLOT.left}" y1="${fmt(yTap)}" x2="${fmt(xFine)}" y2="${fmt(yTap)}" ${dash}/>`,
    text(xFine, PLOT.top - 8, `FINE_TUNE_MIN (${FINE_TUNE_MIN_EXAMPLES_PER_CLASS})`, 'text-anchor="middle" font-size="11"'),
    text(xLarge, PLOT.top - 8, `LARGE (${LARGE_EXAMPLES_PER_CLASS.toLocaleString('en-US')})`, 'text-anchor="middle" font-size="11"'),
    text(PLOT.left + 6, yTap - 6, `TOP_TAP_MIN_SIMILARITY (${TOP_TAP_MIN_SIMILARITY})`, `font-size="11" ${halo}`),
  ];
};

const legend = (): string[] => {
  const x = PLOT.left + PLOT.width + 24;
  const entries: Array<[RecipeKind, string]> = [
    ['feature-extractor', 'head on the top features'],
    ['earlier-layer-tap', 'head on earlier features;'],
    ['partial-fine-tune', 'head, then the top part;'],
    ['full-fine-tune', 'head, then everything'],
    ['from-scratch', 'no transfer: random start'],
  ];
  const notes: Record<string, string> = {
    'earlier-layer-tap': 'darker = earlier tap',
    'partial-fine-tune': 'darker = larger part',
  };
  return entries.flatMap(([kind, what], i) => {
    const y = PLOT.top + 10 + i * 58;
    const note = notes[kind];
    return [
      `<rect x="${x}" y="${y}" width="18" height="18" fill="${shade(kind, 1)}"/>`,
      text(x + 26, y + 14, kind, 'font-weight="bold"'),
      text(x + 26, y + 32, what, 'font-size="12"'),
      ...(note === undefined ? [] : [text(x + 26, y + 47, note, 'font-size="12"')]),
    ];
  });
};

/** The whole chart as an SVG document. */
export const renderSelectorMap = (): string =>
  [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="Helvetica, Arial, sans-serif" font-size="14" fill="#222">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    text(PLOT.left, 28, 'selectStrategy: the recipe for each size and similarity', 'font-size="18" font-weight="bold"'),
    '<g shape-rendering="crispEdges">',
    ...Array.from({ length: ROWS }, (_, row) => rowRects(row)).flat(),
    '</g>',
    ...thresholds(),
    ...axes(),
    ...legend(),
    '</svg>',
    '',
  ].join('\n');
