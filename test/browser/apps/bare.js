// No recipe: the app leaves transferkit to import tfjs-backend-wasm by name, which a page cannot do.
import '@tensorflow/tfjs-backend-cpu';
import { setupBackend } from 'transferkit/tfjs';
import { report } from './report.js';

report(setupBackend({ prefer: ['wasm', 'cpu'] }));
