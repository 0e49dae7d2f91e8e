// Every browser image source through imageBatch, on the cpu backend, in a real page. What it finds
// goes into #out as JSON: per source, the batch's shape and its first pixel, or the error.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { imageBatch } from 'transferkit/tfjs';
import { canvasOf } from './canvas.js';

const spec = { height: 4, width: 4, channels: 3, channelOrder: 'rgb', normalization: { range: [0, 1] } };


const loaded = (image) => new Promise((resolve, reject) => ((image.onload = () => resolve(image)), (image.onerror = reject)));

const sources = async () => {
  const canvas = canvasOf('rgb(255, 0, 51)', 4);
  const image = new Image();
  image.src = canvasOf('rgb(0, 255, 0)', 4).toDataURL('image/png');
  await loaded(image);
  const offscreen = new OffscreenCanvas(4, 4);
  const octx = offscreen.getContext('2d');
  octx.fillStyle = 'rgb(0, 0, 255)';
  octx.fillRect(0, 0, 4, 4);
  const video = document.createElement('video');
  video.muted = true;
  video.srcObject = canvasOf('rgb(255, 255, 255)', 4).captureStream();
  await video.play();
  await new Promise((resolve) => (video.readyState >= 2 ? resolve() : video.addEventListener('loadeddata', resolve, { once: true })));
  return {
    HTMLCanvasElement: canvas,
    ImageData: canvas.getContext('2d').getImageData(0, 0, 4, 4),
    HTMLImageElement: image,
    ImageBitmap: await createImageBitmap(canvas),
    OffscreenCanvas: offscreen,
    HTMLVideoElement: video,
    biggerCanvas: document.createElement('canvas'),
  };
};

const run = async () => {
  await tf.setBackend('cpu');
  const before = tf.memory().numTensors;
  const found = {};
  for (const [name, source] of Object.entries(await sources())) {
    const batch = imageBatch(spec, [source]);
    if (batch._tag === 'Left') found[name] = { error: batch.left._tag, message: batch.left.message };
    else {
      found[name] = { shape: batch.right.shape, first: Array.from(batch.right.dataSync().slice(0, 3), (v) => Math.round(v * 255)) };
      batch.right.dispose();
    }
  }
  found.leaked = tf.memory().numTensors - before;
  document.getElementById('out').textContent = JSON.stringify(found);
};

run().catch((e) => (document.getElementById('out').textContent = `failed: ${e?.message ?? e}`));
