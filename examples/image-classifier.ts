/**
 * User story: "I have a pretrained image model and 20 photos of each of my 3 classes. Train a
 * classifier that answers with my class names, try it on a new photo, and save it."
 *
 * The scene (examples/support/photos.ts): a MobileNetV2 saved in `<dir>/mobilenet`, and PNG
 * photos in `<dir>/photos/<class>/` (MNIST digits 5, 6, 7 as "five", "six", "seven"), with one
 * held-out "six" as `<dir>/photos/new.png`. The story itself is the 12 lines between the markers,
 * imports included; the backend (`setupBackend`, as any tfjs app picks one) is set before it.
 *
 * Run: npx tsx examples/image-classifier.ts
 */
import { setupBackend } from 'transferkit/tfjs';
import { setScene } from './support/photos';

await setupBackend()();
const dir = await setScene();

// ---- the story: 12 lines ----
import * as tfl from '@tensorflow/tfjs-layers';
import { fromLayersModel, trainClassifier } from 'transferkit/tfjs';
import { fileHandler, readImages } from 'transferkit/node';
const labels = ['five', 'six', 'seven'].flatMap((name) => Array<string>(20).fill(name));
const photos = await readImages([...labels.map((name, i) => `${dir}/photos/${name}/${i % 20}.png`), `${dir}/photos/new.png`])();
const backbone = fromLayersModel(await tfl.loadLayersModel(fileHandler(`${dir}/mobilenet`)), { input: { range: [0, 1] } });
if (photos._tag === 'Left' || backbone._tag === 'Left') throw new Error('could not read the photos or the model');
const classifier = await trainClassifier(backbone.right, { images: photos.right.slice(0, 60), labels }, { resize: true, seed: 1 })();
if (classifier._tag === 'Left') throw new Error(classifier.left.message);
console.log(JSON.stringify(await classifier.right.classify(photos.right.slice(60), { topK: 2, resize: true })()));
console.log(JSON.stringify(await classifier.right.save(fileHandler(`${dir}/my-classifier`))()));
classifier.right.dispose();
// ---- end of the story ----

// The scene goes with the story.
import { rmSync } from 'node:fs';
rmSync(dir, { recursive: true, force: true });
