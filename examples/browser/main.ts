/**
 * User story: "I want my web page to learn three new digits from a handful of examples, show me
 * what transferkit recommends and why, train while I watch, tell me whether transfer beat training
 * from scratch, classify what I draw, and keep the model."
 *
 * The source: transferkit's small MNIST CNN, trained on digits 0–4. The target: three of digits
 * 5–9, from MNIST samples bundled with the page or drawn on the pad. Build and serve it with
 * `npm run demo:browser`; `?backend=webgl|wasm|cpu` insists on one backend, `?budget=` sets the
 * time budget of each training phase (see PHASE_BUDGET_MS).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import * as wasm from '@tensorflow/tfjs-backend-wasm';
import { either as E } from 'fp-ts';
import { featureExtractor, fromScratch, measureTransferGain, selectStrategy, transfer, type Progress, type Recipe } from 'transferkit';
import { fromLayersModel, setupBackend, type TfjsBackbone, type TfjsTransferModel } from 'transferkit/tfjs';
import { drawChart, type Series } from './chart';
import { loadDigits, type Digits } from './digits';
import { DrawingPad, SIDE, thumbnail } from './pad';

const $ = <T extends Element = HTMLElement>(id: string): T => document.querySelector(`[data-testid="${id}"]`) as T;
const log = (line: string): void => {
  $('log').textContent += `${line}\n`;
};
const ms = (t: number): string => (t < 1000 ? `${t.toFixed(0)} ms` : `${(t / 1000).toFixed(1)} s`);

const DIGITS = [5, 6, 7, 8, 9] as const;
const SEED = 1;
const BATCH = 16;
/**
 * Each training phase stops after this much training time (transfer's `maxPhaseMs`), so a slow
 * backend still gives a head in seconds; on a fast one the phases end on their own schedule first.
 * `?budget=none` lifts it, so that the same seed gives the same models on any machine (the
 * browser test does this); `?budget=1500` sets another.
 */
const PHASE_BUDGET_MS = ((asked: string | null): number | undefined => (asked === 'none' ? undefined : asked === null ? 3000 : Number(asked)))(
  new URLSearchParams(location.search).get('budget'),
);
/** A run of the comparison: what was trained, how, and how well it did on the held-out digits. */
interface Run {
  readonly label: string;
  readonly colour: string;
  readonly recipe: Recipe;
  model?: TfjsTransferModel;
  ms?: number;
  /** Held-out accuracy per class, in the order of the class cards. */
  perClass?: number[];
  /** Held-out accuracy over all three classes. */
  overall?: number;
}

interface ClassCard {
  digit: number;
  /** Bundled MNIST examples taken so far. */
  taken: number;
  readonly images: Float32Array[];
  readonly thumbs: HTMLElement;
  readonly count: HTMLElement;
}

const state: { backbone?: TfjsBackbone; source?: tfl.LayersModel; digits?: Digits; live: TfjsTransferModel | undefined; runs: Run[]; busy: boolean } = { live: undefined, runs: [], busy: false };
const cards: ClassCard[] = [];
let pad: DrawingPad;

/** For the browser test: the tensors tfjs holds, and the count once the source model is loaded. */
const hooks = { ready: false, tensors: () => tf.memory().numTensors, tensorsAtStart: -1, firstHeadMs: -1 };
(window as unknown as { transferkitDemo: typeof hooks }).transferkitDemo = hooks;

const asTensor = (images: ReadonlyArray<Float32Array>): tf.Tensor4D => {
  const flat = new Float32Array(images.length * SIDE * SIDE);
  images.forEach((image, i) => flat.set(image, i * SIDE * SIDE));
  return tf.tensor4d(flat, [images.length, SIDE, SIDE, 1]);
};

const chooseBackend = async (): Promise<void> => {
  // webgl compiles a shader per operation and input shape unless shapes are uniforms; batches of
  // different sizes (the last of an epoch, the held-out set) would each compile their own.
  tf.env().set('WEBGL_USE_SHAPES_UNIFORMS', true);
  const asked = new URLSearchParams(location.search).get('backend');
  const prefer = asked === null ? ['webgl', 'wasm', 'cpu'] : [asked];
  // The wasm binaries are copied next to the page, in wasm/ (scripts/browser/build.ts).
  const choice = await setupBackend({ prefer, wasmModule: wasm, wasmPaths: new URL('wasm/', location.href).href })();
  if (E.isLeft(choice)) throw new Error(choice.left.message);
  $('backend').textContent = choice.right.backend;
  $('backend-detail').textContent = choice.right.description;
  log(choice.right.description);
};

