import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromLayersModel, loadClassifier, trainClassifier, type PixelImage, type TrainedClassifier } from 'transferkit/tfjs';
import { fileHandler } from 'transferkit/node';
import { err, ok } from '../../fixtures/either';
import { snapshot } from '../../fixtures/models';

/** A small image model (8×8 RGB → 4 classes) with seeded weights. */
const imageModel = (): tfl.LayersModel =>
  tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: 6, kernelSize: 3, activation: 'relu', name: 'conv', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
      tfl.layers.globalAveragePooling2d({ name: 'pool' }),
      tfl.layers.dense({ units: 4, activation: 'softmax', name: 'out', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });

/** Three classes of 10×10 RGBA images: red, green or blue, with a little seeded noise. */
const CLASSES = ['red', 'green', 'blue'] as const;
const picture = (k: number, i: number): PixelImage => ({
  width: 10,
  height: 10,
  data: Uint8ClampedArray.from({ length: 400 }, (_, j) => (j % 4 === 3 ? 255 : j % 4 === k ? 200 + ((i * 37 + j * 11) % 50) : (i * 13 + j * 7) % 60)),
});
const images = Array.from({ length: 30 }, (_, i) => picture(i % 3, i));
const labels = images.map((_, i) => CLASSES[i % 3]!);

let source: tfl.LayersModel;
let trained: TrainedClassifier;
let dir: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  source = imageModel();
  dir = mkdtempSync(join(tmpdir(), 'transferkit-classifier-'));
});

