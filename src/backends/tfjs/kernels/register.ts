/**
 * The kernel pack: transferkit's convolution gradient kernels, and faster versions of stock kernels
 * that transfer workloads lean on (a matrix product with transpose flags, contiguous slices,
 * broadcast tiles), for the cpu and wasm backends, registered by an explicit call. Importing
 * transferkit registers nothing.
 */
import * as tf from '@tensorflow/tfjs-core';
import { either as E } from 'fp-ts';
import { guard, optionsAt } from '../../../core/boundary';
import { backendFailure, invalidArgument, notSupported, type TransferError } from '../../../core/errors';
import { conv2DBackpropFilter, conv2DBackpropInput, depthwiseBackpropFilter, depthwiseBackpropInput, pointwise } from './conv';
import { depthwiseFilterGradOnHeap, depthwiseInputGradOnHeap, directDepthwise } from './depthwise';
import { ADAM_KERNEL, adamKernel } from './adam';
import { CHANNEL_AFFINE, CHANNEL_MOMENTS, channelAffineKernel, channelMomentsKernel } from './channels';
import { CLIP_GRADIENT, clipGradientKernel, releaseClipGradient, useClipGradient } from './clipGradient';
import { byteOffset, heapLoops, isHeapBackend, type WasmBackendInternals } from './heap';
import { KernelCalls, type Info } from './run';

/** The name of the pack's product of rows that packs nothing (see its factory), as registered with tfjs. */
export const ROWS_TIMES = 'TransferkitRowsTimes';

type Factory = (original: tf.KernelFunc | undefined) => tf.KernelFunc;

const dataFormatOf = (attrs: tf.NamedAttrMap): string => (attrs['dataFormat'] as string | undefined) ?? 'NHWC';

/**
 * Wraps a kernel body: NCHW goes to the original kernel where there is one; intermediates are
 * released whatever happens.
 */
const kernel =
  (name: string, body: (calls: KernelCalls, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap) => Info): Factory =>
  (original) =>
  ({ inputs, backend, attrs = {} }) => {
    if (dataFormatOf(attrs) !== 'NHWC') {
      if (original !== undefined) return original({ inputs, backend, attrs });
      throw new Error(`transferkit: ${name} supports only NHWC data on this backend`);
    }
    return KernelCalls.body(backend, (calls) => body(calls, inputs, attrs));
  };

/**
 * A kernel with a path straight on the wasm heap: `direct` returns the output where it applies
 * (undefined elsewhere), and the kernel body built from the backend's kernels runs otherwise.
 */
const heapOr =
  (name: string, body: (calls: KernelCalls, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap) => Info, direct: (args: Parameters<tf.KernelFunc>[0]) => tf.TensorInfo | undefined): Factory =>
  (original) => {
    const composite = kernel(name, body)(original);
    return (args) => direct(args) ?? composite(args);
  };

