/**
 * Depthwise convolution gradients straight on tfjs-backend-wasm's heap, for a channel multiplier
 * of 1 (every MobileNet): each gradient is a sum of element-wise products of whole pixel rows (all
 * channels at once), run by heap.wat's `mulAddRun` over runs of pixels along a row.
 *
 * conv.ts builds the same gradients from the backend's depthwise convolution instead, with the
 * output gradient as the filter; on wasm that creates and packs a new XNNPACK operator of n · c
 * channels on every call, and moves the tensors around to get there. On MobileNetV2's last block
 * (16 × 3 × 3 × 960, a 3 × 3 filter) that took 1.7 ms for each gradient, and 13 ms for the filter
 * gradient at 16 × 6 × 6 × 576 (one-off timings), for what is a few million multiply-adds.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { HeapLoops } from './heap';

type Conv2DInfo = tf.backend_util.Conv2DInfo;

let direct = true;

/** Turns the direct gradients off (or on again), so benches can compare them with conv.ts's. */
export const useDirectDepthwise = (on: boolean): void => {
  direct = on;
};

/** Whether the pack runs depthwise gradients with the loops here (where the heap allows). */
export const directDepthwise = (): boolean => direct;

/**
 * The k in [0, count) with 0 ≤ k · stride + offset < size, as [first, end): the output rows (or
 * columns) that a filter tap at `offset` reads inside the input.
 */
export const validRange = (offset: number, stride: number, size: number, count: number): [number, number] => {
  const first = Math.max(0, Math.ceil(-offset / stride));
  const end = Math.min(count, Math.floor((size - 1 - offset) / stride) + 1);
  return [first, Math.max(first, end)];
};

/**
 * dW[i, j, c] = Σ_b Σ_p Σ_q x[b, p·sh + i·dh − top, q·sw + j·dw − left, c] · dy[b, p, q, c], summed
 * in that order (b, then p, then q) in float32, padding contributing nothing. Addresses in bytes;
 * `out` holds kh × kw × c floats and is overwritten.
 */
export const depthwiseFilterGradOnHeap = (loops: HeapLoops, heap: Float32Array, x: number, dy: number, out: number, info: Conv2DInfo): void => {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, padInfo } = info;
  heap.fill(0, out / 4, out / 4 + kh * kw * c);
  const pixel = 4 * c;
  for (let i = 0; i < kh; i++) {
    const rowOffset = i * dh - padInfo.top;
    const [p0, p1] = validRange(rowOffset, sh, h, oh);
    for (let j = 0; j < kw; j++) {
      const colOffset = j * dw - padInfo.left;
      const [q0, q1] = validRange(colOffset, sw, w, ow);
      if (q1 === q0) continue;
      const tap = out + (i * kw + j) * pixel;
      for (let b = 0; b < n; b++) {
        for (let p = p0; p < p1; p++) {
          const xAt = x + ((b * h + p * sh + rowOffset) * w + q0 * sw + colOffset) * pixel;
          loops.mulAddRun(tap, 0, xAt, sw * pixel, dy + ((b * oh + p) * ow + q0) * pixel, pixel, q1 - q0, c);
        }
      }
    }
  }
};

/**
 * dx[b, r, s, c] = Σ dy[b, p, q, c] · W[i, j, c] over the (p, i) with p·sh + i·dh − top = r and
 * the (q, j) with q·sw + j·dw − left = s, added in float32 in the order p, i, j, q. Addresses in
 * bytes; `out` holds n × h × w × c floats and is overwritten; the filter is [kh, kw, c, 1].
 */
export const depthwiseInputGradOnHeap = (loops: HeapLoops, heap: Float32Array, dy: number, filter: number, out: number, info: Conv2DInfo): void => {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, padInfo } = info;
  heap.fill(0, out / 4, out / 4 + n * h * w * c);
  const pixel = 4 * c;
  for (let b = 0; b < n; b++) {
    for (let p = 0; p < oh; p++) {
      for (let i = 0; i < kh; i++) {
        const r = p * sh + i * dh - padInfo.top;
        if (r < 0 || r >= h) continue;
        for (let j = 0; j < kw; j++) {
          const colOffset = j * dw - padInfo.left;
          const [q0, q1] = validRange(colOffset, sw, w, ow);
          if (q1 === q0) continue;
          const dxAt = out + ((b * h + r) * w + q0 * sw + colOffset) * pixel;
          loops.mulAddRun(dxAt, sw * pixel, dy + ((b * oh + p) * ow + q0) * pixel, pixel, filter + (i * kw + j) * pixel, 0, q1 - q0, c);
        }
      }
    }
  }
};
