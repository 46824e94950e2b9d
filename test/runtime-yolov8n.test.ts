import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COCO80_LABELS } from '../models/labels.js';
import { runningChildPids } from '../src/ffmpeg/process.js';
import { detectImage } from '../src/runtime/detect-image.js';
import { loadDetector } from '../src/runtime/load-detector.js';
import type { Detector } from '../src/runtime/types.js';
import type { RgbImage } from '../src/types.js';
import { stripMetadataProps } from './helpers/onnx-builder.js';
import { decodeImageRgb } from './helpers/rgb-image.js';
import { sharedDir } from './helpers/media.js';

const SHARED = sharedDir;
const YOLOV8N = join(SHARED, 'models', 'yolov8n_int8.onnx');
const COCO_BUS = join(SHARED, 'media', 'images', 'coco-1.jpg');
const hasAssets = existsSync(YOLOV8N) && existsSync(COCO_BUS);

/** The bus in coco-1.jpg as Ultralytics 8 detects it with yolov8n. */
const BUS_BOX = [44.7, 81.4, 588.5, 425.0];

describe.skipIf(!hasAssets)('yolov8n_int8.onnx on coco-1.jpg (needs ../shared/models and ../shared/media)', () => {
  let detector: Detector;
  let image: RgbImage;

  beforeAll(async () => {
    [detector, image] = await Promise.all([loadDetector(YOLOV8N, { workers: 1 }), decodeImageRgb(COCO_BUS)]);
  });

  afterAll(async () => {
    await detector?.dispose();
    expect(runningChildPids()).toEqual([]);
  });

  it('recognises the family and reads the labels from metadata', () => {
    expect(detector.info.family).toBe('yolov8');
    expect(detector.info.inputWidth).toBe(640);
    expect(detector.info.inputHeight).toBe(640);
    expect(detector.info.batchSize).toBe(1);
    expect(detector.info.labels).toHaveLength(80);
    expect(detector.info.labels[0]).toBe('person');
    expect(detector.info.labels).toEqual(COCO80_LABELS);
    expect(detector.info.path).toBe(YOLOV8N);
  });

  it('finds the bus and at least three people', async () => {
    expect([image.width, image.height]).toEqual([640, 480]);
    const detections = await detector.detect(image);

    const bus = detections.find((d) => d.name === 'bus');
    expect(bus?.classId).toBe(5);
    expect(bus?.score).toBeGreaterThanOrEqual(0.85);
    bus?.box.forEach((value, index) => expect(Math.abs(value - (BUS_BOX[index] as number))).toBeLessThanOrEqual(6));
    expect(detections.filter((d) => d.name === 'person').length).toBeGreaterThanOrEqual(3);
  });

  it('returns scores in order and boxes inside the frame', async () => {
    const detections = await detector.detect(image);
    const scores = detections.map((d) => d.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    for (const { box } of detections) {
      expect(box[0]).toBeGreaterThanOrEqual(0);
      expect(box[1]).toBeGreaterThanOrEqual(0);
      expect(box[2]).toBeLessThanOrEqual(image.width);
      expect(box[3]).toBeLessThanOrEqual(image.height);
      expect(box[2]).toBeGreaterThan(box[0]);
    }
  });

  it('keeps only the requested class ids', async () => {
    const detections = await detector.detect(image, { classIds: [5] });
    expect(detections.map((d) => d.name)).toEqual(['bus']);
  });

  it('detectImage decodes an image path with ffmpeg', async () => {
    const detections = await detectImage(detector, COCO_BUS);
    const bus = detections.find((detection) => detection.name === 'bus');
    expect(bus?.score).toBeGreaterThanOrEqual(0.85);
    bus!.box.forEach((value, i) => expect(Math.abs(value - BUS_BOX[i]!)).toBeLessThanOrEqual(6));
    expect(detections.filter((detection) => detection.name === 'person').length).toBeGreaterThanOrEqual(3);
  });

  it('detectImage rejects a missing path with INPUT_NOT_FOUND', async () => {
    await expect(detectImage(detector, join(SHARED, 'media', 'images', 'missing.jpg'))).rejects.toMatchObject({
      code: 'INPUT_NOT_FOUND',
    });
  });

  it('detectImage rejects bad settings before decoding', () => {
    expect(() => detectImage(detector, COCO_BUS, { minScore: 3 })).toThrow(/minScore/);
  });

  it('lets the caller overwrite the pixels right after the call', async () => {
    const pixels = new Uint8Array(image.data);
    const pending = detector.detect({ ...image, data: pixels });
    pixels.fill(0);
    const detections = await pending;
    expect(detections.some((d) => d.name === 'bus')).toBe(true);
  });
});

describe.skipIf(!hasAssets)('yolov8n_int8.onnx dispose (needs ../shared)', () => {
  it('disposes during a running inference without aborting the process', async () => {
    const detector = await loadDetector(YOLOV8N, { workers: 1 });
    const image = { width: 640, height: 480, data: new Uint8Array(640 * 480 * 3) };
    const outcome = detector.detect(image).catch((error: { code?: string }) => error.code);
    // Give the worker time to enter session.run, which takes about 100 ms on a 2-core machine.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await detector.dispose();
    // Terminating a worker inside session.run would have aborted this test process by now.
    expect(await outcome).toBe('DETECTOR_DISPOSED');
  });
});

describe.skipIf(!hasAssets)('yolov8n_int8.onnx without metadata (needs ../shared)', () => {
  let directory: string;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'framewise-yolov8n-stripped-'));
  });

  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('falls back to the built-in COCO labels', async () => {
    const path = join(directory, 'stripped.onnx');
    await writeFile(path, stripMetadataProps(await readFile(YOLOV8N)));
    const detector = await loadDetector(path, { workers: 1 });
    try {
      expect(detector.info.family).toBe('yolov8');
      expect(detector.info.labels).toEqual(COCO80_LABELS);
      const detections = await detector.detect(await decodeImageRgb(COCO_BUS), { classIds: [5] });
      expect(detections[0]?.name).toBe('bus');
    } finally {
      await detector.dispose();
    }
  });
});