const convInfo = (inShape: ReadonlyArray<number>, filterShape: ReadonlyArray<number>, attrs: tf.NamedAttrMap, depthwise: boolean): tf.backend_util.Conv2DInfo =>
  tf.backend_util.computeConv2DInfo(
    inShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs['strides'] as number | [number, number],
    (attrs['dilations'] as number | [number, number] | undefined) ?? 1,
    attrs['pad'] as 'same' | 'valid' | number,
    attrs['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined,
    depthwise,
  );

/** Whether a kernel can run on the wasm heap: NHWC float32 tensors the backend holds. */
const onHeap = (backend: unknown, attrs: tf.NamedAttrMap | undefined, tensors: ReadonlyArray<tf.TensorInfo>): backend is WasmBackendInternals =>
  isHeapBackend(backend) && dataFormatOf(attrs ?? {}) === 'NHWC' && tensors.every((t) => t.dtype === 'float32' && backend.dataIdMap.get(t.dataId) !== undefined);

/**
 * A new output of `shape` that `fill` writes on the heap (reading `HEAPF32` only after the output
 * is made, which may grow the heap); released if `fill` throws, so no buffer is left behind.
 */
const filled = (backend: WasmBackendInternals, shape: number[], fill: (out: tf.TensorInfo, heap: Float32Array) => void): tf.TensorInfo => {
  const out = backend.makeOutput(shape, 'float32');
  try {
    fill(out, backend.wasm.HEAPF32);
    return out;
  } catch (thrown) {
    (backend as unknown as tf.KernelBackend).disposeData(out.dataId);
    throw thrown;
  }
};

let directPointwiseOn = true;

/** Turns the direct 1×1 filter gradient off (or on again), so benches can compare it with the matrix product. */
export const useDirectPointwise = (on: boolean): void => {
  directPointwiseOn = on;
};

/**
 * Whether a 1×1 filter gradient runs as heap.wat's outerSum rather than as a matrix product:
 * where its loop applies, cin a multiple of 4 and cout of 8 (every MobileNet's). The product
 * (XNNPACK's) packs its second operand, dy — pixels × cout floats, fresh at every step — before
 * it multiplies, and the pack first transposes x; at 112² that preparation is most of the time.
 * The direct loop reads both where they lie. Timed on the 1×1 shapes of MobileNetV2's full and
 * partial fine-tunes with fresh operands (`npm run bench -- fresh`), it was 1.2–9.6× as fast,
 * with the same bits (docs/performance.md).
 */
const directPointwise = (info: tf.backend_util.Conv2DInfo): boolean =>
  directPointwiseOn && pointwise(info) && info.inChannels % 4 === 0 && info.outChannels % 8 === 0;

/** Runs shorter than this many elements go to the stock kernel: a copy call each would cost more. */
const MIN_RUN = 64;

/**
 * A box of a row-major array of `shape` (`begin` and `size` per axis) as runs of contiguous
 * elements: the axes after the last one the box cuts are whole, so one run spans that axis's
 * range and everything inside it. `each` calls back with every run's element offset, in order,
 * and its index.
 */
const boxRuns = (shape: number[], begin: number[], size: number[]): { runLength: number; runs: number; each: (f: (offset: number, k: number) => void) => void } => {
  const rank = shape.length;
  const strides = [...tf.util.computeStrides(shape), 1].slice(-rank);
  let cut = rank - 1;
  while (cut >= 0 && begin[cut] === 0 && size[cut] === shape[cut]) cut--;
  if (cut < 0) return { runLength: tf.util.sizeFromShape(shape), runs: 1, each: (f) => f(0, 0) };
  const runLength = size[cut]! * (cut + 1 < rank ? shape.slice(cut + 1).reduce((a, d) => a * d, 1) : 1);
  const outer = size.slice(0, cut);
  const runs = outer.reduce((a, d) => a * d, 1);
  const each = (f: (offset: number, k: number) => void): void => {
    if (runLength === 0) return;
    const index = new Array<number>(cut).fill(0);
    for (let k = 0; k < runs; k++) {
      let offset = begin[cut]! * strides[cut]!;
      for (let j = 0; j < cut; j++) offset += (begin[j]! + index[j]!) * strides[j]!;
      f(offset, k);
      for (let j = cut - 1; j >= 0; j--) {
        if (++index[j]! < outer[j]!) break;
        index[j] = 0;
      }
    }
  };
  return { runLength, runs, each };
};

/** The kernels the pack can register. */
export type PackKernel =
  | 'Identity'
  | 'Slice'
  | 'Tile'
  | 'Conv2DBackpropFilter'
  | 'Conv2DBackpropInput'
  | 'DepthwiseConv2dNativeBackpropFilter'
  | 'DepthwiseConv2dNativeBackpropInput'
  | 'BatchMatMul'
  | 'MaxPoolGrad'
  | 'Sum'
  | typeof CLIP_GRADIENT
  | typeof ADAM_KERNEL
  | typeof ROWS_TIMES
  | typeof CHANNEL_MOMENTS
  | typeof CHANNEL_AFFINE;

const BYTES: Partial<Record<tf.DataType, number>> = { float32: 4, int32: 4, bool: 1 };

const factories: Record<PackKernel, Factory> = {
  // Stock wasm's Identity copies its input. tfjs runs it on every tensor a gradient keeps for the
  // backward pass (the engine clones what it saves), so while gradients are recorded every
  // activation was copied once more and held twice: 4.8 of 102.6 s of kernel time in a profile of
  // a 224² MobileNetV2's full fine-tune (docs/benchmarks.md). Tensors are never written after they
  // are made, so the output can be the input's buffer with one more reference — what the cpu and
  // webgl backends' Identity does, and what stock wasm's Reshape already does.
  Identity: (original) => (args) => {
    const x = args.inputs['x']!;
    const backend = args.backend;
    if (original === undefined) throw new Error('transferkit: Identity has no kernel to wrap');
    if (!isHeapBackend(backend) || x.dtype === 'string' || backend.dataIdMap.get(x.dataId) === undefined) return original(args);
    (backend as unknown as tf.KernelBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  },
  // Stock wasm slices element by element (55 ms for a batch of 32 images of 96² × 3, in
  // `npm run bench -- kernels`); a slice that is one contiguous run of memory — a batch of rows,
  // the common case — is one copy inside the wasm heap (0.8 ms). A slice that crops the middle
  // axes (the gradient of a ZeroPadding2D: 2.4 of 102.6 s of kernel time in a profile of a 224²
  // MobileNetV2's full fine-tune, docs/benchmarks.md) is one copy per run of whole inner rows.
  Slice: (original) => (args) => {
    const x = args.inputs['x']!;
    const { begin, size } = args.attrs as { begin: number[] | number; size: number[] | number };
    const [b, s] = tf.slice_util.parseSliceParams(x as tf.TensorInfo as tf.Tensor, begin, size) as [number[], number[]];
    const backend = args.backend as unknown as WasmBackendInternals;
    const bytes = BYTES[x.dtype];
    if (original === undefined) throw new Error('transferkit: Slice has no kernel to wrap');
    if (bytes === undefined || backend.dataIdMap === undefined) return original(args);
    const source = backend.dataIdMap.get(x.dataId);
    if (source === undefined) return original(args);
    const box = boxRuns([...x.shape], b, s);
    if (box.runLength < MIN_RUN && box.runs > 1) return original(args);
    const out = backend.makeOutput(s, x.dtype);
    const target = backend.dataIdMap.get(out.dataId)!.memoryOffset;
    const run = box.runLength * bytes;
    const heap = backend.wasm.HEAPU8;
    box.each((offset, k) => heap.copyWithin(target + k * run, source.memoryOffset + offset * bytes, source.memoryOffset + offset * bytes + run));
    return out;
  },
  // Stock wasm tiles element by element (44 ms to spread one 1,280-vector over a 32 × 3 × 3 batch,
  // which every BatchNorm gradient does); a tile that only repeats axes of length 1 is a
  // broadcast, done by adding the input to zeros of the output's shape (0.4 ms).
  Tile: (original) => (args) => {
    const x = args.inputs['x']!;
    const { reps } = args.attrs as { reps: number[] };
    if (original === undefined) throw new Error('transferkit: Tile has no kernel to wrap');
    const broadcast = x.dtype === 'float32' && reps.every((r, i) => r === 1 || x.shape[i] === 1);
    if (!broadcast) return original(args);
    const shape = x.shape.map((d, i) => d * reps[i]!);
    return KernelCalls.body(args.backend, (calls) => calls.run('Add', { a: calls.run('Fill', {}, { shape, value: 0, dtype: 'float32' }), b: x }));
  },

  // On the wasm heap, a 1×1 convolution's filter gradient xᵀ·dy runs straight from the
  // definition where its channels allow (heap.wat's outerSum, see directPointwise); otherwise it
  // is built from the backend's kernels (conv.ts).
  Conv2DBackpropFilter: heapOr(
    'Conv2DBackpropFilter',
    (calls, { x, dy }, attrs) => conv2DBackpropFilter(calls, x!, dy!, convInfo(x!.shape, attrs['filterShape'] as number[], attrs, false)),
    (args) => {
      const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
      const filterShape = args.attrs?.['filterShape'] as number[];
      const backend = args.backend;
      if (!onHeap(backend, args.attrs, [x, dy])) return undefined;
      const info = convInfo(x.shape, filterShape, args.attrs!, false);
      if (!directPointwise(info)) return undefined;
      const rows = info.batchSize * info.outHeight * info.outWidth;
      return filled(backend, [...filterShape], (out) => heapLoops(backend).outerSum(byteOffset(backend, x), byteOffset(backend, dy), byteOffset(backend, out), rows, info.inChannels, info.outChannels));
    },
  ),
  Conv2DBackpropInput: kernel('Conv2DBackpropInput', (calls, { dy, filter }, attrs) =>
    conv2DBackpropInput(calls, dy!, filter!, convInfo(attrs['inputShape'] as number[], filter!.shape, attrs, false)),
  ),
  // On the wasm heap, with a channel multiplier of 1, both depthwise gradients run directly
  // (depthwise.ts); elsewhere they are built from the backend's depthwise convolution (conv.ts).
  DepthwiseConv2dNativeBackpropFilter: heapOr(
    'DepthwiseConv2dNativeBackpropFilter',
    (calls, { x, dy }, attrs) => depthwiseBackpropFilter(calls, x!, dy!, convInfo(x!.shape, attrs['filterShape'] as number[], attrs, true)),
    (args) => {
      const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
      const filterShape = args.attrs?.['filterShape'] as number[];
      const backend = args.backend;
      if (!directDepthwise() || !onHeap(backend, args.attrs, [x, dy]) || filterShape[3] !== 1) return undefined;
      const info = convInfo(x.shape, filterShape, args.attrs!, true);
      return filled(backend, [...filterShape], (out, heap) => depthwiseFilterGradOnHeap(heapLoops(backend), heap, byteOffset(backend, x), byteOffset(backend, dy), byteOffset(backend, out), info));
    },
  ),
  DepthwiseConv2dNativeBackpropInput: heapOr(
    'DepthwiseConv2dNativeBackpropInput',
    (calls, { dy, filter }, attrs) => depthwiseBackpropInput(calls, dy!, filter!, convInfo(attrs['inputShape'] as number[], filter!.shape, attrs, true)),
    (args) => {
      const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
      const inputShape = args.attrs?.['inputShape'] as number[];
      const backend = args.backend;
      if (!directDepthwise() || !onHeap(backend, args.attrs, [dy, filter]) || filter.shape[3] !== 1) return undefined;
      const info = convInfo(inputShape, filter.shape, args.attrs!, true);
      return filled(backend, [...inputShape], (out, heap) => depthwiseInputGradOnHeap(heapLoops(backend), heap, byteOffset(backend, dy), byteOffset(backend, filter), byteOffset(backend, out), info));
    },
  ),
  // A matrix product with a transpose flag runs an order of magnitude slower on wasm than an
  // explicit transpose followed by a plain product; dense-layer gradients pass those flags.
  BatchMatMul: (original) => (args) => {
    const { transposeA, transposeB } = args.attrs as { transposeA?: boolean; transposeB?: boolean };
    if (original === undefined) throw new Error('transferkit: BatchMatMul has no kernel to wrap');
    if (transposeA !== true && transposeB !== true) return original(args);
    return KernelCalls.body(
      args.backend,
      (calls) => {
        // Swap the last two axes.
        const flip = (t: Info): Info => {
          const r = t.shape.length;
          return calls.transpose(t, [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2]);
        };
        const a = transposeA === true ? flip(args.inputs['a']!) : args.inputs['a']!;
        const b = transposeB === true ? flip(args.inputs['b']!) : args.inputs['b']!;
        return calls.run('BatchMatMul', { a, b }, { ...args.attrs, transposeA: false, transposeB: false });
      },
      new Map([['BatchMatMul', original]]),
    );
  },
  // Stock wasm's max-pool gradient took 58 of the 182 ms of kernel time in a training step of the
  // CNN bench. On the wasm heap it is one pass: each window's first maximum (in row-major window
  // order, as tfjs's reference cpu kernel picks among ties) receives that window's gradient.
  MaxPoolGrad: (original) => (args) => {
    const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
    const backend = args.backend as unknown as WasmBackendInternals;
    if (original === undefined) throw new Error('transferkit: MaxPoolGrad has no kernel to wrap');
    const x = backend.dataIdMap?.get(input.dataId);
    const g = backend.dataIdMap?.get(dy.dataId);
    if (x === undefined || g === undefined || input.dtype !== 'float32' || input.shape.length !== 4) return original(args);
    const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as tf.MaxPoolGradAttrs;
    const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
    return filled(backend, [...input.shape], (dx, heap) => maxPoolGradOnHeap(heap, x.memoryOffset / 4, g.memoryOffset / 4, byteOffset(backend, dx) / 4, info));
  },
  // Stock wasm sums over the leading axes of a tensor (what every bias and BatchNorm gradient
  // does) in 2.5 ms for 32 × 3 × 3 × 1,280 numbers; on the heap it is one pass in row order
  // (heap.wat), 0.4 ms (`npm run bench -- kernels`).
  Sum: (original) => (args) => {
    const x = args.inputs['x']!;
    const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
    if (original === undefined) throw new Error('transferkit: Sum has no kernel to wrap');
    const rank = x.shape.length;
    const axes = rank === 0 ? [] : [...tf.util.parseAxisParam(axis, x.shape)].sort((a, b) => a - b);
    const leading = rank >= 2 && axes.length === rank - 1 && axes.every((a, i) => a === i);
    const backend = args.backend;
    if (!isHeapBackend(backend) || backend.dataIdMap.get(x.dataId) === undefined || x.dtype !== 'float32' || !leading) return original(args);
    const columns = x.shape[rank - 1]!;
    const rows = columns === 0 ? 0 : tf.util.sizeFromShape(x.shape) / columns;
    return filled(backend, keepDims === true ? [...Array<number>(rank - 1).fill(1), columns] : [columns], (out) =>
      heapLoops(backend).sumLeading(byteOffset(backend, x), byteOffset(backend, out), rows, columns),
    );
  },
  // Not a stock kernel: the one-pass gradient of clipByValue (ReLU6), which the pack's gradient
  // for ClipByValue calls on the backends that have it (clipGradient.ts).
  [CLIP_GRADIENT]: () => clipGradientKernel,
  // Adam in one pass per variable instead of about fourteen kernels (adam.ts); the session uses it
  // where the backend has it.
  [ADAM_KERNEL]: () => adamKernel,
  // Not stock kernels: a channel's sum and sum of squares in one pass, and a per-channel affine
  // map, for re-estimating BatchNorm statistics (AdaBN; channels.ts).
  [CHANNEL_MOMENTS]: () => channelMomentsKernel,
  [CHANNEL_AFFINE]: () => channelAffineKernel,
  // Not a stock kernel: a · b (+ a bias row) for the suffix's 1×1 convolutions (suffix.ts), on the
  // wasm heap without packing either operand (heap.wat's rowsTimes) where b has a multiple of 8
  // columns, else as the backend's own product.
  [ROWS_TIMES]: () => (args) => {
    const { a, b, bias } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo; bias?: tf.TensorInfo };
    const [m, k] = a.shape as [number, number];
    const n = b.shape[1]!;
    const backend = args.backend;
    if (onHeap(backend, {}, bias === undefined ? [a, b] : [a, b, bias]) && n % 8 === 0) {
      return filled(backend, [m, n], (out) => heapLoops(backend).rowsTimes(byteOffset(backend, a), byteOffset(backend, b), bias === undefined ? 0 : byteOffset(backend, bias), byteOffset(backend, out), m, k, n));
    }
    return KernelCalls.body(backend, (calls) => {
      const product = calls.matMul(a, b);
      return bias === undefined ? product : calls.run('Add', { a: product, b: bias });
    });
  },
};

/**
 * dx (zeroed here) gets, for every pooling window and channel, dy at the window's first maximum of
 * x. As in tfjs's reference kernel, NaN never wins a comparison, and a window with no number above
 * −∞ passes its gradient nowhere.
 */
const maxPoolGradOnHeap = (heap: Float32Array, xAt: number, dyAt: number, dxAt: number, info: tf.backend_util.Conv2DInfo): void => {
  const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth, padInfo } = info;
  heap.fill(0, dxAt, dxAt + batchSize * inHeight * inWidth * c);
  const best = new Float32Array(c);
  const at = new Int32Array(c);
  let g = dyAt;
  for (let b = 0; b < batchSize; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      const y0 = oy * strideHeight - padInfo.top;
      for (let ox = 0; ox < outWidth; ox++) {
        const x0 = ox * strideWidth - padInfo.left;
        best.fill(Number.NEGATIVE_INFINITY);
        at.fill(-1);
        for (let y = Math.max(0, y0); y < Math.min(inHeight, y0 + filterHeight); y++) {
          for (let xx = Math.max(0, x0); xx < Math.min(inWidth, x0 + filterWidth); xx++) {
            const base = ((b * inHeight + y) * inWidth + xx) * c;
            for (let k = 0; k < c; k++) {
              const v = heap[xAt + base + k]!;
              if (v > best[k]!) {
                best[k] = v;
                at[k] = base + k;
              }
            }
          }
        }
        for (let k = 0; k < c; k++, g++) {
          const i = at[k]!;
          if (i >= 0) heap[dxAt + i] = heap[dxAt + i]! + heap[g]!;
        }
      }
    }
  }
};

