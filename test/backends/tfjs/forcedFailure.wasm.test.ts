/** Forced failures at every stage, on the wasm backend with transferkit's kernels (see forcedFailure.ts). */
import { afterAll, beforeAll, describe } from 'vitest';
import { setupBackend, type BackendChoice } from 'transferkit/tfjs';
import { ok } from '../../fixtures/either';
import { expectNoLeakedTensors } from '../../fixtures/tensors';
import { forcedFailureTests } from './forcedFailure';

let choice: BackendChoice | undefined;
beforeAll(async () => {
  choice = ok(await setupBackend({ prefer: ['wasm'] })());
});
afterAll(() => choice?.kernels?.unregister());
expectNoLeakedTensors();

describe('forced failure (wasm)', forcedFailureTests);
