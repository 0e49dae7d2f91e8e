/**
 * A drawing pad that turns strokes into an MNIST-like image: white on black, the digit's bounding
 * box scaled to fit 20×20 and its centre of mass placed at the centre of a 28×28 frame, as the
 * MNIST images were prepared (LeCun et al., "The MNIST database of handwritten digits").
 */
export const SIDE = 28;
const BOX = 20;

export class DrawingPad {
  #drawing = false;
  #inked = false;
  readonly #ctx: CanvasRenderingContext2D;

  constructor(
    readonly canvas: HTMLCanvasElement,
    /** Called when a stroke ends. */
    private readonly onStroke: () => void,
  ) {
    this.#ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    this.clear();
    canvas.addEventListener('pointerdown', (e) => {
      canvas.setPointerCapture(e.pointerId);
      this.#drawing = true;
      const [x, y] = this.#at(e);
      this.#ctx.beginPath();
      this.#ctx.moveTo(x, y);
      this.#ctx.lineTo(x + 0.1, y);
      this.#ctx.stroke();
      this.#inked = true;
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!this.#drawing) return;
      const [x, y] = this.#at(e);
      this.#ctx.lineTo(x, y);
      this.#ctx.stroke();
    });
    const end = (): void => {
      if (!this.#drawing) return;
      this.#drawing = false;
      this.onStroke();
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
  }

  #at(e: PointerEvent): [number, number] {
    const r = this.canvas.getBoundingClientRect();
    return [((e.clientX - r.left) * this.canvas.width) / r.width, ((e.clientY - r.top) * this.canvas.height) / r.height];
  }

  get isEmpty(): boolean {
    return !this.#inked;
  }

  clear(): void {
    const { width, height } = this.canvas;
    this.#ctx.fillStyle = '#000';
    this.#ctx.fillRect(0, 0, width, height);
    this.#ctx.strokeStyle = '#fff';
    this.#ctx.lineWidth = width / 14;
    this.#ctx.lineCap = 'round';
    this.#ctx.lineJoin = 'round';
    this.#inked = false;
  }

  /** The drawing as 28×28 values in [0, 1], row by row; all zeros when nothing is drawn. */
  image(): Float32Array {
    const { width, height } = this.canvas;
    const pixels = this.#ctx.getImageData(0, 0, width, height).data;
    let top = height, left = width, bottom = -1, right = -1;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (pixels[(y * width + x) * 4]! > 0) {
          top = Math.min(top, y); bottom = Math.max(bottom, y);
          left = Math.min(left, x); right = Math.max(right, x);
        }
      }
    }
    const out = new Float32Array(SIDE * SIDE);
    if (bottom < 0) return out;
    // The bounding box, scaled to fit 20×20 with its aspect ratio kept.
    const scale = BOX / Math.max(bottom - top + 1, right - left + 1);
    const small = document.createElement('canvas');
    small.width = SIDE;
    small.height = SIDE;
    const s = small.getContext('2d', { willReadFrequently: true })!;
    s.imageSmoothingQuality = 'high';
    const w = (right - left + 1) * scale;
    const h = (bottom - top + 1) * scale;
    s.drawImage(this.canvas, left, top, right - left + 1, bottom - top + 1, (SIDE - w) / 2, (SIDE - h) / 2, w, h);
    const boxed = s.getImageData(0, 0, SIDE, SIDE).data;
    // Then shifted so that the centre of mass sits at the centre.
    let mass = 0, cx = 0, cy = 0;
    for (let i = 0; i < SIDE * SIDE; i++) {
      const v = boxed[i * 4]! / 255;
      mass += v;
      cx += v * (i % SIDE);
      cy += v * Math.floor(i / SIDE);
    }
    const dx = Math.round((SIDE - 1) / 2 - cx / mass);
    const dy = Math.round((SIDE - 1) / 2 - cy / mass);
    for (let y = 0; y < SIDE; y++) {
      for (let x = 0; x < SIDE; x++) {
        const sx = x - dx;
        const sy = y - dy;
        if (sx >= 0 && sx < SIDE && sy >= 0 && sy < SIDE) out[y * SIDE + x] = boxed[(sy * SIDE + sx) * 4]! / 255;
      }
    }
    return out;
  }
}

/** A 28×28 image as a small canvas, for thumbnails. */
export const thumbnail = (image: Float32Array): HTMLCanvasElement => {
  const c = document.createElement('canvas');
  c.width = SIDE;
  c.height = SIDE;
  const ctx = c.getContext('2d')!;
  const data = ctx.createImageData(SIDE, SIDE);
  for (let i = 0; i < SIDE * SIDE; i++) {
    const v = Math.round(255 * image[i]!);
    data.data.set([v, v, v, 255], i * 4);
  }
  ctx.putImageData(data, 0, 0);
  return c;
};
