/**
 * Runs the MNIST measurement evidence at full size and writes docs/results/measuring-mnist.md.
 * Run: npm run evidence:measuring
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { measuringEvidence, similarityTau, type EvidenceOptions } from './evidence';

await tf.setBackend('cpu');
const options: EvidenceOptions = { similarityPerDigit: 60, labelledPerDigit: 20, testPerDigit: 100, epochs: 100, learningRate: 0.01 };
const started = performance.now();
const results = await measuringEvidence(options, console.log);
const minutes = ((performance.now() - started) / 60_000).toFixed(1);
const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
const lines = [
  '# Measuring on MNIST: similarity and layer ranking',
  '',
  `Made by \`npm run evidence:measuring\` (scripts/mnist/runEvidence.ts) on ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), tfjs ${tf.version_core} CPU backend, in ${minutes} min.`,
  '',
  'Source: the committed MNIST source model (scripts/mnist/source/, digits 0–4). Similarity: `measureSimilarity` at the top feature layer between',
  `${options.similarityPerDigit} held-out source images per digit and ${options.similarityPerDigit} target images per digit. Layers: \`rankLayers\` by LogME on`,
  `${options.labelledPerDigit} labelled target images per digit, and the held-out accuracy (${options.testPerDigit} per digit) of a head trained on each layer (${options.epochs} epochs, Adam ${options.learningRate}).`,
  '',
  '| target domain (digits 5–9) | similarity | PAD | MMD² | MMD p-value | Kendall τ (LogME vs accuracy) |',
  '|---|---|---|---|---|---|',
  ...results.map((r) => `| ${r.domain} | ${r.similarity.toFixed(3)} | ${r.proxyADistance.toFixed(3)} | ${r.mmd2.toFixed(4)} | ${r.pValue.toFixed(3)} | ${r.kendallTau.toFixed(2)} |`),
  '',
  `Does the similarity order the domains as a frozen head on the layer it measures at does? Held-out accuracy of that head (from the tables below), by domain: ${results
    .map((r) => `${r.domain} ${pct(r.layers.find((l) => l.name === r.layer)?.accuracy ?? Number.NaN)} (\`${r.layer}\`)`)
    .join(', ')}. Kendall τ between similarity and that accuracy over the ${results.length} domains: **${similarityTau(results).toFixed(2)}** (ties in similarity count as neither agreeing nor disagreeing).`,
  '',
  ...results.flatMap((r) => [
    `**${r.domain}**: layer, LogME, held-out accuracy of a head on it`,
    '',
    '| layer | LogME | accuracy |',
    '|---|---|---|',
    ...r.layers.map((l) => `| ${l.name} | ${l.logme.toFixed(4)} | ${pct(l.accuracy)} |`),
    '',
  ]),
];
writeFileSync(new URL('../../docs/results/measuring-mnist.md', import.meta.url), `${lines.join('\n')}`);
console.log('wrote docs/results/measuring-mnist.md');
