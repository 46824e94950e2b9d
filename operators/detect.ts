import { Observable, type OperatorFunction } from 'rxjs';
import { holdFrame } from '../src/backpressure.js';
import { resolveClassIds } from '../src/class-names.js';
import { FramewiseError, isFramewiseError } from '../src/errors.js';
import { resolveDetectionSettings } from '../src/runtime/detection-settings.js';
import type { DetectionSettings, Detector } from '../src/runtime/types.js';
import type { DetectedFrame, Detection, Frame } from '../src/types.js';
import { shouldRunInference } from './sample-every.js';

/** Options of {@link detect}. Unset fields take the defaults listed on each. */
export interface DetectOptions {
  /** Detections scoring below this are dropped, 0..1. Default 0.25. */
  readonly minScore?: number;
  /** IoU above which two boxes of one class count as the same object in NMS, 0..1. Default 0.45. */
  readonly iouThreshold?: number;
  /** At most this many detections per frame, highest scores first. Default 100. */
  readonly maxDetections?: number;
  /**
   * Class names to keep, for example `['person', 'car']`. Case is ignored and `_` matches a space.
   * Default: every class of the model.
   */
  readonly classes?: readonly string[];
}

/** Validates options and turns class names into ids. Throws `INVALID_ARGUMENT`. */
export function resolveDetectOptions(detector: Detector, options: DetectOptions = {}): DetectionSettings {
  const { classes, ...numeric } = options;
  const classIds = classes ? resolveClassIds(classes, detector.info.labels) : undefined;
  return resolveDetectionSettings(classIds ? { ...numeric, classIds } : numeric);
}

/** A frame inside `detect`, from arrival until it is emitted. */
interface PendingFrame {
  readonly frame: Frame;
  /** Releases this stage's hold on the frame's lease. */
  readonly release: () => void;
  /** Set once inference has run. */
  detections?: readonly Detection[];
  started: boolean;
  /** True when the frame is marked to skip inference and takes the latest detections when emitted. */
  readonly carried: boolean;
}

/**
 * Runs an object detector on every frame and emits each frame with its detections, in input order.
 *
 * Inference runs in the detector's worker threads, with up to `detector.concurrency` frames in
 * flight at once. Frames waiting for a worker are held, so a bounded source pauses decoding until
 * the detector has room (see docs/backpressure.md).
 *
 * Frames marked to skip inference (by `sampleEvery` or `resample`, see `INFERENCE_MARK`) are not
 * sent to the model: each is emitted, in its place in the order, with the detections of the
 * latest frame before it and `carried: true`. A skipped frame with no detected frame before it
 * gets no detections. Frames the model ran on have `carried: false`.
 *
 * ```
 * frames:     --a--b--c--|
 * detect(d):  ----A---B---C|     (A = a with a.detections, order kept)
 * ```
 *
 * @example
 * ```ts
 * import { fromVideoFile, loadDetector } from 'framewise';
 * import { detect } from 'framewise/operators';
 *
 * const detector = await loadDetector('yolov8n.onnx');
 * fromVideoFile('street.mp4')
 *   .pipe(detect(detector, { minScore: 0.4, classes: ['person', 'car'] }))
 *   .subscribe((frame) => console.log(frame.index, frame.detections.length));
 * ```
 *
 * @param detector A detector from `loadDetector`. `detect` never disposes it.
 * @param options Score, NMS and class settings; validated when `detect` is called.
 * @throws `INVALID_ARGUMENT` at call time for an out-of-range option or an unknown class name.
 * Errors after subscription: `INFERENCE_FAILED`, `WORKER_FAILED`, `DETECTOR_DISPOSED`.
 * @see annotate
 * @see writeVideo
 */
export function detect(detector: Detector, options: DetectOptions = {}): OperatorFunction<Frame, DetectedFrame> {
  const settings = resolveDetectOptions(detector, options);
  const concurrency = Math.max(1, detector.concurrency);

  return (source) =>
    new Observable<DetectedFrame>((subscriber) => {
      // Frames in arrival order; the head is emitted as soon as its detections are in.
      const pending: PendingFrame[] = [];
      // Frames handed to the detector whose result has not come back.
      let inFlight = 0;
      // Set when upstream completed; the output completes once `pending` drains.
      let upstreamDone = false;
      // Set on teardown or error, so late results are ignored.
      let closed = false;
      // Detections of the latest emitted frame, carried to the frames that skip inference.
      let latestDetections: readonly Detection[] = [];

      const fail = (error: unknown, frame: Frame): void => {
        if (closed) return;
        closed = true;
        subscriber.error(
          isFramewiseError(error)
            ? error
            : new FramewiseError(
                'INFERENCE_FAILED',
                `Inference failed on frame ${frame.index} of ${JSON.stringify(frame.sourceId)}: ${
                  error instanceof Error ? error.message : String(error)
                }`,
                { sourceId: frame.sourceId, frameIndex: frame.index },
                { cause: error },
              ),
        );
      };

      const flush = (): void => {
        while (!closed && pending.length > 0 && (pending[0]!.carried || pending[0]!.detections !== undefined)) {
          const head = pending.shift()!;
          const detections = head.carried ? latestDetections : head.detections!;
          latestDetections = detections;
          subscriber.next({ ...head.frame, detections, carried: head.carried });
          head.release();
        }
        if (!closed && upstreamDone && pending.length === 0) {
          closed = true;
          subscriber.complete();
        }
      };

      const dispatch = (): void => {
        for (const entry of pending) {
          if (closed || inFlight >= concurrency) return;
          if (entry.started) continue;
          entry.started = true;
          inFlight += 1;
          detector.detect(entry.frame, settings).then(
            (detections) => {
              inFlight -= 1;
              if (closed) return;
              entry.detections = detections;
              flush();
              dispatch();
            },
            (error: unknown) => {
              inFlight -= 1;
              fail(error, entry.frame);
            },
          );
        }
      };

      const subscription = source.subscribe({
        next: (frame) => {
          if (closed) return;
          const carried = !shouldRunInference(frame);
          pending.push({ frame, release: holdFrame(frame), started: carried, carried });
          if (carried) flush();
          else dispatch();
        },
        error: (error: unknown) => {
          if (closed) return;
          closed = true;
          subscriber.error(error);
        },
        complete: () => {
          upstreamDone = true;
          flush();
        },
      });

      return () => {
        closed = true;
        subscription.unsubscribe();
        for (const entry of pending.splice(0)) entry.release();
      };
    });
}
