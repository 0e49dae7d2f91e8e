/** Timing two jobs side by side on a shared, noisy machine. */

/** The median of some numbers. */
export const median = (xs: ReadonlyArray<number>): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Times `ours` and `theirs` in `rounds` alternating rounds after one more that warms both (kernels,
 * packed weights) and is not counted; the median ms of each.
 */
export const alternate = async (ours: () => Promise<void>, theirs: () => Promise<void>, rounds: number): Promise<readonly [number, number]> => {
  const [a, b]: [number[], number[]] = [[], []];
  for (let round = 0; round < rounds + 1; round++) {
    let t = performance.now();
    await ours();
    const x = performance.now() - t;
    t = performance.now();
    await theirs();
    const y = performance.now() - t;
    if (round > 0) (a.push(x), b.push(y));
  }
  return [median(a), median(b)];
};
