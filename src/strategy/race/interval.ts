/**
 * The probe's interval (`TransferGain.interval`): how far its similarity can be trusted, from the
 * two held-out accuracies and the rows they were scored on. Kept apart from the probe so that the
 * calibration grid scores its committed readings with the same arithmetic.
 */

/**
 * The normal quantile of `measureTransferGain`'s `interval`: 1.645, so that each end is a one-sided 95 %
 * bound (the interval covers 90 %). `selectStrategy` trains from scratch only when the upper end is
 * below 0.5, i.e. when the probe shows at the 5 % level that random weights learn the target better.
 * The level is the conventional one, not fitted: on the grid of #16 (269 cells, docs/study.md)
 * 1.28 and 1.96 put the rule's mean regret at 0.5 and 0.7 points against its 0.6, with the same
 * worst group (1.0 would have done better there; choosing it after seeing that would be fitting it).
 */
export const PROBE_CONFIDENCE_Z = 1.645;

/**
 * The probe's similarity from its two held-out accuracies: `(1 + a_p − a_r) / 2`. The difference
 * is taken first: 1 + a − a is not always 1 in floating point, and an exact tie must read 0.5.
 */
export const gainSimilarity = (pretrained: number, random: number): number => (1 + (pretrained - random)) / 2;

/**
 * An interval for the similarity `(1 + a_p − a_r) / 2` from the two held-out accuracies and the
 * number of rows each was scored on: Agresti & Caffo's interval for a difference of proportions
 * ("Simple and effective confidence intervals for proportions and differences of proportions result
 * from adding two successes and two failures", The American Statistician 54(4), 2000): one success
 * and one failure are added to each side before the Wald interval is taken, which keeps it honest
 * at 10 rows and at accuracies of 0 or 1. Both sides are scored on the same rows; treating them as
 * independent makes the interval wider than a paired one whenever they tend to get the same rows
 * right, so it errs on the side of "not shown". Clipped to [0, 1].
 */
export const similarityInterval = (pretrained: number, random: number, scored: number, z: number = PROBE_CONFIDENCE_Z): { readonly low: number; readonly high: number } => {
  const n = Math.max(0, scored);
  const p = (pretrained * n + 1) / (n + 2);
  const r = (random * n + 1) / (n + 2);
  const half = z * Math.sqrt((p * (1 - p) + r * (1 - r)) / (n + 2));
  const clip = (x: number): number => Math.min(1, Math.max(0, x));
  return { low: clip((1 + p - r - half) / 2), high: clip((1 + p - r + half) / 2) };
};
