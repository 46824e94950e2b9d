/**
 * The data shapes of ImageAI's video analysis callbacks, and the options of
 * `VideoObjectDetection.detectObjectsFromVideo` (ImageAI's parameters in camelCase).
 */
import type { ClassSelection } from '../analysis/class-selection.js';
import type { CaptureLike } from '../sources/capture.js';
import type { DetectedFrame, Detection } from '../types.js';

/** One detection as ImageAI's callbacks receive it. Key order follows ImageAI. */
export interface ImageAIDetection {
  /** Class name: the canonical COCO spelling (`motorcycle`, `tv`), or the name from the label file. */
  readonly name: string;
  /** Confidence from 0 to 100, not rounded. */
  readonly percentage_probability: number;
  /** `[x1, y1, x2, y2]` in pixels of the source frame, each truncated toward zero to an integer. */
  readonly box_points: readonly [number, number, number, number];
}

/** Detections per class name, such as `{ person: 2, car: 5 }`. */
export type ImageAICounts = Readonly<Record<string, number>>;

/**
 * Called for every frame, in order: the 1-based frame number, the frame's detections, their count
 * per class, and with `returnDetectedFrame` the annotated frame (RGB, see `DetectedFrame`).
 * A returned promise is not awaited before the next frame, but a rejection fails the run.
 */
export type PerFrameFunction = (
  frameNumber: number,
  outputArray: ImageAIDetection[],
  outputCount: ImageAICounts,
  detectedFrame?: DetectedFrame,
) => unknown;

/**
 * Called once per second (or minute) of video, after its last frame. It receives the 1-based
 * second (or minute) number, the detections of each of its frames, each frame's counts per class,
 * and the average count per class (sum ÷ frames in the window, a float). With
 * `returnDetectedFrame`, the last frame at or before the window's end comes last.
 */
export type PerWindowFunction = (
  windowNumber: number,
  outputArrays: ImageAIDetection[][],
  countArrays: ImageAICounts[],
  averageOutputCount: ImageAICounts,
  detectedFrame?: DetectedFrame,
) => unknown;

/**
 * Called once after the run, when the output video is final: the detections of every frame, every
 * frame's counts per class, and the average count per class over all frames. Never gets a frame.
 */
export type VideoCompleteFunction = (outputArrays: ImageAIDetection[][], countArrays: ImageAICounts[], averageOutputCount: ImageAICounts) => unknown;

/** A stream that progress lines can be written to, such as `process.stderr`. */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/** Options of `detectObjectsFromVideo`: ImageAI's parameters in camelCase, plus `signal`. */
export interface VideoDetectionOptions {
  /** Video file to analyse. Give this or `cameraInput`, not both. */
  readonly inputFilePath?: string;
  /** Capture object with a `read()` method returning BGR images, such as OpenCV's `VideoCapture`. Released at the end. */
  readonly cameraInput?: CaptureLike;
  /**
   * Path of the annotated video. Without a known video extension (`.mp4`, `.m4v`, `.mov`, `.mkv`,
   * `.webm`, `.avi`), `.avi` is appended and the video is MJPEG. Required unless
   * `saveDetectedVideo` is false.
   */
  readonly outputFilePath?: string;
  /**
   * Frame rate of the analysis and of the output video. Default: the source's own frames and timing.
   * When set, frames are resampled by timestamp, so the output lasts as long as the input and a
   * second of analysis is `framesPerSecond` frames. Above 0, at most 1000.
   */
  readonly framesPerSecond?: number;
  /**
   * Run the model on frames 1, 1 + N, 1 + 2N, …; the frames in between reuse the latest
   * detections. Default 1 (every frame). Raising it divides the inference work by N, at the cost of
   * boxes that lag behind moving objects.
   */
  readonly frameDetectionInterval?: number;
  /** Detections below this confidence are dropped, 0 to 100. Default 50. */
  readonly minimumPercentageProbability?: number;
  /** Print a progress line to stderr (`true`) or to the given stream. Default false: nothing is printed. */
  readonly logProgress?: boolean | ProgressStream;
  /** Draw the confidence in each label. Default true. */
  readonly displayPercentageProbability?: boolean;
  /** Draw the class name in each label. Default true. */
  readonly displayObjectName?: boolean;
  /** Draw the boxes. Default true. */
  readonly displayBox?: boolean;
  /** Write the annotated video. Default true; when false, the promise resolves to `undefined`. */
  readonly saveDetectedVideo?: boolean;
  readonly perFrameFunction?: PerFrameFunction;
  readonly perSecondFunction?: PerWindowFunction;
  readonly perMinuteFunction?: PerWindowFunction;
  readonly videoCompleteFunction?: VideoCompleteFunction;
  /** Pass the annotated frame as the last argument of the per-frame, per-second and per-minute callbacks. Default false. */
  readonly returnDetectedFrame?: boolean;
  /**
   * Stop after this many seconds of video (for a camera, since its first frame). The output is
   * finalised and `videoCompleteFunction` still runs. Default: no limit.
   */
  readonly detectionTimeout?: number;
  /** Classes to keep, as `CustomObjects(...)` returns them. An empty object keeps every class. */
  readonly customObjects?: ClassSelection;
  /** Aborting stops the run, finalises the output, and rejects with `ABORTED`. */
  readonly signal?: AbortSignal;
}

/** Converts a framewise detection to ImageAI's shape. */
export function toImageAIDetection(detection: Detection): ImageAIDetection {
  const [x1, y1, x2, y2] = detection.box;
  return {
    name: detection.name,
    percentage_probability: detection.score * 100,
    box_points: [Math.trunc(x1), Math.trunc(y1), Math.trunc(x2), Math.trunc(y2)],
  };
}

/** Converts detection lists, one per frame, to ImageAI's shape. */
export function toImageAIArrays(detections: readonly (readonly Detection[])[]): ImageAIDetection[][] {
  return detections.map((frame) => frame.map(toImageAIDetection));
}