/** Every kernel the pack has. */
export const PACK_KERNELS: ReadonlyArray<PackKernel> = Object.keys(factories) as PackKernel[];

/**
 * Which kernels the pack brings to each backend by default: the ones stock wasm lacks, and
 * replacements only where `npm run bench -- kernels` measured them faster than the stock kernel
 * (docs/benchmarks.md). On cpu the filter gradients of a convolution (18–46×) and of a depthwise
 * one (2.5–5.3×), the one-pass ReLU6 gradient (9×) and the fused Adam (11×) win; the others run
 * slower there than tfjs's own loops, because the cpu backend's forward convolution and matrix
 * product are slow.
 */
export const KERNEL_PACK: Readonly<Record<string, ReadonlyArray<PackKernel>>> = {
  wasm: PACK_KERNELS,
  cpu: ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'TransferkitClipByValueGrad', 'TransferkitAdam'],
};

/** Options of `registerTransferKernels`. */
export interface KernelPackOptions {
  /** Which kernels to register (default: `KERNEL_PACK[backend]`, the ones measured faster). */
  readonly kernels?: ReadonlyArray<PackKernel>;
}

/** What `registerTransferKernels` did. */
export interface RegisteredKernels {
  /** The backend the kernels were registered for. */
  readonly backend: string;
  /** Every kernel registered (added or replaced). */
  readonly kernels: ReadonlyArray<PackKernel>;
  /** Kernels the backend did not have. */
  readonly added: ReadonlyArray<string>;
  /** Stock kernels replaced (they come back on `unregister`). */
  readonly replaced: ReadonlyArray<string>;
  /** Puts the backend's stock kernels back (again: nothing). */
  readonly unregister: () => void;
}

