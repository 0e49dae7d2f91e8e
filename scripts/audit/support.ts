/**
 * What the boundary audit's cases share: the built package, small source models, and the judge
 * that decides whether an outcome is a good one (a clear `Left`, or a `Right` with finite numbers).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';

/** The package as an app gets it: the build in dist/ (run `npm run build` first). */
export interface Library {
  readonly core: typeof import('transferkit');
  readonly tfjs: typeof import('transferkit/tfjs');
  readonly threads: typeof import('transferkit/tfjs/threads');
  readonly node: typeof import('transferkit/node');
}

/** The package as an app gets it: the build in dist/ (run `npm run build` first). */
export const load = async (): Promise<Library> => {
  const from = (file: string): Promise<any> => import(new URL(`../../dist/${file}`, import.meta.url).href);
  return { core: await from('index.js'), tfjs: await from('tfjs.js'), threads: await from('tfjs-threads.js'), node: await from('node.js') };
};

/** What a case found, and why it is or is not good. */
export interface Verdict {
  readonly good: boolean;
  readonly detail: string;
}

const TAGS = new Set(['InvalidArgument', 'ShapeMismatch', 'NotSupported', 'Aborted', 'BackendFailure']);
/** Text that comes from JavaScript or tfjs internals, not from a message written for a user. */
const INTERNAL = /Cannot read propert|is not a function|is not iterable|Maximum call stack|Argument '\w+' passed to|undefined is not|null is not|Invalid typed array length|out of memory|memory access out of bounds/i;

/** Every number in a value, breadth first, up to `limit` of them. */
const numbersIn = (value: unknown, limit = 1_000_000): number[] => {
  const out: number[] = [];
  const queue: unknown[] = [value];
  const seen = new Set<unknown>();
  while (queue.length > 0 && out.length < limit) {
    const v = queue.shift();
    if (typeof v === 'number') out.push(v);
    else if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      const a = v as unknown as ArrayLike<number>;
      for (let i = 0; i < a.length && out.length < limit; i++) out.push(Number(a[i]));
    } else if (v !== null && typeof v === 'object' && !seen.has(v)) {
      seen.add(v);
      if (v instanceof Map) queue.push(...v.values());
      else if (!(v instanceof tf.Tensor) && !(v instanceof tfl.LayersModel)) queue.push(...Object.values(v));
    }
  }
  return out;
};

/**
 * Judges an Either: a Left is good when it is a known case with a message written for a user
 * (`expectedTag`, when given, must match); a Right is good when every number in it is finite.
 */
export const judge = (result: unknown, want: { readonly side?: 'left' | 'right'; readonly tag?: string } = {}): Verdict => {
  const r = result as { _tag?: string; left?: { _tag?: string; message?: string; expected?: string }; right?: unknown };
  if (r?._tag === 'Left') {
    const e = r.left!;
    const text = `${e._tag}: ${e.message}`;
    if (want.side === 'right') return { good: false, detail: `expected a Right, got ${text}` };
    if (!TAGS.has(e._tag ?? '')) return { good: false, detail: `unknown error case ${text}` };
    if (typeof e.message !== 'string' || e.message.length === 0 || INTERNAL.test(e.message)) return { good: false, detail: `unclear message ${text}` };
    if (want.tag !== undefined && e._tag !== want.tag) return { good: false, detail: `expected ${want.tag}, got ${text}` };
    return { good: true, detail: text };
  }
  if (r?._tag === 'Right') {
    if (want.side === 'left') return { good: false, detail: 'expected a Left, got a Right' };
    const bad = numbersIn(r.right).find((v) => !Number.isFinite(v));
    return bad === undefined ? { good: true, detail: 'Right, every number finite' } : { good: false, detail: `Right holding ${bad}` };
  }
  return { good: false, detail: `not an Either: ${String(result).slice(0, 80)}` };
};

/** Runs `f` and judges what it returns or resolves to; a throw or rejection is never good. */
export const attempt = async (f: () => unknown, want?: Parameters<typeof judge>[1]): Promise<Verdict> => {
  try {
    let out = f();
    if (typeof out === 'function') out = (out as () => unknown)();
    return judge(await out, want);
  } catch (thrown) {
    return { good: false, detail: `threw ${(thrown as Error)?.name}: ${String((thrown as Error)?.message ?? thrown).slice(0, 120)}` };
  }
};

/** All verdicts must be good; the details of the bad ones are kept. */
export const all = (verdicts: ReadonlyArray<Verdict>): Verdict => {
  const bad = verdicts.filter((v) => !v.good);
  return bad.length === 0 ? { good: true, detail: verdicts.map((v) => v.detail).join('; ').slice(0, 300) } : { good: false, detail: bad.map((v) => v.detail).join('; ') };
};

/** Dense 8 → 16 → BatchNorm → 12 → softmax(3), seeded. Top feature layer `d2`. */
export const denseModel = (extra: ReadonlyArray<tfl.layers.Layer> = []): tfl.LayersModel =>
  tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [8], units: 16, activation: 'relu', name: 'd1', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
      tfl.layers.batchNormalization({ name: 'bn1' }),
      ...extra,
      tfl.layers.dense({ units: 12, activation: 'relu', name: 'd2', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
      tfl.layers.dense({ units: 3, activation: 'softmax', name: 'classifier', kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }),
    ],
  });

/** Seeded inputs for `denseModel` and labels 0, 1, 2, 0, 1, 2, … */
export const denseData = (n: number): { x: tf.Tensor; y: number[] } => ({
  x: tf.randomNormal([n, 8], 0, 1, 'float32', 5),
  y: Array.from({ length: n }, (_, i) => i % 3),
});

/** Every weight of a model, copied, keyed by name. */
export const weightsOf = (model: tfl.LayersModel): Map<string, Float32Array> =>
  new Map(model.weights.map((w) => [w.name, Float32Array.from(w.read().dataSync())]));

/** Whether two weight maps hold the same bits. */
export const sameWeights = (a: ReadonlyMap<string, Float32Array>, b: ReadonlyMap<string, Float32Array>): boolean =>
  a.size === b.size && [...a].every(([k, v]) => {
    const w = b.get(k);
    return w !== undefined && w.length === v.length && v.every((x, i) => Object.is(x, w[i]));
  });

export { tf, tfl };
