/**
 * The boundary audit's cases: each one a hostile or faulty input to a public entry point of the
 * built package, from the hardening issue's list (its numbered items) and around it. A case runs
 * in a process of its own (run.ts), so a hang is a timeout there, not a stuck audit.
 */
import { Counting } from '../../test/fixtures/countingLayer';
import { all, attempt, denseData, denseModel, judge, sameWeights, tf, tfl, weightsOf, type Library, type Verdict } from './support';

export interface Case {
  readonly id: string;
  /** The issue's item number (0: not from its list). */
  readonly item: number;
  readonly backend?: 'cpu' | 'wasm';
  /** Seconds before the case counts as a hang. Default 30. */
  readonly timeout?: number;
  readonly run: (lib: Library) => Promise<Verdict>;
}

/** A case on a fresh `denseModel` backbone, disposed afterwards. */
const onBackbone =
  (f: (lib: Library, backbone: any, model: tfl.LayersModel) => Promise<Verdict>, extra?: () => tfl.layers.Layer[]) =>
  async (lib: Library): Promise<Verdict> => {
    const model = denseModel(extra?.() ?? []);
    try {
      const b = lib.tfjs.fromLayersModel(model);
      if (b._tag === 'Left') return { good: false, detail: `fromLayersModel: ${b.left.message}` };
      return await f(lib, b.right, model);
    } finally {
      model.dispose();
    }
  };

/** A case with `n` seeded inputs for `denseModel`, disposed afterwards. */
const withData = async <A>(n: number, f: (d: { x: tf.Tensor; y: number[] }) => Promise<A>): Promise<A> => {
  const d = denseData(n);
  try {
    return await f(d);
  } finally {
    d.x.dispose();
  }
};

const bad = (value: unknown) => [null, undefined, 0, 0.5, -1, Number.NaN, Infinity, 'x', {}, []].map((v) => v ?? value);

/** A revoked Proxy: any use of it throws. */
const revoked = (): object => {
  const p = Proxy.revocable({}, {});
  p.revoke();
  return p.proxy;
};

/** An object whose every property read throws. */
const throwingGetters = (): object =>
  new Proxy({}, { get: () => { throw new Error('getter threw'); }, has: () => true, ownKeys: () => { throw new Error('ownKeys threw'); } });

/** A model of a structure transferkit may refuse: `NotSupported` up front, or else a full fine-tune on `x` that works. */
const notSupportedOrTrains = async (lib: Library, model: tfl.LayersModel, x: tf.Tensor): Promise<Verdict> => {
  const b = lib.tfjs.fromLayersModel(model);
  if (b._tag === 'Left') return judge(b, { side: 'left', tag: 'NotSupported' });
  const r = await lib.core.transfer(b.right, lib.core.fullFineTune, { x, y: [0, 1, 0, 1, 0, 1, 0, 1] }, { epochs: 1 })();
  if (r._tag === 'Right') r.right.model.dispose();
  return judge(r);
};

