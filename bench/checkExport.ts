/**
 * Checks that bench/keras_graph.py rebuilds a network exactly: exports the real pretrained
 * MobileNetV2 of scripts/pretrained/model.ts (bench/support/exportKeras.ts) with four MNIST digits
 * and tfjs's pooled `out_relu` features of them at 224², then has PyTorch rebuild the network and
 * compare its features. Prints {"maxAbsDiff", "maxAbs"}.
 * Run: npx tsx bench/checkExport.ts   (needs Debian's python3-torch)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { take } from '../scripts/mnist/data';
import { loadMobileNetV2 } from '../scripts/pretrained/model';
import { exportKeras } from './support/exportKeras';
import { digitsAt224 } from './support/workloadJobs';

await tf.setBackend('cpu');
const model = await loadMobileNetV2();
const dir = mkdtempSync(join(tmpdir(), 'export-check-'));
try {
  exportKeras(model, dir);
  const digits = take([0, 1, 2, 3], 0, 1);
  writeFileSync(join(dir, 'digits.bin'), Buffer.from(digits.x.buffer, digits.x.byteOffset, digits.x.byteLength));
  const features = tf.tidy(() => {
    const x = digitsAt224(digits.x, digits.count);
    const cut = tfl.model({ inputs: model.inputs, outputs: model.getLayer('out_relu').output as tfl.SymbolicTensor });
    return tf.mean(cut.predict(x) as tf.Tensor, [1, 2]);
  });
  writeFileSync(join(dir, 'features.json'), JSON.stringify({ count: digits.count, features: Array.from(features.dataSync()) }));
  features.dispose();
  const script = fileURLToPath(new URL('./keras_graph.py', import.meta.url));
  process.stdout.write(execFileSync('/usr/bin/python3', [script, dir], { encoding: 'utf8' }));
} finally {
  rmSync(dir, { recursive: true, force: true });
  model.dispose();
}
