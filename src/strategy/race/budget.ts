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
  /** Each rung's fraction of a candidate's schedule, ascending; the winner retrains at least at the last (`retrainFraction`). */
  readonly fractions: ReadonlyArray<number>;
  /** The plan's worst-case cost, in full-network steps. */
  readonly cost: number;
}

/** The final fractions tried, largest first: a winner trained on its whole schedule, or a half, or a quarter. */
export const FINAL_FRACTIONS = [1, 0.5, 0.25] as const;

/**
 * The last rung's fraction when no two candidates fit at a quarter: an eighth, the probe's
 * (`measureTransferGain`). Tried only to race two or more, so that where a quarter fits the plan
 * is what it was: on a network whose from-scratch run costs six full fine-tunes (the grid's
 * MobileNet-style one), a budget of two fits a full fine-tune and from scratch at an eighth, and
 * nothing at a quarter but one candidate, which is no race.
 */
export const LAST_RESORT_FRACTION = 0.125;

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
  return { count, fractions, cost };
};

/**
 * The plan for a budget of `limit` full-network steps over `shortlist` candidates: as many of the
 * shortlist's first candidates as fit with the last rung at one of {@link FINAL_FRACTIONS}, at the
 * largest of them that fits; when only one fits so, as many as fit (at least two) with the last
 * rung at {@link LAST_RESORT_FRACTION}, else that one; `undefined` when not even one candidate
 * fits at a quarter.
 */
export const planRace = (shortlist: number, limit: number, runCost: (i: number, f: number) => number, retrainCost: (i: number, f: number) => number): RacePlan | undefined => {
  let single: RacePlan | undefined;
  for (let count = shortlist; count >= 1 && single === undefined; count--) {
    for (const final of FINAL_FRACTIONS) {
      const p = planCost(count, final, runCost, retrainCost);
      if (p.cost > limit) continue;
      if (count > 1) return p;
      single = p;
      break;
    }
  }
  for (let count = shortlist; count >= 2; count--) {
    const p = planCost(count, LAST_RESORT_FRACTION, runCost, retrainCost);
    if (p.cost <= limit) return p;
  }
  return single;
};

/**
 * The fraction of its schedule the winner retrains at: all of it if what the race left of the
 * budget pays for that, else as much as it pays for, and never less than `raced` (the plan
 * reserved that much for any winner).
 */
export const retrainFraction = (left: number, fullCost: number, raced: number): number => Math.max(raced, Math.min(1, left / fullCost));