const active = new Map<string, RegisteredKernels>();

/**
 * Registers transferkit's gradient kernels for a tfjs backend (the current one by default): the
 * convolution gradients stock wasm lacks, and faster replacements for slow stock kernels on wasm
 * and cpu. Each is built from the backend's own kernels (or, on wasm, runs on its heap) and tested
 * against tfjs's reference cpu kernels. With `TransferkitClipByValueGrad` (on by default on wasm)
 * it also installs a gradient for `ClipByValue` (ReLU6) that calls that one-pass kernel on the
 * backends that have it and tfjs's own gradient elsewhere; the last `unregister` restores tfjs's.
 * Calling it again for the same backend and kernels changes nothing and returns the same record.
 *
 * @returns what was added and replaced, and how to undo it; `NotSupported` for a backend the pack
 * has no kernels for (webgl and tfjs-node have fast kernels of their own).
 * @function
 */
export const registerTransferKernels = guard('registerTransferKernels', (backendName: string = tf.getBackend(), optionsIn?: KernelPackOptions): E.Either<TransferError, RegisteredKernels> => {
  if (typeof backendName !== 'string') return E.left(invalidArgument('backendName', `a backend name (${Object.keys(KERNEL_PACK).join(' or ')} have a kernel pack)`, backendName));
  const given = optionsAt('options', optionsIn);
  if (E.isLeft(given)) return given;
  const options = given.right;
  if (options.kernels !== undefined && !(Array.isArray(options.kernels) && options.kernels.every((k) => typeof k === 'string'))) {
    return E.left(invalidArgument('options.kernels', `an array of the pack's kernel names (${PACK_KERNELS.join(', ')})`, options.kernels));
  }
  const names = (options.kernels as ReadonlyArray<PackKernel> | undefined) ?? (Object.hasOwn(KERNEL_PACK, backendName) ? KERNEL_PACK[backendName] : undefined);
  if (names === undefined) {
    return E.left(notSupported('backend', `a backend with a kernel pack (${Object.keys(KERNEL_PACK).join(' or ')})`, `'${backendName}'`));
  }
  const unknown = names.filter((n) => !(PACK_KERNELS as ReadonlyArray<string>).includes(n));
  if (unknown.length > 0) return E.left(invalidArgument('options.kernels', `kernels of the pack (${PACK_KERNELS.join(', ')})`, unknown));
  const existing = active.get(backendName);
  if (existing !== undefined) {
    const same = existing.kernels.length === names.length && names.every((n) => existing.kernels.includes(n));
    if (same) return E.right(existing);
    return E.left(invalidArgument('options.kernels', `the kernels already registered for '${backendName}' (${existing.kernels.join(', ')}); unregister them first`, names));
  }
  if (tf.findBackendFactory(backendName) === null && tf.findBackend(backendName) === null) {
    return E.left(notSupported('backend', 'a registered tfjs backend (import its package first)', `'${backendName}'`));
  }
  const originals = new Map<string, tf.KernelConfig>();
  const added: string[] = [];
  const replaced: string[] = [];
  let clipGradient = false;
  let undone = false;
  // Idempotent: a second call must not release another backend's hold on the clip gradient.
  const unregister = (): void => {
    if (undone) return;
    undone = true;
    for (const name of [...added, ...replaced]) tf.unregisterKernel(name, backendName);
    for (const config of originals.values()) tf.registerKernel(config);
    if (clipGradient) releaseClipGradient();
    active.delete(backendName);
  };
  try {
    for (const name of names) {
      const original = tf.getKernel(name, backendName);
      if (original !== undefined) {
        originals.set(name, original);
        tf.unregisterKernel(name, backendName);
        replaced.push(name);
      } else {
        added.push(name);
      }
      // Keep the original's setup (wasm kernels bind their wasm functions in it).
      tf.registerKernel({ ...original, kernelName: name, backendName, kernelFunc: factories[name]!(original?.kernelFunc) });
    }
    if (names.includes(CLIP_GRADIENT)) {
      useClipGradient();
      clipGradient = true;
    }
  } catch (thrown) {
    unregister();
    return E.left(backendFailure(`registering kernels for '${backendName}'`, thrown));
  }
  const record: RegisteredKernels = { backend: backendName, kernels: [...names], added, replaced, unregister };
  active.set(backendName, record);
  return E.right(record);
});
