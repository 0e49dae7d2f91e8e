/** A canvas of `size`×`size` pixels filled with one colour (shared by the test pages). */
export const canvasOf = (colour, size) => {
  const canvas = document.createElement('canvas');
  canvas.width = size;
  canvas.height = size;
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = colour;
  ctx.fillRect(0, 0, size, size);
  return canvas;
};
