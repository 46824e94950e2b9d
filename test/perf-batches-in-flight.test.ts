/*
 * The worker pool's bound on jobs in flight, with a stand-in worker that holds every job until the
 * test finishes a batch, the way a device finishes one run at a time. Each worker must hold at most
 * two batches (one running, one ready), and finishing a batch must refill it at once from the
 * pool's queue, so the next batch is waiting in the worker before the current one ends.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger, type LogFields } from '../src/logger.js';
import { loadDetector } from '../src/runtime/load-detector.js';
import { DEFAULT_DETECTION_SETTINGS } from '../src/runtime/types.js';
import { BATCH_TIMING_EVENT, InferenceWorker, jobsPerWorker, runningInferenceWorkers, WorkerPool } from '../src/runtime/worker-pool.js';
import type { BatchTiming, WorkerConfiguration } from '../src/runtime/worker-protocol.js';
import { buildBatchProbeModel } from './helpers/family-models.js';

const HELD_JOBS_WORKER = new URL('./helpers/held-jobs-worker.ts', import.meta.url);
const IMAGE = { width: 2, height: 2, data: new Uint8Array(12) };

/** Sends a control message to the stand-in worker and resolves with the ids of the jobs it holds. */
function held(worker: InferenceWorker, control: { type: 'count' } | { type: 'finish'; count: number }): Promise<number[]> {
  return new Promise((resolve) => {
    const onMessage = (message: { type: string; jobIds?: number[] }): void => {
      if (message.type !== 'held') return;
      worker.thread.off('message', onMessage);
      resolve(message.jobIds ?? []);
    };
    worker.thread.on('message', onMessage);
    worker.thread.postMessage(control);
  });
}

async function startPool(workers: number, maxBatchSize: number): Promise<{ pool: WorkerPool; threads: InferenceWorker[] }> {
  const configuration = { plan: {}, labels: [], maxBatchSize } as unknown as WorkerConfiguration;
  const init = { modelPath: 'held.onnx', executionProviders: ['cpu'], allowCpuFallback: false, intraOpThreads: 1, configuration };
  const threads = await Promise.all(Array.from({ length: workers }, async () => (await InferenceWorker.start(init, HELD_JOBS_WORKER)).worker));
  return { pool: new WorkerPool(threads, { init, logger: silentLogger, scriptUrl: HELD_JOBS_WORKER }), threads };
}

let cleanUp: (() => Promise<void>) | undefined;

afterEach(async () => {
  await cleanUp?.();
  cleanUp = undefined;
  expect(runningInferenceWorkers()).toEqual([]);
});

describe('jobsPerWorker', () => {
  it.each([
    [1, 2],
    [2, 4],
    [4, 8],
    [8, 16],
  ])('maxBatchSize %i allows %i jobs', (maxBatchSize, jobs) => {
    expect(jobsPerWorker(maxBatchSize)).toBe(jobs);
  });
});

describe('WorkerPool batches in flight', () => {
  it('posts at most two batches to one worker', async () => {
    const { pool, threads } = await startPool(1, 4);
    cleanUp = () => pool.dispose();
    const results = Array.from({ length: 20 }, () => pool.run(IMAGE, DEFAULT_DETECTION_SETTINGS));
    results.forEach((result) => result.catch(() => undefined));

    expect(await held(threads[0]!, { type: 'count' })).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('refills a finished batch from the queue', async () => {
    const { pool, threads } = await startPool(1, 4);
    cleanUp = () => pool.dispose();
    const results = Array.from({ length: 20 }, () => pool.run(IMAGE, DEFAULT_DETECTION_SETTINGS));
    results.forEach((result) => result.catch(() => undefined));
    const worker = threads[0]!;
    await held(worker, { type: 'count' });

    expect(await held(worker, { type: 'finish', count: 4 })).toEqual([5, 6, 7, 8]);
    await expect(Promise.all(results.slice(0, 4))).resolves.toEqual([[], [], [], []]);
    // The pool posted the next batch while the worker replied to the first one.
    expect(await held(worker, { type: 'count' })).toEqual([5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('keeps the bound on every worker', async () => {
    const { pool, threads } = await startPool(2, 2);
    cleanUp = () => pool.dispose();
    const results = Array.from({ length: 12 }, () => pool.run(IMAGE, DEFAULT_DETECTION_SETTINGS));
    results.forEach((result) => result.catch(() => undefined));

    const first = await held(threads[0]!, { type: 'count' });
    const second = await held(threads[1]!, { type: 'count' });
    expect(first).toHaveLength(4);
    expect(second).toHaveLength(4);
    expect([...first, ...second].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('drains the queue batch by batch', async () => {
    const { pool, threads } = await startPool(1, 4);
    cleanUp = () => pool.dispose();
    const results = Array.from({ length: 12 }, () => pool.run(IMAGE, DEFAULT_DETECTION_SETTINGS));
    const worker = threads[0]!;
    await held(worker, { type: 'count' });

    const heldAfterEachBatch: number[] = [];
    for (let batch = 0; batch < 3; batch += 1) {
      await held(worker, { type: 'finish', count: 4 });
      heldAfterEachBatch.push((await held(worker, { type: 'count' })).length);
    }
    expect(heldAfterEachBatch).toEqual([8, 4, 0]);
    await expect(Promise.all(results)).resolves.toHaveLength(12);
  });
});

describe('batch timing events', () => {
  it('reports each run of a real worker', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'framewise-perf-timing-'));
    const timings: (BatchTiming & { threadId: number })[] = [];
    const logger = {
      ...silentLogger,
      debug: (message: string, fields?: LogFields) => {
        if (message === BATCH_TIMING_EVENT) timings.push(fields as unknown as BatchTiming & { threadId: number });
      },
    };
    const modelPath = join(directory, 'probe.onnx');
    await writeFile(modelPath, buildBatchProbeModel());
    const detector = await loadDetector(modelPath, { workers: 1, maxBatchSize: 4, logger });
    cleanUp = async () => {
      await detector.dispose();
      await rm(directory, { recursive: true, force: true });
    };

    const image = { width: 64, height: 64, data: new Uint8Array(64 * 64 * 3).fill(90) };
    await Promise.all(Array.from({ length: 8 }, () => detector.detect(image)));
    // Each timing message follows its batch's results, so the last one may still be on its way.
    await vi.waitFor(() => expect(timings.reduce((sum, timing) => sum + timing.batchSize, 0)).toBe(8));
    for (const timing of timings) {
      expect(timing.batchSize).toBeGreaterThanOrEqual(1);
      expect(timing.batchSize).toBeLessThanOrEqual(4);
      expect(timing.readyJobs + timing.batchSize).toBeLessThanOrEqual(jobsPerWorker(4));
      expect(timing.preprocessMs).toBeGreaterThanOrEqual(0);
      expect(timing.decodeMs).toBeGreaterThanOrEqual(0);
      expect(timing.runEndMs - timing.runStartMs).toBeCloseTo(timing.runMs, 2);
      expect(Math.abs(timing.runStartMs - Date.now())).toBeLessThan(60_000);
    }
  });
});
