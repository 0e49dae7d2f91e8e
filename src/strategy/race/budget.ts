/**
 * Fitting a successive-halving race into a budget (Jamieson & Talwalkar, "Non-stochastic Best Arm
 * Identification and Hyperparameter Optimization", AISTATS 2016): each rung trains the surviving
 * candidates at a fraction of their schedule, on a fold of their own, and keeps the better half;
 * each rung's fraction is twice the last's. The plan is made before anything trains, from the
 * cost model (cost.ts), for the worst case: the most expensive candidates surviving every rung
 * and the most expensive winning (its retrain on all the data is part of the budget).
 */

/** How a race runs: how many candidates (the shortlist's first `count`) and each rung's fraction of a schedule. */
export interface RacePlan {
  /** Candidates that race: the first `count` of the shortlist. */
  readonly count: number;
  /** Each rung's fraction of a candidate's schedule, ascending; the winner retrains at least at the last (`retrainFraction`). Empty for one candidate: nothing races. */
  readonly fractions: ReadonlyArray<number>;
  /** The fraction of its schedule the plan reserves for the winner's retrain on all the data: the last rung's, or the lone candidate's. */
  readonly retrain: number;
  /** The plan's worst-case cost, in full-network steps. */
  readonly cost: number;
}

/** The last rung's fractions tried, largest first: the whole schedule, a half, a quarter, an eighth. */
export const FINAL_FRACTIONS = [1, 0.5, 0.25, 0.125] as const;

/**
 * No rung trains less than this share of a schedule: an eighth, the probe's
 * (`measureTransferGain`), the shortest at which the grid of #16 measured a difference between
 * candidates that predicted their outcome. Below it the cheap frozen heads won the ties: with a
 * step from random weights timed cheap, five candidates raced from a sixteenth or a thirty-second
 * of their schedules, and a feature extractor or an earlier tap won cells where a full fine-tune
 * was 9 to 18 points better. On a network whose from-scratch run costs six full fine-tunes (the
 * grid's MobileNet-style one), a budget of two then fits a full fine-tune and from scratch at an
 * eighth.
 */
export const MIN_RUNG_FRACTION = 0.125;

/** How many candidates survive a rung of `n`: the better half, rounded up. */
export const survivors = (n: number): number => Math.ceil(n / 2);

/** Rungs for `n` candidates: halving until two remain, and one rung for one. */
export const rungsFor = (n: number): number => Math.max(1, Math.ceil(Math.log2(n)));

/**
 * The worst-case cost of racing the first `count` candidates with the last rung at `final`.
 * `runCost(i, f)` is candidate i's cost on one fold at fraction f, `retrainCost(i, f)` on all the data.
 */
export const planCost = (count: number, final: number, runCost: (i: number, f: number) => number, retrainCost: (i: number, f: number) => number): RacePlan => {
  const rungs = rungsFor(count);
  const fractions = Array.from({ length: rungs }, (_, r) => final / 2 ** (rungs - 1 - r));
  let cost = 0;
  let alive = count;
  for (const f of fractions) {
    // The worst case: the `alive` most expensive candidates are the ones still running.
    const costs = Array.from({ length: count }, (_, i) => runCost(i, f)).sort((a, b) => b - a);
    cost += costs.slice(0, alive).reduce((s, c) => s + c, 0);
    alive = survivors(alive);
  }
  cost += Array.from({ length: count }, (_, i) => retrainCost(i, final)).reduce((m, c) => Math.max(m, c), 0);
  return { count, fractions, retrain: final, cost };
};

/**
 * The plan for a budget of `limit` full-network steps over `shortlist` candidates: as many of the
 * shortlist's first candidates as fit with the last rung at one of {@link FINAL_FRACTIONS} and no
 * rung below {@link MIN_RUNG_FRACTION}, at the largest last rung that fits. When not even two fit,
 * there is nothing to race: the first candidate alone, with no rung (`fractions` empty), retrained
 * at the largest of those fractions the budget pays for. A rung for one candidate would spend the
 * budget on a score nothing is compared with. `undefined` when not even its retrain fits at an eighth.
 */
export const planRace = (shortlist: number, limit: number, runCost: (i: number, f: number) => number, retrainCost: (i: number, f: number) => number): RacePlan | undefined => {
  for (let count = shortlist; count >= 2; count--) {
    for (const final of FINAL_FRACTIONS) {
      const p = planCost(count, final, runCost, retrainCost);
      if (p.fractions[0]! >= MIN_RUNG_FRACTION && p.cost <= limit) return p;
    }
  }
  const alone = FINAL_FRACTIONS.find((f) => f >= MIN_RUNG_FRACTION && retrainCost(0, f) <= limit);
  return alone === undefined ? undefined : { count: 1, fractions: [], retrain: alone, cost: retrainCost(0, alone) };
};

/** The least budget, in full-network steps, at which the shortlist's first two candidates race (at an eighth of their schedules). */
export const leastToRaceTwo = (runCost: (i: number, f: number) => number, retrainCost: (i: number, f: number) => number): number =>
  planCost(2, MIN_RUNG_FRACTION, runCost, retrainCost).cost;

/**
 * The fraction of its schedule the winner retrains at: all of it if what the race left of the
 * budget pays for that, else as much as it pays for, and never less than `raced` (the plan
 * reserved that much for any winner).
 */
export const retrainFraction = (left: number, fullCost: number, raced: number): number => Math.max(raced, Math.min(1, left / fullCost));
