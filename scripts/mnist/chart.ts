/**
 * An SVG line chart of the study: test accuracy against labelled images per digit, one line per
 * method, one panel per target domain, with labelled axes and a legend. Plain SVG text, no
 * dependencies.
 */
import type { CellResult, Method } from './study';

const COLOURS: Record<Method, string> = {
  'from-scratch': '#555555',
  'feature-extractor': '#1f77b4',
  'earlier-layer-tap': '#17becf',
  'partial-fine-tune': '#2ca02c',
  'full-fine-tune': '#d62728',
  selector: '#ff7f0e',
};

const LABELS: Record<Method, string> = {
  'from-scratch': 'from scratch',
  'feature-extractor': 'feature extractor',
  'earlier-layer-tap': 'earlier-layer tap',
  'partial-fine-tune': 'partial fine-tune',
  'full-fine-tune': 'full fine-tune',
  selector: "selectStrategy's pick",
};

const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Mean accuracy per (domain, size, method) over seeds. */
const means = (cells: ReadonlyArray<CellResult>) => {
  const sums = new Map<string, { sum: number; n: number }>();
  for (const c of cells) {
    for (const r of c.results) {
      const key = `${c.domain}|${c.perDigit}|${r.method}`;
      const s = sums.get(key) ?? { sum: 0, n: 0 };
      sums.set(key, { sum: s.sum + r.accuracy, n: s.n + 1 });
    }
  }
  return (domain: string, size: number, method: Method): number | undefined => {
    const s = sums.get(`${domain}|${size}|${method}`);
    return s === undefined ? undefined : s.sum / s.n;
  };
};

export const studyChart = (cells: ReadonlyArray<CellResult>, title: string): string => {
  const domains = [...new Set(cells.map((c) => c.domain))];
  const sizes = [...new Set(cells.map((c) => c.perDigit))].sort((a, b) => a - b);
  const methods = [...new Set(cells.flatMap((c) => c.results.map((r) => r.method)))];
  const mean = means(cells);
  const panel = { width: 360, height: 260 };
  const margin = { left: 64, top: 56, between: 70, bottom: 56 };
  const legendWidth = 190;
  const width = margin.left + domains.length * (panel.width + margin.between) + legendWidth;
  const height = margin.top + panel.height + margin.bottom;
  const logMin = Math.log(sizes[0]!);
  const logMax = Math.log(sizes[sizes.length - 1]!);
  const xOf = (size: number) => (logMax === logMin ? panel.width / 2 : ((Math.log(size) - logMin) / (logMax - logMin)) * (panel.width - 40) + 20);
  const yOf = (accuracy: number) => panel.height - accuracy * panel.height;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${escape(title)}</text>`,
  ];
  domains.forEach((domain, d) => {
    const ox = margin.left + d * (panel.width + margin.between);
    const oy = margin.top;
    parts.push(`<g transform="translate(${ox},${oy})">`);
    parts.push(`<text x="${panel.width / 2}" y="-10" text-anchor="middle" font-size="13">target: digits 5–9, ${escape(domain)}</text>`);
    for (let t = 0; t <= 10; t += 2) {
      const y = yOf(t / 10);
      parts.push(`<line x1="0" x2="${panel.width}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`);
      parts.push(`<text x="-6" y="${y + 4}" text-anchor="end">${t * 10} %</text>`);
    }
    // Chance level for 5 classes.
    parts.push(`<line x1="0" x2="${panel.width}" y1="${yOf(0.2)}" y2="${yOf(0.2)}" stroke="#999" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${panel.width - 4}" y="${yOf(0.2) - 4}" text-anchor="end" fill="#777">chance</text>`);
    parts.push(`<rect x="0" y="0" width="${panel.width}" height="${panel.height}" fill="none" stroke="#333"/>`);
    for (const size of sizes) {
      const x = xOf(size);
      parts.push(`<line x1="${x}" x2="${x}" y1="${panel.height}" y2="${panel.height + 5}" stroke="#333"/>`);
      parts.push(`<text x="${x}" y="${panel.height + 18}" text-anchor="middle">${size}</text>`);
    }
    parts.push(`<text x="${panel.width / 2}" y="${panel.height + 40}" text-anchor="middle">labelled target images per digit (log scale)</text>`);
    if (d === 0) parts.push(`<text transform="translate(-48,${panel.height / 2}) rotate(-90)" text-anchor="middle">test accuracy</text>`);
    for (const method of methods) {
      const points = sizes.flatMap((size) => {
        const a = mean(domain, size, method);
        return a === undefined ? [] : [`${xOf(size).toFixed(1)},${yOf(a).toFixed(1)}`];
      });
      const dash = method === 'selector' ? ' stroke-dasharray="6 3"' : '';
      parts.push(`<polyline class="series" data-method="${method}" points="${points.join(' ')}" fill="none" stroke="${COLOURS[method]}" stroke-width="2"${dash}/>`);
      for (const p of points) {
        const [x, y] = p.split(',');
        parts.push(`<circle cx="${x}" cy="${y}" r="3" fill="${COLOURS[method]}"/>`);
      }
    }
    parts.push('</g>');
  });
  const lx = margin.left + domains.length * (panel.width + margin.between);
  parts.push(`<g transform="translate(${lx},${margin.top})">`);
  methods.forEach((method, i) => {
    const y = i * 22;
    const dash = method === 'selector' ? ' stroke-dasharray="6 3"' : '';
    parts.push(`<line x1="0" x2="24" y1="${y}" y2="${y}" stroke="${COLOURS[method]}" stroke-width="2"${dash}/>`);
    parts.push(`<text class="legend" x="30" y="${y + 4}">${escape(LABELS[method])}</text>`);
  });
  parts.push('</g>', '</svg>');
  return `${parts.join('\n')}\n`;
};