const renderCards = (): void => {
  const root = $('classes');
  DIGITS.slice(0, 3).forEach((digit, k) => {
    const el = document.createElement('div');
    el.className = 'card class-card';
    el.dataset['testid'] = `class-${k}`;
    el.innerHTML = `<strong>Class ${k + 1}</strong>: digit <select>${DIGITS.map((d) => `<option${d === digit ? ' selected' : ''}>${d}</option>`).join('')}</select>
      <span class="muted" data-count></span><br><button data-testid="add-examples-${k}">Add 10 MNIST examples</button><div class="thumbs"></div>`;
    const card: ClassCard = { digit, taken: 0, images: [], thumbs: el.querySelector('.thumbs')!, count: el.querySelector('[data-count]')! };
    el.querySelector('select')!.addEventListener('change', (e) => {
      card.digit = Number((e.target as HTMLSelectElement).value);
      card.taken = 0;
      card.images.length = 0;
      card.thumbs.replaceChildren();
      update();
    });
    el.querySelector('button')!.addEventListener('click', () => {
      const pool = state.digits!.examples(card.digit);
      for (const image of pool.slice(card.taken, card.taken + 10)) addImage(card, image);
      card.taken = Math.min(pool.length, card.taken + 10);
    });
    root.append(el);
    cards.push(card);
  });
  const add = $('add-drawing');
  add.textContent = 'Add drawing to: ';
  cards.forEach((card, k) => {
    const b = document.createElement('button');
    b.dataset['testid'] = `add-drawing-${k}`;
    b.addEventListener('click', () => {
      if (pad.isEmpty) return;
      addImage(card, pad.image());
      pad.clear();
    });
    add.append(b);
  });
  update();
};

const addImage = (card: ClassCard, image: Float32Array): void => {
  card.images.push(image);
  card.thumbs.append(thumbnail(image));
  update();
};

const update = (): void => {
  cards.forEach((card, k) => {
    card.count.textContent = `${card.images.length} examples`;
    const b = $(`add-drawing-${k}`);
    if (b !== null) b.textContent = String(card.digit);
  });
  const distinct = new Set(cards.map((c) => c.digit)).size === cards.length;
  ($('train') as HTMLButtonElement).disabled = state.busy || !distinct || cards.some((c) => c.images.length < 2);
  const trained = state.live !== undefined && !state.busy;
  for (const id of ['save', 'download', 'reset']) ($(id) as HTMLButtonElement).disabled = !trained;
};

/** The most probable class of row `i` of a row-major matrix of `k` class probabilities. */
const bestClass = (probs: ArrayLike<number>, i: number, k: number): number => {
  let best = 0;
  for (let j = 1; j < k; j++) if (probs[i * k + j]! > probs[i * k + best]!) best = j;
  return best;
};

/** Held-out accuracy of `model` on the bundled test digits of the chosen classes: per class, then overall. */
const score = async (model: TfjsTransferModel): Promise<{ perClass: number[]; overall: number }> => {
  const perClass: number[] = [];
  let correct = 0;
  let total = 0;
  for (const [k, card] of cards.entries()) {
    const images = state.digits!.heldOut(card.digit);
    const x = asTensor(images);
    const probs = await model.predict(x)();
    x.dispose();
    if (E.isLeft(probs)) throw new Error(probs.left.message);
    const { rows, cols, data } = probs.right;
    let right = 0;
    for (let i = 0; i < rows; i++) if (bestClass(data, i, cols) === k) right++;
    perClass.push(right / rows);
    correct += right;
    total += rows;
  }
  return { perClass, overall: correct / total };
};

const renderResults = (): void => {
  const done = state.runs.filter((r) => r.overall !== undefined);
  const pct = (v: number): string => `${(100 * v).toFixed(0)} %`;
  const heldOut = state.digits!.heldOut(cards[0]!.digit).length;
  $('results').innerHTML = `<table><tr><th>held-out accuracy</th>${done.map((r) => `<th style="color:${r.colour}">${r.label}</th>`).join('')}</tr>
    ${cards.map((c, k) => `<tr><td>digit ${c.digit} (${heldOut} images)</td>${done.map((r) => `<td data-testid="accuracy-${r.recipe.kind}-${k}">${pct(r.perClass![k]!)}</td>`).join('')}</tr>`).join('')}
    <tr><th>all</th>${done.map((r) => `<th data-testid="accuracy-${r.recipe.kind}">${pct(r.overall!)}</th>`).join('')}</tr>
    <tr><td>time</td>${done.map((r) => `<td>${ms(r.ms!)}</td>`).join('')}</tr></table>`;
};

