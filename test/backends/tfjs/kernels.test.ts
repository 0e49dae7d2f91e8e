/**
 * The gradient-kernel pack against tfjs's reference cpu kernels, over shapes, strides, paddings,
 * dilations and depth multipliers, on cpu (replacing the stock kernels) and on wasm (where three of
 * them are missing).
 *
 * Tolerance: the largest absolute difference is at most 1e-4 × max(1, largest reference value).
 * Sums of a few hundred float32 products in a different order differ by about 1e-6 relative.
 *
 * tfjs's reference depthwise gradient kernels ignore dilations (tfjs's gradient refuses dilated
 * depthwise convolutions, so nothing calls them that way). Dilated cases are therefore checked
 * against a direct loop over the definition, written here.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KERNEL_PACK, PACK_KERNELS, registerTransferKernels, type RegisteredKernels } from 'transferkit/tfjs';
import { err, ok } from '../../fixtures/either';
import { expectClose as closeTo } from '../../fixtures/tensors';

const TOLERANCE = 1e-4;

type Pad = 'same' | 'valid' | number;
interface ConvCase {
  readonly n: number;
  readonly size: [number, number];
  readonly channels: number;
  readonly kernel: [number, number];
  readonly out: number; // output channels, or the depth multiplier for depthwise cases
  readonly strides: [number, number];
  readonly dilations: [number, number];
  readonly pad: Pad;
}

const conv = (over: Partial<ConvCase>): ConvCase => ({ n: 2, size: [7, 6], channels: 3, kernel: [3, 3], out: 4, strides: [1, 1], dilations: [1, 1], pad: 'same', ...over });

const CONV_CASES: ConvCase[] = [
  conv({}),
  conv({ pad: 'valid' }),
  conv({ pad: 1 }),
  conv({ strides: [2, 2] }),
  conv({ strides: [2, 2], pad: 'valid', size: [8, 9] }),
  conv({ strides: [2, 1], kernel: [3, 2], pad: 'same' }),
  conv({ strides: [3, 3], kernel: [5, 5], size: [11, 10], pad: 2 }),
  conv({ kernel: [1, 1], out: 7 }),
  // Few pixels against a large filter: the input gradient multiplies W · dyᵀ instead.
  conv({ n: 1, size: [2, 2], channels: 12, kernel: [1, 1], out: 10 }),
  conv({ kernel: [1, 1], strides: [2, 2], pad: 'valid' }),
  // Channels the direct 1×1 filter gradient takes on wasm (cin a multiple of 4, cout of 8), over
  // more pixels than its row block.
  conv({ n: 3, size: [11, 10], channels: 8, kernel: [1, 1], out: 16 }),
  conv({ n: 5, size: [5, 5], channels: 16, out: 2 }),
  conv({ n: 1, size: [4, 4], channels: 1, out: 1, kernel: [4, 4], pad: 'valid' }),
];

const DEPTHWISE_CASES: ConvCase[] = [
  conv({ out: 1 }),
  conv({ out: 2 }),
  conv({ out: 1, pad: 'valid' }),
  conv({ out: 1, strides: [2, 2] }),
  conv({ out: 3, strides: [2, 2], pad: 'valid', size: [9, 8] }),
  conv({ out: 1, strides: [2, 1], kernel: [3, 2] }),
  conv({ out: 2, strides: [3, 3], kernel: [5, 5], size: [11, 10], pad: 2 }),
  conv({ out: 1, dilations: [2, 2] }),
  conv({ out: 2, dilations: [2, 3], pad: 'valid', size: [9, 10] }),
  conv({ out: 1, kernel: [5, 5], pad: 2, size: [8, 8] }),
  // More channels than one SIMD lane group, and not a multiple of four (the heap path's both loops).
  conv({ out: 1, n: 3, channels: 9, size: [5, 4] }),
  conv({ out: 1, channels: 8, strides: [2, 2], size: [6, 6] }),
];

/**
 * Depthwise convolution gradients straight from the definition
 * y[b, p, q, c·m + k] = Σ_{i,j} x[b, p·sh + i·dh − top, q·sw + j·dw − left, c] · w[i, j, c, k].
 */
