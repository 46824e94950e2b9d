/**
 * Counting and averaging of detections over a group of frames: the machinery shared by
 * `windowBySecond`, `windowByMinute`, `summarize` and the ImageAI-style facade.
 */
import type { DetectedFrame, Detection } from '../types.js';

/** Number of detections per class name, such as `{ person: 2, car: 5 }`. Only classes present are keys. */
export type ClassCounts = Readonly<Record<string, number>>;

/** Detections of a group of frames, with counts and averages. Arrays are in frame order, one entry per frame. */
export interface DetectionSummary {
  /** Number of frames in the group. */
  readonly frameCount: number;
  /** `index` of each frame (0-based position in its source). */
  readonly frameIndices: readonly number[];
  /** Detections of each frame. */
  readonly detections: readonly (readonly Detection[])[];
  /** Detections per class name in each frame. */
  readonly counts: readonly ClassCounts[];
  /**
   * Average detections per frame for each class seen in the group: the sum of that class's counts
   * divided by `frameCount` (a float, not rounded). Empty when the group has no frames.
   */
  readonly averages: ClassCounts;
}

/** Counts detections by class name. Keys appear in the order their class is first met. */
export function countByClass(detections: readonly Detection[]): ClassCounts {
  const counts = new Map<string, number>();
  for (const detection of detections) counts.set(detection.name, (counts.get(detection.name) ?? 0) + 1);
  return Object.fromEntries(counts);
}

/** Accumulates frames into a {@link DetectionSummary}. Keeps detections only, never pixels. */
export class SummaryBuilder {
  private readonly frameIndices: number[] = [];
  private readonly detections: (readonly Detection[])[] = [];
  private readonly counts: ClassCounts[] = [];
  /** Sum of the per-frame counts of each class, in first-seen order. */
  private readonly totals = new Map<string, number>();

  /** Number of frames added so far. */
  get frameCount(): number {
    return this.frameIndices.length;
  }

  /** Adds one frame; returns its per-class counts. */
  add(frame: Pick<DetectedFrame, 'index' | 'detections'>): ClassCounts {
    const counts = countByClass(frame.detections);
    this.frameIndices.push(frame.index);
    this.detections.push(frame.detections);
    this.counts.push(counts);
    for (const [name, count] of Object.entries(counts)) this.totals.set(name, (this.totals.get(name) ?? 0) + count);
    return counts;
  }

  /** Returns the summary of the frames added so far. The builder can go on accumulating afterwards. */
  build(): DetectionSummary {
    const frameCount = this.frameCount;
    const averages = new Map<string, number>();
    if (frameCount > 0) {
      for (const [name, total] of this.totals) averages.set(name, total / frameCount);
    }
    return {
      frameCount,
      frameIndices: [...this.frameIndices],
      detections: [...this.detections],
      counts: [...this.counts],
      averages: Object.fromEntries(averages),
    };
  }
}

/**
 * Estimates when the last frame of a stream ends: its timestamp plus the mean interval between
 * frames (the mean, so that one rounded timestamp does not skew it). Returns `undefined` when
 * fewer than two frames were seen, since one frame alone has no known duration.
 */
export function estimateLastFrameEnd(firstMs: number | undefined, lastMs: number | undefined, frameCount: number): number | undefined {
  if (firstMs === undefined || lastMs === undefined || frameCount < 2 || lastMs <= firstMs) return undefined;
  return lastMs + (lastMs - firstMs) / (frameCount - 1);
}
