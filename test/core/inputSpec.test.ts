import { describe, expect, it } from 'vitest';
import { checkInputSpec, inputRangeOf, inputSpecFor, pixelMap } from '../../src/core/inputSpec';
import { err, ok } from '../fixtures/either';

const image = [null, 224, 224, 3] as const;

describe('input spec', () => {
  it('takes size and channels from the model and the map from pixels from the user', () => {
    expect(ok(inputSpecFor(image, { range: [-1, 1] }))).toEqual({ height: 224, width: 224, channels: 3, channelOrder: 'rgb', normalization: { range: [-1, 1] } });
    // A model that takes any size needs the user's.
    expect(ok(inputSpecFor([null, null, null, 1], { size: [28, 28], range: [0, 1] }))).toMatchObject({ height: 28, width: 28, channels: 1 });
    expect(err(inputSpecFor([null, null, null, 3], { range: [0, 1] })).path).toBe('input.size');
  });

  it('refuses a spec that disagrees with the model, saying what the model has', () => {
    const size = err(inputSpecFor(image, { size: [96, 96], range: [0, 1] }));
    expect(size._tag).toBe('ShapeMismatch');
    expect(size.expected).toBe("[224, 224] (the model's input)");
    const channels = err(inputSpecFor(image, { channels: 1, range: [0, 1] }));
    expect(channels._tag).toBe('ShapeMismatch');
    expect(channels.path).toBe('input.channels');
    // inputRange given beside a different range.
    expect(err(inputSpecFor(image, { range: [0, 1] }, [-1, 1]))._tag).toBe('ShapeMismatch');
  });

  it('asks for the map from pixels when nobody says it, and refuses half of one', () => {
    expect(err(inputSpecFor(image, {})).expected).toMatch(/range .*mean and std/);
    expect(err(inputSpecFor(image, { mean: [0.5, 0.5, 0.5] })).path).toBe('input.std');
    expect(err(inputSpecFor(image, { mean: [0.5, 0.5], std: [1, 1] })).path).toBe('input.mean');
    expect(err(inputSpecFor(image, { mean: [0, 0, 0], std: [1, 0, 1] })).path).toBe('input.std[1]');
    expect(err(inputSpecFor(image, { range: [1, 0] })).path).toBe('input.range');
    expect(err(inputSpecFor(image, { range: [0, 1], mean: [0, 0, 0], std: [1, 1, 1] })).expected).toMatch(/not both/);
    expect(err(inputSpecFor([null, 10], { range: [0, 1] })).expected).toMatch(/image batch/);
  });

  it('maps pixels as documented: a range linearly, mean and std per channel on the 0…1 scale', () => {
    const range = pixelMap(ok(inputSpecFor(image, { range: [-1, 1] })));
    expect(0 * range.scale[0]! + range.offset[0]!).toBe(-1);
    expect(255 * range.scale[2]! + range.offset[2]!).toBeCloseTo(1, 12);
    const imagenet = ok(inputSpecFor(image, { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] }));
    const m = pixelMap(imagenet);
    // (p / 255 − mean) / std for p = 128 in the green channel.
    expect(128 * m.scale[1]! + m.offset[1]!).toBeCloseTo((128 / 255 - 0.456) / 0.224, 10);
    expect(inputRangeOf(imagenet)[0]).toBeCloseTo(-0.485 / 0.229, 10);
    expect(inputRangeOf(imagenet)[1]).toBeCloseTo((1 - 0.406) / 0.225, 10);
  });

  it('reads back what it made, and refuses a damaged one', () => {
    const spec = ok(inputSpecFor(image, { channelOrder: 'bgr', mean: [0.4, 0.45, 0.5], std: [1 / 255, 1 / 255, 1 / 255] }));
    expect(ok(checkInputSpec('meta', JSON.parse(JSON.stringify(spec))))).toEqual(spec);
    expect(err(checkInputSpec('meta', { ...spec, channels: 2 })).message).toMatch(/^meta: input.channels/);
    expect(err(checkInputSpec('meta', { ...spec, height: 1e9 })).message).toMatch(/^meta: input.size/);
    expect(err(checkInputSpec('meta', 'x')).path).toBe('meta');
  });
});
