/**
 * A {@link Renderer} on OpenCV, through the optional package `@u4/opencv4nodejs`. framewise does
 * not depend on it: it is used when the application has installed it, and the built-in bitmap
 * renderer is used otherwise.
 */
import { createRequire } from 'node:module';
import { FramewiseError } from '../errors.js';
import type { RgbImage } from '../types.js';
import type { Annotation, AnnotationStyle, Renderer } from './renderer.js';

/** The part of `@u4/opencv4nodejs` this renderer calls. */
interface OpenCv {
  readonly CV_8UC3: number;
  readonly FONT_HERSHEY_SIMPLEX: number;
  readonly LINE_8: number;
  readonly FILLED: number;
  Mat: new (data: Buffer, rows: number, cols: number, type: number) => OpenCvMat;
  Point2: new (x: number, y: number) => unknown;
  Vec3: new (a: number, b: number, c: number) => unknown;
  getTextSize(text: string, fontFace: number, fontScale: number, thickness: number): { size: { width: number; height: number }; baseLine: number };
}

interface OpenCvMat {
  drawRectangle(from: unknown, to: unknown, color: unknown, thickness: number, lineType: number): void;
  putText(text: string, origin: unknown, fontFace: number, fontScale: number, color: unknown, thickness: number, lineType: number): void;
  getData(): Buffer;
}

const PACKAGE = '@u4/opencv4nodejs';

/** Height of the Hershey font at scale 1, in pixels, used to match the bitmap font's size. */
const HERSHEY_HEIGHT_AT_SCALE_1 = 22;

/** Height of one bitmap-font line in font pixels, which `AnnotationStyle.fontScale` multiplies. */
const BITMAP_LINE_HEIGHT = 8;

/** The loaded module, `null` when it is not installed; undefined until the first attempt. */
let loaded: OpenCv | null | undefined;

/** Loads `@u4/opencv4nodejs` once, resolved from framewise's own location. Returns null when it is not installed. */
function loadOpenCv(): OpenCv | null {
  if (loaded !== undefined) return loaded;
  const require = createRequire(import.meta.url);
  try {
    require.resolve(PACKAGE);
  } catch {
    // Not installed: the expected case for most users, so the built-in renderer takes over.
    loaded = null;
    return loaded;
  }
  // Its build helper prints "Info:" lines to stdout while loading; library code must stay quiet.
  try {
    (require('@u4/opencv-build') as { Log?: { silence: boolean } }).Log!.silence = true;
  } catch {
    // Another layout of the build helper: loading still works, only louder.
  }
  loaded = require(PACKAGE) as OpenCv;
  return loaded;
}

/** True when `@u4/opencv4nodejs` can be loaded. */
export function isOpenCvAvailable(): boolean {
  return loadOpenCv() !== null;
}

/**
 * Returns a renderer that draws with OpenCV: rectangles and Hershey-font text (no anti-aliasing,
 * so label pixels keep the exact text colour). Text height follows `style.fontScale` like the
 * built-in font: about 8 x fontScale pixels.
 *
 * @throws FramewiseError `INVALID_ARGUMENT` when `@u4/opencv4nodejs` is not installed.
 */
export function createOpenCvRenderer(): Renderer {
  const cv = loadOpenCv();
  if (cv === null) {
    throw new FramewiseError(
      'INVALID_ARGUMENT',
      `The OpenCV renderer needs the optional package ${PACKAGE}, which is not installed. ` +
        `Install it (the README's Requirements section shows how) or use the built-in renderer.`,
      { argument: 'renderer', value: 'opencv' },
    );
  }
  return Object.freeze({ draw: (image: RgbImage, annotations: readonly Annotation[], style: AnnotationStyle) => draw(cv, image, annotations, style) });
}

function draw(cv: OpenCv, image: RgbImage, annotations: readonly Annotation[], style: AnnotationStyle): void {
  // The Mat gets its own copy of the pixels; the result is copied back at the end.
  const mat = new cv.Mat(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), image.height, image.width, cv.CV_8UC3);
  // The buffer is RGB, so a colour's channels go in R, G, B order (OpenCV itself assumes nothing).
  const color = ([red, green, blue]: readonly number[]) => new cv.Vec3(red!, green!, blue!);
  const visible = annotations.filter((annotation) => annotation.box.every(Number.isFinite));

  if (style.showBox) {
    for (const annotation of visible) {
      const [x1, y1, x2, y2] = annotation.box.map(Math.round) as [number, number, number, number];
      // OpenCV centres the stroke on the edge; inset it so the outline lies inside the box, as the built-in renderer does.
      const inset = Math.floor(style.lineWidth / 2);
      mat.drawRectangle(
        new cv.Point2(x1 + inset, y1 + inset),
        new cv.Point2(x2 - 1 - inset, y2 - 1 - inset),
        color(annotation.color),
        style.lineWidth,
        cv.LINE_8,
      );
    }
  }

  const fontScale = (BITMAP_LINE_HEIGHT * style.fontScale) / HERSHEY_HEIGHT_AT_SCALE_1;
  const thickness = Math.max(1, Math.round(style.fontScale / 2));
  const padding = style.fontScale;
  for (const annotation of visible) {
    if (annotation.label === '') continue;
    const { size, baseLine } = cv.getTextSize(annotation.label, cv.FONT_HERSHEY_SIMPLEX, fontScale, thickness);
    const labelWidth = Math.min(size.width + 2 * padding, image.width);
    const labelHeight = size.height + baseLine + 2 * padding;
    const boxLeft = Math.round(Math.min(annotation.box[0], annotation.box[2]));
    const boxTop = Math.max(0, Math.round(Math.min(annotation.box[1], annotation.box[3])));
    const top = boxTop - labelHeight >= 0 ? boxTop - labelHeight : boxTop;
    const left = Math.min(Math.max(boxLeft, 0), image.width - labelWidth);

    mat.drawRectangle(new cv.Point2(left, top), new cv.Point2(left + labelWidth - 1, top + labelHeight - 1), color(annotation.color), cv.FILLED, cv.LINE_8);
    mat.putText(annotation.label, new cv.Point2(left + padding, top + padding + size.height), cv.FONT_HERSHEY_SIMPLEX, fontScale, color(annotation.textColor), thickness, cv.LINE_8);
  }

  image.data.set(mat.getData());
}
