/**
 * What a backbone's input is, as an image: its size, its channels in their order, and how pixel
 * values become the numbers the model was trained on. Plain data, so a saved classifier can carry
 * it and a loader can check it; backends turn images into input batches with it.
 */
import { either as E } from 'fp-ts';
import { isRecord } from './boundary';
import { described, invalidArgument, shapeMismatch, type TransferError } from './errors';
import { finiteNumber, integerIn, oneOf, positiveNumber } from './validate';

/** The order of a colour image's channels along its last axis. */
export type ChannelOrder = 'rgb' | 'bgr';

/**
 * How a pixel value p in 0…255 becomes a model input: mapped linearly onto `range`
 * (`[0, 1]`: p / 255; `[-1, 1]`: p / 127.5 − 1, Keras's MobileNet preprocessing), or
 * standardised per channel as (p / 255 − mean[c]) / std[c], with `mean` and `std` on the
 * 0…1 scale (ImageNet's: mean [0.485, 0.456, 0.406], std [0.229, 0.224, 0.225], in the model's
 * channel order). Caffe-style inputs (p − mean on the 0…255 scale) are `std` = 1/255 and
 * `mean` = the 0…255 means / 255.
 */
export type Normalization =
  | {
      /** The range pixel values 0…255 map onto, linearly. */
      readonly range: readonly [number, number];
    }
  | {
      /** Per-channel means, on the 0…1 scale. */
      readonly mean: ReadonlyArray<number>;
      /** Per-channel standard deviations, on the 0…1 scale. */
      readonly std: ReadonlyArray<number>;
    };

/** A backbone's input as an image. */
export interface InputSpec {
  /** Rows of one image. */
  readonly height: number;
  /** Columns of one image. */
  readonly width: number;
  /** 1 (grey) or 3 (colour). */
  readonly channels: 1 | 3;
  /** The colour channels' order (`'rgb'` for a grey model). */
  readonly channelOrder: ChannelOrder;
  /** How pixel values become inputs. */
  readonly normalization: Normalization;
}

/** What a user may say of the input where the model cannot tell (every field optional). */
export interface InputSpecArgs {
  /** `[height, width]` of one image. Default: the model's input shape. */
  readonly size?: readonly [number, number];
  /** 1 or 3. Default: the model's input shape. */
  readonly channels?: 1 | 3;
  /** Default `'rgb'`. */
  readonly channelOrder?: ChannelOrder;
  /** The range pixel values map onto, e.g. `[0, 1]` or `[-1, 1]` (give this, or `mean` and `std`). */
  readonly range?: readonly [number, number];
  /** Per-channel means on the 0…1 scale, one per channel (with `std`). */
  readonly mean?: ReadonlyArray<number>;
  /** Per-channel standard deviations on the 0…1 scale, each > 0 (with `mean`). */
  readonly std?: ReadonlyArray<number>;
}

/** The largest height or width an input spec may declare: 8192 pixels. */
export const MAX_IMAGE_SIDE = 8192;

/** The largest height or width of an image to be preprocessed (a photo, before it is resized): 32,768 pixels. */
export const MAX_SOURCE_SIDE = 32_768;

const isPair = (v: unknown): v is readonly [number, number] => Array.isArray(v) && v.length === 2;

const checkRange = (path: string, range: unknown): E.Either<TransferError, readonly [number, number]> => {
  if (!isPair(range) || !range.every((v) => typeof v === 'number' && Number.isFinite(v)) || !(range[0] < range[1])) {
    return E.left(invalidArgument(path, 'a range [low, high] of finite numbers, low < high, e.g. [0, 1] or [-1, 1]', range));
  }
  return E.right([range[0], range[1]]);
};

const checkPerChannel = (path: string, values: unknown, channels: number, item: typeof finiteNumber): E.Either<TransferError, ReadonlyArray<number>> => {
  if (!Array.isArray(values) || values.length !== channels) return E.left(invalidArgument(path, `${channels} numbers, one per channel`, values));
  for (const [i, v] of values.entries()) {
    const ok = item(`${path}[${i}]`, v);
    if (E.isLeft(ok)) return ok;
  }
  return E.right([...(values as number[])]);
};

const checkNormalization = (a: Record<string, unknown>, channels: number, fallbackRange: readonly [number, number] | undefined): E.Either<TransferError, Normalization> => {
  const { range, mean, std } = a;
  if (range !== undefined && (mean !== undefined || std !== undefined)) {
    return E.left(invalidArgument('input', 'either range, or mean and std (not both)', described('range with mean or std')));
  }
  if (mean !== undefined || std !== undefined) {
    const m = checkPerChannel('input.mean', mean, channels, finiteNumber);
    if (E.isLeft(m)) return m;
    const s = checkPerChannel('input.std', std, channels, positiveNumber);
    if (E.isLeft(s)) return s;
    return E.right({ mean: m.right, std: s.right });
  }
  if (range === undefined && fallbackRange === undefined) {
    return E.left(invalidArgument('input', 'how pixels become inputs: range (e.g. [0, 1], [-1, 1]), or mean and std (e.g. ImageNet\'s); the model does not say', described('neither')));
  }
  const r = checkRange('input.range', range ?? fallbackRange);
  return E.isLeft(r) ? r : E.right({ range: r.right });
};

