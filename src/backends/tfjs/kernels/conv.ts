/**
 * Convolution gradient kernels built from a backend's own fast kernels (slice, pad, transpose,
 * matrix product, forward convolution), for the backends where the stock ones are missing (wasm)
 * or slow (cpu). All take and give NHWC tensors.
 *
 * - The filter gradient of a convolution is itself a convolution: of the input, with batch and
 *   channels swapped, by the output gradient dilated by the stride (Dumoulin & Visin, "A guide to
 *   convolution arithmetic for deep learning", 2016, gives the arithmetic). While this was written, a
 *   version that built im2col rows and multiplied them was timed on wasm at 5–7× slower, in a
 *   one-off profile of the CNN bench's training step; that version is no longer in the tree.
 * - The input gradient is a stride-1 convolution of the output gradient — spread out by the
 *   stride, with zeros between — with the filter flipped in space and its channel axes swapped
 *   (Dumoulin & Visin, "A guide to convolution arithmetic for deep learning", 2016, §4).
 * - Depthwise filter gradients take the same swap, with the batch folded into the channels.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Info, KernelCalls } from './run';

type Conv2DInfo = tf.backend_util.Conv2DInfo;

/** The input, padded as the convolution padded it. */
const padded = (calls: KernelCalls, x: Info, info: Conv2DInfo): Info => {
  const { top, bottom, left, right } = info.padInfo;
  return calls.pad(x, [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ]);
};

/** A 1×1, stride-1, unpadded convolution: a matrix product applied at every pixel. */
export const pointwise = (info: Conv2DInfo): boolean =>
  info.filterHeight === 1 &&
  info.filterWidth === 1 &&
  info.strideHeight === 1 &&
  info.strideWidth === 1 &&
  info.padInfo.top + info.padInfo.bottom + info.padInfo.left + info.padInfo.right === 0;

/**
 * Gradient of a convolution with respect to its filter, as one forward convolution: with the
 * batch and channel axes of the padded input swapped (channels become the batch) and the output
 * gradient as the filter (its batch axis the input channels), dilated by the stride,
 * dW[i, j, c, o] = Σ_{b,p,q} x[b, p·sh + i, q·sw + j, c] · dy[b, p, q, o] is a stride-1 convolution.
 * It lets the backend's fast convolution do the work with no im2col copies.
 */
export const conv2DBackpropFilter = (calls: KernelCalls, x: Info, dy: Info, info: Conv2DInfo): Info => {
  const { inChannels: cin, outChannels: cout, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  if (pointwise(info)) {
    // A 1×1 convolution is a matrix product over every pixel: dW = xᵀ · dy.
    const m = info.batchSize * info.outHeight * info.outWidth;
    const product = calls.matMul(calls.transpose(calls.reshape(x, [m, cin]), [1, 0]), calls.reshape(dy, [m, cout]));
    return calls.reshape(product, [1, 1, cin, cout]);
  }
  const xt = calls.transpose(padded(calls, x, info), [3, 1, 2, 0]);
  const f = calls.transpose(dy, [1, 2, 0, 3]);
  const full = calls.run('Conv2D', { x: xt, filter: f }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [sh, sw], dimRoundingMode: 'floor' });
  // Padding can leave more rows than the filter has: the extra ones are no filter tap.
  const taps = calls.slice(full, [0, 0, 0, 0], [cin, kh, kw, cout]);
  return calls.transpose(taps, [1, 2, 0, 3]);
};

/**
 * The output gradient spread out by the stride and shifted so that a stride-1 ("valid")
 * convolution with the flipped filter yields the input gradient of shape [n, inHeight, inWidth, c].
 */
const spread = (calls: KernelCalls, dy: Info, info: Conv2DInfo): Info => {
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, filterHeight: kh, filterWidth: kw, inHeight, inWidth } = info;
  const [n, oh, ow, c] = dy.shape as [number, number, number, number];
  let up = dy;
  if (sh > 1 || sw > 1) {
    const gaps = calls.pad(calls.reshape(dy, [n, oh, 1, ow, 1, c]), [
      [0, 0],
      [0, 0],
      [0, sh - 1],
      [0, 0],
      [0, sw - 1],
      [0, 0],
    ]);
    up = calls.reshape(gaps, [n, oh * sh, ow * sw, c]);
  }
  // dx[p] = Σ_t up[p + top − t·d] · w[t]: pad the front by (k − 1)·d − top, and make the length
  // inHeight + (k − 1)·d, cropping where the padding is negative.
  const frontH = (kh - 1) * dh - info.padInfo.top;
  const frontW = (kw - 1) * dw - info.padInfo.left;
  const endH = inHeight + (kh - 1) * dh - frontH - up.shape[1]!;
  const endW = inWidth + (kw - 1) * dw - frontW - up.shape[2]!;
  const grown = calls.pad(up, [
    [0, 0],
    [Math.max(0, frontH), Math.max(0, endH)],
    [Math.max(0, frontW), Math.max(0, endW)],
    [0, 0],
  ]);
  const cropH = Math.max(0, -frontH);
  const cropW = Math.max(0, -frontW);
  return calls.slice(grown, [0, cropH, cropW, 0], [n, inHeight + (kh - 1) * dh, inWidth + (kw - 1) * dw, c]);
};

