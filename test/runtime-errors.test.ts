import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FramewiseError } from '../src/errors.js';
import { loadDetector } from '../src/runtime/load-detector.js';
import type { LoadDetectorOptions } from '../src/runtime/types.js';
import { runningInferenceWorkers } from '../src/runtime/worker-pool.js';
import { buildConstantYolov8Model, buildIdentityModel } from './helpers/synthetic-models.js';

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'framewise-runtime-errors-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

afterEach(() => {
  // A failed load must not leave its worker behind.
  expect(runningInferenceWorkers()).toEqual([]);
});

async function loadError(path: string, options: LoadDetectorOptions = {}): Promise<FramewiseError> {
  const error = await loadDetector(path, { workers: 1, ...options }).then(
    async (detector) => {
      await detector.dispose();
      throw new Error(`loadDetector(${path}) succeeded`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FramewiseError);
  return error as FramewiseError;
}

describe('loadDetector file errors', () => {
  it('rejects a missing file with MODEL_NOT_FOUND, quoting the path as given', async () => {
    const error = await loadError('models/does-not-exist.onnx');
    expect(error.code).toBe('MODEL_NOT_FOUND');
    expect(error.message).toContain('"models/does-not-exist.onnx"');
    expect(error.context.path).toBe('models/does-not-exist.onnx');
  });

  it('rejects a directory with MODEL_INVALID', async () => {
    const path = join(directory, 'a-directory.onnx');
    await mkdir(path);
    const error = await loadError(path);
    expect(error.code).toBe('MODEL_INVALID');
    expect(error.message).toContain('is a directory');
  });

  it('rejects an empty file with MODEL_INVALID', async () => {
    const path = join(directory, 'empty.onnx');
    await writeFile(path, '');
    const error = await loadError(path);
    expect(error.code).toBe('MODEL_INVALID');
    expect(error.message).toContain('is empty');
  });

  it("rejects a text file with MODEL_INVALID and ONNX Runtime's message as cause", async () => {
    const path = join(directory, 'readme.onnx');
    await writeFile(path, 'This file is documentation, not a model.\n');
    const error = await loadError(path);
    expect(error.code).toBe('MODEL_INVALID');
    expect(error.cause).toBeInstanceOf(Error);
    expect((error.cause as Error).message).toContain('Protobuf parsing failed');
    expect(error.message).toContain((error.cause as Error).message);
  });
});

describe('loadDetector layout errors', () => {
  it('lists every input and output and the families tried', async () => {
    const path = join(directory, 'identity.onnx');
    await writeFile(path, buildIdentityModel(['batch', 4]));
    const error = await loadError(path);
    expect(error.code).toBe('MODEL_LAYOUT_UNKNOWN');
    expect(error.message).toContain('Inputs: x: float32 [batch, 4]');
    expect(error.message).toContain('Outputs: y: float32 [batch, 4]');
    expect(error.message).toContain('yolov8 (YOLOv8/YOLO11)');
    expect(error.message).toContain('fastestdet (FastestDet)');
    expect(error.context).toMatchObject({
      inputs: ['x: float32 [batch, 4]'],
      outputs: ['y: float32 [batch, 4]'],
      familiesTried: ['keras-yolo3', 'tf-od-api', 'retinanet', 'torchvision', 'yolov8', 'yolo-end2end', 'rtdetr', 'yolov5', 'fastestdet', 'yolov3'],
    });
  });

  it('names the family option when the named family does not fit', async () => {
    const path = join(directory, 'identity-forced.onnx');
    await writeFile(path, buildIdentityModel());
    const error = await loadError(path, { family: 'yolov8' });
    expect(error.code).toBe('MODEL_LAYOUT_UNKNOWN');
    expect(error.message).toContain('do not match the family "yolov8" named by the family option');
  });

  it('loads an output with more rows than anchors only with the family option', async () => {
    const path = join(directory, 'tall.onnx');
    // Ten rows (four box rows and six classes) but only five anchors: [1, 10, 5] fits no layout on its own.
    await writeFile(path, buildConstantYolov8Model({ anchors: Array.from({ length: 5 }, () => [32, 32, 8, 8, 0.5, 0, 0, 0, 0, 0]) }));
    expect((await loadError(path)).code).toBe('MODEL_LAYOUT_UNKNOWN');

    const labels = ['a', 'b', 'c', 'd', 'e', 'f'];
    const detector = await loadDetector(path, { workers: 1, family: 'yolov8', labels });
    try {
      expect(detector.info.labels).toEqual(labels);
      const detections = await detector.detect({ width: 64, height: 64, data: new Uint8Array(64 * 64 * 3) });
      expect(detections.map((d) => [d.name, d.box])).toEqual([['a', [28, 28, 36, 36]]]);
    } finally {
      await detector.dispose();
    }
  });
});

describe('loadDetector argument errors', () => {
  it.each([
    ['an empty model path', '', {}, 'modelPath'],
    ['zero workers', 'model.onnx', { workers: 0 }, 'workers'],
    ['fractional intra-op threads', 'model.onnx', { intraOpThreads: 1.5 }, 'intraOpThreads'],
    ['no execution providers', 'model.onnx', { executionProviders: [] }, 'executionProviders'],
    ['an empty labels array', 'model.onnx', { labels: [] }, 'labels'],
    ['labels of the wrong type', 'model.onnx', { labels: 5 as unknown as string }, 'labels'],
    ['an unknown family', 'model.onnx', { family: 'yolov99' }, 'family'],
    ['a maxBatchSize of 0', 'model.onnx', { maxBatchSize: 0 }, 'maxBatchSize'],
    ['a fractional maxBatchSize', 'model.onnx', { maxBatchSize: 2.5 }, 'maxBatchSize'],
    ['a logger without methods', 'model.onnx', { logger: {} as never }, 'logger'],
  ] as const)('throws INVALID_ARGUMENT at call time for %s', (_case, path, options, argument) => {
    try {
      void loadDetector(path, options as LoadDetectorOptions);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(FramewiseError);
      expect((error as FramewiseError).code).toBe('INVALID_ARGUMENT');
      expect((error as FramewiseError).context.argument).toBe(argument);
    }
  });

  it('lists the known families for an unknown one', () => {
    expect(() => loadDetector('model.onnx', { family: 'yolov99' })).toThrow(
      'Expected one of keras-yolo3, tf-od-api, retinanet, torchvision, yolov8, yolo-end2end, rtdetr, yolov5, fastestdet, yolov3.',
    );
  });
});
