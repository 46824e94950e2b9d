import type { Candidate } from '../../models/adapter.js';
import { clipBox } from '../../models/letterbox.js';
import { nonMaxSuppression } from '../../models/nms.js';
import type { Detection } from '../types.js';
import type { DetectionSettings } from './types.js';

/**
 * Turns decoded candidates into the final detections of one image: class-aware NMS when the model
 * needs it (otherwise a sort by score), the `maxDetections` cap, clipping to the image and names.
 * A class id without a label is named by its number.
 */
export function finishDetections(
  candidates: readonly Candidate[],
  needsNms: boolean,
  settings: DetectionSettings,
  labels: readonly string[],
  imageWidth: number,
  imageHeight: number,
): Detection[] {
  const kept = needsNms
    ? nonMaxSuppression(candidates, settings.iouThreshold, settings.maxDetections)
    : [...candidates].sort((a, b) => b.score - a.score).slice(0, settings.maxDetections);

  return kept.map((candidate) => ({
    classId: candidate.classId,
    name: labels[candidate.classId] ?? String(candidate.classId),
    score: candidate.score,
    box: clipBox(candidate.box, imageWidth, imageHeight),
  }));
}
