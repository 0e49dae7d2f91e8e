/**
 * Builds the package with tsup and uses the output the way an app would: a fresh folder whose
 * node_modules holds transferkit (package.json + dist, nothing else) beside its peer dependencies,
 * loaded by plain Node in ESM and in CJS, and type-checked by tsc with Node's own resolution.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);
const app = mkdtempSync(join(tmpdir(), 'transferkit-app-'));
const pkg = join(app, 'node_modules', 'transferkit');
const peers = ['fp-ts', '@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', '@tensorflow/tfjs-converter', '@tensorflow/tfjs-backend-cpu'];

/** What the app does with the package: real calls through every entry point. */
const body = `
const recipe = tk.selectStrategy({ size: 5000, similarity: 0.6, classes: 5 });
const bad = tk.selectStrategy({ size: 10, similarity: Number.NaN });
await tf.setBackend('cpu');
const before = tf.memory().numTensors;
const x = tf.tensor2d([[1, 2], [3, 4]]);
const m = tfjs.toMatrix(x);
const back = tfjs.fromMatrix(m.right).right;
tf.dispose([x, back]);
const source = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [4], units: 6, name: 'features' }), tfl.layers.dense({ units: 2, activation: 'softmax' })] });
const inputs = tf.randomNormal([12, 4], 0, 1, 'float32', 1);
const backbone = tfjs.fromLayersModel(source);
const trained = await tk.transfer(backbone.right, tk.partialFineTune, { x: inputs, y: [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2] }, { epochs: 1, activationStore: tkn.diskRowStore({ memoryBytes: 0 }).right })();
const probs = await trained.right.model.predict(inputs)();
trained.right.model.dispose();
const threaded = await tkt.withThreads(source, { threads: 2 })();
const embedded = await threaded.right.embed(inputs, threaded.right.layers[threaded.right.top], { pooling: 'average', batchSize: 5 })();
// The built worker also caches frozen parts and shares training steps.
const onThreads = await tk.transfer(threaded.right, tk.partialFineTune, { x: inputs, y: [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2] }, { epochs: 1 })();
onThreads.right.model.dispose();
await threaded.right.close();
// A GraphModel of two nodes (a product and a ReLU), as the converter writes one.
const dim = (...sizes) => ({ dim: sizes.map((size) => ({ size: String(size) })) });
const graphTopology = { node: [
  { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: dim(-1, 4) } } },
  { name: 'w', op: 'Const', attr: { dtype: { type: 'DT_FLOAT' }, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dim(4, 5) } } } },
  { name: 'h', op: 'MatMul', input: ['x', 'w'], attr: { T: { type: 'DT_FLOAT' }, transpose_a: { b: false }, transpose_b: { b: false } } },
  { name: 'features', op: 'Relu', input: ['h'], attr: { T: { type: 'DT_FLOAT' } } },
], versions: { producer: 1 } };
const weightData = Float32Array.from({ length: 20 }, (_, i) => Math.sin(i)).buffer;
const graph = await tfc.loadGraphModel(tf.io.fromMemory({ modelTopology: graphTopology, weightSpecs: [{ name: 'w', shape: [4, 5], dtype: 'float32' }], weightData }));
const graphBackbone = tkg.fromGraphModel(graph);
const onGraph = await tk.transfer(graphBackbone.right, tk.featureExtractor, { x: inputs, y: [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2] }, { epochs: 1 })();
const graphProbs = await onGraph.right.model.predict(inputs)();
onGraph.right.model.dispose();
graph.dispose();
tf.dispose([inputs]);
source.dispose();
console.log(JSON.stringify({
  kind: recipe.right.kind,
  error: bad.left._tag + ' ' + bad.left.path,
  matrix: Array.from(m.right.data),
  tap: trained.right.tap.name,
  probabilities: [probs.right.rows, probs.right.cols],
  threaded: [embedded.right.rows, embedded.right.cols],
  threadedPhases: onThreads.right.history.map((h) => [h.cacheThreads, h.trainThreads]),
  graph: [graphBackbone.right.layers[graphBackbone.right.top].name, graphProbs.right.rows, graphProbs.right.cols],
  leaked: tf.memory().numTensors - before,
}));
`;