const depthwiseByDefinition = (c: ConvCase, x: Float32Array, w: Float32Array, dy: Float32Array): Results => {
  const [h, wd] = c.size;
  const ch = c.channels;
  const m = c.out;
  const [kh, kw] = c.kernel;
  const info = tf.backend_util.computeConv2DInfo([c.n, h, wd, ch], [kh, kw, ch, m], c.strides, c.dilations, c.pad, undefined, true);
  const { outHeight: oh, outWidth: ow, padInfo } = info;
  const filter = new Float32Array(kh * kw * ch * m);
  const input = new Float32Array(c.n * h * wd * ch);
  for (let b = 0; b < c.n; b++)
    for (let p = 0; p < oh; p++)
      for (let q = 0; q < ow; q++)
        for (let i = 0; i < kh; i++)
          for (let j = 0; j < kw; j++) {
            const r = p * c.strides[0] + i * c.dilations[0] - padInfo.top;
            const s = q * c.strides[1] + j * c.dilations[1] - padInfo.left;
            if (r < 0 || r >= h || s < 0 || s >= wd) continue;
            for (let k = 0; k < ch; k++)
              for (let t = 0; t < m; t++) {
                const g = dy[((b * oh + p) * ow + q) * ch * m + k * m + t]!;
                const xi = ((b * h + r) * wd + s) * ch + k;
                const wi = ((i * kw + j) * ch + k) * m + t;
                filter[wi]! += x[xi]! * g;
                input[xi]! += w[wi]! * g;
              }
          }
  return { filter, input };
};

const label = (c: ConvCase): string =>
  `n${c.n} ${c.size.join('x')}x${c.channels} k${c.kernel.join('x')} out${c.out} s${c.strides.join(',')} d${c.dilations.join(',')} pad ${c.pad}`;

/** The kernel calls a case makes, with seeded inputs. */
const calls = (c: ConvCase, depthwise: boolean) => {
  const inShape: [number, number, number, number] = [c.n, c.size[0], c.size[1], c.channels];
  const filterShape: [number, number, number, number] = [c.kernel[0], c.kernel[1], c.channels, c.out];
  const info = tf.backend_util.computeConv2DInfo(inShape, filterShape, c.strides, c.dilations, c.pad, undefined, depthwise);
  const outShape = [c.n, info.outHeight, info.outWidth, info.outChannels];
  const x = tf.randomNormal(inShape, 0, 1, 'float32', 1);
  const filter = tf.randomNormal(filterShape, 0, 1, 'float32', 2);
  const dy = tf.randomNormal(outShape, 0, 1, 'float32', 3);
  const common = depthwise ? { strides: c.strides, dilations: c.dilations, pad: c.pad } : { strides: c.strides, pad: c.pad, dataFormat: 'NHWC' };
  const byDefinition = (): Results => depthwiseByDefinition(c, x.dataSync() as Float32Array, filter.dataSync() as Float32Array, dy.dataSync() as Float32Array);
  const run = (): { filter: Float32Array; input: Float32Array } => ({
    filter: read(tf.engine().runKernel(depthwise ? 'DepthwiseConv2dNativeBackpropFilter' : 'Conv2DBackpropFilter', { x, dy }, { ...common, filterShape })),
    input: read(tf.engine().runKernel(depthwise ? 'DepthwiseConv2dNativeBackpropInput' : 'Conv2DBackpropInput', { dy, filter }, { ...common, inputShape: inShape })),
  });
  return { run, byDefinition, dispose: () => tf.dispose([x, filter, dy]) };
};

const read = (t: tf.Tensor | tf.Tensor[]): Float32Array => {
  const tensor = Array.isArray(t) ? t[0]! : t;
  const values = Float32Array.from(tensor.dataSync());
  tf.dispose(t);
  return values;
};

const expectClose = (actual: Float32Array, expected: Float32Array): void => closeTo(actual, expected, TOLERANCE);

interface Results {
  readonly filter: Float32Array;
  readonly input: Float32Array;
}

