/**
 * Images in: decoded pixels (an `ImageData`, or what `readImage` of transferkit/node returns) and
 * the browser's image sources become one input batch, preprocessed as the backbone's input spec
 * says: size, channels and their order, and the map from pixel values to inputs.
 */
import * as tf from '@tensorflow/tfjs-core';
import { either as E } from 'fp-ts';
import { guard, isRecord, optionsAt } from '../../../core/boundary';
import { backendFailure, described, invalidArgument, shapeMismatch, type TransferError } from '../../../core/errors';
import { MAX_SOURCE_SIDE, pixelMap, type InputSpec } from '../../../core/inputSpec';
import { boolean, optional } from '../../../core/validate';

/**
 * Decoded pixels, row by row, `channels` bytes a pixel (1: grey, 3: RGB, 4: RGBA): an
 * `ImageData` is one (RGBA), and so is what `readImage` of transferkit/node returns.
 */
export interface PixelImage {
  /** Columns. */
  readonly width: number;
  /** Rows. */
  readonly height: number;
  /** Bytes, `height × width × channels` of them. */
  readonly data: Uint8Array | Uint8ClampedArray;
  /** Bytes a pixel; default: `data.length / (width × height)`, which must be 1, 3 or 4. */
  readonly channels?: 1 | 3 | 4;
}

/**
 * What {@link imageBatch} takes: decoded pixels, or (in a browser) an `HTMLImageElement`,
 * `HTMLCanvasElement`, `OffscreenCanvas`, `ImageBitmap` or `HTMLVideoElement`.
 */
export type ImageSource = PixelImage | BrowserImage;

/**
 * A browser's image source, as `tf.browser.fromPixels` takes it (an `HTMLImageElement`,
 * `HTMLCanvasElement`, `HTMLVideoElement`, `ImageBitmap`, `ImageData`; an `OffscreenCanvas` too).
 */
export type BrowserImage = Parameters<typeof tf.browser.fromPixels>[0];

/** Options of {@link imageBatch}. */
export interface ImageBatchOptions {
  /**
   * Make each image fit the input: resize it (bilinear) to the spec's size, and turn grey into
   * colour (the grey value in each channel) or colour into grey (ITU-R BT.601 luma) where the
   * channel counts differ. Default `false`: an image of another size or channel count is an error
   * (an alpha channel is dropped either way: browser sources are RGBA).
   */
  readonly resize?: boolean;
}

/** The browser's image classes present in this environment (none in Node). */
const BROWSER_SOURCES = ['HTMLImageElement', 'HTMLCanvasElement', 'OffscreenCanvas', 'ImageBitmap', 'HTMLVideoElement'] as const;

const browserSource = (x: unknown): string | undefined => {
  const scope = globalThis as unknown as Record<string, unknown>;
  return BROWSER_SOURCES.find((name) => typeof scope[name] === 'function' && x instanceof (scope[name] as abstract new () => unknown));
};

const EXPECTED = `an image: decoded pixels { width, height, data: Uint8Array or Uint8ClampedArray, channels? } (an ImageData, readImage of transferkit/node), or a browser ${BROWSER_SOURCES.join(', ')}`;

/** An image's pixels as a [height, width, channels] int32 tensor of 0…255, checked. */
const pixels = (path: string, image: unknown): E.Either<TransferError, tf.Tensor3D> => {
  if (browserSource(image) !== undefined) {
    try {
      return E.right(tf.browser.fromPixels(image as BrowserImage, 3));
    } catch (thrown) {
      return E.left(backendFailure(`reading ${path}`, thrown));
    }
  }
  if (!isRecord(image)) return E.left(invalidArgument(path, EXPECTED, image));
  const { width, height, data, channels } = image;
  const side = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= MAX_SOURCE_SIDE;
  if (!side(width) || !side(height)) return E.left(invalidArgument(`${path}.width/height`, `integers from 1 to ${MAX_SOURCE_SIDE}`, [width, height]));
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) return E.left(invalidArgument(`${path}.data`, 'bytes: a Uint8Array or Uint8ClampedArray', data));
  const k = channels ?? data.length / (width * height);
  if (k !== 1 && k !== 3 && k !== 4) return E.left(invalidArgument(`${path}.channels`, '1, 3 or 4 bytes a pixel', channels ?? described(`${data.length} bytes for ${width}×${height} pixels`)));
  if (data.length !== width * height * k) return E.left(shapeMismatch(`${path}.data`, `${width * height * k} bytes (${height}×${width}×${k})`, `${data.length} bytes`));
  return E.right(tf.tensor3d(Int32Array.from(data), [height, width, k], 'int32'));
};

