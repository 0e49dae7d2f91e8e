import { either as E, type taskEither as TE } from 'fp-ts';
import { checkBackbone, checkEmbedOptions, type Backbone, type Pooling, type TransferModel } from '../core/backbone';
import { guardTask } from '../core/boundary';
import { invalidArgument, within, type TransferError } from '../core/errors';
import { checkLabels } from '../core/labels';
import type { Labels } from '../core/labels';
import { logme } from './logme';

/** A pretrained model to consider, with the target inputs in the form it takes. */
export interface BackboneCandidate<X, M extends TransferModel<X>> {
  /** A name for the report, e.g. the model's. */
  readonly name: string;
  /** The pretrained model, through a backend. */
  readonly backbone: Backbone<X, M>;
  /** The target inputs, prepared for this backbone (its input size, normalisation). */
  readonly x: X;
}

/** One candidate with its LogME score at its top feature layer. */
export interface RankedBackbone {
  /** The candidate's name. */
  readonly name: string;
  /** LogME of its top features on the target labels (nats per example; higher transfers better). */
  readonly logme: number;
}

/**
 * Orders pretrained models by how well their top features predict the target labels, by LogME:
 * which model to start from, without fine-tuning any of them.
 *
 * @example
 * ```ts
 * import { rankBackbones, type BackboneCandidate, type TransferModel } from 'transferkit';
 * import { either as E } from 'fp-ts';
 *
 * export const pick = async <X, M extends TransferModel<X>>(candidates: ReadonlyArray<BackboneCandidate<X, M>>, y: number[]) => {
 *   const ranked = await rankBackbones(candidates, y)();
 *   return E.map((r: ReadonlyArray<{ name: string }>) => r[0]!.name)(ranked);
 * };
 * ```
 * @function
 */
export const rankBackbones = guardTask(
  'rankBackbones',
  <X, M extends TransferModel<X>>(
    candidates: ReadonlyArray<BackboneCandidate<X, M>>,
    labels: Labels,
    options?: { readonly pooling?: Pooling; readonly batchSize?: number; readonly signal?: AbortSignal },
  ): TE.TaskEither<TransferError, ReadonlyArray<RankedBackbone>> =>
  async () => {
    // Every argument is checked before the first candidate is embedded.
    const how = checkEmbedOptions(options);
    if (E.isLeft(how)) return how;
    const ids = checkLabels(labels);
    if (E.isLeft(ids)) return ids;
    if (!Array.isArray(candidates) || candidates.length === 0) return E.left(invalidArgument('candidates', 'a non-empty array of { name, backbone, x }', candidates));
    const checked: Array<{ name: string; backbone: Backbone<X, M>; x: X }> = [];
    for (const [i, c] of candidates.entries()) {
      if (typeof c !== 'object' || c === null || typeof c.name !== 'string' || c.name.length === 0) return E.left(invalidArgument(`candidates[${i}]`, 'a candidate { name (a non-empty string), backbone, x }', c));
      const b = checkBackbone<X, M>(`candidates[${i}].backbone`, c.backbone);
      if (E.isLeft(b)) return b;
      checked.push({ name: c.name, backbone: b.right, x: c.x });
    }
    const ranked: RankedBackbone[] = [];
    for (const { name, backbone, x } of checked) {
      const features = await backbone.embed(x, backbone.layers[backbone.top]!, how.right)();
      if (E.isLeft(features)) return E.left(within(name, features.left));
      const score = logme(features.right, ids.right.ids);
      if (E.isLeft(score)) return E.left(within(name, score.left));
      ranked.push({ name, logme: score.right.value });
    }
    return E.right(ranked.sort((a, b) => b.logme - a.logme));
  },
);
