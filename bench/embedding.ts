/**
 * Embedding with a MobileNetV2 (224², random weights, built in code): images/s at the top
 * (`out_relu`, 7×7×1280) and at an earlier tap (`block_12_add`, 14×14×96), transferkit's
 * `backbone.embed` (BatchNorm folded, activations fused) against stock `model.predict` of the same
 * cut, on wasm (with and without transferkit) and on cpu — side by side in one run. On wasm also
 * transferkit's embed in worker threads (`transferkit/tfjs/threads`, one per core). GFLOP/s count
 * 2 per multiply-add; the peak is the issue's: wasm SIMD without FMA, 4 lanes × 2 ops × clock ×
 * cores, with the clock read from /proc/cpuinfo. Beside them, PyTorch inference (`eval`, `no_grad`)
 * of the same network with the same weights (rebuilt by bench/keras_graph.py from an export), on 1
 * and 2 threads, skipped with a message when Debian's python3-torch is missing.
 * Run: npm run bench -- embedding
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism, tmpdir } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import { either as E } from 'fp-ts';
import { fromLayersModel } from 'transferkit/tfjs';
import { withThreads, type ThreadedBackbone } from 'transferkit/tfjs/threads';
import { exportKeras } from './support/exportKeras';
import { mobileNetV2, multiplyAdds } from './support/mobilenetv2';

const SIZE = 224;
const BATCH = 16;
const TAPS = ['out_relu', 'block_12_add'] as const;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const clockGHz = (): number | undefined => {
  try {
    const mhz = [...readFileSync('/proc/cpuinfo', 'utf8').matchAll(/cpu MHz\s*:\s*([\d.]+)/g)].map((m) => Number(m[1]));
    return mhz.length > 0 ? Math.max(...mhz) / 1000 : undefined;
  } catch {
    return undefined;
  }
};

/** PyTorch's eval-mode inference rate up to `tap` on `threads` threads, or why it could not run. */
const torchRate = (dir: string, tap: string, images: number, threads: number): { rate: number; version: string } | { error: string } => {
  try {
    const script = fileURLToPath(new URL('./keras_graph.py', import.meta.url));
    const out = JSON.parse(execFileSync('/usr/bin/python3', [script, dir, tap, String(images), String(BATCH), String(threads)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
    return { rate: out.imagesPerSecond as number, version: out.torch as string };
  } catch (error) {
    return { error: `${(error as Error).message.split('\n')[0]} (install it with: apt-get install python3-torch)` };
  }
};

/** Images/s of `f` over `images` inputs: median of `runs` after a warm-up. */
const rate = async (images: number, runs: number, f: () => Promise<void>): Promise<number> => {
  await f();
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    await f();
    times.push(performance.now() - start);
  }
  return images / (median(times) / 1000);
};

export const run = async (): Promise<void> => {
  await tf.setBackend('wasm');
  const model = mobileNetV2(SIZE);
  const backbone = fromLayersModel(model, { top: 'out_relu' });
  if (E.isLeft(backbone)) throw new Error(backbone.left.message);
  const ghz = clockGHz();
  const cores = availableParallelism();
  const peak = ghz === undefined ? undefined : 4 * 2 * ghz * cores;
  console.log(`MobileNetV2 ${SIZE}², batch ${BATCH}, images/s (median of runs after a warm-up)`);
  if (peak !== undefined) console.log(`peak (wasm SIMD, no FMA): 4 × 2 × ${ghz!.toFixed(2)} GHz × ${cores} cores = ${peak.toFixed(1)} GFLOP/s; tfjs wasm runs on one thread in Node, so one core's peak is ${(peak / cores).toFixed(1)}`);
  const rows: string[] = [];
  /** transferkit's wasm rate by tap and thread count, for the ratios to PyTorch. */
  const ourRates = new Map<string, number>();
  for (const backend of ['wasm', 'cpu']) {
    await tf.setBackend(backend);
    // On wasm, 4 batches: with one thread per core each thread still gets two.
    const images = backend === 'cpu' ? BATCH : 4 * BATCH;
    const runs = backend === 'cpu' ? 1 : 3;
    const x = tf.randomUniform([images, SIZE, SIZE, 3], 0, 1, 'float32', 5);
    // Worker threads on wasm only: each runs the backend the caller's thread uses.
    let threads: ThreadedBackbone | undefined;
    if (backend === 'wasm') {
      const started = await withThreads(model, { top: 'out_relu' })();
      if (E.isLeft(started)) throw new Error(started.left.message);
      threads = started.right;
    }
    for (const tap of TAPS) {
      const flops = 2 * multiplyAdds(model, tap);
      const cut = tfl.model({ inputs: model.inputs, outputs: model.getLayer(tap).output as tfl.SymbolicTensor });
      const info = backbone.right.layers.find((l) => l.name === tap)!;
      const stock = await rate(images, runs, async () => {
        const out = cut.predict(x, { batchSize: BATCH }) as tf.Tensor;
        await out.data();
        out.dispose();
      });
      const ours = await rate(images, runs, async () => {
        const m = await backbone.right.embed(x, info, { pooling: 'average', batchSize: BATCH })();
        if (E.isLeft(m)) throw new Error(m.left.message);
      });
      let threaded: number | undefined;
      if (threads !== undefined) {
        const t = threads;
        threaded = await rate(images, runs, async () => {
          const m = await t.embed(x, info, { pooling: 'average', batchSize: BATCH })();
          if (E.isLeft(m)) throw new Error(m.left.message);
        });
      }
      if (backend === 'wasm') {
        ourRates.set(`${tap} 1`, ours);
        if (threaded !== undefined) ourRates.set(`${tap} ${threads!.threads}`, threaded);
      }
      const gflops = (r: number) => (r * flops) / 1e9;
      const share = (r: number) => (peak === undefined ? '' : `, ${((100 * gflops(r)) / peak).toFixed(0)} % of peak`);
      rows.push(
        `  ${backend.padEnd(5)} ${tap.padEnd(13)} ${(flops / 1e9).toFixed(2)} GFLOP/image   stock predict ${stock.toFixed(1).padStart(6)} img/s   transferkit embed ${ours.toFixed(1).padStart(6)} img/s (${gflops(ours).toFixed(1)} GFLOP/s${share(ours)})   ${(ours / stock).toFixed(2)}×`,
      );
      console.log(rows.at(-1));
      if (threaded !== undefined) {
        rows.push(
          `  ${backend.padEnd(5)} ${tap.padEnd(13)} ${(flops / 1e9).toFixed(2)} GFLOP/image   transferkit embed in ${threads!.threads} threads ${threaded.toFixed(1).padStart(6)} img/s (${gflops(threaded).toFixed(1)} GFLOP/s${share(threaded)})   ${(threaded / ours).toFixed(2)}× one thread, ${(threaded / stock).toFixed(2)}× stock`,
        );
        console.log(rows.at(-1));
      }
    }
    x.dispose();
    await threads?.close();
  }
  // The same network and weights in PyTorch, inference as its users run it: eval(), no_grad.
  const dir = mkdtempSync(join(tmpdir(), 'embedding-bench-'));
  try {
    exportKeras(model, dir);
    for (const tap of TAPS) {
      for (const t of new Set([1, cores])) {
        const torch = torchRate(dir, tap, 4 * BATCH, t);
        const ours = ourRates.get(`${tap} ${t}`);
        const ratio = 'rate' in torch && ours !== undefined ? `   transferkit embed on ${t} thread(s) / PyTorch: ${(ours / torch.rate).toFixed(2)}×` : '';
        console.log(`  torch ${tap.padEnd(13)} ${'rate' in torch ? `PyTorch ${torch.version} eval + no_grad, ${t} thread(s) ${torch.rate.toFixed(1).padStart(6)} img/s${ratio}` : `PyTorch skipped: ${torch.error}`}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  model.dispose();
};
