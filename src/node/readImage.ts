/**
 * PNG and JPEG files (or their bytes) decoded to pixels, in Node, by two well-kept pure-JavaScript
 * decoders, `pngjs` and `jpeg-js`: optional peer dependencies, loaded when first needed, so an app
 * that never reads an image file never installs them.
 */
import { readFile, stat } from 'node:fs/promises';
import { either as E, type taskEither as TE } from 'fp-ts';
import { guardTask, optionsAt } from '../core/boundary';
import { described, invalidArgument, notSupported, thrownMessage, type TransferError } from '../core/errors';
import { MAX_SOURCE_SIDE } from '../core/inputSpec';
import { optional, positiveInteger } from '../core/validate';

/** Decoded pixels, row by row: what `imageBatch` of transferkit/tfjs takes. */
export interface DecodedImage {
  /** Columns. */
  readonly width: number;
  /** Rows. */
  readonly height: number;
  /** Bytes a pixel: 4 (RGBA) for both formats, as the decoders give them. */
  readonly channels: 4;
  /** `height × width × 4` bytes. */
  readonly data: Uint8Array;
}

/** Options of {@link readImage}. */
export interface ReadImageOptions {
  /** The largest image read, in pixels (width × height). Default 50 million (a 7,000 × 7,000 photo). */
  readonly maxPixels?: number;
}

/** 50 million pixels: 200 MB decoded. */
export const MAX_IMAGE_PIXELS = 50_000_000;

/** The largest file read: 256 MB. */
const MAX_FILE_BYTES = 256 * 2 ** 20;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const formatOf = (bytes: Uint8Array): 'png' | 'jpeg' | undefined => {
  if (PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return undefined;
};

/** The size a PNG's header declares (IHDR: width and height, big-endian, at bytes 16 and 20), read before decoding. */
const pngSize = (bytes: Uint8Array): readonly [number, number] | undefined => {
  if (bytes.length < 24) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return [view.getUint32(16), view.getUint32(20)];
};

const missing = (name: string, thrown: unknown): TransferError =>
  notSupported('readImage', `the optional peer dependency '${name}' installed (npm install ${name})`, `it could not be loaded (${thrownMessage(thrown)})`);

const decodePng = async (bytes: Uint8Array, maxPixels: number): Promise<E.Either<TransferError, DecodedImage>> => {
  const size = pngSize(bytes);
  if (size === undefined) return E.left(invalidArgument('source', 'a PNG with its header', described('a truncated PNG')));
  if (size[0] * size[1] > maxPixels || size[0] > MAX_SOURCE_SIDE || size[1] > MAX_SOURCE_SIDE) return E.left(invalidArgument('source', `an image of at most ${maxPixels} pixels (options.maxPixels)`, described(`a PNG of ${size[0]}×${size[1]}`)));
  let png: typeof import('pngjs');
  try {
    png = await import('pngjs');
  } catch (thrown) {
    return E.left(missing('pngjs', thrown));
  }
  const decoded = png.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return E.right({ width: decoded.width, height: decoded.height, channels: 4, data: new Uint8Array(decoded.data.buffer, decoded.data.byteOffset, decoded.data.byteLength) });
};

const decodeJpeg = async (bytes: Uint8Array, maxPixels: number): Promise<E.Either<TransferError, DecodedImage>> => {
  let jpeg: typeof import('jpeg-js');
  try {
    jpeg = await import('jpeg-js');
  } catch (thrown) {
    return E.left(missing('jpeg-js', thrown));
  }
  // jpeg-js refuses past its resolution and memory limits itself, before it allocates the pixels.
  const decode = (jpeg as unknown as { decode?: typeof jpeg.decode; default?: { decode: typeof jpeg.decode } }).decode ?? (jpeg as unknown as { default: { decode: typeof jpeg.decode } }).default.decode;
  const decoded = decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: maxPixels / 1e6, maxMemoryUsageInMB: Math.ceil((maxPixels * 4 * 2) / 2 ** 20) + 64 });
  return E.right({ width: decoded.width, height: decoded.height, channels: 4, data: decoded.data });
};

