/**
 * User story: "I have a model trained on a related problem and five labelled examples per class of
 * mine. Train a new head on its features and leave the model alone."
 *
 * Run: npx tsx examples/feature-extractor.ts
 */
import { featureExtractor } from 'transferkit';
import { tell } from './support/story';

await tell({ title: 'Feature extractor: a new head on the top features, backbone frozen', recipe: featureExtractor, perClass: 5 });
