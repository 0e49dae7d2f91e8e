/** A live chart of training: loss (left axis) and accuracy (right, 0–100 %) by epoch, one line per run. */
export interface Series {
  readonly label: string;
  readonly colour: string;
  readonly loss: number[];
  readonly accuracy: number[];
}

const W = 460;
const H = 180;
const PAD = { left: 36, right: 36, top: 10, bottom: 22 };

const path = (values: ReadonlyArray<number>, maxX: number, toY: (v: number) => number): string =>
  values.map((v, i) => `${i === 0 ? 'M' : 'L'}${(PAD.left + ((W - PAD.left - PAD.right) * i) / Math.max(1, maxX - 1)).toFixed(1)},${toY(v).toFixed(1)}`).join('');

/** Redraws `svg` from the series: solid lines are the training loss, dashed lines the training accuracy, per epoch. */
export const drawChart = (svg: SVGSVGElement, series: ReadonlyArray<Series>): void => {
  const maxX = Math.max(2, ...series.map((s) => s.loss.length));
  const maxLoss = Math.max(0.1, ...series.flatMap((s) => s.loss));
  const plotH = H - PAD.top - PAD.bottom;
  const lossY = (v: number): number => PAD.top + plotH * (1 - v / maxLoss);
  const accY = (v: number): number => PAD.top + plotH * (1 - v);
  const lines = series.map(
    (s) =>
      `<path d="${path(s.loss, maxX, lossY)}" fill="none" stroke="${s.colour}" stroke-width="1.5"/>` +
      `<path d="${path(s.accuracy, maxX, accY)}" fill="none" stroke="${s.colour}" stroke-width="1.5" stroke-dasharray="4 3"/>`,
  );
  let x = PAD.left + 4;
  const legend = series.map((s) => {
    const text = `<text x="${x}" y="${H - 6}" fill="${s.colour}" font-size="11">${s.label}</text>`;
    x += 6.5 * s.label.length + 14;
    return text;
  });
  svg.innerHTML = [
    `<rect x="${PAD.left}" y="${PAD.top}" width="${W - PAD.left - PAD.right}" height="${plotH}" fill="none" stroke="#ccc"/>`,
    `<text x="2" y="${PAD.top + 9}" font-size="10">${maxLoss.toFixed(2)}</text><text x="2" y="${PAD.top + plotH}" font-size="10">0 loss</text>`,
    `<text x="${W - PAD.right + 3}" y="${PAD.top + 9}" font-size="10">100 %</text><text x="${W - PAD.right + 3}" y="${PAD.top + plotH}" font-size="10">0 %</text>`,
    ...lines,
    ...legend,
  ].join('');
};
