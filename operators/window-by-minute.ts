import type { OperatorFunction } from 'rxjs';
import type { DetectedFrame } from '../src/types.js';
import { windowByTime, type WindowSummary } from './window-by-time.js';

/**
 * Emits one {@link WindowSummary} per minute of media time (`timestampMs`): window `i` contains the
 * frames from `(i - 1) * 60 000` ms up to, not including, `i * 60 000` ms, with their detections,
 * per-frame counts per class and average count per class (sum ÷ frames in the minute).
 * The last minute is emitted on completion even when partial, and a minute without frames is
 * emitted with zero frames and empty averages. Equivalent to `windowByTime({ windowMs: 60000 })`,
 * which documents the details.
 *
 * ```text
 * frames (10 fps, 150 s):  f0 … f599 | f600 … f1199 | f1200 … f1499 |
 * windowByMinute():        -------M1 -----------M2 -------------M3|   (600, 600, 300 frames; M3 partial)
 * ```
 *
 * Memory: the detections (not the pixels) of every frame in the minute are kept until the minute
 * is emitted, for example 1 800 frames' worth at 30 fps.
 *
 * @example
 * ```ts
 * import { detect, windowByMinute } from 'framewise/operators';
 *
 * frames$.pipe(detect(detector), windowByMinute()).subscribe((minute) => console.log(minute.index, minute.averages));
 * ```
 *
 * @see windowBySecond
 * @see windowByTime
 * @see summarize
 */
export function windowByMinute(): OperatorFunction<DetectedFrame, WindowSummary> {
  return windowByTime({ windowMs: 60_000 });
}
