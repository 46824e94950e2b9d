import type { OperatorFunction } from 'rxjs';
import type { DetectedFrame } from '../src/types.js';
import { windowByTime, type WindowSummary } from './window-by-time.js';

/**
 * Emits one {@link WindowSummary} per second of media time (`timestampMs`): window `i` holds the
 * frames from `(i - 1) * 1000` ms up to, not including, `i * 1000` ms, with their detections,
 * per-frame counts per class and average count per class (sum ÷ frames in the second).
 * The last second is emitted on completion even when partial, and a second without frames (a gap
 * in a live or variable-rate source) is emitted with zero frames and empty averages.
 * Equivalent to `windowByTime({ windowMs: 1000 })`, which documents the details.
 *
 * ```text
 * frames (25 fps, 2.6 s):  f0 … f24 | f25 … f49 | f50 … f64 |
 * windowBySecond():        ------S1 ---------S2 ---------S3|   (25, 25 and 15 frames; S3 partial)
 * ```
 *
 * @example
 * ```ts
 * import { detect, windowBySecond } from 'framewise/operators';
 *
 * frames$.pipe(detect(detector), windowBySecond()).subscribe((second) => {
 *   console.log(`second ${second.index}: ${second.frameCount} frames`, second.averages);
 * });
 * ```
 *
 * @see windowByMinute
 * @see windowByTime
 * @see summarize
 */
export function windowBySecond(): OperatorFunction<DetectedFrame, WindowSummary> {
  return windowByTime({ windowMs: 1000 });
}
