/**
 * Runs one audit case (`tsx scripts/audit/case.ts <id>`) in this process and prints its verdict as
 * one JSON line; run.ts starts one such process per case, with a timeout.
 */
import { CASES } from './cases';
import { load, tf } from './support';

const id = process.argv[2];
const found = CASES.find((c) => c.id === id);
if (found === undefined) {
  console.log(JSON.stringify({ good: false, detail: `no case ${id}` }));
  process.exit(0);
}
const lib = await load();
const backend = found.backend ?? 'cpu';
const chosen = await lib.tfjs.setupBackend({ prefer: [backend] })();
if (chosen._tag === 'Left') {
  console.log(JSON.stringify({ good: false, detail: `backend: ${chosen.left.message}` }));
  process.exit(0);
}
const before = tf.memory().numTensors;
let verdict;
try {
  verdict = await found.run(lib);
} catch (thrown) {
  verdict = { good: false, detail: `the case threw: ${(thrown as Error)?.message ?? thrown}` };
}
const leaked = tf.memory().numTensors - before;
if (leaked !== 0) verdict = { good: false, detail: `${verdict.detail}; ${leaked} tensors leaked` };
console.log(JSON.stringify(verdict));
process.exit(0);
