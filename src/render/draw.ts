/**
 * Drawing primitives on RGB24 images, in place. Coordinates are integer pixels; every primitive
 * clips to the image, so shapes partly or wholly outside it are cut, never an error.
 */
import type { RgbImage } from '../types.js';
import { GLYPH_ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH, glyphRows } from './font.js';
import type { Rgb } from './palette.js';

/**
 * Fills the pixels `left <= x < right`, `top <= y < bottom` with `color`, clipped to the image.
 * Writes into `image.data`.
 */
export function fillRect(image: RgbImage, left: number, top: number, right: number, bottom: number, color: Rgb): void {
  const x0 = Math.max(0, Math.floor(left));
  const y0 = Math.max(0, Math.floor(top));
  const x1 = Math.min(image.width, Math.ceil(right));
  const y1 = Math.min(image.height, Math.ceil(bottom));
  if (x0 >= x1 || y0 >= y1) return;

  const [red, green, blue] = color;
  const data = image.data;
  for (let y = y0; y < y1; y += 1) {
    let offset = (y * image.width + x0) * 3;
    for (let x = x0; x < x1; x += 1) {
      data[offset] = red;
      data[offset + 1] = green;
      data[offset + 2] = blue;
      offset += 3;
    }
  }
}

/**
 * Draws the outline of the rectangle `left <= x < right`, `top <= y < bottom` with lines
 * `lineWidth` pixels thick, laid inside the rectangle so its outer edge is the rectangle's edge.
 * A line width of at least half the rectangle fills it. Clipped to the image.
 */
export function strokeRect(
  image: RgbImage,
  left: number,
  top: number,
  right: number,
  bottom: number,
  lineWidth: number,
  color: Rgb,
): void {
  const horizontal = Math.min(lineWidth, bottom - top);
  const vertical = Math.min(lineWidth, right - left);
  fillRect(image, left, top, right, top + horizontal, color);
  fillRect(image, left, bottom - horizontal, right, bottom, color);
  fillRect(image, left, top + horizontal, left + vertical, bottom - horizontal, color);
  fillRect(image, right - vertical, top + horizontal, right, bottom - horizontal, color);
}

/**
 * Draws one line of text with the built-in bitmap font, its top-left corner at `(left, top)`, each
 * font pixel as a `scale` x `scale` square. Only lit pixels are written, so the background shows
 * through. Pixels at or right of `clipRight` are not drawn, which keeps long text inside its label.
 */
export function drawText(
  image: RgbImage,
  text: string,
  left: number,
  top: number,
  scale: number,
  color: Rgb,
  clipRight: number = image.width,
): void {
  let glyphLeft = left;
  for (const character of text) {
    if (glyphLeft >= clipRight) break;
    const rows = glyphRows(character.codePointAt(0) ?? 0);
    for (let row = 0; row < GLYPH_HEIGHT; row += 1) {
      const bits = rows[row] ?? 0;
      if (bits === 0) continue;
      const y = top + row * scale;
      for (let column = 0; column < GLYPH_WIDTH; column += 1) {
        if ((bits >> (GLYPH_WIDTH - 1 - column)) & 1) {
          const x = glyphLeft + column * scale;
          fillRect(image, x, y, Math.min(x + scale, clipRight), y + scale, color);
        }
      }
    }
    glyphLeft += GLYPH_ADVANCE * scale;
  }
}
