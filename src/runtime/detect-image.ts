import { firstValueFrom } from 'rxjs';
import { FramewiseError } from '../errors.js';
import type { FfmpegPaths } from '../ffmpeg/binaries.js';
import { fromVideoFile } from '../sources/video-file.js';
import type { Detection, Frame, RgbImage } from '../types.js';
import { resolveDetectionSettings } from './detection-settings.js';
import type { DetectionSettings, Detector } from './types.js';

/** Options of {@link detectImage}: post-processing settings, plus the ffmpeg paths used to decode a file. */
export interface DetectImageOptions extends Partial<DetectionSettings>, FfmpegPaths {}

/**
 * Detects objects in one image with a loaded detector. The image is a file path (JPEG, PNG or any
 * format ffmpeg reads; for a video, its first frame), RGB24 pixels, or a {@link Frame}, of which
 * only the pixels and size are used.
 *
 * @param options Post-processing settings; defaults `minScore` 0.25, `iouThreshold` 0.45, `maxDetections` 100.
 * @returns Detections, highest score first, with boxes in the image's pixel coordinates.
 * @throws FramewiseError `INVALID_ARGUMENT` at call time when the image size and byte count
 *   disagree or a setting is out of range.
 * The promise rejects with `INPUT_NOT_FOUND`, `INVALID_INPUT` or `DECODE_FAILED` for a file that cannot
 * be decoded, and with `DETECTOR_DISPOSED`, `INFERENCE_FAILED` or `WORKER_FAILED` from the detector.
 * @example
 * import { detectImage, loadDetector } from 'framewise';
 *
 * const detector = await loadDetector('yolov8n.onnx');
 * const detections = await detectImage(detector, 'bus.jpg', { minScore: 0.5 });
 * // [{ classId: 5, name: 'bus', score: 0.91, box: [44.7, 81.4, 588.5, 425] }, ...]
 */
export function detectImage(detector: Detector, image: string | RgbImage | Frame, options: DetectImageOptions = {}): Promise<Detection[]> {
  const { ffmpegPath, ffprobePath, ...settings } = options;
  if (typeof image === 'string') {
    // Validate before decoding, so bad settings throw at call time as they do for pixels.
    resolveDetectionSettings(settings);
    return decodeFirstFrame(image, { ffmpegPath, ffprobePath }).then((frame) => detector.detect(frame, settings));
  }
  return detector.detect({ width: image.width, height: image.height, data: image.data }, settings);
}

async function decodeFirstFrame(path: string, paths: FfmpegPaths): Promise<RgbImage> {
  const frame = await firstValueFrom(fromVideoFile(path, paths), { defaultValue: undefined });
  if (frame === undefined) {
    throw new FramewiseError('INVALID_INPUT', `${JSON.stringify(path)} contains no decodable frame. Check that it is an image or video file.`, {
      path,
    });
  }
  return { width: frame.width, height: frame.height, data: frame.data };
}
