import { either as E, type taskEither as TE } from 'fp-ts';
import type { Backbone, Pooling, TransferModel } from '../core/backbone';
import { within, type TransferError } from '../core/errors';
import type { Labels } from '../core/labels';
import { logme } from './logme';

/** A pretrained model to consider, with the target inputs in the form it takes. */
export interface BackboneCandidate<X, M extends TransferModel<X>> {
  readonly name: string;
  readonly backbone: Backbone<X, M>;
  /** The target inputs, prepared for this backbone (its input size, normalisation). */
  readonly x: X;
}

/** One candidate with its LogME score at its top feature layer. */
export interface RankedBackbone {
  readonly name: string;
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
 */
export const rankBackbones =
  <X, M extends TransferModel<X>>(
    candidates: ReadonlyArray<BackboneCandidate<X, M>>,
    labels: Labels,
    options: { readonly pooling?: Pooling; readonly batchSize?: number } = {},
  ): TE.TaskEither<TransferError, ReadonlyArray<RankedBackbone>> =>
  async () => {
    const ranked: RankedBackbone[] = [];
    for (const { name, backbone, x } of candidates) {
      const top = backbone.layers[backbone.top]!;
      const features = await backbone.embed(x, top, { pooling: options.pooling ?? 'average', batchSize: options.batchSize ?? 256 })();
      if (E.isLeft(features)) return E.left(within(name, features.left));
      const score = logme(features.right, labels);
      if (E.isLeft(score)) return E.left(within(name, score.left));
      ranked.push({ name, logme: score.right.value });
    }
    return E.right(ranked.sort((a, b) => b.logme - a.logme));
  };
