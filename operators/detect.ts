import { Observable, type OperatorFunction } from 'rxjs';
import { holdFrame } from '../src/backpressure.js';
import { resolveClassIds } from '../src/class-names.js';
import { FramewiseError, invalidArgument, isFramewiseError } from '../src/errors.js';
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
  /**
   * Collect frames, from any mix of sources, into batches of up to this many before handing them to
   * the detector together (integer, at least 1). A batch goes out when it is full or
   * `maxBatchWaitMs` after its first frame arrived, whichever comes first. Default: no batching,
   * so each frame goes to the detector as soon as it has room. Larger batches let a detector that
   * combines concurrent images into one `session.run` use an accelerator better. They cost
   * latency, and a batch larger than the source's `maxQueuedFrames` only fills through the wait.
   */
  readonly maxBatchSize?: number;
  /**
   * Milliseconds a batch may wait for more frames after its first frame arrived, with
   * `maxBatchSize` (0 or more). Default 10. Raising it fills batches from slow or few sources
   * better; it adds up to that much latency to every frame.
   */
  readonly maxBatchWaitMs?: number;
}

/** Default of {@link DetectOptions.maxBatchWaitMs}. */
export const DEFAULT_MAX_BATCH_WAIT_MS = 10;

/** Validates options and turns class names into ids. Throws `INVALID_ARGUMENT`. */
export function resolveDetectOptions(detector: Detector, options: DetectOptions = {}): DetectionSettings {
  const { classes, maxBatchSize: _maxBatchSize, maxBatchWaitMs: _maxBatchWaitMs, ...numeric } = options;
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
  /** `performance.now()` when the frame arrived, for the batch wait. */
  readonly arrivedAtMs: number;
}

/** Validated batching options; undefined when frames are not batched. */
function resolveBatching(options: DetectOptions): { maxBatchSize: number; maxBatchWaitMs: number } | undefined {
  const { maxBatchSize, maxBatchWaitMs } = options;
  if (maxBatchWaitMs !== undefined && !(typeof maxBatchWaitMs === 'number' && Number.isFinite(maxBatchWaitMs) && maxBatchWaitMs >= 0)) {
    throw invalidArgument('maxBatchWaitMs', maxBatchWaitMs, 'a finite number of milliseconds, 0 or more');
  }
  if (maxBatchSize === undefined) return undefined;
  if (!(Number.isSafeInteger(maxBatchSize) && maxBatchSize >= 1)) {
    throw invalidArgument('maxBatchSize', maxBatchSize, 'an integer of at least 1');
  }
  return { maxBatchSize, maxBatchWaitMs: maxBatchWaitMs ?? DEFAULT_MAX_BATCH_WAIT_MS };
}

/**
 * Runs an object detector on every frame and emits each frame with its detections, in input order
 * within each source.
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
 * Several sources (see `mergeSources`): frames are kept in order per `sourceId`, so a slow
 * result holds back only later frames of its own source, and detections carry forward only
 * within a source. With `maxBatchSize`, frames of different sources share batches, and each
 * result goes back to its own frame.
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
 * @param options Score, NMS, class and batching settings; validated when `detect` is called.
 * @throws `INVALID_ARGUMENT` at call time for an out-of-range option or an unknown class name.
 * Errors after subscription: `INFERENCE_FAILED`, `WORKER_FAILED`, `DETECTOR_DISPOSED`.
 * @see annotate
 * @see writeVideo
 */
export function detect(detector: Detector, options: DetectOptions = {}): OperatorFunction<Frame, DetectedFrame> {
  const settings = resolveDetectOptions(detector, options);
  const batching = resolveBatching(options);
  const concurrency = Math.max(1, detector.concurrency);
  // Batches go to the detector whole, so up to a full batch may be in flight even beyond its concurrency.
  const capacity = Math.max(concurrency, batching?.maxBatchSize ?? 1);

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
      // Detections of each source's latest emitted frame, carried to its frames that skip inference.
      const latestDetections = new Map<string, readonly Detection[]>();
      // Timer that sends a partial batch once its first frame waited maxBatchWaitMs.
      let batchTimer: NodeJS.Timeout | undefined;

      const fail = (error: unknown, frame: Frame): void => {
        if (closed) return;
        closed = true;
        clearBatchTimer();
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

      const clearBatchTimer = (): void => {
        if (batchTimer !== undefined) clearTimeout(batchTimer);
        batchTimer = undefined;
      };

      /** Emits every frame that is ready and has no unfinished frame of its own source before it. */
      const flush = (): void => {
        // Sources whose oldest pending frame is still waiting for its detections.
        const blocked = new Set<string>();
        let index = 0;
        while (!closed && index < pending.length) {
          const entry = pending[index]!;
          const sourceId = entry.frame.sourceId;
          if (blocked.has(sourceId) || !(entry.carried || entry.detections !== undefined)) {
            blocked.add(sourceId);
            index += 1;
            continue;
          }
          pending.splice(index, 1);
          const detections = entry.carried ? (latestDetections.get(sourceId) ?? []) : entry.detections!;
          latestDetections.set(sourceId, detections);
          subscriber.next({ ...entry.frame, detections, carried: entry.carried });
          entry.release();
        }
        if (!closed && upstreamDone && pending.length === 0) {
          closed = true;
          clearBatchTimer();
          subscriber.complete();
        }
      };

      const start = (entry: PendingFrame): void => {
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
      };

      const dispatch = (): void => {
        if (!batching) {
          for (const entry of pending) {
            if (closed || inFlight >= concurrency) return;
            if (!entry.started) start(entry);
          }
          return;
        }

        while (!closed) {
          const waiting = pending.filter((entry) => !entry.started);
          const first = waiting[0];
          if (first === undefined) {
            clearBatchTimer();
            return;
          }
          const waitedMs = performance.now() - first.arrivedAtMs;
          const due = waiting.length >= batching.maxBatchSize || upstreamDone || waitedMs >= batching.maxBatchWaitMs;
          if (!due) {
            batchTimer ??= setTimeout(() => {
              batchTimer = undefined;
              dispatch();
            }, batching.maxBatchWaitMs - waitedMs);
            return;
          }
          const batch = waiting.slice(0, batching.maxBatchSize);
          // A result that comes back frees room and calls dispatch again.
          if (inFlight + batch.length > capacity) return;
          clearBatchTimer();
          for (const entry of batch) start(entry);
        }
      };

      const subscription = source.subscribe({
        next: (frame) => {
          if (closed) return;
          const carried = !shouldRunInference(frame);
          pending.push({ frame, release: holdFrame(frame), started: carried, carried, arrivedAtMs: performance.now() });
          if (carried) flush();
          else dispatch();
        },
        error: (error: unknown) => {
          if (closed) return;
          closed = true;
          clearBatchTimer();
          subscriber.error(error);
        },
        complete: () => {
          upstreamDone = true;
          // A partial batch need not wait for frames that will not come.
          dispatch();
          flush();
        },
      });

      return () => {
        closed = true;
        clearBatchTimer();
        subscription.unsubscribe();
        for (const entry of pending.splice(0)) entry.release();
      };
    });
}
