// A classifier trained in the page from canvases labelled by name, saved to IndexedDB with its
// names and input spec, loaded back by loadClassifier and asked about a new canvas. What it finds
// goes into #out as JSON.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { fromLayersModel, loadClassifier, trainClassifier } from 'transferkit/tfjs';
import { canvasOf } from './canvas.js';


const run = async () => {
  await tf.setBackend('cpu');
  const before = tf.memory().numTensors;
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
      tfl.layers.globalAveragePooling2d({}),
      tfl.layers.dense({ units: 5, activation: 'softmax' }),
    ],
  });
  const backbone = fromLayersModel(model, { input: { range: [-1, 1] } });
  const colours = ['rgb(250, 20, 20)', 'rgb(20, 250, 20)', 'rgb(20, 20, 250)'];
  const names = ['red', 'green', 'blue'];
  const images = Array.from({ length: 12 }, (_, i) => canvasOf(colours[i % 3], 12));
  const labels = images.map((_, i) => names[i % 3]);
  const trained = await trainClassifier(backbone.right, { images, labels }, { resize: true, epochs: 80, seed: 1 })();
  if (trained._tag === 'Left') throw new Error(trained.left.message);
  const saved = await trained.right.save('indexeddb://transferkit-classifier-test')();
  trained.right.dispose();
  if (saved._tag === 'Left') throw new Error(saved.left.message);
  const loaded = await loadClassifier('indexeddb://transferkit-classifier-test')();
  if (loaded._tag === 'Left') throw new Error(loaded.left.message);
  const answer = await loaded.right.classify([canvasOf('rgb(30, 240, 30)', 12)], { resize: true, topK: 1 })();
  const found = { classNames: loaded.right.classNames, inputSpec: loaded.right.inputSpec, answer: answer._tag === 'Right' ? answer.right[0] : answer.left.message };
  loaded.right.dispose();
  model.dispose();
  found.leaked = tf.memory().numTensors - before;
  document.getElementById('out').textContent = JSON.stringify(found);
};

run().catch((e) => (document.getElementById('out').textContent = `failed: ${e?.message ?? e}`));