const train = async (): Promise<void> => {
  state.busy = true;
  update();
  disposeRuns();
  const started = performance.now();
  const images = cards.flatMap((c) => c.images);
  const y = cards.flatMap((c, k) => c.images.map(() => k));
  const x = asTensor(images);
  const backbone = state.backbone!;
  const baseline = ($('baseline') as HTMLInputElement).checked;
  const series: Series[] = [];
  try {
    // 1. A new head on the frozen source: the fastest way to a working classifier.
    const runs: Run[] = [{ label: 'new head', colour: '#3a7bd5', recipe: featureExtractor }];
    state.runs = runs;
    const progressBar = $('progress') as HTMLProgressElement;
    let lastDraw = 0;
    const runOne = async (run: Run, index: number, total: () => number): Promise<void> => {
      const s: Series = { label: run.label, colour: run.colour, loss: [], accuracy: [] };
      series.push(s);
      const t0 = performance.now();
      const onProgress = (p: Progress): void => {
        if (p.batch === p.batches) {
          s.loss.push(p.loss);
          s.accuracy.push(p.accuracy);
        }
        // The page is redrawn at most every 150 ms: on a software-rendered GPU every repaint
        // competes with training for the same cores.
        const now = performance.now();
        if (now - lastDraw > 150) {
          lastDraw = now;
          const within = (p.phaseIndex + (p.epoch - 1 + p.batch / p.batches) / p.epochs) / p.phases;
          progressBar.value = (index + within) / total();
          $('status').textContent = `${run.label}: ${p.phase} phase, epoch ${p.epoch} of ${p.epochs}, loss ${p.loss.toFixed(3)}, training accuracy ${(100 * p.accuracy).toFixed(0)} %`;
          drawChart($('chart') as unknown as SVGSVGElement, series);
        }
      };
      const result = await transfer(backbone, run.recipe, { x, y }, { seed: SEED, batchSize: BATCH, ...(PHASE_BUDGET_MS === undefined ? {} : { maxPhaseMs: PHASE_BUDGET_MS }), onProgress })();
      if (E.isLeft(result)) throw new Error(`${run.label}: ${result.left.message}`);
      run.model = result.right.model;
      run.ms = performance.now() - t0;
      Object.assign(run, await score(run.model));
      const phases = result.right.history.map((h) => `${h.name} ${h.steps} steps${h.stop === 'time-budget' ? ' (time budget)' : ''}`).join(', ');
      log(`${run.label} (${run.recipe.kind}): ${ms(run.ms)} (${phases}), held-out accuracy ${(100 * run.overall!).toFixed(1)} %`);
      drawChart($('chart') as unknown as SVGSVGElement, series);
      renderResults();
    };
    await runOne(runs[0]!, 0, () => runs.length);
    state.live = runs[0]!.model;
    hooks.firstHeadMs = performance.now() - started;
    log(`first trained head after ${ms(hooks.firstHeadMs)}`);
    await predictDrawing();

    // 2. What the selector recommends for this data, from its size and how much the source's
    //    weights help on these examples: a short fine-tune against a short run from random weights.
    const measured = await measureTransferGain(backbone, { x, y }, { seed: SEED, classes: cards.length, batchSize: BATCH })();
    if (E.isLeft(measured)) throw new Error(measured.left.message);
    const picked = selectStrategy({ size: images.length, similarity: measured.right, classes: cards.length });
    if (E.isLeft(picked)) throw new Error(picked.left.message);
    const recipe = picked.right;
    $('advice').innerHTML = `<div data-testid="pick"><strong>${recipe.kind}</strong> for ${images.length} examples at a measured transfer gain of ${measured.right.similarity.toFixed(2)}</div>
      <ul>${[...recipe.rationale, ...recipe.warnings].map((r) => `<li>${r}</li>`).join('')}</ul>`;
    if (recipe.kind !== 'feature-extractor') runs.push({ label: `selector: ${recipe.kind}`, colour: '#d5783a', recipe });
    if (baseline) runs.push({ label: 'from scratch', colour: '#888', recipe: fromScratch });
    for (let i = 1; i < runs.length; i++) await runOne(runs[i]!, i, () => runs.length);
    const pick = runs.find((r) => r.recipe === recipe);
    if (pick?.model !== undefined) state.live = pick.model;
    progressBar.value = 1;
    $('status').textContent = `done in ${ms(performance.now() - started)}; live predictions use ${pick?.label ?? 'the new head'}`;
    await predictDrawing();
  } catch (thrown) {
    $('status').textContent = `failed: ${(thrown as Error).message}`;
    log(`failed: ${(thrown as Error).message}`);
  } finally {
    x.dispose();
    state.busy = false;
    update();
  }
};

const predictDrawing = async (): Promise<void> => {
  if (state.live === undefined || pad.isEmpty) return;
  const x = asTensor([pad.image()]);
  const probs = await state.live.predict(x)();
  x.dispose();
  if (E.isLeft(probs)) return void log(probs.left.message);
  const p = probs.right.data;
  const best = bestClass(p, 0, cards.length);
  $('prediction').innerHTML = `<div data-testid="predicted">${cards[best]!.digit}</div>` +
    cards.map((c, k) => `<div>${c.digit} <span class="bar" style="width:${(150 * p[k]!).toFixed(0)}px"></span> ${(100 * p[k]!).toFixed(0)} %</div>`).join('');
};