/**
 * An input spec from what the model's input shape says (`[null, height, width, channels]`; a
 * dimension may be `null` where the model takes any) and what the user says. Where both say a
 * size or a channel count they must agree; where neither does, it is an error asking for it.
 * `fallbackRange` is a range declared elsewhere (a backbone's `inputRange`).
 *
 * @returns the spec; `ShapeMismatch` where the user's spec disagrees with the model, and
 * `InvalidArgument` for a model input that is not an image, or a missing or bad field
 */
export const inputSpecFor = (modelShape: ReadonlyArray<number | null>, args: unknown, fallbackRange?: readonly [number, number]): E.Either<TransferError, InputSpec> => {
  if (args !== undefined && (!isRecord(args) || Array.isArray(args))) return E.left(invalidArgument('input', 'an input spec { size?, channels?, channelOrder?, range? or mean and std? }', args));
  const a: Record<string, unknown> = args ?? {};
  if (modelShape.length !== 4) return E.left(invalidArgument('input', 'a model whose input is an image batch [N, height, width, channels]', described(`a model whose input has shape [${modelShape.map((d) => d ?? 'N').join(', ')}]`)));
  const [, mh, mw, mc] = modelShape;
  const side = integerIn(1, MAX_IMAGE_SIDE);
  let size: readonly [number, number] | undefined;
  if (a['size'] !== undefined) {
    const s = a['size'];
    if (!isPair(s) || E.isLeft(side('input.size[0]', s[0])) || E.isLeft(side('input.size[1]', s[1]))) return E.left(invalidArgument('input.size', `[height, width], integers from 1 to ${MAX_IMAGE_SIDE}`, s));
    if ((mh != null && mh !== s[0]) || (mw != null && mw !== s[1])) return E.left(shapeMismatch('input.size', `[${mh}, ${mw}] (the model's input)`, `[${s[0]}, ${s[1]}]`));
    size = [s[0], s[1]];
  } else if (mh != null && mw != null) {
    size = [mh, mw];
  }
  if (size === undefined) return E.left(invalidArgument('input.size', 'the image size [height, width]: the model takes any size, so say which', described('none')));
  if (E.isLeft(side('input.size[0]', size[0])) || E.isLeft(side('input.size[1]', size[1]))) return E.left(invalidArgument('input.size', `[height, width], integers from 1 to ${MAX_IMAGE_SIDE}`, size));
  const channels = a['channels'] ?? mc;
  if (channels !== 1 && channels !== 3) return E.left(invalidArgument('input.channels', '1 (grey) or 3 (colour)', channels));
  if (mc != null && mc !== channels) return E.left(shapeMismatch('input.channels', `${mc} (the model's input)`, `${String(channels)}`));
  const order = a['channelOrder'] === undefined ? E.right<TransferError, ChannelOrder>('rgb') : oneOf<ChannelOrder>(['rgb', 'bgr'])('input.channelOrder', a['channelOrder']);
  if (E.isLeft(order)) return order;
  const normalization = checkNormalization(a, channels, fallbackRange);
  if (E.isLeft(normalization)) return normalization;
  if (fallbackRange !== undefined && 'range' in normalization.right) {
    const [lo, hi] = normalization.right.range;
    if (lo !== fallbackRange[0] || hi !== fallbackRange[1]) return E.left(shapeMismatch('input.range', `[${fallbackRange.join(', ')}] (the inputRange given with it)`, `[${lo}, ${hi}]`));
  }
  return E.right({ height: size[0], width: size[1], channels, channelOrder: order.right, normalization: normalization.right });
};

/**
 * Each channel's affine map from a pixel value p in 0…255 to the input: p · scale[c] + offset[c].
 */
export const pixelMap = (spec: InputSpec): { readonly scale: ReadonlyArray<number>; readonly offset: ReadonlyArray<number> } => {
  const n = spec.channels;
  const norm = spec.normalization;
  if ('range' in norm) {
    const [lo, hi] = norm.range;
    return { scale: Array<number>(n).fill((hi - lo) / 255), offset: Array<number>(n).fill(lo) };
  }
  return { scale: norm.std.map((s) => 1 / (255 * s)), offset: norm.mean.map((m, c) => -m / norm.std[c]!) };
};

/** The range of inputs a spec gives for pixels in 0…255: `[lowest, highest]` over its channels. */
export const inputRangeOf = (spec: InputSpec): readonly [number, number] => {
  const { scale, offset } = pixelMap(spec);
  const ends = scale.flatMap((s, c) => [offset[c]!, offset[c]! + 255 * s]);
  return [ends.reduce((a, b) => Math.min(a, b)), ends.reduce((a, b) => Math.max(a, b))];
};

/**
 * Checks an input spec read from elsewhere (a saved classifier's metadata): every field as
 * {@link inputSpecFor} would have made it.
 */
export const checkInputSpec = (path: string, value: unknown): E.Either<TransferError, InputSpec> => {
  if (!isRecord(value)) return E.left(invalidArgument(path, 'an input spec { height, width, channels, channelOrder, normalization }', value));
  const { height, width, channels, channelOrder, normalization } = value;
  const args = isRecord(normalization) ? { size: [height, width], channels, channelOrder, ...normalization } : { size: [height, width], channels, channelOrder };
  const spec = inputSpecFor([null, null, null, null], args);
  if (E.isLeft(spec)) return E.left({ ...spec.left, message: `${path}: ${spec.left.message}` });
  return spec;
};
