import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { matrix } from 'transferkit';
import { fromMatrix, toMatrix } from 'transferkit/tfjs';
import { err, ok } from '../../fixtures/either';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Runs `body` and checks it left no tensor behind. */
const noLeak = <A>(body: () => A): A => {
  const before = tf.memory().numTensors;
  const out = body();
  expect(tf.memory().numTensors).toBe(before);
  return out;
};

describe('toMatrix', () => {
  it('flattens each example of an [N, ...] tensor into a row, leaving the tensor to its owner', () => {
    const x = tf.tensor3d([[[1, 2]], [[3, 4]]]);
    const m = noLeak(() => ok(toMatrix(x)));
    expect(m).toMatchObject({ rows: 2, cols: 2 });
    expect(Array.from(m.data)).toEqual([1, 2, 3, 4]);
    expect(x.isDisposed).toBe(false);
    x.dispose();
  });

  it('reads int32 and bool tensors as floats', () => {
    const x = tf.tensor2d([[1, 0]], [1, 2], 'bool');
    expect(Array.from(noLeak(() => ok(toMatrix(x))).data)).toEqual([1, 0]);
    x.dispose();
  });

  it('rejects a scalar, a string tensor, NaN values and a disposed tensor without leaking', () => {
    const scalar = tf.scalar(1);
    const text = tf.tensor1d(['a'], 'string');
    const nan = tf.tensor2d([[0, Number.NaN]]);
    const gone = tf.tensor2d([[1]]);
    gone.dispose();
    noLeak(() => {
      expect(err(toMatrix(scalar))._tag).toBe('ShapeMismatch');
      expect(err(toMatrix(text))).toMatchObject({ _tag: 'InvalidArgument', path: 'tensor.dtype' });
      expect(err(toMatrix(nan))).toMatchObject({ _tag: 'InvalidArgument', path: 'data[1] (row 0)' });
      expect(err(toMatrix(gone)).received).toBe('a disposed tensor');
    });
    tf.dispose([scalar, text, nan]);
  });
});

describe('fromMatrix', () => {
  it('makes one float32 tensor the caller owns, and round-trips with toMatrix', () => {
    const m = ok(matrix(2, 3, new Float32Array([1, 2, 3, 4, 5, 6])));
    const before = tf.memory().numTensors;
    const t = ok(fromMatrix(m));
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float32');
    expect(ok(toMatrix(t)).data).toEqual(m.data);
    t.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses what is not a matrix, making no tensor', () => {
    const before = tf.memory().numTensors;
    expect(err(fromMatrix({ rows: 2, cols: 2, data: new Float32Array(3) }))._tag).toBe('ShapeMismatch');
    expect(err(fromMatrix(null as never))).toMatchObject({ _tag: 'InvalidArgument', path: 'matrix' });
    expect(err(fromMatrix({ rows: 1, cols: 1, data: Float32Array.of(Number.NaN) }))._tag).toBe('InvalidArgument');
    expect(err(toMatrix(undefined as never))).toMatchObject({ _tag: 'InvalidArgument', path: 'tensor' });
    expect(tf.memory().numTensors).toBe(before);
  });
});
