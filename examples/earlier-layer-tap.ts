/**
 * User story: "My classes are unlike the source's; its top layers are too specific. Read features
 * from lower down instead, by relative depth or by a layer's name."
 *
 * Run: npx tsx examples/earlier-layer-tap.ts
 */
import { either as E } from 'fp-ts';
import { earlierLayerTap, makeRecipe } from 'transferkit';
import { tell } from './support/story';

// The preset chooses its tap when it runs: of the block ends in the upper half below the top, the one
// whose activations best predict your labels by LogME (the result's `tapRanking` lists them). Here
// the tap is named instead: the last convolutional block, below the dense `features` layer (its
// feature maps are average-pooled into one row per image).
const recipe = makeRecipe({ ...earlierLayerTap, tap: { kind: 'layer', name: 'block3_relu' } });
if (E.isLeft(recipe)) throw new Error(recipe.left.message);

await tell({ title: 'Earlier-layer tap: a new head on more general features, backbone frozen', recipe: recipe.right, perClass: 5 });
