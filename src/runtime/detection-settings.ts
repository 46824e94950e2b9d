import { invalidArgument } from '../errors.js';
import type { RgbImage } from '../types.js';
import { DEFAULT_DETECTION_SETTINGS, type DetectionSettings } from './types.js';

/**
 * Fills in the defaults of {@link DetectionSettings} and validates the result: `minScore` and
 * `iouThreshold` in 0..1, `maxDetections` a positive integer, `classIds` non-negative integers.
 * Operators call it when they are created, so bad settings throw before any frame is read.
 *
 * @throws FramewiseError `INVALID_ARGUMENT` naming the setting and its value.
 * @example
 * resolveDetectionSettings({ minScore: 0.5 }); // { minScore: 0.5, iouThreshold: 0.45, maxDetections: 100 }
 */
export function resolveDetectionSettings(settings: Partial<DetectionSettings> = {}): DetectionSettings {
  if (typeof settings !== 'object' || settings === null) {
    throw invalidArgument('detection settings', settings, 'an object such as { minScore: 0.5 }');
  }
  const resolved = { ...DEFAULT_DETECTION_SETTINGS, ...withoutUndefined(settings) };

  if (!isUnitInterval(resolved.minScore)) throw invalidArgument('minScore', resolved.minScore, 'a number from 0 to 1');
  if (!isUnitInterval(resolved.iouThreshold)) {
    throw invalidArgument('iouThreshold', resolved.iouThreshold, 'a number from 0 to 1');
  }
  if (!Number.isSafeInteger(resolved.maxDetections) || resolved.maxDetections < 1) {
    throw invalidArgument('maxDetections', resolved.maxDetections, 'a positive integer');
  }
  if (resolved.classIds !== undefined) {
    const valid = Array.isArray(resolved.classIds) && resolved.classIds.every((id) => Number.isSafeInteger(id) && id >= 0);
    if (!valid) throw invalidArgument('classIds', resolved.classIds, 'an array of non-negative integer class ids');
    return { ...resolved, classIds: [...resolved.classIds] };
  }
  return resolved;
}

/**
 * Checks that `image` contains `width * height * 3` bytes of RGB24 pixels for a positive integer size.
 *
 * @throws FramewiseError `INVALID_ARGUMENT` naming the size and the byte count.
 */
export function validateRgbImage(image: RgbImage): void {
  if (typeof image !== 'object' || image === null) {
    throw invalidArgument('image', image, 'an object with width, height and RGB24 data');
  }
  const { width, height, data } = image;
  if (!Number.isSafeInteger(width) || width < 1) throw invalidArgument('image.width', width, 'a positive integer');
  if (!Number.isSafeInteger(height) || height < 1) throw invalidArgument('image.height', height, 'a positive integer');
  if (!(data instanceof Uint8Array)) {
    throw invalidArgument('image.data', Object.prototype.toString.call(data), 'a Uint8Array (or Buffer) of RGB24 pixels');
  }
  if (data.length !== width * height * 3) {
    throw invalidArgument('image.data.length', data.length, `${width * height * 3} bytes (width ${width} x height ${height} x 3)`);
  }
}

function isUnitInterval(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && value <= 1;
}

/** Drops keys whose value is `undefined`, so `{ minScore: undefined }` keeps the default. */
function withoutUndefined<T extends object>(settings: T): Partial<T> {
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)) as Partial<T>;
}
