/**
 * The MNIST sample bundled with the page (scripts/browser/build.ts writes it from the `mnist`
 * package): per target digit, images to use as examples and images held out for scoring.
 */
export interface Digits {
  /** Images of `digit` to add as examples, each 28×28 in [0, 1]. */
  examples(digit: number): Float32Array[];
  /** Held-out images of `digit`, never trained on. */
  heldOut(digit: number): Float32Array[];
}

interface Group {
  readonly digit: number;
  readonly role: 'examples' | 'heldOut';
  readonly offset: number;
  readonly count: number;
}

const PIXELS = 28 * 28;

export const loadDigits = async (base: URL): Promise<Digits> => {
  const [index, bytes] = await Promise.all([
    fetch(new URL('digits.json', base)).then((r) => r.json() as Promise<{ groups: Group[] }>),
    fetch(new URL('digits.bin', base)).then((r) => r.arrayBuffer()),
  ]);
  const pixels = new Uint8Array(bytes);
  const images = (g: Group | undefined): Float32Array[] =>
    g === undefined
      ? []
      : Array.from({ length: g.count }, (_, i) => Float32Array.from(pixels.subarray((g.offset + i) * PIXELS, (g.offset + i + 1) * PIXELS), (v) => v / 255));
  const find = (digit: number, role: Group['role']): Group | undefined => index.groups.find((g) => g.digit === digit && g.role === role);
  return {
    examples: (digit) => images(find(digit, 'examples')),
    heldOut: (digit) => images(find(digit, 'heldOut')),
  };
};