/** Matrix products with every combination of transpose flags, batched. */
const MATMUL_CASES = [
  { a: [3, 5, 4], b: [3, 4, 6], transposeA: false, transposeB: false },
  { a: [3, 4, 5], b: [3, 4, 6], transposeA: true, transposeB: false },
  { a: [2, 5, 4], b: [2, 6, 4], transposeA: false, transposeB: true },
  { a: [1, 4, 7], b: [1, 2, 4], transposeA: true, transposeB: true },
  { a: [2, 3, 64, 33], b: [2, 3, 17, 33], transposeA: false, transposeB: true },
] as const;

const matMuls = (): Float32Array[] =>
  MATMUL_CASES.map((c, i) => {
    const a = tf.randomNormal([...c.a], 0, 1, 'float32', 10 + i);
    const b = tf.randomNormal([...c.b], 0, 1, 'float32', 20 + i);
    try {
      return read(tf.engine().runKernel('BatchMatMul', { a, b }, { transposeA: c.transposeA, transposeB: c.transposeB }));
    } finally {
      tf.dispose([a, b]);
    }
  });

/** Runs every case on the current backend. */
const runAll = (cases: ReadonlyArray<ConvCase>, depthwise: boolean): Results[] =>
  cases.map((c) => {
    const { run, dispose } = calls(c, depthwise);
    try {
      return run();
    } finally {
      dispose();
    }
  });

/** Slices: contiguous runs (the fast path) and not, of several ranks and dtypes. */
const SLICE_CASES = [
  { shape: [10, 4, 4, 3], begin: [3, 0, 0, 0], size: [4, 4, 4, 3], dtype: 'float32' },
  { shape: [10, 4, 4, 3], begin: [3, 1, 0, 0], size: [1, 2, 4, 3], dtype: 'float32' },
  { shape: [10, 4, 4, 3], begin: [3, 1, 1, 0], size: [2, 2, 2, 3], dtype: 'float32' },
  { shape: [6, 5], begin: [2, 0], size: [-1, -1], dtype: 'int32' },
  { shape: [6, 5], begin: [0, 1], size: [6, 3], dtype: 'int32' },
  { shape: [2, 3, 4, 5, 6], begin: [1, 0, 0, 0, 0], size: [1, 3, 4, 5, 6], dtype: 'float32' },
  { shape: [9], begin: [4], size: [3], dtype: 'bool' },
  // Runs of whole inner rows, long enough for the pack's copies: a ZeroPadding2D's gradient (a
  // crop of the two middle axes), a crop of the last axis, and an int32 crop.
  { shape: [3, 9, 9, 16], begin: [0, 0, 0, 0], size: [3, 8, 8, 16], dtype: 'float32' },
  { shape: [3, 9, 9, 16], begin: [1, 1, 1, 0], size: [2, 7, 8, 16], dtype: 'float32' },
  { shape: [4, 6, 80], begin: [0, 2, 5], size: [4, 3, 70], dtype: 'float32' },
  { shape: [5, 4, 40], begin: [1, 1, 0], size: [3, 2, 40], dtype: 'int32' },
] as const;

/** Tiles: repeats of length-1 axes only (a broadcast, the fast path), and real repeats. */
const TILE_CASES = [
  { shape: [1, 1, 1, 7], reps: [5, 3, 3, 1], dtype: 'float32' },
  { shape: [4, 1], reps: [1, 6], dtype: 'float32' },
  { shape: [2, 3], reps: [2, 2], dtype: 'float32' },
  { shape: [1, 3], reps: [4, 1], dtype: 'int32' },
] as const;

/** Sums: over every axis but the last (what bias and BatchNorm gradients do), and others. */
const SUM_CASES = [
  { shape: [5, 3, 3, 7], axis: [0, 1, 2], keepDims: false, dtype: 'float32' },
  { shape: [5, 3, 3, 7], axis: [2, 0, 1], keepDims: true, dtype: 'float32' },
  { shape: [64, 26, 26, 32], axis: [0, 1, 2], keepDims: false, dtype: 'float32' },
  { shape: [9, 4], axis: [0], keepDims: false, dtype: 'float32' },
  { shape: [9, 4], axis: [-2], keepDims: true, dtype: 'float32' },
  { shape: [5, 3, 3, 7], axis: [1, 2], keepDims: false, dtype: 'float32' },
  { shape: [9, 4], axis: [1], keepDims: false, dtype: 'float32' },
  { shape: [6, 5], axis: [0], keepDims: false, dtype: 'int32' },
] as const;

