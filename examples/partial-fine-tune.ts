/**
 * User story: "I have more labelled data now. Train a head, then let the top of the model adapt too,
 * gently — and keep the lower layers exactly as they were."
 *
 * Run: npx tsx examples/partial-fine-tune.ts
 * The lower, frozen part runs once per example and is cached, so the fine-tune phase trains only
 * the top layers; the example prints which weights moved.
 */
import { either as E } from 'fp-ts';
import { fineTunePhase, headPhase, makeRecipe, partialFineTune } from 'transferkit';
import { tell } from './support/story';

const recipe = makeRecipe({
  ...partialFineTune,
  phases: [headPhase, fineTunePhase({ kind: 'top-layers', count: 1 })],
  rationale: ['A new head trains first on the frozen backbone; then the top layer fine-tunes with it at 0.3 times the head learning rate, the partial fine-tune default.'],
});
if (E.isLeft(recipe)) throw new Error(recipe.left.message);

await tell({
  title: 'Partial fine-tune: head first, then the top layer, at 0.3× the learning rate',
  recipe: recipe.right,
  perClass: 50,
  after: async (result, _, source) => {
    // Compare the copy's weights with the source's: only the top layer (and the new head) moved.
    const before = new Map<string, ArrayLike<number>>(source.layers.flatMap((l) => l.weights.map((w) => [`${l.name}/${w.originalName.split('/').pop()}`, w.read().dataSync()])));
    const trained = result.model.weights();
    if (E.isLeft(trained)) throw new Error(trained.left.message);
    const moved = [...trained.right].filter(([key, values]) => !before.has(key) || values.some((v, i) => v !== before.get(key)![i]));
    console.log(`moved     ${[...new Set(moved.map(([key]) => key.split('/')[0]))].join(', ')}; every other layer is bit-identical to the source`);
  },
});
