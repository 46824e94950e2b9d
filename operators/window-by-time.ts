import { concat, defer, mergeMap, type OperatorFunction } from 'rxjs';
import { TimeWindows, type WindowSummary } from '../src/analysis/time-windows.js';
import { invalidArgument } from '../src/errors.js';
import type { DetectedFrame } from '../src/types.js';

export type { WindowSummary };

/** Options of {@link windowByTime}. */
export interface WindowByTimeOptions {
  /** Length of each window in milliseconds of media time, above 0. */
  readonly windowMs: number;
}

/**
 * Groups detected frames into consecutive windows of media time (`timestampMs`) and emits one
 * {@link WindowSummary} per window: the frames' detections, per-frame counts per class, and the
 * average count per class (sum ÷ frames in the window). A frame at `t` ms belongs to window
 * `floor(t / windowMs) + 1`.
 *
 * ```text
 * frame times (ms):  0--400--800--1200--1600--2000--2200--|
 * windowMs 1000:     -------------W1------------W2--------W3|   (W3 partial: frames 2000 and 2200)
 * ```
 *
 * A window is emitted when the first frame of a later window arrives, or when the stream completes
 * (the last window, flagged `partial` when the stream ended early). Windows that no frame falls
 * into (a gap in a variable-rate or live source) are emitted in their place with zero frames and
 * empty averages. Windows before the first frame are not emitted. A frame stamped earlier than
 * the window being filled is added to that window, since windows are never reopened.
 *
 * Frames pass through without being kept: only their detections are stored until the window is
 * emitted, and no flow-control hold is taken. On error the open window is dropped and the error
 * forwarded.
 *
 * @example
 * ```ts
 * import { detect, windowByTime } from 'framewise/operators';
 *
 * frames$.pipe(detect(detector), windowByTime({ windowMs: 5000 })).subscribe((window) => {
 *   console.log(window.index, window.averages);
 * });
 * ```
 *
 * @param options The window length `windowMs`.
 * @throws FramewiseError `INVALID_ARGUMENT` at call time when `windowMs` is not a finite number above 0.
 * @see windowBySecond
 * @see windowByMinute
 * @see summarize
 */
export function windowByTime(options: WindowByTimeOptions): OperatorFunction<DetectedFrame, WindowSummary> {
  if (typeof options !== 'object' || options === null) {
    throw invalidArgument('windowByTime options', options, 'an object such as { windowMs: 1000 }');
  }
  const { windowMs } = options;
  if (!(typeof windowMs === 'number' && Number.isFinite(windowMs) && windowMs > 0)) {
    throw invalidArgument('windowByTime windowMs', windowMs, 'a finite number of milliseconds above 0');
  }

  return (source) =>
    defer(() => {
      const windows = new TimeWindows(windowMs);
      return concat(
        source.pipe(mergeMap((frame) => windows.push(frame))),
        defer(() => windows.finish()),
      );
    });
}
