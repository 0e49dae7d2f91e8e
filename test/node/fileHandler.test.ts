import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, describe, expect, it } from 'vitest';
import { fileHandler } from 'transferkit/node';

const dir = mkdtempSync(join(tmpdir(), 'transferkit-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fileHandler', () => {
  it('saves a LayersModel as model.json and weights.bin, and tfjs loads it back predicting the same', async () => {
    await tf.setBackend('cpu');
    const before = tf.memory().numTensors;
    const model = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [3], units: 2, kernelInitializer: tfl.initializers.glorotUniform({ seed: 4 }) })] });
    model.setUserDefinedMetadata({ note: 'kept' });
    const to = join(dir, 'nested', 'model');
    const result = await model.save(fileHandler(to));
    expect(result.modelArtifactsInfo.weightDataBytes).toBe(4 * (3 * 2 + 2));
    const json = JSON.parse(readFileSync(join(to, 'model.json'), 'utf8'));
    expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
    const loaded = await tfl.loadLayersModel(fileHandler(to));
    expect(loaded.getUserDefinedMetadata()).toEqual({ note: 'kept' });
    const x = tf.tensor2d([[1, 2, 3]]);
    const [a, b] = [model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([x, a, b]);
    model.dispose();
    loaded.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses, before opening any weight file, paths that leave its directory', async () => {
    const to = join(dir, 'escape');
    writeFileSync(join(dir, 'secret.bin'), 'secret');
    await tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [1], units: 1 })] }).save(fileHandler(to));
    const json = JSON.parse(readFileSync(join(to, 'model.json'), 'utf8'));
    json.weightsManifest[0].paths = ['../secret.bin'];
    writeFileSync(join(to, 'model.json'), JSON.stringify(json));
    await expect(fileHandler(to).load()).rejects.toThrow(/weightsManifest\[0\]\.paths\[0\]: expected a relative path inside the model's directory/);
    await expect(fileHandler('' as string).load()).rejects.toThrow(/directory: expected a directory path/);
  });
});
