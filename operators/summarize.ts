import { concat, defer, ignoreElements, of, tap, type OperatorFunction } from 'rxjs';
import { SummaryBuilder, estimateLastFrameEnd, type DetectionSummary } from '../src/analysis/summary.js';
import type { DetectedFrame } from '../src/types.js';

/** Detections of a whole stream, with counts and averages. */
export interface VideoSummary extends DetectionSummary {
  /** `timestampMs` of the first frame, or 0 when there were no frames. */
  readonly startMs: number;
  /**
   * Estimated end of the last frame in ms: its timestamp plus the mean interval between frames.
   * Equal to the last frame's timestamp when there was a single frame, and 0 when there were none.
   */
  readonly endMs: number;
}

/**
 * Emits one {@link VideoSummary} when the stream completes: every frame's detections, per-frame
 * counts per class, and the average count per class over all frames (sum ÷ frame count). A stream
 * without frames gives a summary with zero frames and empty averages. Nothing is emitted when the
 * stream errors or is unsubscribed before completing.
 *
 * ```text
 * frames:       --a--b--c--|
 * summarize():  -----------S|   (S covers a, b and c)
 * ```
 *
 * Warning: the detections (not the pixels) of every frame are kept until completion, so memory
 * grows with the length of the stream: plan for a few hundred bytes per detection. On an endless
 * live source, summarize windows with `windowByMinute` instead.
 *
 * @example
 * ```ts
 * import { fromVideoFile } from 'framewise';
 * import { detect, summarize } from 'framewise/operators';
 *
 * fromVideoFile('clip.mp4')
 *   .pipe(detect(detector), summarize())
 *   .subscribe((summary) => console.log(summary.frameCount, summary.averages));
 * ```
 *
 * @see windowBySecond
 * @see windowByMinute
 */
export function summarize(): OperatorFunction<DetectedFrame, VideoSummary> {
  return (source) =>
    defer(() => {
      const builder = new SummaryBuilder();
      // Timestamps of the first and the last frame, for the start and the estimated end.
      let firstMs: number | undefined;
      let lastMs: number | undefined;

      const record = (frame: DetectedFrame): void => {
        builder.add(frame);
        firstMs ??= frame.timestampMs;
        lastMs = frame.timestampMs;
      };
      const result = (): VideoSummary => ({
        startMs: firstMs ?? 0,
        endMs: estimateLastFrameEnd(firstMs, lastMs, builder.frameCount) ?? lastMs ?? 0,
        ...builder.build(),
      });

      return concat(source.pipe(tap(record), ignoreElements()), defer(() => of(result())));
    });
}
