/** Grouping of detected frames into windows of media time, shared by the window operators and the facade. */
import type { DetectedFrame } from '../types.js';
import { SummaryBuilder, estimateLastFrameEnd, type DetectionSummary } from './summary.js';

/** Detections of one window of media time, with counts and averages. */
export interface WindowSummary extends DetectionSummary {
  /** Position of the window, 1-based: window `i` covers `[(i - 1) * windowMs, i * windowMs)`. */
  readonly index: number;
  /** Media time where the window starts, in ms (inclusive). */
  readonly startMs: number;
  /** Media time where the window ends, in ms (exclusive). */
  readonly endMs: number;
  /**
   * True for the last window when the stream ended before `endMs`, so its frames cover less than
   * the full window. The end of the last frame is estimated as its timestamp plus the mean interval
   * between frames. A stream of a single frame always gives a partial window.
   */
  readonly partial: boolean;
}

/** Frames whose estimated end is this close to a window's end count as covering it (timestamps are rounded). */
const END_TOLERANCE_MS = 1;

/**
 * The window state of one subscription of `windowByTime`: takes frames in, returns the windows they
 * close. The ImageAI-style facade uses it too, calling its callbacks with the returned summaries.
 */
export class TimeWindows {
  private readonly windowMs: number;
  /** 0-based slot of the window being filled, and its frames; undefined before the first frame. */
  private open: { slot: number; builder: SummaryBuilder } | undefined;
  /** First and last timestamps and the frame count, to estimate when the last frame ends. */
  private firstTimestampMs: number | undefined;
  private lastTimestampMs: number | undefined;
  private frameCount = 0;

  constructor(windowMs: number) {
    this.windowMs = windowMs;
  }

  /** Adds a frame; returns the windows that ended before it, oldest first (usually none). */
  push(frame: Pick<DetectedFrame, 'index' | 'timestampMs' | 'detections'>): WindowSummary[] {
    const slot = Math.floor(frame.timestampMs / this.windowMs);
    const closed: WindowSummary[] = [];
    if (this.open === undefined) {
      this.open = { slot, builder: new SummaryBuilder() };
    } else if (slot > this.open.slot) {
      closed.push(this.summarize(this.open.slot, this.open.builder, false));
      for (let gap = this.open.slot + 1; gap < slot; gap += 1) closed.push(this.summarize(gap, new SummaryBuilder(), false));
      this.open = { slot, builder: new SummaryBuilder() };
    }
    this.open.builder.add(frame);
    this.firstTimestampMs ??= frame.timestampMs;
    this.lastTimestampMs = frame.timestampMs;
    this.frameCount += 1;
    return closed;
  }

  /** Returns the window still open once the stream has ended, if any, flagged partial when it ended early. */
  finish(): WindowSummary[] {
    const open = this.open;
    if (open === undefined) return [];
    this.open = undefined;
    const lastEnd = estimateLastFrameEnd(this.firstTimestampMs, this.lastTimestampMs, this.frameCount);
    const endMs = (open.slot + 1) * this.windowMs;
    const partial = lastEnd === undefined || lastEnd < endMs - END_TOLERANCE_MS;
    return [this.summarize(open.slot, open.builder, partial)];
  }

  private summarize(slot: number, builder: SummaryBuilder, partial: boolean): WindowSummary {
    return {
      index: slot + 1,
      startMs: slot * this.windowMs,
      endMs: (slot + 1) * this.windowMs,
      partial,
      ...builder.build(),
    };
  }
}
