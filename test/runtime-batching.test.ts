/*
 * Batching of dynamic-batch models. The probe model's scores reveal, for each detection, the
 * image's index in its session.run, the number of images in that run and the image's own mean
 * pixel value (see buildBatchProbeModel).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDetector } from '../src/runtime/load-detector.js';
import { runningInferenceWorkers } from '../src/runtime/worker-pool.js';
import type { Detection, RgbImage } from '../src/types.js';
import { buildBatchProbeModel } from './helpers/family-models.js';
import { buildConstantYolov8Model } from './helpers/synthetic-models.js';

let directory: string;
let probePath: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'framewise-runtime-batching-'));
  probePath = join(directory, 'probe.onnx');
  await writeFile(probePath, buildBatchProbeModel());
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
  expect(runningInferenceWorkers()).toEqual([]);
});

/** Creates a 64x64 image of one gray value, so the probe's mean score is `value / 255`. */
function uniformImage(value: number): RgbImage {
  return { width: 64, height: 64, data: new Uint8Array(64 * 64 * 3).fill(value) };
}

/** Reads the run that produced `detections` from the probe's scores. */
function readProbe(detections: readonly Detection[]): { index: number; batchSize: number; mean: number } {
  const score = (name: string): number => {
    const detection = detections.find((d) => d.name === name);
    if (!detection) throw new Error(`No "${name}" detection in ${JSON.stringify(detections)}`);
    return detection.score;
  };
  return {
    index: Math.round((score('index') - 0.05) / 0.2),
    batchSize: Math.round(score('size') * 10),
    mean: score('mean'),
  };
}

describe('dynamic-batch model', () => {
  it('combines queued images up to maxBatchSize', async () => {
    const detector = await loadDetector(probePath, { workers: 1, maxBatchSize: 4 });
    try {
      expect(detector.info.batchSize).toBe('dynamic');
      expect(detector.info.maxBatchSize).toBe(4);
      expect(detector.concurrency).toBe(8);

      const values = [20, 40, 60, 80, 100, 120, 140, 160];
      const results = await Promise.all(values.map((value) => detector.detect(uniformImage(value), { minScore: 0.01 })));
      const probes = results.map(readProbe);

      // Each result carries its own image's mean, so outputs were split back to the right jobs.
      probes.forEach((probe, job) => expect(probe.mean).toBeCloseTo((values[job] as number) / 255, 4));
      const batchSizes = probes.map((probe) => probe.batchSize);
      expect(Math.max(...batchSizes)).toBeGreaterThan(1);
      expect(Math.max(...batchSizes)).toBeLessThanOrEqual(4);
      for (const probe of probes) expect(probe.index).toBeLessThan(probe.batchSize);
      // Jobs are batched in arrival order: within a run, indices follow the job order.
      for (let job = 1; job < probes.length; job += 1) {
        const previous = probes[job - 1] as { index: number };
        const current = probes[job] as { index: number };
        expect(current.index === 0 || current.index === previous.index + 1).toBe(true);
      }
    } finally {
      await detector.dispose();
    }
  });

  it('runs one image at a time with maxBatchSize 1', async () => {
    const detector = await loadDetector(probePath, { workers: 1, maxBatchSize: 1 });
    try {
      expect(detector.info.maxBatchSize).toBe(1);
      expect(detector.concurrency).toBe(2);
      const results = await Promise.all([30, 60, 90, 120].map((value) => detector.detect(uniformImage(value), { minScore: 0.01 })));
      expect(results.map((result) => readProbe(result).batchSize)).toEqual([1, 1, 1, 1]);
      expect(results.map((result) => readProbe(result).index)).toEqual([0, 0, 0, 0]);
    } finally {
      await detector.dispose();
    }
  });

  it('splits a batch across two workers', async () => {
    const detector = await loadDetector(probePath, { workers: 2, maxBatchSize: 2 });
    try {
      expect(detector.concurrency).toBe(8);
      const values = [10, 50, 90, 130, 170, 210];
      const results = await Promise.all(values.map((value) => detector.detect(uniformImage(value), { minScore: 0.01 })));
      results.forEach((result, job) => expect(readProbe(result).mean).toBeCloseTo((values[job] as number) / 255, 4));
      for (const result of results) expect(readProbe(result).batchSize).toBeLessThanOrEqual(2);
    } finally {
      await detector.dispose();
    }
  });
});

describe('fixed-batch model', () => {
  it('reports a maximum batch of one whatever maxBatchSize says', async () => {
    const path = join(directory, 'fixed.onnx');
    const anchors = [[32, 32, 16, 16, 0.9], ...Array.from({ length: 5 }, () => [0, 0, 0, 0, 0])];
    await writeFile(path, buildConstantYolov8Model({ anchors, metadata: { names: "['only']" } }));
    const detector = await loadDetector(path, { workers: 1, maxBatchSize: 8 });
    try {
      expect(detector.info.batchSize).toBe(1);
      expect(detector.info.maxBatchSize).toBe(1);
      expect(detector.concurrency).toBe(2);
      const results = await Promise.all([1, 2, 3].map(() => detector.detect(uniformImage(0))));
      expect(results.map((result) => result.map((d) => d.name))).toEqual([['only'], ['only'], ['only']]);
    } finally {
      await detector.dispose();
    }
  });
});