/** A pixel tensor made into one example of the spec (float32 [height, width, channels]); disposes nothing it is given. */
const toInput = (spec: InputSpec, raw: tf.Tensor3D, path: string, resize: boolean): E.Either<TransferError, tf.Tensor3D> => {
  const [h, w, k] = raw.shape;
  const colour = k === 1 ? 1 : 3;
  if (!resize && (h !== spec.height || w !== spec.width)) {
    return E.left(shapeMismatch(path, `an image of ${spec.width}×${spec.height} pixels (width × height: the input spec's; or resize: true)`, `${w}×${h}`));
  }
  if (!resize && colour !== spec.channels) {
    return E.left(shapeMismatch(path, `${spec.channels === 1 ? 'a grey image (1 channel)' : 'a colour image (3 channels, or 4 with alpha)'}, as the input spec says (or resize: true)`, `${k} channel${k === 1 ? '' : 's'}`));
  }
  const { scale, offset } = pixelMap(spec);
  return E.right(
    tf.tidy(() => {
      let x: tf.Tensor3D = tf.cast(k === 4 ? tf.slice(raw, [0, 0, 0], [h, w, 3]) : raw, 'float32');
      if (h !== spec.height || w !== spec.width) x = tf.image.resizeBilinear(x, [spec.height, spec.width], false, true);
      if (colour === 1 && spec.channels === 3) x = tf.tile(x, [1, 1, 3]);
      if (colour === 3 && spec.channels === 1) x = tf.sum(tf.mul(x, tf.tensor1d([0.299, 0.587, 0.114])), -1, true);
      if (spec.channels === 3 && spec.channelOrder === 'bgr') x = tf.reverse(x, -1);
      return tf.add(tf.mul(x, tf.tensor1d(scale as number[])), tf.tensor1d(offset as number[]));
    }),
  );
};

/** Whether a value is an input spec itself (rather than a backbone that may carry one). */
const isSpec = (v: Record<string, unknown>): boolean => 'height' in v && 'normalization' in v;

/**
 * The input spec a backbone (or a spec itself) gives, or the error that says how to declare one.
 */
export const specOf = (path: string, target: unknown): E.Either<TransferError, InputSpec> => {
  if (!isRecord(target)) return E.left(invalidArgument(path, 'a backbone with an input spec, or an input spec', target));
  const spec = isSpec(target) ? target : target['inputSpec'];
  if (!isRecord(spec)) {
    return E.left(invalidArgument(`${path}.inputSpec`, "a backbone that knows its input as an image: declare it, e.g. fromLayersModel(model, { input: { range: [-1, 1] } }) (or inputRange, or mean and std)", described('a backbone without one')));
  }
  return E.right(spec as unknown as InputSpec);
};

/**
 * Images as one input batch for a backbone: each image's pixels (a browser source read through
 * `tf.browser.fromPixels`), resized and converted where `options.resize` allows it, its channels
 * put in the spec's order, and its values mapped as the spec says (onto `[-1, 1]`, or
 * standardised by mean and std). The caller owns the returned tensor.
 *
 * @param target - a backbone with an input spec (from fromLayersModel or fromGraphModel with
 * `input` or `inputRange`), or an input spec itself
 * @param images - at least one image
 * @returns a float32 tensor [images, height, width, channels]; `InvalidArgument` for a backbone
 * without an input spec or something that is no image; `ShapeMismatch` for an image of another
 * size or channel count when `resize` is not asked for. No tensor is left behind on any path.
 *
 * @example
 * ```ts
 * import '@tensorflow/tfjs-backend-cpu';
 * import * as tfl from '@tensorflow/tfjs-layers';
 * import { either as E } from 'fp-ts';
 * import { fromLayersModel, imageBatch } from 'transferkit/tfjs';
 *
 * const model = tfl.sequential({ layers: [tfl.layers.globalAveragePooling2d({ inputShape: [8, 8, 3] }), tfl.layers.dense({ units: 2, activation: 'softmax' })] });
 * const backbone = fromLayersModel(model, { input: { range: [-1, 1] } });
 * const image = { width: 16, height: 16, data: new Uint8ClampedArray(16 * 16 * 4).fill(255) }; // an ImageData, say
 * const x = E.chain((b: Parameters<typeof imageBatch>[0]) => imageBatch(b, [image], { resize: true }))(backbone);
 * if (E.isRight(x)) console.log(x.right.shape); // [1, 8, 8, 3], every value 1
 * ```
 * @function
 */
export const imageBatch = guard('imageBatch', (target: { readonly inputSpec?: InputSpec } | InputSpec, images: ReadonlyArray<ImageSource>, options?: ImageBatchOptions): E.Either<TransferError, tf.Tensor4D> => {
  const spec = specOf('target', target);
  if (E.isLeft(spec)) return spec;
  const given = optionsAt('options', options);
  if (E.isLeft(given)) return given;
  const resize = optional(boolean, false)('options.resize', given.right.resize);
  if (E.isLeft(resize)) return resize;
  if (!Array.isArray(images) || images.length === 0) return E.left(invalidArgument('images', 'a non-empty array of images', images));
  const made: tf.Tensor3D[] = [];
  try {
    for (const [i, image] of images.entries()) {
      const raw = pixels(`images[${i}]`, image);
      if (E.isLeft(raw)) return raw;
      try {
        const one = toInput(spec.right, raw.right, `images[${i}]`, resize.right);
        if (E.isLeft(one)) return one;
        made.push(one.right);
      } finally {
        raw.right.dispose();
      }
    }
    return E.right(tf.stack(made) as tf.Tensor4D);
  } catch (thrown) {
    return E.left(backendFailure('preprocessing the images', thrown));
  } finally {
    tf.dispose(made);
  }
});