/** The bytes a source names: a file path is read (up to 256 MB), bytes are taken as they are. */
const bytesOf = async (source: unknown): Promise<E.Either<TransferError, Uint8Array>> => {
  if (source instanceof Uint8Array) return E.right(source);
  if (source instanceof ArrayBuffer) return E.right(new Uint8Array(source));
  if (typeof source !== 'string' || source.length === 0) return E.left(invalidArgument('source', 'a file path, or the bytes of a PNG or JPEG file (Uint8Array, Buffer, ArrayBuffer)', source));
  try {
    const size = (await stat(source)).size;
    if (size > MAX_FILE_BYTES) return E.left(invalidArgument('source', `a file of at most ${MAX_FILE_BYTES} bytes`, described(`${size} bytes`)));
    return E.right(new Uint8Array(await readFile(source)));
  } catch (thrown) {
    return E.left(invalidArgument('source', 'a file this process can read', described(`${JSON.stringify(source)} (${thrownMessage(thrown)})`)));
  }
};

/**
 * Reads a PNG or JPEG image (a file path, or its bytes) into RGBA pixels, the format told by the
 * file's first bytes, not its name. Pass what it returns to `imageBatch` or `trainClassifier` of
 * transferkit/tfjs.
 *
 * @returns the pixels; `InvalidArgument` for a file that cannot be read, bytes that are neither
 * PNG nor JPEG or do not decode, or an image past `options.maxPixels`; `NotSupported` when the
 * decoder it needs (`pngjs` or `jpeg-js`) is not installed
 *
 * @example
 * ```ts
 * import { either as E } from 'fp-ts';
 * import { readImage } from 'transferkit/node';
 *
 * const png = Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]); // a PNG's signature and nothing more
 * const image = await readImage(png)();
 * if (E.isLeft(image)) console.log(image.left.message); // source: expected a PNG with its header, ...
 * ```
 * @function
 */
export const readImage = guardTask('readImage', (source: string | Uint8Array | ArrayBuffer, options?: ReadImageOptions): TE.TaskEither<TransferError, DecodedImage> => async () => {
  const given = optionsAt('options', options);
  if (E.isLeft(given)) return given;
  const maxPixels = optional(positiveInteger, MAX_IMAGE_PIXELS)('options.maxPixels', given.right.maxPixels);
  if (E.isLeft(maxPixels)) return maxPixels;
  const bytes = await bytesOf(source);
  if (E.isLeft(bytes)) return bytes;
  const format = formatOf(bytes.right);
  if (format === undefined) return E.left(invalidArgument('source', 'a PNG or JPEG image', described(`bytes that start ${Array.from(bytes.right.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ')}`)));
  try {
    return await (format === 'png' ? decodePng : decodeJpeg)(bytes.right, maxPixels.right);
  } catch (thrown) {
    return E.left(invalidArgument('source', `a ${format === 'png' ? 'PNG' : 'JPEG'} image that decodes`, described(`one that does not (${thrownMessage(thrown)})`)));
  }
});

/**
 * {@link readImage} for several sources, in order; the first that fails is the error (its path
 * says which).
 *
 * @function
 */
export const readImages = guardTask('readImages', (sources: ReadonlyArray<string | Uint8Array | ArrayBuffer>, options?: ReadImageOptions): TE.TaskEither<TransferError, ReadonlyArray<DecodedImage>> => async () => {
  if (!Array.isArray(sources)) return E.left(invalidArgument('sources', 'an array of file paths or image bytes', sources));
  const out: DecodedImage[] = [];
  for (const [i, source] of sources.entries()) {
    const image = await readImage(source, options)();
    if (E.isLeft(image)) return E.left('path' in image.left ? { ...image.left, path: `sources[${i}]`, message: image.left.message.replace(/^source/, `sources[${i}]`) } : image.left);
    out.push(image.right);
  }
  return E.right(out);
});
