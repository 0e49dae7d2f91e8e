/**
 * User story: "I have a pretrained model and a few labelled examples of my own problem. Should I
 * train a new head, tap an earlier layer, fine-tune, or not transfer at all — and why?"
 *
 * Run: npx tsx examples/select-strategy.ts [--size N] [--similarity S] [--classes K]
 * With no arguments it walks through the four corners of the decision and a few points between.
 * The similarity is on the scale of `measureTransferGain`: 0.5 where the source's weights help no
 * more than random ones, above where they help, below where they hurt.
 */
import { either as E } from 'fp-ts';
import { backboneFraction, selectStrategy, tapDepth, type Recipe, type SelectStrategyArgs } from 'transferkit';

const describeRecipe = (r: Recipe): string => {
  const tap = r.tap.kind === 'top' ? 'top feature layer' : `relative depth ${tapDepth(r.tap)}`;
  const share = backboneFraction(r.trainable);
  const trains =
    r.start === 'random'
      ? 'every layer at once, from random weights: nothing transfers'
      : share === 0
        ? 'head only'
        : `head, then ${share === undefined ? 'part' : `${Math.round(share * 100)} %`} of the backbone`;
  const phases = r.phases
    .map((p) => `${p.name}: ${p.epochs} epochs${p.minSteps === undefined ? '' : ` (at least ${p.minSteps} steps)`} at lr ${p.learningRate}`)
    .join('; ');
  return [
    `  strategy  ${r.kind}`,
    `  tap       ${tap}`,
    `  trains    ${trains}`,
    `  phases    ${phases}`,
    ...r.rationale.map((line, i) => `  ${i === 0 ? 'why' : '   '}       ${line}`),
    ...r.warnings.map((line) => `  warning   ${line}`),
  ].join('\n');
};

const show = (args: SelectStrategyArgs): void => {
  const label = `size ${args.size}, similarity ${args.similarity}${args.classes === undefined ? '' : `, ${args.classes} classes`}`;
  const result = selectStrategy(args);
  console.log(E.isRight(result) ? `${label}\n${describeRecipe(result.right)}\n` : `${label}\n  error     ${result.left.message}\n`);
};

const flag = (name: string): number | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : undefined;
};

const size = flag('size');
const similarity = flag('similarity');
const classes = flag('classes');

if (size !== undefined || similarity !== undefined) {
  show({ size: size ?? 0, similarity: similarity ?? Number.NaN, ...(classes === undefined ? {} : { classes }) });
} else {
  console.log('transferkit selectStrategy: the four corners, then points between them.\n');
  show({ size: 30, similarity: 0.9, classes: 10 }); // small + similar
  show({ size: 30, similarity: 0.1, classes: 10 }); // small + different
  show({ size: 50_000, similarity: 0.9, classes: 10 }); // large + similar
  show({ size: 50_000, similarity: 0.55, classes: 10 }); // large + different: the source helps a little
  show({ size: 50_000, similarity: 0.3, classes: 10 }); // the source did worse than random weights: from scratch
  show({ size: 200, similarity: 0.6, classes: 10 }); // in between: 20 per class is enough to fine-tune (docs/study.md)
  show({ size: 3_000, similarity: 0.95, classes: 10 }); // in between
  show({ size: 100, similarity: 1.5, classes: 10 }); // bad input: a typed error, not an exception
}