const SAVED = 'indexeddb://transferkit-demo';

const save = async (): Promise<void> => {
  const saved = await state.live!.save(SAVED)();
  $('saved').textContent = E.isLeft(saved) ? `not saved: ${saved.left.message}` : `saved to ${SAVED} (${saved.right.modelArtifactsInfo.weightDataBytes ?? 0} bytes of weights)`;
  ($('reload') as HTMLButtonElement).disabled = E.isLeft(saved);
};

/** Loads the saved model back as a plain tfjs LayersModel and checks it predicts as the live one does. */
const reload = async (): Promise<void> => {
  const images = cards.flatMap((c) => state.digits!.heldOut(c.digit));
  let reloaded: tfl.LayersModel | undefined;
  const x = asTensor(images);
  let a: Float32Array;
  let ours: Awaited<ReturnType<ReturnType<TfjsTransferModel['predict']>>>;
  try {
    reloaded = await tfl.loadLayersModel(SAVED);
    const model = reloaded;
    const theirs = tf.tidy(() => model.predict(x) as tf.Tensor);
    try {
      a = (await theirs.data()) as Float32Array;
    } finally {
      theirs.dispose();
    }
    ours = await state.live!.predict(x)();
  } catch (thrown) {
    return void ($('saved').textContent = `could not reload: ${(thrown as Error).message}`);
  } finally {
    x.dispose();
    reloaded?.dispose();
  }
  if (E.isLeft(ours)) return void ($('saved').textContent = ours.left.message);
  let same = 0;
  let maxDiff = 0;
  const k = cards.length;
  for (let i = 0; i < images.length; i++) {
    if (bestClass(a, i, k) === bestClass(ours.right.data, i, k)) same++;
    for (let j = 0; j < k; j++) maxDiff = Math.max(maxDiff, Math.abs(a[i * k + j]! - ours.right.data[i * k + j]!));
  }
  $('saved').innerHTML = `reloaded from ${SAVED}: <span data-testid="reload-agreement">${same}/${images.length}</span> held-out images get the same class (largest probability difference ${maxDiff.toExponential(1)})`;
};

const disposeRuns = (): void => {
  for (const run of state.runs) run.model?.dispose();
  state.runs = [];
  state.live = undefined;
};

/**
 * A GPU backend compiles a shader the first time it runs each operation, which on webgl takes
 * seconds. One step of a head on blank images, while the user is still choosing examples, pays
 * that before the first Train click.
 */
const warmUp = async (backbone: TfjsBackbone): Promise<void> => {
  const t0 = performance.now();
  const x = tf.zeros([3, SIDE, SIDE, 1]);
  const result = await transfer(backbone, featureExtractor, { x, y: [0, 1, 2] }, { epochs: 1 })();
  if (E.isRight(result)) {
    await result.right.model.predict(x)();
    result.right.model.dispose();
  }
  x.dispose();
  log(`warmed up the backend in ${ms(performance.now() - t0)}`);
};

const main = async (): Promise<void> => {
  await chooseBackend();
  state.digits = await loadDigits(new URL('./', location.href));
  state.source = await tfl.loadLayersModel(new URL('model/model.json', location.href).href);
  // The top the demo's numbers were measured with (the source's `features` layer; scripts/mnist/sourceModel.ts).
  const backbone = fromLayersModel(state.source, { top: 'features' });
  if (E.isLeft(backbone)) throw new Error(backbone.left.message);
  state.backbone = backbone.right;
  await warmUp(backbone.right);
  log(`source model: ${state.source.layers.length} layers, trained on MNIST digits 0–4; top feature layer '${backbone.right.layers[backbone.right.top]?.name ?? backbone.right.top}'`);
  pad = new DrawingPad($('pad') as HTMLCanvasElement, () => void predictDrawing());
  renderCards();
  $('clear').addEventListener('click', () => pad.clear());
  $('train').addEventListener('click', () => void train());
  $('save').addEventListener('click', () => void save());
  $('reload').addEventListener('click', () => void reload());
  $('download').addEventListener('click', () => void state.live?.save('downloads://transferkit-demo')());
  $('reset').addEventListener('click', () => {
    disposeRuns();
    $('results').replaceChildren();
    $('prediction').textContent = 'Train first, then draw.';
    $('saved').textContent = `trained models disposed; tfjs holds ${tf.memory().numTensors} tensors (the source model's)`;
    update();
  });
  hooks.tensorsAtStart = tf.memory().numTensors;
  hooks.ready = true;
};

main().catch((thrown: unknown) => {
  $('backend').textContent = 'failed';
  log(`could not start: ${(thrown as Error).message}`);
  console.error(thrown);
});
