/**
 * Hostile values for the boundary fuzz suite, as fast-check arbitraries of descriptions that are
 * turned into values at call time (a Proxy, a disposed tensor and a 200,000-row matrix must be made
 * fresh for each call, and freed after it). A call remembers whether any value it got throws when
 * read, so the suite can check that the boundary's catch-all error appears only for those.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import fc from 'fast-check';

/** A value the suite can pass: a plain constant, or a description made into a value per call. */
export type Spec =
  | { readonly constant: unknown }
  | { readonly make: 'revoked' | 'getters' | 'symbol' | 'function' | 'huge-array' | 'huge-matrix' | 'huge-labels' | 'disposed-tensor' | 'scalar-tensor' | 'string-tensor' | 'disposed-model' | 'aborted-signal' | 'huge-float32' }
  | { readonly fixture: string }
  | { readonly object: Readonly<Record<string, Spec>> }
  | { readonly array: ReadonlyArray<Spec> };

/** Made values, what to free after the call, and whether some value throws when read. */
export interface Made {
  readonly free: Array<() => void>;
  unreadable: boolean;
}

/** Fixtures by name: the valid values the suite mixes with hostile ones (made per call). */
export type Fixtures = Readonly<Record<string, (made: Made) => unknown>>;

const HUGE = 200_000;

const makeOne = (kind: Extract<Spec, { make: string }>['make'], made: Made): unknown => {
  switch (kind) {
    case 'revoked': {
      made.unreadable = true;
      const p = Proxy.revocable({}, {});
      p.revoke();
      return p.proxy;
    }
    case 'getters':
      made.unreadable = true;
      return new Proxy(
        {},
        {
          get: () => {
            throw new Error('a getter threw');
          },
          has: () => true,
          ownKeys: () => {
            throw new Error('ownKeys threw');
          },
        },
      );
    case 'symbol':
      return Symbol('hostile');
    case 'function':
      return () => undefined;
    case 'huge-array':
      return Array.from({ length: HUGE }, (_, i) => i % 7);
    case 'huge-labels':
      return Array.from({ length: HUGE }, (_, i) => i % 3);
    case 'huge-float32':
      return new Float32Array(HUGE);
    case 'huge-matrix':
      return { rows: HUGE, cols: 2, data: Float32Array.from({ length: 2 * HUGE }, (_, i) => ((i * 7919) % 101) / 101) };
    case 'disposed-tensor': {
      const t = tf.zeros([4, 8]);
      t.dispose();
      return t;
    }
    case 'scalar-tensor': {
      const t = tf.scalar(1);
      made.free.push(() => t.dispose());
      return t;
    }
    case 'string-tensor': {
      const t = tf.tensor(['a', 'b']);
      made.free.push(() => t.dispose());
      return t;
    }
    case 'disposed-model': {
      const m = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [8], units: 4, name: 'f' }), tfl.layers.dense({ units: 2, activation: 'softmax' })] });
      m.dispose();
      return m;
    }
    case 'aborted-signal': {
      const c = new AbortController();
      c.abort();
      return c.signal;
    }
  }
};

/** Makes the value a spec describes. */
export const make = (spec: Spec, fixtures: Fixtures, made: Made): unknown => {
  if ('constant' in spec) return spec.constant;
  if ('make' in spec) return makeOne(spec.make, made);
  if ('fixture' in spec) return fixtures[spec.fixture]!(made);
  if ('array' in spec) return spec.array.map((s) => make(s, fixtures, made));
  return Object.fromEntries(Object.entries(spec.object).map(([k, s]) => [k, make(s, fixtures, made)]));
};

const MAKERS = ['revoked', 'getters', 'symbol', 'function', 'huge-array', 'huge-matrix', 'huge-labels', 'huge-float32', 'disposed-tensor', 'scalar-tensor', 'string-tensor', 'disposed-model', 'aborted-signal'] as const;

/** Any hostile value: nothing, wrong types, non-finite and out-of-range numbers, empty, huge, Proxies, disposed things. */
export const hostile: fc.Arbitrary<Spec> = fc.oneof(
  fc.constantFrom<unknown>(null, undefined, Number.NaN, Infinity, -Infinity, -1, -0, 0, 0.5, 1.5, 1e300, 2 ** 31, '', 'x', true, false, [], {}, [null], { kind: 'nonsense' }).map((constant): Spec => ({ constant })),
  fc.constantFrom(...MAKERS).map((kind): Spec => ({ make: kind })),
  fc.oneof(fc.double(), fc.integer(), fc.string({ maxLength: 5 })).map((constant): Spec => ({ constant })),
);

/** How the suite builds arguments: with hostile values mixed in, or all valid (to reach the success path). */
export interface Builders {
  /** A hostile value where one is allowed; in the all-valid builders, still hostile (a slot that is always hostile). */
  readonly hostile: fc.Arbitrary<Spec>;
  /** A valid fixture, or sometimes a hostile value in its place. */
  readonly slot: (fixture: string) => fc.Arbitrary<Spec>;
  /** An options object whose fields are each valid, hostile or left out (`required` ones always there); or a hostile value instead of the object. */
  readonly options: (fields: Readonly<Record<string, fc.Arbitrary<Spec>>>, required?: ReadonlyArray<string>) => fc.Arbitrary<Spec>;
  /** A field value: one of a few valid constants, or sometimes hostile. */
  readonly field: (...valid: unknown[]) => fc.Arbitrary<Spec>;
}

/** Builders where one value in `odds` is hostile; `odds` 0: none is. */
export const builders = (odds: number): Builders => {
  const or = (valid: fc.Arbitrary<Spec>, weight: number): fc.Arbitrary<Spec> => (odds === 0 ? valid : fc.oneof({ arbitrary: valid, weight }, { arbitrary: hostile, weight: 1 }));
  return {
    hostile,
    slot: (fixture) => or(fc.constant<Spec>({ fixture }), odds - 1),
    options: (fields, required = []) =>
      or(fc.record(fields, { requiredKeys: required as string[] }).map((object): Spec => ({ object: object as Record<string, Spec> })), 4),
    field: (...valid) => or(fc.constantFrom(...valid).map((constant): Spec => ({ constant })), 2),
  };
};
