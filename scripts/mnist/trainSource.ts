/**
 * Trains an MNIST source model on digits 0–4 (800 images each; 20 epochs of Adam 1e-3, batch 32,
 * each epoch in its own seeded order) and writes it to its directory (model.json + weights.bin):
 * `cnn` to scripts/mnist/source/, `mobilenet` to scripts/mnist/source-mobilenet/ (sourceModel.ts).
 * The source model is the app's own pretraining, so plain tfjs `fit` is used, on the backend
 * `setupBackend` picks. Run: npm run train:source [-- mobilenet]  (the CNN takes about 70 s on
 * 2 CPU cores with wasm).
 */
import '@tensorflow/tfjs-backend-cpu';
import { either as E } from 'fp-ts';
import { setupBackend } from 'transferkit/tfjs';
import { SOURCE_DIGITS, SPLITS, take } from './data';
import { accuracyOn, fitSource, saveSource } from './fitSource';
import { SOURCES, type SourceName } from './sourceModel';

const EPOCHS = 20;
const name = (process.argv[2] ?? 'cnn') as SourceName;
if (!(name in SOURCES)) throw new Error(`unknown source '${name}'; the sources are ${Object.keys(SOURCES).join(', ')}`);
const { dir: SOURCE_DIR, architecture } = SOURCES[name];
const choice = await setupBackend()();
if (E.isLeft(choice)) throw new Error(choice.left.message);
console.log(`${name}: ${choice.right.description.split(';')[0]})`);
const model = architecture();
const started = performance.now();
await fitSource(model, take(SOURCE_DIGITS, 0, SPLITS.source.trainEnd), 5, EPOCHS, 5);
const test = take(SOURCE_DIGITS, SPLITS.source.trainEnd, SPLITS.source.testEnd - SPLITS.source.trainEnd);
const accuracy = accuracyOn(model, test);
console.log(`held-out accuracy on digits 0-4 (${test.count} images): ${(100 * accuracy).toFixed(2)} %; trained in ${((performance.now() - started) / 1000).toFixed(0)} s`);
await saveSource(model, SOURCE_DIR, `scripts/mnist/trainSource.ts ${name}`, accuracy);
