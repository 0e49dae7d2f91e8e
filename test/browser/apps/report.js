// Both apps: set the backend up, run one operation on it, and put the outcome in the page.
import * as tf from '@tensorflow/tfjs-core';

export const report = async (task) => {
  const choice = await task();
  const out = document.getElementById('out');
  if (choice._tag === 'Left') {
    out.textContent = `Left: ${choice.left.message}`;
    return;
  }
  const sum = tf.tidy(() => tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])).dataSync().join(','));
  out.textContent = `${choice.right.backend}: ${sum}; ${choice.right.description}`;
};