/**
 * Max-pool gradients: overlapping windows, 'same' padding past the edge, uneven windows, and ties
 * (small integers, and ReLU outputs where many windows are all zero) — among tied maxima the
 * gradient goes to the first in the window's row-major order. (No numeric padding: stock wasm's
 * forward MaxPool reads out of bounds with it, in tfjs 4.22.)
 */
const POOL_CASES = [
  { shape: [2, 6, 6, 3], filter: [2, 2], strides: [2, 2], pad: 'valid', values: 'normal' },
  { shape: [2, 7, 6, 3], filter: [2, 2], strides: [2, 2], pad: 'same', values: 'normal' },
  { shape: [2, 7, 7, 4], filter: [3, 3], strides: [1, 1], pad: 'same', values: 'normal' },
  { shape: [1, 9, 8, 5], filter: [3, 3], strides: [2, 2], pad: 'valid', values: 'normal' },
  { shape: [2, 6, 5, 3], filter: [3, 2], strides: [2, 1], pad: 'same', values: 'normal' },
  { shape: [2, 6, 6, 3], filter: [2, 2], strides: [2, 2], pad: 'valid', values: 'integers' },
  { shape: [2, 7, 7, 2], filter: [3, 3], strides: [1, 1], pad: 'same', values: 'integers' },
  { shape: [3, 8, 8, 6], filter: [2, 2], strides: [2, 2], pad: 'valid', values: 'relu' },
  { shape: [2, 6, 6, 4], filter: [2, 2], strides: [2, 2], pad: 'valid', values: 'NaN and −∞' },
] as const;

const maxPoolGrads = (): Float32Array[] =>
  POOL_CASES.map((c, i) => {
    const [input, dy, output] = tf.tidy(() => {
      const normal = tf.randomNormal([...c.shape], 0, 1, 'float32', 50 + i);
      // 'NaN and −∞': about a third of the values each, so some windows hold nothing above −∞.
      const special = (): tf.Tensor => {
        const u = tf.randomUniform([...c.shape], 0, 1, 'float32', 70 + i);
        return tf.where(tf.less(u, 0.35), tf.fill([...c.shape], Number.NaN), tf.where(tf.less(u, 0.7), tf.fill([...c.shape], Number.NEGATIVE_INFINITY), normal));
      };
      const x = c.values === 'normal' ? normal : c.values === 'integers' ? tf.round(normal) : c.values === 'relu' ? tf.relu(normal) : special();
      const y = tf.maxPool(x as tf.Tensor4D, [...c.filter] as [number, number], [...c.strides] as [number, number], c.pad);
      return [x, tf.randomNormal(y.shape, 0, 1, 'float32', 60 + i), y];
    });
    try {
      return read(tf.engine().runKernel('MaxPoolGrad', { dy, input, output }, { filterSize: [...c.filter], strides: [...c.strides], pad: c.pad }));
    } finally {
      tf.dispose([input, dy, output]);
    }
  });

const values = (shape: ReadonlyArray<number>, dtype: tf.DataType, seed: number): tf.Tensor =>
  tf.tidy(() => {
    const base = tf.randomUniform([...shape], -5, 5, 'float32', seed);
    return dtype === 'float32' ? base : dtype === 'int32' ? tf.cast(tf.round(base), 'int32') : tf.greater(base, 0);
  });

const slices = (): Float32Array[] =>
  SLICE_CASES.map((c, i) => {
    const x = values(c.shape, c.dtype, 30 + i);
    try {
      return Float32Array.from(read(tf.engine().runKernel('Slice', { x }, { begin: [...c.begin], size: [...c.size] })));
    } finally {
      x.dispose();
    }
  });

