// Used only when transferkit runs from its TypeScript sources (its tests and scripts): a worker
// thread cannot load worker.ts by itself, so this registers tsx first. The built package starts
// its compiled worker directly.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.source);
