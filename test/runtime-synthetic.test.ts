import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FramewiseError } from '../src/errors.js';
import { runningChildPids } from '../src/ffmpeg/process.js';
import { detectImage } from '../src/runtime/detect-image.js';
import { loadDetector } from '../src/runtime/load-detector.js';
import type { Detector } from '../src/runtime/types.js';
import { runningInferenceWorkers } from '../src/runtime/worker-pool.js';
import type { Detection, Frame, RgbImage } from '../src/types.js';
import { buildOnnxModel } from './helpers/onnx-builder.js';
import { buildConstantYolov8Model } from './helpers/synthetic-models.js';

/*
 * A 200x100 image letterboxed into the 64x64 input: scale 0.32, 64x32 content, 16 rows of padding
 * above. So a model box (x, y) maps to source ((x - 0) / 0.32, (y - 16) / 0.32).
 * Anchors: [cx, cy, w, h, score of class 0, score of class 1] in model pixels.
 */
const ANCHORS = [
  [32, 32, 32, 16, 0.9, 0.1], // model [16, 24, 48, 40] -> source [50, 25, 150, 75]
  [34, 32, 32, 16, 0.8, 0], // IoU 0.88 with the first, same class: removed by NMS
  [32, 32, 32, 16, 0.05, 0.7], // same box as the first, class 1: kept
  [50, 35, 20, 10, 0.2, 0.1], // below the default minScore; source [125, 43.75, 187.5, 75]
  [0, 25, 16, 10, 0, 0.6], // model [-8, 20, 8, 30] -> source [-25, 12.5, 25, 43.75], clipped at x = 0
  [32, 32, 64, 32, 0.4, 0], // the whole content area -> source [0, 0, 200, 100]
  [0, 0, 0, 0, 0, 0],
  [0, 0, 0, 0, 0, 0],
];

const IMAGE: RgbImage = { width: 200, height: 100, data: new Uint8Array(200 * 100 * 3).fill(90) };

let directory: string;
const models: Record<string, string> = {};

async function writeModel(name: string, bytes: Uint8Array): Promise<string> {
  const path = join(directory, `${name}.onnx`);
  await writeFile(path, bytes);
  models[name] = path;
  return path;
}

function summary(detections: readonly Detection[]): [string, number, number[]][] {
  return detections.map((d) => [d.name, Number(d.score.toFixed(4)), d.box.map((v) => Number(v.toFixed(4)))]);
}

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'framewise-runtime-synthetic-'));
  await writeModel('plain', buildConstantYolov8Model({ anchors: ANCHORS }));
  await writeModel('named', buildConstantYolov8Model({ anchors: ANCHORS, metadata: { names: "{0: 'cat', 1: \"o'clock\"}" } }));
  await writeModel('three-names', buildConstantYolov8Model({ anchors: ANCHORS, metadata: { names: "['a', 'b', 'c']" } }));
  await writeModel(
    'dynamic',
    buildConstantYolov8Model({
      anchors: ANCHORS,
      inputShape: ['batch', 3, 'height', 'width'],
      outputShape: ['batch', 6, 'anchors'],
      metadata: { imgsz: '[64, 64]', names: "{0: 'cat', 1: 'dog'}" },
    }),
  );
  // Reshapes the 3x64x64 image to [1, 6, 8], which ONNX Runtime rejects when the model runs.
  await writeModel(
    'failing-run',
    buildOnnxModel({
      inputs: [{ name: 'images', type: 'float32', shape: ['batch', 3, 'height', 'width'] }],
      outputs: [{ name: 'output0', type: 'float32', shape: [1, 6, 8] }],
      nodes: [{ opType: 'Reshape', inputs: ['images', 'shape'], outputs: ['output0'] }],
      initializers: [{ name: 'shape', type: 'int64', dims: [3], values: [1, 6, 8] }],
      metadata: { imgsz: '[64, 64]', names: "['a', 'b']" },
    }),
  );
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
  expect(runningChildPids()).toEqual([]);
});