const tiles = (): Float32Array[] =>
  TILE_CASES.map((c, i) => {
    const x = values(c.shape, c.dtype, 40 + i);
    try {
      return Float32Array.from(read(tf.engine().runKernel('Tile', { x }, { reps: [...c.reps] })));
    } finally {
      x.dispose();
    }
  });

const sums = (): Float32Array[] =>
  SUM_CASES.map((c, i) => {
    const x = values(c.shape, c.dtype, 80 + i);
    try {
      const out = tf.engine().runKernel('Sum', { x }, { axis: [...c.axis], keepDims: c.keepDims }) as tf.Tensor;
      expect(out.shape).toEqual(tf.tidy(() => tf.sum(x, [...c.axis], c.keepDims).shape));
      return Float32Array.from(read(out));
    } finally {
      x.dispose();
    }
  });

interface All {
  readonly conv: Results[];
  readonly depthwise: Results[];
  readonly matMul: Float32Array[];
  readonly slice: Float32Array[];
  readonly tile: Float32Array[];
  readonly maxPoolGrad: Float32Array[];
  readonly sum: Float32Array[];
}
let reference: All & { depthwiseByDefinition: Results[] };
let cpuPack: All;
let wasmPack: All;
let registered: RegisteredKernels[] = [];
let tensorsBefore = 0;
let tensorsAfter = 0;
/** Data buffers each backend holds before and after the pack's runs: a kernel's intermediates are buffers, not tensors. */
const buffers: Record<string, { before: number; after: number }> = {};
const dataIds = (backend: string): number => tf.findBackend(backend)!.numDataIds();

beforeAll(async () => {
  await tf.setBackend('cpu');
  reference = {
    conv: runAll(CONV_CASES, false),
    depthwise: runAll(DEPTHWISE_CASES, true),
    matMul: matMuls(),
    slice: slices(),
    tile: tiles(),
    maxPoolGrad: maxPoolGrads(),
    sum: sums(),
    depthwiseByDefinition: DEPTHWISE_CASES.map((c) => {
      const { byDefinition, dispose } = calls(c, true);
      try {
        return byDefinition();
      } finally {
        dispose();
      }
    }),
  };
  tensorsBefore = tf.memory().numTensors;
  buffers['cpu'] = { before: dataIds('cpu'), after: 0 };
  // Every kernel of the pack on both backends, whichever are on by default, so each is checked.
  registered.push(ok(registerTransferKernels('cpu', { kernels: PACK_KERNELS })));
  cpuPack = { conv: runAll(CONV_CASES, false), depthwise: runAll(DEPTHWISE_CASES, true), matMul: matMuls(), slice: slices(), tile: tiles(), maxPoolGrad: maxPoolGrads(), sum: sums() };
  buffers['cpu'].after = dataIds('cpu');
  await tf.setBackend('wasm');
  buffers['wasm'] = { before: dataIds('wasm'), after: 0 };
  registered.push(ok(registerTransferKernels('wasm', { kernels: PACK_KERNELS })));
  wasmPack = { conv: runAll(CONV_CASES, false), depthwise: runAll(DEPTHWISE_CASES, true), matMul: matMuls(), slice: slices(), tile: tiles(), maxPoolGrad: maxPoolGrads(), sum: sums() };
  buffers['wasm'].after = dataIds('wasm');
  tensorsAfter = tf.memory().numTensors;
  await tf.setBackend('cpu');
});

afterAll(() => {
  for (const r of registered) r.unregister();
  registered = [];
});

