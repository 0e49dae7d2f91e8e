/**
 * The same contract on wasm, with transferkit's kernel pack: stock wasm cannot fine-tune the
 * convolutional model at all (it has no convolution filter gradient).
 */
import { afterAll, beforeAll } from 'vitest';
import { setupBackend, type BackendChoice } from 'transferkit/tfjs';
import { ok } from '../../fixtures/either';
import { runContract } from '../../strategy/contract';
import { subjects } from './subject';

let choice: BackendChoice | undefined;
beforeAll(async () => {
  choice = ok(await setupBackend({ prefer: ['wasm'] })());
});
afterAll(() => choice?.kernels?.unregister());

for (const subject of subjects('wasm')) runContract(subject);
