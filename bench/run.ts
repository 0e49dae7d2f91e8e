/**
 * Runs the benchmarks: `npm run bench` for all, `npm run bench -- logme` for one. Each prints
 * ratios measured side by side in one run; docs/benchmarks.md records results with the command.
 */
import { run as cache } from './cacheMemory';
import { run as cnn } from './cnnTraining';
import { run as embedding } from './embedding';
import { run as finetune } from './fineTune';
import { run as fresh } from './freshProducts';
import { run as heap } from './heapKernels';
import { run as size } from './bundleSize';
import { run as browser } from './browserDemo';
import { run as kernels } from './kernels';
import { run as logme } from './logme';
import { run as parallel } from './parallelBound';
import { run as steps } from './stepCost';
import { run as threadmem } from './threadMemory';
import { run as workload } from './workload';
import { run as flat } from './workloadMemory';
import { run as memory } from './stepMemory';
import { run as microbatch } from './microBatches';
import { run as graph } from './graphEmbedding';
import { run as adabn } from './adaBN';
import { run as race } from './race';

const benches: Record<string, () => void | Promise<void>> = { logme, kernels, fresh, heap, cnn, embedding, finetune, cache, parallel, steps, threadmem, size, browser, workload, flat, memory, microbatch, graph, adabn, race };
const chosen = process.argv.slice(2);
for (const name of chosen.length > 0 ? chosen : Object.keys(benches)) {
  const bench = benches[name];
  if (bench === undefined) {
    console.error(`unknown bench ${name}; choose from: ${Object.keys(benches).join(', ')}`);
    process.exitCode = 2;
  } else await bench();
}
