/**
 * Trains the domain-adaptation benchmark's source (scripts/adapt/sourceModel.ts) on clean images
 * [0, 500) of all ten digits (20 epochs of Adam 1e-3, batch 32, each epoch in its own seeded
 * order), reports its accuracy on images [500, 600) and writes it to scripts/adapt/source/.
 * Run: npx tsx scripts/adapt/trainSource.ts
 */
import '@tensorflow/tfjs-backend-cpu';
import { either as E } from 'fp-ts';
import { setupBackend } from 'transferkit/tfjs';
import { accuracyOn, fitSource, saveSource } from '../mnist/fitSource';
import { ADAPT_SOURCE_DIR, adaptSourceArchitecture } from './sourceModel';
import { CLASSES, RANGES, take } from './shifts';

const choice = await setupBackend()();
if (E.isLeft(choice)) throw new Error(choice.left.message);
const model = adaptSourceArchitecture();
const started = performance.now();
await fitSource(model, take(RANGES.sourceTrain), CLASSES, 20, 50);
const test = take(RANGES.sourceTest);
const accuracy = accuracyOn(model, test);
console.log(`held-out accuracy on clean digits 0-9 (${test.count} images): ${(100 * accuracy).toFixed(2)} %; trained in ${((performance.now() - started) / 1000).toFixed(0)} s`);
await saveSource(model, ADAPT_SOURCE_DIR, 'scripts/adapt/trainSource.ts', accuracy);