describe.each([
  ['cpu', () => cpuPack],
  ['wasm', () => wasmPack],
] as const)('the kernel pack on %s', (_backend, results) => {
  it.each(CONV_CASES.map((c, i) => [label(c), i] as const))('Conv2DBackpropFilter and Conv2DBackpropInput match the reference: %s', (_name, i) => {
    expectClose(results().conv[i]!.filter, reference.conv[i]!.filter);
    expectClose(results().conv[i]!.input, reference.conv[i]!.input);
  });

  it.each(DEPTHWISE_CASES.map((c, i) => [label(c), i] as const))('depthwise filter and input gradients match the definition: %s', (_name, i) => {
    expectClose(results().depthwise[i]!.filter, reference.depthwiseByDefinition[i]!.filter);
    expectClose(results().depthwise[i]!.input, reference.depthwiseByDefinition[i]!.input);
  });

  it.each(DEPTHWISE_CASES.flatMap((c, i) => (c.dilations.every((d) => d === 1) ? [[label(c), i] as const] : [])))(
    'depthwise filter and input gradients match the reference kernels: %s',
    (_name, i) => {
      expectClose(results().depthwise[i]!.filter, reference.depthwise[i]!.filter);
      expectClose(results().depthwise[i]!.input, reference.depthwise[i]!.input);
    },
  );

  it.each(MATMUL_CASES.map((c, i) => [`${c.a.join('×')} · ${c.b.join('×')}, transposeA ${c.transposeA}, transposeB ${c.transposeB}`, i] as const))(
    'BatchMatMul matches the reference: %s',
    (_name, i) => {
      expectClose(results().matMul[i]!, reference.matMul[i]!);
    },
  );

  it.each(SLICE_CASES.map((c, i) => [`${c.dtype} ${c.shape.join('×')} from ${c.begin.join(',')} size ${c.size.join(',')}`, i] as const))('Slice gives exactly the reference: %s', (_name, i) => {
    expect(results().slice[i]).toEqual(reference.slice[i]);
  });

  it.each(TILE_CASES.map((c, i) => [`${c.dtype} ${c.shape.join('×')} by ${c.reps.join(',')}`, i] as const))('Tile gives exactly the reference: %s', (_name, i) => {
    expect(results().tile[i]).toEqual(reference.tile[i]);
  });

  it.each(SUM_CASES.map((c, i) => [`${c.dtype} ${c.shape.join('×')} over ${c.axis.join(',')}${c.keepDims ? ', keepDims' : ''}`, i] as const))('Sum matches the reference: %s', (_name, i) => {
    // Sums of up to 43,264 numbers each, added in another order (and in double precision).
    expectClose(results().sum[i]!, reference.sum[i]!);
  });
});

describe('MaxPoolGrad on wasm', () => {
  it.each(POOL_CASES.map((c, i) => [`${c.values} ${c.shape.join('×')}, window ${c.filter.join('×')}, strides ${c.strides.join(',')}, pad ${c.pad}`, i] as const))(
    'matches the reference, ties included: %s',
    (_name, i) => {
      // Non-overlapping windows give exactly the reference; overlapping ones add in another order.
      expectClose(wasmPack.maxPoolGrad[i]!, reference.maxPoolGrad[i]!);
      if (POOL_CASES[i]!.filter.every((f, k) => f <= POOL_CASES[i]!.strides[k]!)) expect(wasmPack.maxPoolGrad[i]).toEqual(reference.maxPoolGrad[i]);
    },
  );
});

describe('the references', () => {
  it('agree with each other where tfjs supports the case, and not where it ignores dilations', () => {
    DEPTHWISE_CASES.forEach((c, i) => {
      const undilated = c.dilations.every((d) => d === 1);
      const a = reference.depthwise[i]!.filter;
      const b = reference.depthwiseByDefinition[i]!.filter;
      const worst = Math.max(...a.map((v, k) => Math.abs(v - b[k]!)));
      expect(worst < 1e-3, label(c)).toBe(undilated);
    });
  });
});

