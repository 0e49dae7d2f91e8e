/**
 * Which layer of a real pretrained model should a head tap? On the MobileNetV2 of model.ts and the
 * digits of presets.ts (5, 6, 7; 15 training images per class, 30 per class held out), a linear
 * head with the presets' defaults is trained on each block end (`rankLayers`' default candidates)
 * and scored on the held-out images; beside it, LogME of the same layer on the training images.
 * Prints Kendall's τ between LogME's order and the held-out accuracy's order, over all candidates
 * and over those below the top feature layer.
 *
 *   npm run study:taps
 *
 * Results go to docs/results/pretrained-taps.json; layers already there are skipped (resumable).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { earlierLayerTap, evaluate, makeRecipe, rankLayers, transfer } from 'transferkit';
import { fromLayersModel } from 'transferkit/tfjs';
import { kendallTau } from '../mnist/evidence';
import { unwrap } from '../mnist/sourceModel';
import { openStudy } from './model';

const OUT = 'docs/results/pretrained-taps.json';

interface Row {
  readonly layer: string;
  readonly index: number;
  readonly kind: string;
  readonly logme: number;
  readonly accuracy: number;
}

const rows: Row[] = existsSync(OUT) ? (JSON.parse(readFileSync(OUT, 'utf8')) as { rows: Row[] }).rows : [];
const { source, train, test } = await openStudy();
const backbone = unwrap(fromLayersModel(source));
const ranked = unwrap(await rankLayers(backbone, { x: train.x, y: Array.from(train.y) }, { batchSize: 16 })());
const byIndex = [...ranked].sort((a, b) => a.layer.index - b.layer.index);
for (const { layer, logme } of byIndex) {
  if (rows.some((r) => r.layer === layer.name)) continue;
  const recipe = unwrap(makeRecipe({ ...earlierLayerTap, tap: { kind: 'layer', name: layer.name } }));
  const result = unwrap(await transfer(backbone, recipe, { x: train.x, y: Array.from(train.y) }, { seed: 1 })());
  const scores = unwrap(await evaluate(result.model, { x: test.x, y: Array.from(test.y) }, 3, { batchSize: 8 })());
  result.model.dispose();
  rows.push({ layer: layer.name, index: layer.index, kind: layer.kind, logme, accuracy: scores.accuracy });
  console.log(`${layer.name} (${layer.index}, ${layer.kind}): LogME ${logme.toFixed(3)}, held-out accuracy ${(100 * scores.accuracy).toFixed(1)} %`);
  writeFileSync(OUT, `${JSON.stringify({ command: 'npm run study:taps', rows }, null, 2)}\n`);
}
const top = backbone.layers[backbone.top]!.name;
const below = rows.filter((r) => r.layer !== top);
const tau = (rs: ReadonlyArray<Row>): number => kendallTau(rs.map((r) => r.logme), rs.map((r) => r.accuracy));
console.log(`Kendall τ (LogME vs held-out accuracy): ${tau(rows).toFixed(2)} over ${rows.length} block ends; ${tau(below).toFixed(2)} over the ${below.length} below the top (${top})`);
const best = [...rows].sort((a, b) => b.accuracy - a.accuracy)[0];
const pick = [...rows].sort((a, b) => b.logme - a.logme)[0];
console.log(`best by held-out accuracy: ${best?.layer} ${(100 * (best?.accuracy ?? 0)).toFixed(1)} %; LogME's pick: ${pick?.layer} ${(100 * (pick?.accuracy ?? 0)).toFixed(1)} %`);
writeFileSync(OUT, `${JSON.stringify({ command: 'npm run study:taps', rows, kendallTau: tau(rows), kendallTauBelowTop: tau(below) }, null, 2)}\n`);
tf.dispose([train.x, test.x]);
source.dispose();