const expected = {
  kind: 'full-fine-tune',
  error: 'InvalidArgument similarity',
  matrix: [1, 2, 3, 4],
  tap: 'features',
  probabilities: [12, 3],
  threaded: [12, 6],
  // The head phase caches the frozen features on both threads; the fine-tune phase trains them,
  // so it has nothing to cache; both split their steps.
  threadedPhases: [
    [2, 2],
    [0, 2],
  ],
  graph: ['features', 12, 3],
  leaked: 0,
};

const node = async (file: string): Promise<unknown> => {
  const { stdout } = await run(process.execPath, [file], { cwd: app });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
};

beforeAll(async () => {
  await run(process.execPath, [join(root, 'node_modules/tsup/dist/cli-default.js'), '--out-dir', join(pkg, 'dist')], { cwd: root });
  cpSync(join(root, 'package.json'), join(pkg, 'package.json'));
  for (const peer of peers) {
    mkdirSync(join(app, 'node_modules', peer, '..'), { recursive: true });
    symlinkSync(join(root, 'node_modules', peer), join(app, 'node_modules', peer), 'dir');
  }
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }));
}, 180_000);

afterAll(() => rmSync(app, { recursive: true, force: true }));

describe('the built package, used as an app would', () => {
  it('loads the five entry points in ESM and works', async () => {
    writeFileSync(
      join(app, 'esm.mjs'),
      `import * as tk from 'transferkit';\nimport * as tfjs from 'transferkit/tfjs';\nimport * as tkn from 'transferkit/node';\nimport * as tkt from 'transferkit/tfjs/threads';\nimport * as tkg from 'transferkit/tfjs/graph';\nimport * as tfc from '@tensorflow/tfjs-converter';\nimport * as tf from '@tensorflow/tfjs-core';\nimport * as tfl from '@tensorflow/tfjs-layers';\nimport '@tensorflow/tfjs-backend-cpu';\n${body}`,
    );
    expect(await node('esm.mjs')).toEqual(expected);
  });

  it('loads the five entry points in CJS and works', async () => {
    writeFileSync(
      join(app, 'cjs.cjs'),
      `const tk = require('transferkit');\nconst tfjs = require('transferkit/tfjs');\nconst tkn = require('transferkit/node');\nconst tkt = require('transferkit/tfjs/threads');\nconst tkg = require('transferkit/tfjs/graph');\nconst tfc = require('@tensorflow/tfjs-converter');\nconst tf = require('@tensorflow/tfjs-core');\nconst tfl = require('@tensorflow/tfjs-layers');\nrequire('@tensorflow/tfjs-backend-cpu');\n(async () => {\n${body}\n})();`,
    );
    expect(await node('cjs.cjs')).toEqual(expected);
  });

  it('ships types that tsc resolves under nodenext, for import and for require', async () => {
    writeFileSync(
      join(app, 'consumer.mts'),
      `import { selectStrategy, type Recipe, type TransferError } from 'transferkit';\n` +
        `import { toMatrix } from 'transferkit/tfjs';\nimport { either as E } from 'fp-ts';\n` +
        `const r: E.Either<TransferError, Recipe> = selectStrategy({ size: 1, similarity: 0.5 });\n` +
        `export const kind: Recipe['kind'] | undefined = E.isRight(r) ? r.right.kind : undefined;\n` +
        // If the declarations failed to resolve, everything would be \`any\` and these lines would be errors.
        `// @ts-expect-error size must be a number\nselectStrategy({ size: '10', similarity: 0.5 });\n` +
        `// @ts-expect-error toMatrix takes a tensor\ntoMatrix([[1, 2]]);\n`,
    );
    writeFileSync(
      join(app, 'consumer.cts'),
      `import tk = require('transferkit');\nexport const tap: tk.Tap['kind'] | undefined = ` +
        `(() => { const r = tk.selectStrategy({ size: 1, similarity: 0.5 }); return r._tag === 'Right' ? r.right.tap.kind : undefined; })();\n` +
        `// @ts-expect-error similarity is required\ntk.selectStrategy({ size: 1 });\n`,
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        // tfjs's own declarations need the DOM lib; skipLibCheck leaves them alone, and the
        // expect-error lines in the consumers prove ours still resolve to real types.
        compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', noEmit: true, types: [], skipLibCheck: true, lib: ['es2022', 'dom'] },
        files: ['consumer.mts', 'consumer.cts'],
      }),
    );
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    await expect(run(process.execPath, [tsc, '-p', app], { cwd: app })).resolves.toBeDefined();
  }, 60_000);

  it('ships types that resolve under node10 and bundler resolution too, for all five entry points', async () => {
    // node10 ignores "exports": the subpaths resolve through "typesVersions" (package.json).
    writeFileSync(
      join(app, 'entries.ts'),
      `import { selectStrategy } from 'transferkit';\nimport { setupBackend } from 'transferkit/tfjs';\n` +
        `import { withThreads } from 'transferkit/tfjs/threads';\nimport { diskRowStore } from 'transferkit/node';\n` +
        `import { fromGraphModel } from 'transferkit/tfjs/graph';\n` +
        `export const all = [selectStrategy, setupBackend, withThreads, diskRowStore, fromGraphModel];\n` +
        `// @ts-expect-error inputShape is a list of sizes\nfromGraphModel(undefined as never, { inputShape: 224 });\n` +
        `// @ts-expect-error size must be a number\nselectStrategy({ size: '10', similarity: 0.5 });\n` +
        `// @ts-expect-error prefer is a list of names\nsetupBackend({ prefer: 'wasm' });\n` +
        `// @ts-expect-error threads is a number\nwithThreads(undefined as never, { threads: 'two' });\n` +
        `// @ts-expect-error memoryBytes is a number\ndiskRowStore({ memoryBytes: 'lots' });\n`,
    );
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    for (const [module, moduleResolution] of [['commonjs', 'node10'], ['esnext', 'bundler'], ['node16', 'node16']] as const) {
      const config = `tsconfig.${moduleResolution}.json`;
      writeFileSync(
        join(app, config),
        JSON.stringify({
          compilerOptions: { strict: true, module, moduleResolution, noEmit: true, types: [], skipLibCheck: true, lib: ['es2022', 'dom'] },
          files: ['entries.ts'],
        }),
      );
      const checked = await run(process.execPath, [tsc, '-p', join(app, config)], { cwd: app }).then(
        () => 'ok',
        (failed: { stdout: string }) => failed.stdout,
      );
      expect(checked, moduleResolution).toBe('ok');
    }
  }, 90_000);

  it('keeps the core entry free of tensor libraries, and the browser entries free of Node built-ins', () => {
    for (const file of ['index.js', 'index.cjs', 'tfjs.js', 'tfjs.cjs', 'tfjs-graph.js', 'tfjs-graph.cjs']) {
      const text = readFileSync(join(pkg, 'dist', file), 'utf8');
      if (file.startsWith('index')) expect(text).not.toMatch(/@tensorflow\//);
      expect(text).not.toMatch(/['"]node:|require\(['"](fs|path|os|worker_threads)['"]\)/);
    }
  });

  it('declares itself side-effect free, with tfjs, fp-ts and the image decoders as peers', () => {
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(manifest.sideEffects).toBe(false);
    expect(Object.keys(manifest.peerDependencies).sort()).toEqual(['@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-converter', '@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', 'fp-ts', 'jpeg-js', 'pngjs']);
    // Only fp-ts is required: an app that imports only the core needs no tfjs, wasm is a choice, the
    // converter is needed only by transferkit/tfjs/graph, and the decoders only by readImage of
    // transferkit/node (which loads them when it first meets a PNG or a JPEG).
    const optional = Object.entries(manifest.peerDependenciesMeta).flatMap(([name, meta]) => ((meta as { optional?: boolean }).optional === true ? [name] : []));
    expect(optional.sort()).toEqual(['@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-converter', '@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', 'jpeg-js', 'pngjs']);
    expect(manifest.dependencies ?? {}).toEqual({});
  });
});
