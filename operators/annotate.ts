import { map, type OperatorFunction } from 'rxjs';
import { FramewiseError, formatValue, invalidArgument } from '../src/errors.js';
import { colorForClass, textColorFor, type Rgb } from '../src/render/palette.js';
import { createOpenCvRenderer, isOpenCvAvailable } from '../src/render/opencv-renderer.js';
import { bitmapRenderer, type Annotation, type Renderer } from '../src/render/renderer.js';
import type { DetectedFrame, Detection } from '../src/types.js';

/** Options of {@link annotate}. */
export interface AnnotateOptions {
  /** Append the score as a whole percentage to each label, as in `bus 92%`. Default true. */
  readonly showScore?: boolean;
  /** Start each label with the class name. Default true. With both `showName` and `showScore` false, no label is drawn. */
  readonly showName?: boolean;
  /** Draw the box outline. Default true. */
  readonly showBox?: boolean;
  /**
   * Box outline thickness in pixels, a positive integer. Default: the frame's shorter side divided
   * by 240, rounded, at least 2 (2 px at 480p, 3 px at 720p, 5 px at 1080p).
   */
  readonly lineWidth?: number;
  /**
   * Integer scale of the 5x8-pixel bitmap font: each font pixel becomes `fontScale` x `fontScale`
   * image pixels. Default: the shorter side divided by 240, rounded down, at least 1 (1 below 480p,
   * 2 at 480p, 3 at 720p, 4 at 1080p). Larger text is easier to read and covers more of the picture.
   */
  readonly fontScale?: number;
  /**
   * Returns the colour of a detection's box and label background as `[red, green, blue]` integers
   * from 0 to 255. Default: a fixed 20-colour palette indexed by `classId`, so a class keeps its
   * colour across frames and runs. An invalid colour, or an exception thrown here, becomes an error
   * notification.
   */
  readonly colorFor?: (detection: Detection) => Rgb;
  /**
   * Drawing back end: a {@link Renderer}, `'builtin'` (the bitmap renderer, no native dependency),
   * `'opencv'` (needs the optional package `@u4/opencv4nodejs`), or `'auto'`, the default: OpenCV
   * when that package is installed, else the built-in renderer.
   */
  readonly renderer?: Renderer | 'auto' | 'builtin' | 'opencv';
}

/**
 * Draws each frame's detections: a box per detection in its class colour, and a label such as
 * `bus 92%` on a filled background above the box (inside the box at its top when there is no room
 * above). Label text is black or white, whichever contrasts more with the background (at least
 * 4.5:1 by the WCAG 2 formula).
 *
 * ```text
 * detected: --f0--f1--f2--|
 * annotate: --a0--a1--a2--|   (a = f with a new pixel buffer, boxes and labels drawn)
 * ```
 *
 * Every output frame carries a new pixel buffer, even with no detections: the input's buffer is
 * never written, so other subscribers of the same frames see the original pixels. All other fields,
 * the flow-control lease included, are copied from the input by object spread.
 *
 * @example
 * ```ts
 * import { annotate, writeVideo } from 'framewise/operators';
 *
 * detected$.pipe(annotate({ showScore: false }), writeVideo('out.mp4')).subscribe();
 * ```
 *
 * @param options drawing settings; see {@link AnnotateOptions}.
 * @throws FramewiseError `INVALID_ARGUMENT` at call time when an option has the wrong type or range.
 * Emits `INVALID_INPUT` when a frame's `data` length is not `width * height * 3`, and
 * `INVALID_ARGUMENT` when `colorFor` returns something other than three integers from 0 to 255.
 * @see writeVideo
 */
