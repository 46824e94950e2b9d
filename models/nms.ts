import type { BoxXYXY } from '../src/types.js';

/** A scored, classified box: the input and output of {@link nonMaxSuppression}. */
export interface ScoredBox {
  readonly classId: number;
  readonly score: number;
  readonly box: BoxXYXY;
}

/** Intersection over union of two `[x1, y1, x2, y2]` boxes; 0 when either has no area. */
export function intersectionOverUnion(a: BoxXYXY, b: BoxXYXY): number {
  const width = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const height = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (width <= 0 || height <= 0) return 0;
  const intersection = width * height;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - intersection;
  return union > 0 ? intersection / union : 0;
}

/**
 * Class-aware greedy non-maximum suppression. Boxes are visited from the highest score down
 * (equal scores keep their input order). A box is dropped when its IoU with an already kept box
 * of the same class is above `iouThreshold`. Boxes of different classes never suppress each other.
 * Stops once `maxDetections` boxes are kept.
 *
 * @param iouThreshold 0..1. Raising it keeps more overlapping boxes of one class.
 * @param maxDetections Positive integer cap on the result length.
 * @returns The kept boxes, highest score first.
 */
export function nonMaxSuppression<T extends ScoredBox>(candidates: readonly T[], iouThreshold: number, maxDetections: number): T[] {
  const order = candidates.map((_, index) => index).sort((a, b) => (candidates[b] as T).score - (candidates[a] as T).score || a - b);
  const kept: T[] = [];
  const keptByClass = new Map<number, T[]>();

  for (const index of order) {
    if (kept.length >= maxDetections) break;
    const candidate = candidates[index] as T;
    const sameClass = keptByClass.get(candidate.classId) ?? [];
    if (sameClass.some((other) => intersectionOverUnion(candidate.box, other.box) > iouThreshold)) continue;

    kept.push(candidate);
    sameClass.push(candidate);
    keptByClass.set(candidate.classId, sameClass);
  }
  return kept;
}