/** Gradient of a convolution with respect to its input: shape [n, inHeight, inWidth, cin]. */
export const conv2DBackpropInput = (calls: KernelCalls, dy: Info, filter: Info, info: Conv2DInfo): Info => {
  if (pointwise(info)) {
    // dx = dy · Wᵀ over every pixel. A matrix product prepares (packs) its second operand on every
    // call, and a trained filter is fresh at every step; so with few pixels — a small batch, a
    // small feature map — it is cheaper as (W · dyᵀ)ᵀ, which packs and transposes m × (cin + cout)
    // activations instead of transposing and packing the cin × cout filter. On wasm both forms gave
    // the same bits on MobileNetV2's last-block shapes, and the second took 3.8 → 0.6 ms at 18
    // pixels and 7.6 → 6.4 ms at 144 for a 320 × 1280 filter (one-off timings).
    const { inChannels: cin, outChannels: cout } = info;
    const m = info.batchSize * info.outHeight * info.outWidth;
    const w = calls.reshape(filter, [cin, cout]);
    const d = calls.reshape(dy, [m, cout]);
    const dx = m * (cin + cout) < cin * cout ? calls.transpose(calls.matMul(w, calls.transpose(d, [1, 0])), [1, 0]) : calls.matMul(d, calls.transpose(w, [1, 0]));
    return calls.reshape(dx, [info.batchSize, info.inHeight, info.inWidth, cin]);
  }
  const flipped = calls.transpose(calls.reverse(filter, [0, 1]), [0, 1, 3, 2]);
  return calls.run(
    'Conv2D',
    { x: spread(calls, dy, info), filter: flipped },
    { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [info.dilationHeight, info.dilationWidth], dimRoundingMode: 'floor' },
  );
};

/**
 * Gradient of a depthwise convolution with respect to its filter [kh, kw, c, multiplier], by the
 * same swap as the convolution's: with the batch folded into the channels, the padded input is
 * one image of n·c channels and the output gradient its depthwise filter (dilated by the stride,
 * stepped by the dilation); the per-image results are then summed.
 */
export const depthwiseBackpropFilter = (calls: KernelCalls, x: Info, dy: Info, info: Conv2DInfo): Info => {
  const { batchSize: n, inChannels: c, outChannels, filterHeight: kh, filterWidth: kw, outHeight: oh, outWidth: ow } = info;
  const multiplier = outChannels / c;
  const xp = padded(calls, x, info);
  const [, hp, wp] = xp.shape as [number, number, number, number];
  const image = calls.reshape(calls.transpose(xp, [1, 2, 0, 3]), [1, hp, wp, n * c]);
  const filter = calls.reshape(calls.transpose(dy, [1, 2, 0, 3]), [oh, ow, n * c, multiplier]);
  const full = calls.run(
    'DepthwiseConv2dNative',
    { x: image, filter },
    { strides: [info.dilationHeight, info.dilationWidth], pad: 'valid', dilations: [info.strideHeight, info.strideWidth], dimRoundingMode: 'floor' },
  );
  const perImage = calls.reshape(calls.slice(full, [0, 0, 0, 0], [1, kh, kw, n * outChannels]), [kh * kw, n, outChannels]);
  return calls.reshape(calls.sum(perImage, [1]), [kh, kw, c, multiplier]);
};

/** Gradient of a depthwise convolution with respect to its input: shape [n, inHeight, inWidth, c]. */
export const depthwiseBackpropInput = (calls: KernelCalls, dy: Info, filter: Info, info: Conv2DInfo): Info => {
  const { batchSize: n, inChannels: c, outChannels, filterHeight: kh, filterWidth: kw, inHeight, inWidth } = info;
  const multiplier = outChannels / c;
  const flipped = calls.reshape(calls.reverse(filter, [0, 1]), [kh, kw, outChannels, 1]);
  const out = calls.run(
    'DepthwiseConv2dNative',
    { x: spread(calls, dy, info), filter: flipped },
    { strides: [1, 1], pad: 'valid', dilations: [info.dilationHeight, info.dilationWidth], dimRoundingMode: 'floor' },
  );
  return multiplier === 1 ? out : calls.sum(calls.reshape(out, [n, inHeight, inWidth, c, multiplier]), [4]);
};