describe('Identity on wasm, with the pack', () => {
  it('shares its input\'s buffer instead of copying it: a clone adds no data buffer and outlives its source', async () => {
    await tf.setBackend('wasm');
    try {
      for (const [values, dtype] of [[[1.5, -2, 0, 7], 'float32'], [[3, -4, 0, 9], 'int32'], [[1, 0, 1, 1], 'bool']] as const) {
        const tensorsBefore = tf.memory().numTensors;
        const x = tf.tensor(values as unknown as number[], [2, 2], dtype);
        const buffersBefore = dataIds('wasm');
        const y = tf.clone(x);
        expect(dataIds('wasm')).toBe(buffersBefore);
        x.dispose();
        expect(y.dtype).toBe(dtype);
        expect(Array.from(y.dataSync())).toEqual(values.map(Number));
        y.dispose();
        expect(dataIds('wasm')).toBe(buffersBefore - 1);
        expect(tf.memory().numTensors).toBe(tensorsBefore);
      }
    } finally {
      await tf.setBackend('cpu');
    }
  });

  it('gives the same gradients as stock wasm where the tape keeps (clones) what it saves', async () => {
    await tf.setBackend('wasm');
    try {
      const x = tf.randomNormal([2, 5, 5, 3], 0, 1, 'float32', 3);
      const f = tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 4);
      const grads = (): Float32Array[] =>
        tf.tidy(() => {
          const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.clipByValue(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'), 0, 1))))([x, f]);
          return g.map((t) => t.dataSync() as Float32Array);
        });
      const withPack = grads();
      registered[1]!.unregister();
      // Stock wasm has no Conv2DBackpropFilter: keep the pack's gradient kernels, drop Identity.
      registered[1] = ok(registerTransferKernels('wasm', { kernels: PACK_KERNELS.filter((k) => k !== 'Identity') }));
      const withoutIdentity = grads();
      registered[1]!.unregister();
      registered[1] = ok(registerTransferKernels('wasm', { kernels: PACK_KERNELS }));
      expect(withPack).toEqual(withoutIdentity);
      tf.dispose([x, f]);
    } finally {
      await tf.setBackend('cpu');
    }
  });
});

describe('registering the pack', () => {
  it('leaves no tensor or data buffer behind', () => {
    expect(tensorsAfter).toBe(tensorsBefore);
    expect(buffers['cpu']!.after).toBe(buffers['cpu']!.before);
    expect(buffers['wasm']!.after).toBe(buffers['wasm']!.before);
  });

  it('adds the kernels stock wasm lacks and replaces the others', () => {
    const [cpu, wasm] = registered;
    expect(wasm!.added).toEqual(['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'TransferkitClipByValueGrad', 'TransferkitAdam', 'TransferkitChannelMoments', 'TransferkitChannelAffine', 'TransferkitRowsTimes']);
    expect(wasm!.replaced).toEqual(['Identity', 'Slice', 'Tile', 'Conv2DBackpropInput', 'BatchMatMul', 'MaxPoolGrad', 'Sum']);
    const own = ['TransferkitClipByValueGrad', 'TransferkitAdam', 'TransferkitChannelMoments', 'TransferkitChannelAffine', 'TransferkitRowsTimes'];
    expect(cpu!.replaced).toEqual(PACK_KERNELS.filter((k) => !own.includes(k)));
    expect(cpu!.added).toEqual(own);
  });

  it('is idempotent: a second call with the same kernels returns the same record', () => {
    expect(ok(registerTransferKernels('cpu', { kernels: PACK_KERNELS }))).toBe(registered[0]);
  });

  it('refuses a different set while one is registered, then accepts it once unregistered', () => {
    expect(err(registerTransferKernels('cpu'))).toMatchObject({ _tag: 'InvalidArgument', path: 'options.kernels' });
    const stock = tf.getKernel('Conv2DBackpropInput', 'cpu')!.kernelFunc;
    registered[0]!.unregister();
    const byDefault = ok(registerTransferKernels('cpu'));
    expect(byDefault.kernels).toEqual(KERNEL_PACK['cpu']);
    expect(tf.getKernel('Conv2DBackpropInput', 'cpu')!.kernelFunc).not.toBe(stock);
    byDefault.unregister();
    registered[0] = ok(registerTransferKernels('cpu', { kernels: PACK_KERNELS }));
  });

  it('puts the stock kernels back on unregister, and wasm loses the ones it lacked', () => {
    const wasm = registered[1]!;
    wasm.unregister();
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')).toBeDefined();
    registered[1] = ok(registerTransferKernels('wasm', { kernels: PACK_KERNELS }));
  });

  it('rejects a backend it has no kernels for, and kernels it does not have', () => {
    expect(err(registerTransferKernels('webgl'))._tag).toBe('NotSupported');
    expect(err(registerTransferKernels('cpu', { kernels: ['Conv2D' as 'BatchMatMul'] }))).toMatchObject({ _tag: 'InvalidArgument', path: 'options.kernels' });
  });
});
