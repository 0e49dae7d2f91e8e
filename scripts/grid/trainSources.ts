/**
 * Trains the calibration grid's new source models (scripts/grid/sources.ts) and writes each beside
 * it: `residual` to scripts/grid/source-residual/, `mobilenet` to scripts/grid/source-mobilenet/.
 * (`cnn` is the MNIST studies' committed source, trained by `npm run train:source`.) 12 epochs of
 * Adam 1e-3, batch 32, each epoch in its own seeded order, on the backend `setupBackend` picks.
 *
 * Run: npx tsx scripts/grid/trainSources.ts residual|mobilenet
 */
import '@tensorflow/tfjs-backend-cpu';
import { setupBackend } from 'transferkit/tfjs';
import { accuracyOn, fitSource, saveSource } from '../mnist/fitSource';
import { unwrap } from '../mnist/sourceModel';
import { GRID_SOURCES, sourceSplits, type GridSourceName } from './sources';

const EPOCHS = 12;
const name = process.argv[2] as GridSourceName;
if (name !== 'residual' && name !== 'mobilenet') throw new Error("which source? 'residual' or 'mobilenet' (the cnn is trained by npm run train:source)");
const source = GRID_SOURCES[name];
console.log(`${name}: ${unwrap(await setupBackend()()).description.split(';')[0]})`);
const { train, test } = sourceSplits(name);
const model = source.architecture(1);
const started = performance.now();
await fitSource(model, train, source.classes, EPOCHS, 5);
const accuracy = accuracyOn(model, test);
console.log(`held-out accuracy on ${source.labels} (${test.count} images): ${(100 * accuracy).toFixed(2)} %; trained in ${((performance.now() - started) / 1000).toFixed(0)} s`);
await saveSource(model, source.dir, `npx tsx scripts/grid/trainSources.ts ${name}`, accuracy);