export const CASES: ReadonlyArray<Case> = [
  // 1. Hangs, and batch sizes that tfjs rejects.
  ...[0, 0.5, Number.NaN, -1].map((batchSize): Case => ({
    id: `rankLayers-batchSize-${batchSize}`,
    item: 1,
    timeout: 15,
    run: onBackbone((lib, b) => withData(12, (d) => attempt(() => lib.core.rankLayers(b, d, { batchSize }), { side: 'left', tag: 'InvalidArgument' }))),
  })),
  ...[0, 0.5, Number.NaN, -1].map((batchSize): Case => ({
    id: `measureSimilarity-batchSize-${batchSize}`,
    item: 1,
    timeout: 15,
    run: onBackbone((lib, b) => withData(12, (d) => attempt(() => lib.core.measureSimilarity(b, d.x, d.x, { batchSize }), { side: 'left', tag: 'InvalidArgument' }))),
  })),
  {
    id: 'rankBackbones-batchSize-0',
    item: 1,
    timeout: 15,
    run: onBackbone((lib, b) => withData(12, (d) => attempt(() => lib.core.rankBackbones([{ name: 'a', backbone: b, x: d.x }], d.y, { batchSize: 0 }), { side: 'left', tag: 'InvalidArgument' }))),
  },
  {
    id: 'backbone.embed-batchSize-0',
    item: 1,
    timeout: 15,
    run: onBackbone((lib, b) => withData(12, (d) => attempt(() => b.embed(d.x, b.layers[b.top], { pooling: 'average', batchSize: 0 }), { side: 'left', tag: 'InvalidArgument' }))),
  },
  {
    id: 'threads-rankLayers-batchSize-0',
    item: 1,
    timeout: 40,
    run: async (lib) => {
      const model = denseModel();
      const b = await lib.threads.withThreads(model, { threads: 2 })();
      try {
        if (b._tag === 'Left') return { good: false, detail: b.left.message };
        return await withData(12, (d) => attempt(() => lib.core.rankLayers(b.right, d, { batchSize: 0 }), { side: 'left', tag: 'InvalidArgument' }));
      } finally {
        if (b._tag === 'Right') await b.right.close();
        model.dispose();
      }
    },
  },

  // 2. Abort while the frozen part is cached, and after it.
  ...(['cpu', 'wasm'] as const).map((backend): Case => ({
    id: `abort-while-caching-${backend}`,
    item: 2,
    backend,
    timeout: 60,
    run: async (lib) => {
      const model = denseModel([new Counting({ name: 'counting' })]);
      const d = denseData(4000);
      const controller = new AbortController();
      let callsAtAbort = 0;
      Counting.calls = 0;
      Counting.at = 2;
      Counting.then = () => {
        callsAtAbort = Counting.calls;
        setTimeout(() => controller.abort(), 0);
      };
      try {
        const b = lib.tfjs.fromLayersModel(model);
        if (b._tag === 'Left') return { good: false, detail: b.left.message };
        const r = await lib.core.transfer(b.right, lib.core.featureExtractor, d, { signal: controller.signal, batchSize: 32 })();
        if (r._tag === 'Right') r.right.model.dispose();
        const after = Counting.calls - callsAtAbort;
        const v = judge(r, { side: 'left', tag: 'Aborted' });
        return { good: v.good && after <= 1, detail: `${v.detail}; ${after} batches ran after the abort (of ${Math.ceil(4000 / 32)})` };
      } finally {
        Counting.at = -1;
        d.x.dispose();
        model.dispose();
      }
    },
  })),
  {
    id: 'abort-while-caching-threads',
    item: 2,
    timeout: 60,
    run: async (lib) => {
      const model = denseModel();
      const b = await lib.threads.withThreads(model, { threads: 2 })();
      const d = denseData(20_000);
      try {
        if (b._tag === 'Left') return { good: false, detail: b.left.message };
        // How long one whole cache takes, then an abort at a twentieth of it.
        const started = performance.now();
        const whole = await lib.core.transfer(b.right, lib.core.featureExtractor, d, { epochs: 1, batchSize: 32 })();
        if (whole._tag === 'Right') whole.right.model.dispose();
        const cacheMs = whole._tag === 'Right' ? whole.right.history[0]!.cacheMs : performance.now() - started;
        const controller = new AbortController();
        let abortedAt = 0;
        setTimeout(() => {
          abortedAt = performance.now();
          controller.abort();
        }, cacheMs / 20);
        const r = await lib.core.transfer(b.right, lib.core.featureExtractor, d, { signal: controller.signal, batchSize: 32 })();
        const late = performance.now() - abortedAt;
        if (r._tag === 'Right') r.right.model.dispose();
        const v = judge(r, { side: 'left', tag: 'Aborted' });
        return { good: v.good && late < cacheMs / 4, detail: `${v.detail}; the Left came ${late.toFixed(0)} ms after the abort (whole cache ${cacheMs.toFixed(0)} ms)` };
      } finally {
        d.x.dispose();
        if (b._tag === 'Right') await b.right.close();
        model.dispose();
      }
    },
  },
  {
    id: 'abort-in-progress-no-further-step',
    item: 2,
    run: onBackbone((lib, b) =>
      withData(64, async (d) => {
        const controller = new AbortController();
        let batches = 0;
        let at = -1;
        const r = await lib.core.transfer(b, lib.core.fullFineTune, d, {
          signal: controller.signal,
          batchSize: 8,
          onProgress: () => {
            batches++;
            if (batches === 3) {
              at = batches;
              controller.abort();
            }
          },
        })();
        if (r._tag === 'Right') r.right.model.dispose();
        const v = judge(r, { side: 'left', tag: 'Aborted' });
        return { good: v.good && batches - at === 0, detail: `${v.detail}; ${batches - at} steps after the abort` };
      }),
    ),
  },

  // 3. Stack overflow on large inputs.
  { id: 'checkLabels-200k', item: 3, run: async (lib) => attempt(() => lib.core.checkLabels(Array.from({ length: 200_000 }, (_, i) => i % 3)), { side: 'right' }) },
  {
    id: 'logme-200k-rows',
    item: 3,
    run: async (lib) => {
      const n = 200_000;
      const m = lib.core.matrix(n, 2, Float32Array.from({ length: 2 * n }, (_, i) => ((i * 7919) % 101) / 101));
      return attempt(() => lib.core.logme((m as any).right, Array.from({ length: n }, (_, i) => i % 2)), { side: 'right' });
    },
  },
  { id: 'nce-200k', item: 3, run: async (lib) => attempt(() => lib.core.nce(Array.from({ length: 200_000 }, (_, i) => i % 5), Array.from({ length: 200_000 }, (_, i) => i % 2)), { side: 'right' }) },
  {
    id: 'proxyADistance-130k-features',
    item: 3,
    run: async (lib) => {
      const d = 130_000;
      const a = lib.core.matrix(4, d, Float32Array.from({ length: 4 * d }, (_, i) => (i % 13) / 13));
      const b = lib.core.matrix(4, d, Float32Array.from({ length: 4 * d }, (_, i) => (i % 7) / 7 + 1));
      return attempt(() => lib.core.proxyADistance((a as any).right, (b as any).right, { iterations: 5 }), { side: 'right' });
    },
  },
  {
    id: 'measureSimilarity-flatten-130k',
    item: 3,
    run: async (lib) => {
      const input = tfl.input({ shape: [4] });
      const wide = tfl.layers.dense({ units: 130_000, name: 'wide' }).apply(input) as tfl.SymbolicTensor;
      const feat = tfl.layers.reshape({ targetShape: [130_000, 1], name: 'feat' }).apply(wide) as tfl.SymbolicTensor;
      const out = tfl.layers.dense({ units: 2, activation: 'softmax' }).apply(tfl.layers.flatten().apply(feat) as tfl.SymbolicTensor) as tfl.SymbolicTensor;
      const model = tfl.model({ inputs: input, outputs: out });
      const x = tf.randomNormal([6, 4], 0, 1, 'float32', 1);
      const y = tf.randomNormal([6, 4], 3, 1, 'float32', 2);
      try {
        const b = lib.tfjs.fromLayersModel(model, { top: 'feat' });
        if (b._tag === 'Left') return { good: false, detail: b.left.message };
        return await attempt(() => lib.core.measureSimilarity(b.right, x, y, { pooling: 'flatten', permutations: 5 }));
      } finally {
        tf.dispose([x, y]);
        model.dispose();
      }
    },
  },
  {
    id: 'transfer-200k-labels',
    item: 3,
    timeout: 60,
    run: onBackbone((lib, b) =>
      withData(200_000, async (d) => {
        const r = await lib.core.transfer(b, lib.core.featureExtractor, d, { epochs: 1, batchSize: 4096 })();
        if (r._tag === 'Right') r.right.model.dispose();
        return judge(r, { side: 'right' });
      }),
    ),
  },

  // 4. NaN inside a Right.
  {
    id: 'logme-all-zero-features',
    item: 4,
    run: async (lib) => {
      const m = lib.core.matrix(6, 3, new Float32Array(18));
      return attempt(() => lib.core.logme((m as any).right, [0, 1, 0, 1, 0, 1]), { side: 'right' });
    },
  },
  {
    id: 'rankLayers-dead-relu',
    item: 4,
    run: async (lib) => {
      const model = tfl.sequential({
        layers: [
          tfl.layers.dense({ inputShape: [4], units: 6, activation: 'relu', name: 'dead', kernelInitializer: 'zeros', biasInitializer: tfl.initializers.constant({ value: -1 }) }),
          tfl.layers.dense({ units: 5, activation: 'relu', name: 'alive', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }), biasInitializer: 'ones' }),
          tfl.layers.dense({ units: 2, activation: 'softmax' }),
        ],
      });
      const x = tf.randomNormal([20, 4], 0, 1, 'float32', 3);
      try {
        const b = lib.tfjs.fromLayersModel(model);
        if (b._tag === 'Left') return { good: false, detail: b.left.message };
        const r = await lib.core.rankLayers(b.right, { x, y: Array.from({ length: 20 }, (_, i) => i % 2) }, { candidates: [{ kind: 'layer', name: 'dead' }, { kind: 'layer', name: 'alive' }] })();
        const v = judge(r, { side: 'right' });
        return { good: v.good, detail: r._tag === 'Right' ? `${v.detail}: ${r.right.map((l: any) => `${l.layer.name} ${l.logme.toFixed(3)}`).join(', ')}` : v.detail };
      } finally {
        x.dispose();
        model.dispose();
      }
    },
  },

  // 5. Same seed, same weights, with noise layers in training mode.
  ...(['cpu', 'wasm'] as const).flatMap((backend) =>
    (['dropout', 'gaussianNoise', 'gaussianDropout', 'alphaDropout'] as const).map((kind): Case => ({
      id: `fromScratch-seeded-${kind}-${backend}`,
      item: 5,
      backend,
      run: async (lib) => {
        const layer = () => (kind === 'dropout' ? tfl.layers.dropout({ rate: 0.3 }) : kind === 'gaussianNoise' ? tfl.layers.gaussianNoise({ stddev: 0.3 }) : kind === 'gaussianDropout' ? tfl.layers.gaussianDropout({ rate: 0.3 }) : tfl.layers.alphaDropout({ rate: 0.3 }));
        const runs: Array<Map<string, Float32Array>> = [];
        for (let k = 0; k < 2; k++) {
          const model = denseModel([layer()]);
          try {
            const b = lib.tfjs.fromLayersModel(model);
            if (b._tag === 'Left') return { good: false, detail: b.left.message };
            const r = await withData(24, (d) => lib.core.transfer(b.right, lib.core.fromScratch, d, { epochs: 2, batchSize: 8, seed: 3 })());
            if (r._tag === 'Left') return judge(r, { side: 'right' });
            const w = r.right.model.weights() as unknown;
            r.right.model.dispose();
            // weights() returns a map, or an Either of one.
            runs.push((w as { _tag?: string; right?: Map<string, Float32Array> })._tag === 'Right' ? (w as { right: Map<string, Float32Array> }).right : (w as Map<string, Float32Array>));
          } finally {
            model.dispose();
          }
        }
        const same = sameWeights(runs[0]!, runs[1]!);
        return { good: same, detail: same ? 'bit-identical weights' : 'different weights for the same seed' };
      },
    })),
  ),

  // 6. A NaN in the source's weights.
  ...(['cpu', 'wasm'] as const).map((backend): Case => ({
    id: `nan-source-weight-${backend}`,
    item: 6,
    backend,
    run: async (lib) => {
      const model = denseModel();
      const [k, bias] = model.getLayer('d1').getWeights();
      const poisoned = tf.tidy(() => tf.where(tf.equal(tf.reshape(tf.range(0, k!.size), k!.shape), 5), tf.fill(k!.shape, Number.NaN), k!));
      model.getLayer('d1').setWeights([poisoned, bias!]);
      tf.dispose([poisoned]);
      try {
        const b = lib.tfjs.fromLayersModel(model);
        if (b._tag === 'Left') return judge(b, { side: 'left', tag: 'InvalidArgument' });
        const r = await withData(12, (d) => lib.core.transfer(b.right, lib.core.featureExtractor, d, { epochs: 1 })());
        if (r._tag === 'Right') r.right.model.dispose();
        const v = judge(r, { side: 'left', tag: 'InvalidArgument' });
        return { good: v.good && /weight|NaN/i.test(r._tag === 'Left' ? r.left.message : ''), detail: v.detail };
      } finally {
        model.dispose();
      }
    },
  })),

  // 7. Divergence on the last step.
  {
    id: 'diverge-on-last-step',
    item: 7,
    run: onBackbone(async (lib, b) => {
      // One SGD step at 1e38 on inputs of scale 100: the loss before it is finite, the model after it is not.
      const recipe = lib.core.makeRecipe({ tap: { kind: 'top' }, start: 'pretrained', phases: [{ name: 'all', trains: { kind: 'all' }, epochs: 1, learningRate: 1e38, optimizer: 'sgd', regularization: { l2: 0 } }] });
      if (recipe._tag === 'Left') return { good: false, detail: recipe.left.message };
      return withData(12, async (d) => {
        const x = tf.mul(d.x, 100);
        try {
          const r = await lib.core.transfer(b, recipe.right, { x, y: d.y }, { batchSize: 12 })();
          if (r._tag === 'Left') return judge(r, { side: 'left', tag: 'BackendFailure' });
          const p = await r.right.model.predict(x)();
          r.right.model.dispose();
          const v = judge(p, { side: 'right' });
          return v.good ? { good: true, detail: 'Right, and its model predicts finite probabilities' } : { good: false, detail: `Right, but its model: ${v.detail}` };
        } finally {
          x.dispose();
        }
      });
    }),
  },

  // 8. Unbounded resources from one argument.
  {
    id: 'withThreads-1000',
    item: 8,
    timeout: 20,
    run: async (lib) => {
      const model = denseModel();
      try {
        const b = await lib.threads.withThreads(model, { threads: 1000 })();
        if (b._tag === 'Right') await b.right.close();
        return judge(b, { side: 'left', tag: 'InvalidArgument' });
      } finally {
        model.dispose();
      }
    },
  },
  { id: 'nce-large-id-1e8', item: 8, timeout: 5, run: async (lib) => attempt(() => lib.core.nce([1e8, 0, 1, 0, 1, 0], [0, 1, 0, 1, 0, 1]), { side: 'right' }) },
  { id: 'nce-large-id-1e9', item: 8, timeout: 5, run: async (lib) => attempt(() => lib.core.nce([1e9, 0, 1, 0, 1, 0], [0, 1, 0, 1, 0, 1]), { side: 'right' }) },
  { id: 'checkLabels-large-id', item: 8, timeout: 5, run: async (lib) => attempt(() => lib.core.checkLabels([0, 1e9]), { side: 'left' }) },
  { id: 'checkLabels-large-classes', item: 8, timeout: 5, run: async (lib) => attempt(() => lib.core.checkLabels([0, 1], 2 ** 31 - 1, false), { side: 'right' }) },
  {
    id: 'mmd-huge-sample',
    item: 8,
    timeout: 20,
    run: async (lib) => {
      const n = 200_000;
      const a = lib.core.matrix(n, 1, Float32Array.from({ length: n }, (_, i) => i % 17));
      return attempt(() => lib.core.mmd((a as any).right, (a as any).right, { permutations: 1 }), { side: 'left' });
    },
  },

  // 9. Throws at the public boundary.
  { id: 'selectStrategy-null', item: 9, run: async (lib) => attempt(() => lib.core.selectStrategy(null as never), { side: 'left' }) },
  { id: 'selectStrategy-revoked', item: 9, run: async (lib) => attempt(() => lib.core.selectStrategy(revoked() as never), { side: 'left' }) },
  { id: 'selectStrategy-getters', item: 9, run: async (lib) => attempt(() => lib.core.selectStrategy(throwingGetters() as never), { side: 'left' }) },
  {
    id: 'describeValue-revoked',
    item: 9,
    run: async (lib) => {
      try {
        const text = lib.core.describeValue(revoked());
        return { good: typeof text === 'string' && text.length > 0, detail: text };
      } catch (thrown) {
        return { good: false, detail: `threw ${(thrown as Error).message}` };
      }
    },
  },
  { id: 'transferProblem-nulls', item: 9, run: async (lib) => attempt(() => lib.core.transferProblem({ source: null, target: null } as never), { side: 'left' }) },
  {
    id: 'classifyScenario-on-null-sides',
    item: 9,
    run: async (lib) => attempt(() => lib.core.classifyScenario({ source: null, target: null, labels: { source: true, target: true } } as never), { side: 'left' }),
  },
  { id: 'task-null', item: 9, run: async (lib) => attempt(() => lib.core.task(null as never), { side: 'left' }) },
  ...[-1, Number.NaN].map((memoryBytes): Case => ({ id: `diskRowStore-memoryBytes-${memoryBytes}`, item: 9, run: async (lib) => attempt(() => lib.node.diskRowStore({ memoryBytes }), { side: 'left' }) })),
  {
    id: 'fromMatrix-wrong-size',
    item: 9,
    run: async (lib) => attempt(() => lib.tfjs.fromMatrix({ rows: 2, cols: 2, data: new Float32Array(3) }), { side: 'left' }),
  },
  {
    id: 'fromLayersModel-null-options',
    item: 9,
    run: async (lib) => {
      const model = denseModel();
      try {
        return await attempt(() => lib.tfjs.fromLayersModel(model, null as never));
      } finally {
        model.dispose();
      }
    },
  },
  ...(['featureSpace', 'domain', 'regression', 'categorical', 'binary', 'matrix', 'makeRecipe', 'checkLabels', 'marginalFromSamples', 'marginalFromStatistics', 'validateShiftTest', 'logme', 'leep', 'hScore', 'nce', 'mmd', 'coral', 'proxyADistance'] as const).flatMap((name) =>
    [null, undefined].map((value): Case => ({
      id: `${name}-${value}`,
      item: 9,
      // regression() with no arguments is the default one-dimensional space.
      run: async (lib) => attempt(() => (lib.core as any)[name](value, value), { side: name === 'regression' && value === undefined ? 'right' : 'left' }),
    })),
  ),
  { id: 'classifyScenario-null-evidence', item: 9, run: async (lib) => attempt(() => lib.core.classifyScenario(validProblem(lib), null as never)) },
  ...[null, undefined].map((value): Case => ({ id: `toMatrix-${value}`, item: 9, run: async (lib) => attempt(() => lib.tfjs.toMatrix(value as never), { side: 'left' }) })),
  {
    id: 'weights-after-dispose',
    item: 9,
    run: onBackbone((lib, b) =>
      withData(12, async (d) => {
        const r = await lib.core.transfer(b, lib.core.featureExtractor, d, { epochs: 1 })();
        if (r._tag === 'Left') return judge(r);
        r.right.model.dispose();
        return attempt(() => (r.right.model as any).weights(), { side: 'left' });
      }),
    ),
  },
  {
    id: 'tensorsInThreads-after-close',
    item: 9,
    timeout: 40,
    run: async (lib) => {
      const model = denseModel();
      try {
        const b = await lib.threads.withThreads(model, { threads: 1 })();
        if (b._tag === 'Left') return judge(b);
        await b.right.close();
        return await attempt(() => b.right.tensorsInThreads(), { side: 'left' });
      } finally {
        model.dispose();
      }
    },
  },

  // 10. Unclear or misleading Lefts.
  {
    id: 'shared-layer-model',
    item: 10,
    run: async (lib) => {
      const input = tfl.input({ shape: [4] });
      const shared = tfl.layers.dense({ units: 4, name: 'shared' });
      const twice = shared.apply(shared.apply(input)) as tfl.SymbolicTensor;
      const features = tfl.layers.dense({ units: 6, name: 'features' }).apply(twice) as tfl.SymbolicTensor;
      const model = tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 2, activation: 'softmax' }).apply(features) as tfl.SymbolicTensor });
      const x = tf.randomNormal([8, 4], 0, 1, 'float32', 1);
      // tfjs cannot free a shared layer's weights with the model (its count of calls stays up), so
      // the case frees them itself: only the library's own tensors are counted.
      try {
        return await notSupportedOrTrains(lib, model, x);
      } finally {
        x.dispose();
        model.dispose();
        shared.weights.forEach((w) => w.read().isDisposed || w.read().dispose());
      }
    },
  },
  {
    id: 'nested-model',
    item: 10,
    run: async (lib) => {
      const inner = tfl.sequential({ name: 'inner', layers: [tfl.layers.dense({ inputShape: [4], units: 6, name: 'features' })] });
      const input = tfl.input({ shape: [4] });
      const h = inner.apply(input) as tfl.SymbolicTensor;
      const model = tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 2, activation: 'softmax' }).apply(h) as tfl.SymbolicTensor });
      const x = tf.randomNormal([8, 4], 0, 1, 'float32', 1);
      try {
        return await notSupportedOrTrains(lib, model, x);
      } finally {
        x.dispose();
        model.dispose();
      }
    },
  },
  {
    id: 'y-float32array',
    item: 10,
    run: onBackbone((lib, b) =>
      withData(12, async (d) => {
        const r = await lib.core.transfer(b, lib.core.featureExtractor, { x: d.x, y: Float32Array.from(d.y) as never }, { epochs: 1 })();
        if (r._tag === 'Right') r.right.model.dispose();
        return judge(r, { side: 'right' });
      }),
    ),
  },
  ...(['y', 'options', 'validation'] as const).map((what): Case => ({
    id: `${what}-null`,
    item: 10,
    run: onBackbone((lib, b) =>
      withData(12, async (d) => {
        const data = what === 'y' ? { x: d.x, y: null } : d;
        const options = what === 'options' ? null : what === 'validation' ? { validation: null } : {};
        const r = await lib.core.transfer(b, lib.core.featureExtractor, data as never, options as never)();
        if (r._tag === 'Right') r.right.model.dispose();
        return judge(r, what === 'y' ? { side: 'left' } : {});
      }),
    ),
  })),
  {
    id: 'custom-layer-in-threads',
    item: 10,
    timeout: 40,
    run: async (lib) => {
      const model = denseModel([new Counting({ name: 'counting' })]);
      try {
        const b = await lib.threads.withThreads(model, { threads: 1 })();
        if (b._tag === 'Right') await b.right.close();
        const v = judge(b, { side: 'left' });
        const says = b._tag === 'Left' && /TransferkitTestCounting/.test(b.left.message) && /modules/.test(b.left.message);
        return { good: v.good && says, detail: v.detail };
      } finally {
        model.dispose();
      }
    },
  },
  { id: 'diskRowStore-directory-42', item: 10, run: async (lib) => attempt(() => lib.node.diskRowStore({ directory: 42 as never }), { side: 'left' }) },
  { id: 'diskRowStore-unwritable', item: 10, run: async (lib) => attempt(() => lib.node.diskRowStore({ directory: '/proc/transferkit-audit' }), { side: 'left' }) },
  {
    id: 'proxyADistance-l2-negative',
    item: 10,
    run: async (lib) => {
      const a = lib.core.matrix(4, 1, Float32Array.of(0, 1, 2, 3));
      return attempt(() => lib.core.proxyADistance((a as any).right, (a as any).right, { l2: -5 }), { side: 'left' });
    },
  },
  ...[5, -0.1, 0, 1, Number.NaN].map((alpha): Case => ({
    id: `measureSimilarity-alpha-${alpha}`,
    item: 10,
    run: onBackbone((lib, b) => withData(12, (d) => attempt(() => lib.core.measureSimilarity(b, d.x, d.x, { alpha, permutations: 5 }), { side: 'left' }))),
  })),

  // 11. Slow error paths (each must end well inside its timeout).
  {
    id: 'describeValue-30M',
    item: 11,
    timeout: 10,
    run: async (lib) => {
      const big = new Float32Array(30_000_000);
      const started = performance.now();
      const text = lib.core.describeValue(big);
      const ms = performance.now() - started;
      return { good: ms < 100, detail: `${ms.toFixed(1)} ms: ${text.slice(0, 60)}` };
    },
  },
  {
    id: 'categorical-60k',
    item: 11,
    timeout: 10,
    run: async (lib) => {
      const started = performance.now();
      const r = lib.core.categorical(Array.from({ length: 60_000 }, (_, i) => `class ${i}`));
      const ms = performance.now() - started;
      const v = judge(r, { side: 'right' });
      return { good: v.good && ms < 200, detail: `${v.detail}; ${ms.toFixed(0)} ms` };
    },
  },

  // Around the list: values of every hostile kind at a few entry points.
  ...bad(null).map((size, i): Case => ({ id: `selectStrategy-size-${i}`, item: 0, run: async (lib) => attempt(() => lib.core.selectStrategy({ size: size as never, similarity: 0.5 })) })),
  ...bad(null).map((v, i): Case => ({
    id: `transfer-batchSize-${i}`,
    item: 0,
    run: onBackbone((lib, b) =>
      withData(12, async (d) => {
        const r = await lib.core.transfer(b, lib.core.featureExtractor, d, { batchSize: v as never, epochs: 1 })();
        if (r._tag === 'Right') r.right.model.dispose();
        return judge(r);
      }),
    ),
  })),
  {
    id: 'source-bit-identical-after-failures',
    item: 0,
    run: onBackbone(async (lib, b, model) => {
      const before = weightsOf(model);
      const verdicts: Verdict[] = [];
      await withData(12, async (d) => {
        for (const options of [{ batchSize: 0 }, { epochs: -1 }, { validation: { split: 2 } }, { classes: 1 }]) {
          verdicts.push(await attempt(() => lib.core.transfer(b, lib.core.fullFineTune, d, options as never), { side: 'left' }));
        }
      });
      const same = sameWeights(before, weightsOf(model));
      return all([...verdicts, { good: same, detail: same ? 'source unchanged' : 'source changed' }]);
    }),
  },
];

/** A well-formed problem, for cases that break only the evidence. */
const validProblem = (lib: Library) => {
  const space = { id: 'xy', shape: [2], dtype: 'float32' } as const;
  const side = { domain: { featureSpace: space, marginal: { kind: 'unobserved' } }, task: { labelSpace: { kind: 'binary', positive: 'a', negative: 'b' } } } as const;
  void lib;
  return { source: side, target: side, labels: { source: true, target: true } } as never;
};
