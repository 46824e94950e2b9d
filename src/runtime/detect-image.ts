import type { Detection, Frame, RgbImage } from '../types.js';
import type { DetectionSettings, Detector } from './types.js';

/**
 * Detects objects in one image or frame with a loaded detector. A convenience over
 * `detector.detect` that accepts a {@link Frame} as it is (only its pixels and size are used).
 *
 * @param settings Post-processing settings; defaults `minScore` 0.25, `iouThreshold` 0.45, `maxDetections` 100.
 * @returns Detections, highest score first, with boxes in the image's pixel coordinates.
 * @throws FramewiseError `INVALID_ARGUMENT` at call time when the image size and byte count
 *   disagree or a setting is out of range.
 * The promise rejects with `DETECTOR_DISPOSED`, `INFERENCE_FAILED` or `WORKER_FAILED`.
 * @example
 * import { detectImage, loadDetector } from 'framewise';
 *
 * const detector = await loadDetector('yolov8n.onnx');
 * const detections = await detectImage(detector, { width: 640, height: 480, data: rgb }, { minScore: 0.5 });
 * // [{ classId: 5, name: 'bus', score: 0.91, box: [44.7, 81.4, 588.5, 425] }, ...]
 */
export function detectImage(detector: Detector, image: RgbImage | Frame, settings?: Partial<DetectionSettings>): Promise<Detection[]> {
  return detector.detect({ width: image.width, height: image.height, data: image.data }, settings);
}
