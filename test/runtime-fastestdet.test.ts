import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COCO80_LABELS } from '../models/labels.js';
import { loadDetector } from '../src/runtime/load-detector.js';
import type { Detector } from '../src/runtime/types.js';
import { runningInferenceWorkers } from '../src/runtime/worker-pool.js';
import type { RgbImage } from '../src/types.js';
import { decodeImageRgb } from './helpers/rgb-image.js';
import { sharedDir } from './helpers/media.js';

const SHARED = sharedDir;
const FASTESTDET = join(SHARED, 'models', 'fastestdet.onnx');
const FASTESTDET_NAMES = join(SHARED, 'models', 'fastestdet.names');
const COCO_BUS = join(SHARED, 'media', 'images', 'coco-1.jpg');
const hasAssets = existsSync(FASTESTDET) && existsSync(FASTESTDET_NAMES) && existsSync(COCO_BUS);

/** The bus in coco-1.jpg as yolov8n finds it; FastestDet's box is within a few pixels of it. */
const BUS_BOX = [44.7, 81.4, 588.5, 425.0];
/** Pixels a FastestDet box corner may differ from yolov8n's: its single 22x22 grid is coarse. */
const BOX_TOLERANCE = 12;

describe.skipIf(!hasAssets)('fastestdet.onnx on coco-1.jpg (needs ../shared/models and ../shared/media)', () => {
  let image: RgbImage;

  beforeAll(async () => {
    image = await decodeImageRgb(COCO_BUS);
  });

  afterAll(() => {
    expect(runningInferenceWorkers()).toEqual([]);
  });

  describe.each([
    ['with its built-in labels', undefined],
    ['with fastestdet.names in darknet spellings', FASTESTDET_NAMES],
  ])('%s', (_case, labels) => {
    let detector: Detector;

    beforeAll(async () => {
      detector = await loadDetector(FASTESTDET, { workers: 1, labels });
    });

    afterAll(async () => {
      await detector?.dispose();
    });

    it('recognises FastestDet and reports canonical COCO names', () => {
      expect(detector.info.family).toBe('fastestdet');
      expect([detector.info.inputWidth, detector.info.inputHeight]).toEqual([352, 352]);
      expect(detector.info.batchSize).toBe(1);
      expect(detector.info.labels).toEqual(COCO80_LABELS);
    });

    it('finds the bus', async () => {
      const detections = await detector.detect(image);
      const bus = detections.find((d) => d.name === 'bus');
      expect(bus?.classId).toBe(5);
      expect(bus?.score).toBeGreaterThanOrEqual(0.85);
      bus?.box.forEach((value, index) => expect(Math.abs(value - (BUS_BOX[index] as number))).toBeLessThanOrEqual(BOX_TOLERANCE));
      expect(detections[0]?.name).toBe('bus');
    });
  });
});
