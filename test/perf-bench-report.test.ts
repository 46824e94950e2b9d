import { describe, expect, it } from 'vitest';
import { BatchLog } from '../bench/batch-log.js';
import { hiddenShare } from '../bench/report.js';
import { BATCH_TIMING_EVENT } from '../src/runtime/worker-pool.js';

/** Logs one batch the way the worker pool does. */
function logBatch(log: BatchLog, threadId: number, runStartMs: number, runEndMs: number, batchSize = 1): void {
  log.debug(BATCH_TIMING_EVENT, {
    path: 'model.onnx',
    threadId,
    batchSize,
    readyJobs: 0,
    preprocessMs: 2 * batchSize,
    runMs: runEndMs - runStartMs,
    decodeMs: batchSize,
    runStartMs,
    runEndMs,
  });
}

describe('BatchLog', () => {
  it('ignores other log entries', () => {
    const log = new BatchLog();
    log.debug('Detector loaded', { workers: 2 });
    expect(log.summarize()).toBeUndefined();
  });

  it('sums time per image', () => {
    const log = new BatchLog();
    logBatch(log, 1, 0, 40, 4);
    logBatch(log, 1, 50, 70, 2);
    const summary = log.summarize();
    expect(summary?.batches).toBe(2);
    expect(summary?.images).toBe(6);
    expect(summary?.meanBatchSize).toBe(3);
    expect(summary?.runMsPerImage).toBe(10);
    expect(summary?.preprocessMsPerImage).toBe(2);
    expect(summary?.decodeMsPerImage).toBe(1);
  });

  it.each([
    // One worker, a 10 ms gap in 70 ms.
    ['one worker with a gap', [[1, 0, 30], [1, 40, 70]], 10 / 70, 60 / 70],
    // Two workers that overlap cover the span with no gap.
    ['two overlapping workers', [[1, 0, 30], [2, 20, 60], [1, 35, 60]], 0, (55 + 40) / 60 / 2],
    // A run inside another adds no busy time.
    ['a run inside another', [[1, 0, 100], [2, 10, 20]], 0, 110 / 100 / 2],
  ] as const)('idle share: %s', (_name, runs, idleShare, runShareMean) => {
    const log = new BatchLog();
    for (const [threadId, start, end] of runs) logBatch(log, threadId, start, end);
    const summary = log.summarize();
    expect(summary?.idleShare).toBeCloseTo(idleShare, 10);
    expect(summary?.runShareMean).toBeCloseTo(runShareMean, 10);
  });

  it('forgets batches on clear', () => {
    const log = new BatchLog();
    logBatch(log, 1, 0, 10);
    log.clear();
    expect(log.summarize()).toBeUndefined();
  });
});

describe('hiddenShare', () => {
  const naive = (frameMs: number, inferenceMs: number) => ({
    frames: 10,
    seconds: (frameMs * 10) / 1000,
    fps: 1000 / frameMs,
    steps: { readMs: 0, preprocessMs: 0, inferenceMs: inferenceMs * 10, postprocessMs: 0, drawMs: 0, writeMs: 0 },
  });

  it.each([
    // naive frame ms, naive inference ms, framewise fps, hidden share
    [100, 80, 1000 / 80, 1],
    [100, 80, 1000 / 90, 0.5],
    [100, 80, 10, 0],
    // Faster than inference alone: everything is hidden, never more.
    [100, 80, 20, 1],
    // Slower than the naive loop: nothing is hidden, never less.
    [100, 80, 5, 0],
  ])('naive %d ms with %d ms inference, framewise %f fps', (frameMs, inferenceMs, fps, expected) => {
    expect(hiddenShare(naive(frameMs, inferenceMs), fps)).toBeCloseTo(expected, 10);
  });
});
