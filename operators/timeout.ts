import { defer, takeWhile, type MonoTypeOperatorFunction } from 'rxjs';
import { invalidArgument } from '../src/errors.js';
import type { Frame } from '../src/types.js';

/** Options of {@link timeout}. */
export interface TimeoutOptions {
  /** Media time to let through, in seconds from the first frame (0 or more; fractions allowed). */
  readonly seconds: number;
}

/**
 * Completes the stream once `seconds` of media time have passed since the first frame, so the
 * writers downstream finish their files. The first frame whose `timestampMs` is `seconds * 1000`
 * or more after the first frame's is not emitted: the operator unsubscribes from its source
 * (stopping ffmpeg or the camera) and completes.
 *
 * ```text
 * frames (25 fps):            f0-f1-…-f49-f50-f51…
 * timeout({ seconds: 2 }):    f0-f1-…-f49-|          (f50 is at 2000 ms)
 * ```
 *
 * Unlike RxJS's `timeout`, this one measures media time, not wall-clock time, and completes
 * instead of erroring. Media time is `timestampMs`: the file's own timing for files, and the
 * arrival clock for live sources, so for a camera it is the time since the first frame arrived.
 * Media time only advances when frames arrive: a stalled live source is not stopped by this
 * operator. Combine it with RxJS's `takeUntil(timer(ms))` to bound wall-clock time as well.
 *
 * @example
 * ```ts
 * import { fromVideoFile } from 'framewise';
 * import { detect, timeout, writeVideo } from 'framewise/operators';
 *
 * // Analyse the first two minutes only; out.mp4 is finalised normally.
 * fromVideoFile('long.mp4').pipe(timeout({ seconds: 120 }), detect(detector), writeVideo('out.mp4')).subscribe();
 * ```
 *
 * @param options `seconds` of media time to let through.
 * @throws FramewiseError `INVALID_ARGUMENT` at call time when `seconds` is negative, not finite or
 * not a number. `seconds: 0` completes on the first frame without emitting it.
 * @see resample
 */
export function timeout<T extends Frame>(options: TimeoutOptions): MonoTypeOperatorFunction<T> {
  if (typeof options !== 'object' || options === null) {
    throw invalidArgument('timeout options', options, 'an object such as { seconds: 120 }');
  }
  const { seconds } = options;
  if (!(typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0)) {
    throw invalidArgument('timeout seconds', seconds, 'a finite number of seconds, 0 or more');
  }
  const limitMs = seconds * 1000;

  return (source) =>
    defer(() => {
      // Timestamp of the first frame of this subscription; media time is counted from it.
      let firstTimestampMs: number | undefined;
      // takeWhile unsubscribes from the source when it completes, synchronous sources included.
      return source.pipe(
        takeWhile((frame) => {
          firstTimestampMs ??= frame.timestampMs;
          return frame.timestampMs - firstTimestampMs < limitMs;
        }),
      );
    });
}