describe('synthetic YOLOv8 model with metadata names', () => {
  let detector: Detector;

  beforeAll(async () => {
    detector = await loadDetector(models.named as string, { workers: 1 });
  });

  afterAll(async () => {
    await detector.dispose();
  });

  it('reports info from the signature and metadata', () => {
    expect(detector.info.family).toBe('yolov8');
    expect(detector.info.inputWidth).toBe(64);
    expect(detector.info.inputHeight).toBe(64);
    expect(detector.info.labels).toEqual(['cat', "o'clock"]);
    expect(detector.info.batchSize).toBe(1);
    expect(detector.info.executionProviders).toEqual(['cpu']);
    expect(detector.info.workers).toBe(1);
    expect(detector.info.intraOpThreads).toBe(1);
    expect(detector.concurrency).toBe(2);
  });

  it('decodes boxes into source pixels of a non-square image', async () => {
    const detections = await detector.detect(IMAGE);
    expect(summary(detections)).toEqual([
      ['cat', 0.9, [50, 25, 150, 75]],
      ["o'clock", 0.7, [50, 25, 150, 75]],
      ["o'clock", 0.6, [0, 12.5, 25, 43.75]],
      ['cat', 0.4, [0, 0, 200, 100]],
    ]);
    expect(detections.map((d) => d.classId)).toEqual([0, 1, 1, 0]);
  });

  it('keeps lower scores with a lower minScore', async () => {
    const detections = await detector.detect(IMAGE, { minScore: 0.15 });
    expect(summary(detections)[4]).toEqual(['cat', 0.2, [125, 43.75, 187.5, 75]]);
    expect(detections).toHaveLength(5);
  });

  it('keeps overlapping boxes with a high iouThreshold', async () => {
    const detections = await detector.detect(IMAGE, { iouThreshold: 0.95 });
    expect(summary(detections)[1]).toEqual(['cat', 0.8, [56.25, 25, 156.25, 75]]);
    expect(detections).toHaveLength(5);
  });

  it('returns only the classes in classIds', async () => {
    const detections = await detector.detect(IMAGE, { classIds: [1] });
    expect(summary(detections)).toEqual([
      ["o'clock", 0.7, [50, 25, 150, 75]],
      ["o'clock", 0.6, [0, 12.5, 25, 43.75]],
    ]);
  });

  it('caps the result at maxDetections', async () => {
    const detections = await detector.detect(IMAGE, { maxDetections: 2 });
    expect(detections.map((d) => d.score.toFixed(2))).toEqual(['0.90', '0.70']);
  });

  it('accepts a frame through detectImage', async () => {
    const frame: Frame = { ...IMAGE, sourceId: 'test', index: 3, timestampMs: 120, live: false };
    const detections = await detectImage(detector, frame);
    expect(detections).toHaveLength(4);
  });

  it('returns the same result for parallel calls', async () => {
    const results = await Promise.all(Array.from({ length: 5 }, () => detector.detect(IMAGE)));
    for (const result of results) expect(summary(result)).toEqual(summary(results[0] as Detection[]));
  });

  it.each([
    ['minScore above 1', { minScore: 1.5 }, 'minScore'],
    ['negative iouThreshold', { iouThreshold: -0.1 }, 'iouThreshold'],
    ['maxDetections of 0', { maxDetections: 0 }, 'maxDetections'],
    ['fractional maxDetections', { maxDetections: 2.5 }, 'maxDetections'],
    ['negative class id', { classIds: [-1] }, 'classIds'],
  ])('throws at call time for %s', (_case, settings, argument) => {
    try {
      void detector.detect(IMAGE, settings);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(FramewiseError);
      expect((error as FramewiseError).code).toBe('INVALID_ARGUMENT');
      expect((error as FramewiseError).context.argument).toBe(argument);
    }
  });

  it('throws at call time when the pixel count does not match the size', () => {
    const image = { width: 200, height: 100, data: new Uint8Array(100) };
    expect(() => detector.detect(image)).toThrow(/image\.data\.length.*60000 bytes/);
  });
});

