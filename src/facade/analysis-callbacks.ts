/**
 * The stage of the ImageAI-style facade that calls the user's analysis callbacks, in ImageAI's
 * order: for each frame, first the per-second and per-minute callbacks of the windows it closes,
 * then the per-frame callback.
 */
import { concat, defer, EMPTY, finalize, merge, Subject, tap, type MonoTypeOperatorFunction } from 'rxjs';
import { SummaryBuilder, countByClass, type DetectionSummary } from '../analysis/summary.js';
import { TimeWindows, type WindowSummary } from '../analysis/time-windows.js';
import { FramewiseError, isFramewiseError, type ErrorCode } from '../errors.js';
import type { DetectedFrame } from '../types.js';
import { toImageAIArrays, toImageAIDetection, type PerFrameFunction, type PerWindowFunction } from './imageai-types.js';

/** Code of the error that wraps an exception thrown (or a rejection returned) by a user callback. */
export const CALLBACK_FAILED: ErrorCode = 'CALLBACK_FAILED';

/** Callback names as the facade's options spell them, quoted in error messages. */
export type CallbackName = 'perFrameFunction' | 'perSecondFunction' | 'perMinuteFunction' | 'videoCompleteFunction';

/** Settings of the callbacks stage: which callbacks run and what they receive. */
export interface CallbackSettings {
  readonly perFrameFunction?: PerFrameFunction;
  readonly perSecondFunction?: PerWindowFunction;
  readonly perMinuteFunction?: PerWindowFunction;
  /** Keep every frame's detections for the whole-video summary. */
  readonly summarize: boolean;
  readonly returnDetectedFrame: boolean;
  /** Called once per frame before the callbacks, for progress display. */
  readonly onFrame?: () => void;
}

/** The callbacks stage of one run and the results it gathers. */
export interface CallbackStage {
  readonly operator: MonoTypeOperatorFunction<DetectedFrame>;
  /** The whole-video summary once the stream has completed; undefined before, or when `summarize` is false. */
  readonly summary: () => DetectionSummary | undefined;
  /** Resolves when every promise returned by a callback has settled; rejects with the first rejection, wrapped. */
  readonly settled: () => Promise<void>;
}

/** Builds the error for a callback that threw or rejected, with its error as `cause`. */
export function callbackError(name: CallbackName, error: unknown, context: Readonly<Record<string, unknown>>): FramewiseError {
  if (isFramewiseError(error) && error.code === CALLBACK_FAILED) return error;
  const where = Object.entries(context)
    .map(([key, value]) => `${key} ${String(value)}`)
    .join(', ');
  return new FramewiseError(
    CALLBACK_FAILED,
    `${name} failed${where ? ` (${where})` : ''}: ${error instanceof Error ? error.message : String(error)}. ` +
      'The run was stopped and the output video finalised; the original error is the cause.',
    { callback: name, ...context },
    { cause: error },
  );
}

/**
 * Calls a user callback. A synchronous exception is rethrown wrapped; a returned promise is
 * tracked, and its rejection is reported through `onRejection`.
 */
export function invokeCallback(
  name: CallbackName,
  callback: () => unknown,
  context: Readonly<Record<string, unknown>>,
  pending: Set<Promise<unknown>>,
  onRejection: (error: FramewiseError) => void,
): void {
  let result: unknown;
  try {
    result = callback();
  } catch (error) {
    throw callbackError(name, error, context);
  }
  if (typeof result === 'object' && result !== null && typeof (result as { then?: unknown }).then === 'function') {
    const tracked: Promise<unknown> = Promise.resolve(result).then(
      () => pending.delete(tracked),
      (error: unknown) => {
        pending.delete(tracked);
        const wrapped = callbackError(name, error, context);
        onRejection(wrapped);
        throw wrapped;
      },
    );
    // The rejection is reported through onRejection and again by settled(); this keeps Node from
    // also reporting it as unhandled.
    tracked.catch(() => undefined);
    pending.add(tracked);
  }
}

/** Creates the callbacks stage of one run. */
export function createCallbackStage(settings: CallbackSettings): CallbackStage {
  const { perFrameFunction, perSecondFunction, perMinuteFunction, returnDetectedFrame } = settings;
  const summaryBuilder = settings.summarize ? new SummaryBuilder() : undefined;
  // Promises returned by callbacks that have not settled yet.
  const pending = new Set<Promise<unknown>>();
  // First rejection of a callback promise, reported again by settled().
  let firstRejection: FramewiseError | undefined;
  let completed = false;

  const operator: MonoTypeOperatorFunction<DetectedFrame> = (source) =>
    defer(() => {
      // Rejections of callback promises fail the stream through this subject.
      const rejections = new Subject<never>();
      const onRejection = (error: FramewiseError): void => {
        firstRejection ??= error;
        rejections.error(error);
      };
      const seconds = perSecondFunction ? new TimeWindows(1000) : undefined;
      const minutes = perMinuteFunction ? new TimeWindows(60_000) : undefined;
      // 1-based number of the last frame seen, and the frame itself (handed to window callbacks).
      let frameNumber = 0;
      let lastFrame: DetectedFrame | undefined;

      const reportWindows = (windows: readonly WindowSummary[], name: 'perSecondFunction' | 'perMinuteFunction', callback: PerWindowFunction): void => {
        for (const window of windows) {
          const args: Parameters<PerWindowFunction> = [window.index, toImageAIArrays(window.detections), [...window.counts], window.averages];
          if (returnDetectedFrame) args.push(lastFrame);
          const unit = name === 'perSecondFunction' ? 'second' : 'minute';
          invokeCallback(name, () => callback(...args), { [unit]: window.index }, pending, onRejection);
        }
      };

      const onFrame = (frame: DetectedFrame): void => {
        settings.onFrame?.();
        if (seconds && perSecondFunction) reportWindows(seconds.push(frame), 'perSecondFunction', perSecondFunction);
        if (minutes && perMinuteFunction) reportWindows(minutes.push(frame), 'perMinuteFunction', perMinuteFunction);
        frameNumber += 1;
        lastFrame = frame;
        const counts = summaryBuilder ? summaryBuilder.add(frame) : countByClass(frame.detections);
        if (perFrameFunction) {
          const args: Parameters<PerFrameFunction> = [frameNumber, frame.detections.map(toImageAIDetection), { ...counts }];
          if (returnDetectedFrame) args.push(frame);
          invokeCallback('perFrameFunction', () => perFrameFunction(...args), { frame: frameNumber }, pending, onRejection);
        }
      };

      const onEnd = (): void => {
        if (seconds && perSecondFunction) reportWindows(seconds.finish(), 'perSecondFunction', perSecondFunction);
        if (minutes && perMinuteFunction) reportWindows(minutes.finish(), 'perMinuteFunction', perMinuteFunction);
        completed = true;
      };

      const frames$ = concat(
        source.pipe(tap(onFrame)),
        defer(() => {
          onEnd();
          return EMPTY;
        }),
      );
      return merge(frames$.pipe(finalize(() => rejections.complete())), rejections);
    });

  return {
    operator,
    summary: () => (completed && summaryBuilder ? summaryBuilder.build() : undefined),
    settled: async () => {
      while (pending.size > 0) await Promise.allSettled([...pending]);
      if (firstRejection) throw firstRejection;
    },
  };
}
