/**
 * Letterbox geometry in the Ultralytics convention: the image is scaled by one factor to fit the
 * model input, centred, and the borders are padded. One {@link LetterboxParams} object, computed
 * once per image size, drives both the pixel transform and the inverse mapping of boxes, so the two
 * cannot disagree.
 */
import type { BoxXYXY } from '../src/types.js';

/** Placement of a source image inside the model input. All values are in model-input pixels. */
export interface LetterboxParams {
  /** Model pixels per source pixel: `min(targetWidth / sourceWidth, targetHeight / sourceHeight)`. */
  readonly scale: number;
  /** Columns of padding left of the image. */
  readonly padX: number;
  /** Rows of padding above the image. */
  readonly padY: number;
  /** Width of the scaled image, `round(sourceWidth * scale)`. */
  readonly newWidth: number;
  /** Height of the scaled image, `round(sourceHeight * scale)`. */
  readonly newHeight: number;
}

/** Conventions of {@link computeLetterbox} that differ between model families. */
export interface LetterboxOptions {
  /**
   * How the scaled size is rounded: `round` (Ultralytics, default) or `floor` (keras-yolo3 and
   * NVIDIA retinanet-examples, which truncate with Python's `int()`).
   */
  readonly rounding?: 'round' | 'floor';
  /** `center` (default) splits the padding around the image. `top-left` puts it all right and below. */
  readonly align?: 'center' | 'top-left';
}

/**
 * Computes how a `sourceWidth` x `sourceHeight` image fits a `targetWidth` x `targetHeight` model
 * input: `scale = min(W / w, H / h)` (upscaling allowed), `newWidth = round(w * scale)`, and the
 * padding split as `round(d / 2 - 0.1)` before the image and the rest after it, as Ultralytics 8
 * does. So an odd padding puts its extra pixel after the image. For a whole padding `d` that split
 * equals `floor(d / 2)`, which is also keras-yolo3's `(416 - nw) // 2`.
 *
 * @example
 * computeLetterbox(640, 480, 640, 640); // { scale: 1, padX: 0, padY: 80, newWidth: 640, newHeight: 480 }
 */
export function computeLetterbox(
  sourceWidth: number,
  sourceHeight: number,
  targetWidth: number,
  targetHeight: number,
  options: LetterboxOptions = {},
): LetterboxParams {
  const scale = Math.min(targetWidth / sourceWidth, targetHeight / sourceHeight);
  const roundSize = options.rounding === 'floor' ? Math.floor : Math.round;
  // A sliver image could round to 0 pixels; keep at least one row and column of content.
  const newWidth = Math.max(1, Math.min(targetWidth, roundSize(sourceWidth * scale)));
  const newHeight = Math.max(1, Math.min(targetHeight, roundSize(sourceHeight * scale)));
  if (options.align === 'top-left') return { scale, padX: 0, padY: 0, newWidth, newHeight };

  // Math.max also turns the -0 that Math.round(-0.1) returns into 0.
  const padX = Math.max(0, Math.round((targetWidth - newWidth) / 2 - 0.1));
  const padY = Math.max(0, Math.round((targetHeight - newHeight) / 2 - 0.1));
  return { scale, padX, padY, newWidth, newHeight };
}

/** Maps a box from source pixels to model-input pixels: `x * scale + padX`. */
export function toModelBox(params: LetterboxParams, box: BoxXYXY): BoxXYXY {
  const { scale, padX, padY } = params;
  return [box[0] * scale + padX, box[1] * scale + padY, box[2] * scale + padX, box[3] * scale + padY];
}

/**
 * Maps a box from model-input pixels back to source pixels: `x = (x - padX) / scale`. When
 * `clipTo` is given, the box is clipped to `[0, width] x [0, height]`.
 */
export function toSourceBox(
  params: LetterboxParams,
  box: BoxXYXY,
  clipTo?: { readonly width: number; readonly height: number },
): BoxXYXY {
  const { scale, padX, padY } = params;
  const mapped: BoxXYXY = [(box[0] - padX) / scale, (box[1] - padY) / scale, (box[2] - padX) / scale, (box[3] - padY) / scale];
  return clipTo ? clipBox(mapped, clipTo.width, clipTo.height) : mapped;
}

/** Clips a box to `[0, width] x [0, height]`. */
export function clipBox(box: BoxXYXY, width: number, height: number): BoxXYXY {
  return [clamp(box[0], 0, width), clamp(box[1], 0, height), clamp(box[2], 0, width), clamp(box[3], 0, height)];
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}