describe('synthetic YOLOv8 model labels', () => {
  it('uses the labels option over the metadata names', async () => {
    const detector = await loadDetector(models.named as string, { workers: 1, labels: ['alpha', 'beta'] });
    try {
      expect(detector.info.labels).toEqual(['alpha', 'beta']);
      expect((await detector.detect(IMAGE)).map((d) => d.name)).toEqual(['alpha', 'beta', 'beta', 'alpha']);
    } finally {
      await detector.dispose();
    }
  });

  it('reads a labels file with CRLF, spaces and trailing blank lines', async () => {
    const path = join(directory, 'labels.txt');
    await writeFile(path, '  first class \r\nsecond\t\r\n\r\n\n');
    const detector = await loadDetector(models.plain as string, { workers: 1, labels: path });
    try {
      expect(detector.info.labels).toEqual(['first class', 'second']);
    } finally {
      await detector.dispose();
    }
  });

  it('rejects metadata names that do not match the class count', async () => {
    const error = await loadDetector(models['three-names'] as string, { workers: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FramewiseError);
    expect((error as FramewiseError).code).toBe('MODEL_INVALID');
    expect((error as FramewiseError).message).toContain('scores 2 classes');
    expect((error as FramewiseError).message).toContain('has 3 names');
  });

  it('rejects the built-in COCO list for a two-class model without names', async () => {
    const error = await loadDetector(models.plain as string, { workers: 1 }).catch((e: unknown) => e);
    expect((error as FramewiseError).code).toBe('MODEL_INVALID');
    expect((error as FramewiseError).context).toMatchObject({ modelClasses: 2, labelCount: 80 });
  });

  it('rejects a labels file with a blank line between names', async () => {
    const path = join(directory, 'gap.txt');
    await writeFile(path, 'a\n\nb\n');
    const error = await loadDetector(models.plain as string, { workers: 1, labels: path }).catch((e: unknown) => e);
    expect((error as FramewiseError).code).toBe('INVALID_ARGUMENT');
    expect((error as FramewiseError).context).toMatchObject({ line: 2 });
  });

  it('rejects a missing labels file', async () => {
    const error = await loadDetector(models.plain as string, { workers: 1, labels: join(directory, 'none.txt') }).catch((e: unknown) => e);
    expect((error as FramewiseError).code).toBe('INVALID_ARGUMENT');
    expect((error as FramewiseError).message).toContain('Cannot read labels file');
  });
});

describe('synthetic YOLOv8 model variants', () => {
  it('reports a free batch dimension as dynamic and sizes from imgsz', async () => {
    const detector = await loadDetector(models.dynamic as string, { workers: 1 });
    try {
      expect(detector.info.batchSize).toBe('dynamic');
      expect(detector.info.inputWidth).toBe(64);
      expect(detector.info.inputHeight).toBe(64);
      expect(summary(await detector.detect(IMAGE))[0]).toEqual(['cat', 0.9, [50, 25, 150, 75]]);
    } finally {
      await detector.dispose();
    }
  });

  it('rejects a detection with INFERENCE_FAILED when the session fails', async () => {
    const detector = await loadDetector(models['failing-run'] as string, { workers: 1 });
    try {
      const error = await detector.detect(IMAGE).catch((e: unknown) => e);
      expect((error as FramewiseError).code).toBe('INFERENCE_FAILED');
      expect((error as FramewiseError).message).toContain('200x100 image');
      expect((error as FramewiseError).cause).toBeInstanceOf(Error);
      // The worker survives a failed job.
      await expect(detector.detect(IMAGE)).rejects.toMatchObject({ code: 'INFERENCE_FAILED' });
    } finally {
      await detector.dispose();
    }
  });

  it('spreads parallel jobs over two workers', async () => {
    const detector = await loadDetector(models.named as string, { workers: 2 });
    try {
      expect(detector.concurrency).toBe(4);
      expect(runningInferenceWorkers().length).toBeGreaterThanOrEqual(2);
      const results = await Promise.all(Array.from({ length: 9 }, () => detector.detect(IMAGE)));
      expect(results.every((result) => result.length === 4)).toBe(true);
    } finally {
      await detector.dispose();
    }
  });

  it('warns once and uses CPU when CUDA fails to load', async () => {
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (message: string) => warnings.push(message) };
    // The CUDA provider loads only where its libraries are installed; elsewhere session creation
    // fails (ONNX Runtime prints that error once to stderr) and the detector retries on CPU.
    const detector = await loadDetector(models.named as string, { workers: 2, executionProviders: ['cuda', 'cpu'], logger });
    try {
      if (detector.info.executionProviders[0] === 'cuda') {
        expect(warnings).toEqual([]);
      } else {
        expect(detector.info.executionProviders).toEqual(['cpu']);
        expect(warnings).toEqual(['Execution providers not available; running on CPU']);
      }
      expect(await detector.detect(IMAGE)).toHaveLength(4);
    } finally {
      await detector.dispose();
    }
  });

  it('warns once and uses CPU for unlisted providers', async () => {
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (message: string) => warnings.push(message) };
    const detector = await loadDetector(models.named as string, {
      workers: 2,
      executionProviders: ['no-such-provider', 'cpu'],
      logger,
    });
    try {
      expect(detector.info.executionProviders).toEqual(['cpu']);
      expect(warnings).toEqual(['Execution providers not available; running on CPU']);
    } finally {
      await detector.dispose();
    }
  });
});