afterAll(() => {
  trained?.dispose();
  source.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** Saves the classifier's files into a fresh directory, then lets `change` edit its model.json. */
const savedWith = async (name: string, change: (json: Record<string, any>) => void): Promise<string> => {
  const to = join(dir, name);
  ok(await trained.save(fileHandler(to))());
  const json = JSON.parse(readFileSync(join(to, 'model.json'), 'utf8'));
  change(json);
  writeFileSync(join(to, 'model.json'), JSON.stringify(json));
  return to;
};

describe('an image classifier: images in, names out', () => {
  it('trains from images labelled by name, classifies them by name, and leaves the source as it was', async () => {
    const before = tf.memory().numTensors;
    const weights = snapshot(source);
    const backbone = ok(fromLayersModel(source, { input: { range: [0, 1] } }));
    trained = ok(await trainClassifier(backbone, { images, labels }, { resize: true, epochs: 60, seed: 3 })());
    expect(trained.classNames).toEqual(['red', 'green', 'blue']);
    expect(trained.inputSpec).toMatchObject({ height: 8, width: 8, channels: 3 });
    expect(trained.training.recipe.kind).toBe('feature-extractor');
    const answers = ok(await trained.classify(images, { resize: true, topK: 2 })());
    expect(answers).toHaveLength(30);
    expect(answers.every((a) => a.length === 2 && a[0]!.probability >= a[1]!.probability)).toBe(true);
    const right = answers.filter((a, i) => a[0]!.label === labels[i]).length;
    expect(right).toBeGreaterThanOrEqual(27);
    const after = snapshot(source);
    expect([...weights].every(([k, v]) => after.get(k)!.every((x, i) => Object.is(x, v[i])))).toBe(true);
    // The classifier holds its model; nothing else stays behind.
    const held = tf.memory().numTensors - before;
    trained.dispose();
    expect(tf.memory().numTensors - before).toBeLessThan(held);
    trained = ok(await trainClassifier(backbone, { images, labels }, { resize: true, epochs: 60, seed: 3 })());
  });

  it('saves through a directory handler and loads back with its names and input spec, predicting the same', async () => {
    const to = join(dir, 'saved');
    ok(await trained.save(fileHandler(to))());
    const meta = JSON.parse(readFileSync(join(to, 'model.json'), 'utf8')).userDefinedMetadata.transferkit_classifier;
    expect(meta.classNames).toEqual(['red', 'green', 'blue']);
    const before = tf.memory().numTensors;
    const loaded = ok(await loadClassifier(fileHandler(to))());
    expect(loaded.classNames).toEqual(trained.classNames);
    expect(loaded.inputSpec).toEqual(trained.inputSpec);
    const a = ok(await trained.classify(images.slice(0, 6), { resize: true })());
    const b = ok(await loaded.classify(images.slice(0, 6), { resize: true })());
    expect(b).toEqual(a);
    // Through tfjs's own in-memory handlers too, and saved again by the loaded one.
    let artifacts: tf.io.ModelArtifacts | undefined;
    ok(await loaded.save(tf.io.withSaveHandler(async (m) => ((artifacts = m), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })))());
    const again = ok(await loadClassifier(tf.io.fromMemory(artifacts!))());
    expect(ok(await again.classify(images.slice(0, 6), { resize: true })())).toEqual(a);
    loaded.dispose();
    again.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses, with typed errors and before building anything, model files that are not what they claim', async () => {
    const before = tf.memory().numTensors;
    const refused = async (to: string) => err(await loadClassifier(fileHandler(to))());

    const escape = await refused(await savedWith('escape', (j) => (j.weightsManifest[0].paths = ['../saved/weights.bin'])));
    expect([escape._tag, escape.path]).toEqual(['InvalidArgument', 'weightsManifest[0].paths[0]']);
    const absolute = await refused(await savedWith('absolute', (j) => (j.weightsManifest[0].paths = [join(dir, 'saved', 'weights.bin')])));
    expect(absolute.expected).toMatch(/no absolute path/);

    const bytes = await refused(await savedWith('bytes', (j) => (j.weightsManifest[0].weights[0].shape = [3, 3, 3, 7])));
    expect([bytes._tag, bytes.path]).toEqual(['ShapeMismatch', 'weightData']);

    const proto = join(dir, 'proto');
    await savedWith('proto', () => undefined);
    const text = readFileSync(join(proto, 'model.json'), 'utf8').replace('"userDefinedMetadata":{', '"userDefinedMetadata":{"__proto__":{"polluted":true},');
    writeFileSync(join(proto, 'model.json'), text);
    expect((await refused(proto)).path).toBe('userDefinedMetadata.__proto__');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    const ctor = await refused(await savedWith('ctor', (j) => (j.modelTopology.config.layers[0].config.constructor = { name: 'x' })));
    expect(ctor.path).toMatch(/^modelTopology\..*\.constructor$/);

    const unknown = await refused(await savedWith('unknown', (j) => (j.modelTopology.config.layers[1].class_name = 'EvilLayer')));
    expect(unknown.path).toMatch(/class_name$/);
    expect(unknown.received).toBe('"EvilLayer"');
    expect(unknown.expected).toMatch(/Conv2D/);

    const huge = await refused(await savedWith('huge', (j) => (j.weightsManifest[0].weights[0].shape = [65536, 65536, 3])));
    expect(huge.path).toBe('weightSpecs[0].shape');
    const limited = err(await loadClassifier(fileHandler(join(dir, 'saved')), { maxWeightBytes: 100 })());
    expect(limited.expected).toMatch(/at most 100 bytes/);

    const duplicate = await refused(await savedWith('duplicate', (j) => (j.userDefinedMetadata.transferkit_classifier.classNames = ['red', 'green', 'red'])));
    expect(duplicate.path).toBe('userDefinedMetadata.transferkit_classifier.classNames[2]');
    const classes = await refused(await savedWith('classes', (j) => (j.userDefinedMetadata.transferkit_classifier.classNames = ['red', 'green'])));
    expect(classes._tag).toBe('ShapeMismatch');
    const spec = await refused(await savedWith('spec', (j) => (j.userDefinedMetadata.transferkit_classifier.input.height = 16)));
    expect([spec._tag, spec.expected]).toEqual(['ShapeMismatch', 'one input of shape [N, 16, 8, 3] (the metadata\'s input spec)']);
    const plain = await refused(await savedWith('plain', (j) => delete j.userDefinedMetadata));
    expect(plain.expected).toMatch(/classifier's metadata/);

    expect(err(await loadClassifier(fileHandler(join(dir, 'missing')))()).expected).toMatch(/a directory with a model\.json/);
    expect(err(await loadClassifier('file:///nowhere')()).expected).toMatch(/fileHandler\(directory\)/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses bad labels and class names with the choices, training nothing', async () => {
    const before = tf.memory().numTensors;
    const backbone = ok(fromLayersModel(source, { input: { range: [0, 1] } }));
    const repeated = err(await trainClassifier(backbone, { images, labels }, { classNames: ['red', 'green', 'red'] })());
    expect(repeated.path).toBe('options.classNames[2]');
    const stray = err(await trainClassifier(backbone, { images, labels }, { classNames: ['red', 'green'], resize: true })());
    expect([stray.path, stray.expected]).toEqual(['data.labels[2]', 'one of the class names: red, green']);
    expect(err(await trainClassifier(backbone, { images, labels: labels.slice(1) })())._tag).toBe('ShapeMismatch');
    expect(err(await trainClassifier(backbone, { images, labels })()).path).toBe('images[0]');
    expect(err(await trainClassifier(ok(fromLayersModel(source)), { images, labels })()).path).toBe('backbone.inputSpec');
    expect(tf.memory().numTensors).toBe(before);
  });
});
