/**
 * The drawing back end of `annotate`. `annotate` decides what to draw (boxes, label strings and
 * colours); a {@link Renderer} decides how. The built-in {@link bitmapRenderer} needs no native
 * dependency; an OpenCV-based renderer can implement the same interface.
 */
import type { BoxXYXY, RgbImage } from '../types.js';
import { fillRect, drawText, strokeRect } from './draw.js';
import { measureText } from './font.js';
import type { Rgb } from './palette.js';

/** One detection to draw, already turned into colours and text. */
export interface Annotation {
  /** Box `[x1, y1, x2, y2]` in image pixels; may extend beyond the image, which clips it. */
  readonly box: BoxXYXY;
  /** Colour of the box outline and of the label background. */
  readonly color: Rgb;
  /** Label text, such as `bus 92%`; an empty string draws no label. */
  readonly label: string;
  /** Colour of the label text, chosen for contrast against `color`. */
  readonly textColor: Rgb;
}

/** Settings shared by every annotation of one image. */
export interface AnnotationStyle {
  /** Box outline thickness in pixels, a positive integer. */
  readonly lineWidth: number;
  /** Size of one font pixel in image pixels, a positive integer; the bitmap font is 8 font pixels tall. */
  readonly fontScale: number;
  /** Whether to draw box outlines; labels are drawn either way. */
  readonly showBox: boolean;
}

/**
 * Draws annotations into an image in place. `annotate` always passes a fresh copy of the frame's
 * pixels (RGB24, row-major), so a renderer may write to `image.data` freely but must not keep it.
 */
export interface Renderer {
  /** Draws every annotation onto `image`: boxes first, then all labels, so no box covers a label. */
  draw(image: RgbImage, annotations: readonly Annotation[], style: AnnotationStyle): void;
}

/** Box rounded to whole pixels: `left <= x < right`, `top <= y < bottom`. */
interface PixelBox {
  readonly left: number;
  readonly top: number;
  readonly right: number;
  readonly bottom: number;
}

/**
 * The built-in renderer: pure TypeScript on the RGB24 buffer, with the bitmap font of
 * `src/render/font.ts`.
 *
 * Box edges are rounded to the nearest pixel, and the outline lies inside the box. The label is a
 * filled rectangle in the box colour whose bottom edge touches the top of the box, left-aligned with
 * the box. When it does not fit above the box, it goes inside the box at its top. A label is shifted
 * left to stay inside the image, and text too long for the image is cut at the image edge. Boxes
 * wholly outside the image and boxes with non-finite coordinates are skipped.
 */
export const bitmapRenderer: Renderer = Object.freeze({
  draw(image: RgbImage, annotations: readonly Annotation[], style: AnnotationStyle): void {
    const visible: { annotation: Annotation; pixels: PixelBox }[] = [];
    for (const annotation of annotations) {
      const pixels = toPixelBox(annotation.box, image);
      if (pixels) visible.push({ annotation, pixels });
    }

    if (style.showBox) {
      for (const { annotation, pixels } of visible) {
        strokeRect(image, pixels.left, pixels.top, pixels.right, pixels.bottom, style.lineWidth, annotation.color);
      }
    }
    for (const { annotation, pixels } of visible) {
      if (annotation.label !== '') drawLabel(image, annotation, pixels, style.fontScale);
    }
  },
});

/** Rounds a box to whole pixels, at least one pixel wide and tall; null when it cannot be seen. */
function toPixelBox(box: BoxXYXY, image: RgbImage): PixelBox | null {
  if (!box.every(Number.isFinite)) return null;
  const left = Math.round(Math.min(box[0], box[2]));
  const top = Math.round(Math.min(box[1], box[3]));
  const right = Math.max(Math.round(Math.max(box[0], box[2])), left + 1);
  const bottom = Math.max(Math.round(Math.max(box[1], box[3])), top + 1);
  if (right <= 0 || bottom <= 0 || left >= image.width || top >= image.height) return null;
  return { left, top, right, bottom };
}

function drawLabel(image: RgbImage, annotation: Annotation, box: PixelBox, fontScale: number): void {
  const padding = fontScale;
  const text = measureText(annotation.label, fontScale);
  const labelWidth = Math.min(text.width + 2 * padding, image.width);
  const labelHeight = text.height + 2 * padding;

  const boxTop = Math.max(box.top, 0);
  const labelTop = boxTop - labelHeight >= 0 ? boxTop - labelHeight : boxTop;
  const labelLeft = Math.min(Math.max(box.left, 0), image.width - labelWidth);
  const labelRight = labelLeft + labelWidth;

  fillRect(image, labelLeft, labelTop, labelRight, labelTop + labelHeight, annotation.color);
  drawText(image, annotation.label, labelLeft + padding, labelTop + padding, fontScale, annotation.textColor, labelRight);
}