export function annotate(options: AnnotateOptions = {}): OperatorFunction<DetectedFrame, DetectedFrame> {
  validateOptions(options);
  const showScore = options.showScore ?? true;
  const showName = options.showName ?? true;
  const showBox = options.showBox ?? true;
  const colorFor = options.colorFor ?? ((detection: Detection) => colorForClass(detection.classId));
  const renderer = chooseRenderer(options.renderer ?? 'auto');

  const labelOf = (detection: Detection): string => {
    const parts: string[] = [];
    if (showName) parts.push(detection.name);
    if (showScore) parts.push(`${Math.round(detection.score * 100)}%`);
    return parts.join(' ');
  };

  return map((frame) => {
    const expectedBytes = frame.width * frame.height * 3;
    if (frame.data.length !== expectedBytes) {
      throw new FramewiseError(
        'INVALID_INPUT',
        `Frame ${frame.index} of ${JSON.stringify(frame.sourceId)} has ${frame.data.length} bytes of pixels, ` +
          `expected ${expectedBytes} for ${frame.width}x${frame.height} RGB24. Check the source that built the frame.`,
        { sourceId: frame.sourceId, frameIndex: frame.index, expected: expectedBytes, actual: frame.data.length },
      );
    }

    const data = new Uint8Array(frame.data);
    // Lowest score first, so where labels overlap the most confident one is drawn on top.
    const byScore = [...frame.detections].sort((a, b) => a.score - b.score);
    const annotations: Annotation[] = byScore.map((detection) => {
      const color = checkColor(colorFor(detection), detection);
      return { box: detection.box, color, label: labelOf(detection), textColor: textColorFor(color) };
    });
    if (annotations.length > 0) {
      const shortSide = Math.min(frame.width, frame.height);
      renderer.draw({ width: frame.width, height: frame.height, data }, annotations, {
        lineWidth: options.lineWidth ?? Math.max(2, Math.round(shortSide / 240)),
        fontScale: options.fontScale ?? Math.max(1, Math.floor(shortSide / 240)),
        showBox,
      });
    }
    return { ...frame, data };
  });
}

function validateOptions(options: AnnotateOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw invalidArgument('annotate options', options, 'an object or undefined');
  }
  for (const name of ['showScore', 'showName', 'showBox'] as const) {
    const value = options[name];
    if (value !== undefined && typeof value !== 'boolean') {
      throw invalidArgument(`annotate option ${name}`, value, 'true or false');
    }
  }
  for (const name of ['lineWidth', 'fontScale'] as const) {
    const value = options[name];
    if (value !== undefined && !(Number.isInteger(value) && value >= 1 && value <= 1000)) {
      throw invalidArgument(`annotate option ${name}`, value, 'an integer number of pixels from 1 to 1000');
    }
  }
  if (options.colorFor !== undefined && typeof options.colorFor !== 'function') {
    throw invalidArgument('annotate option colorFor', options.colorFor, 'a function (detection) => [red, green, blue]');
  }
  const renderer = options.renderer;
  const isName = renderer === 'auto' || renderer === 'builtin' || renderer === 'opencv';
  if (renderer !== undefined && !isName && (typeof renderer !== 'object' || renderer === null || typeof renderer.draw !== 'function')) {
    throw invalidArgument(
      'annotate option renderer',
      renderer,
      "'auto', 'builtin', 'opencv' or an object with a draw(image, annotations, style) method",
    );
  }
}

function chooseRenderer(choice: Renderer | 'auto' | 'builtin' | 'opencv'): Renderer {
  if (typeof choice === 'object') return choice;
  if (choice === 'builtin') return bitmapRenderer;
  if (choice === 'opencv') return createOpenCvRenderer();
  return isOpenCvAvailable() ? createOpenCvRenderer() : bitmapRenderer;
}

function checkColor(color: unknown, detection: Detection): Rgb {
  const isChannel = (value: unknown): boolean => Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 255;
  if (Array.isArray(color) && color.length === 3 && color.every(isChannel)) return color as unknown as Rgb;
  throw new FramewiseError(
    'INVALID_ARGUMENT',
    `annotate colorFor returned ${formatValue(color)} for class ${detection.classId} (${JSON.stringify(detection.name)}). ` +
      'Return [red, green, blue] with integers from 0 to 255.',
    { argument: 'colorFor', value: color, classId: detection.classId },
  );
}
