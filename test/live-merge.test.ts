import { firstValueFrom, lastValueFrom, Observable, Subject, toArray } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { detect } from '../operators/detect.js';
import { INFERENCE_MARK } from '../operators/sample-every.js';
import { runningChildPids } from '../src/ffmpeg/process.js';
import type { Detector } from '../src/runtime/types.js';
import { mergeSources } from '../src/sources/merge-sources.js';
import type { SourceState } from '../src/sources/source-state.js';
import { fromStream } from '../src/sources/stream.js';
import type { DetectedFrame, Detection, Frame, RgbImage } from '../src/types.js';
import { flushAsync, makeDetection, makeFrame, scriptedDetector } from './helpers/fake-detector.js';
import { freePort, makeJpegFrames, startMjpegServer, type MjpegServer } from './helpers/live-servers.js';
import { createRecordingLogger, createTempMediaDir, waitForNoChildren, type TempMediaDir } from './helpers/media.js';

afterEach(async () => {
  await waitForNoChildren(runningChildPids);
});

/** Resolves once `condition` holds, polling every 10 ms; rejects after `timeoutMs`. */
async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('detect batching across sources', () => {
  const frame = (sourceId: string, index: number): Frame => makeFrame(index, { sourceId });

  it('sends a full batch at once, mixing sources', async () => {
    const detector = scriptedDetector({ concurrency: 1 });
    const input = new Subject<Frame>();
    const output: DetectedFrame[] = [];
    input.pipe(detect(detector, { maxBatchSize: 3, maxBatchWaitMs: 10_000 })).subscribe((result) => output.push(result));

    input.next(frame('a', 0));
    input.next(frame('b', 0));
    expect(detector.calls).toHaveLength(0);
    input.next(frame('a', 1));

    expect(detector.calls.map((call) => (call.image as Frame).sourceId)).toEqual(['a', 'b', 'a']);
    input.complete();
  });

  it('sends a partial batch after maxBatchWaitMs', async () => {
    const detector = scriptedDetector({ concurrency: 1 });
    const input = new Subject<Frame>();
    input.pipe(detect(detector, { maxBatchSize: 4, maxBatchWaitMs: 20 })).subscribe();

    input.next(frame('a', 0));
    expect(detector.calls).toHaveLength(0);
    await waitFor(() => detector.calls.length === 1, 2000, 'the partial batch');
    input.complete();
  });

  it('keeps order per source, not across sources', async () => {
    const detector = scriptedDetector({ concurrency: 4 });
    const input = new Subject<Frame>();
    const output: string[] = [];
    input.pipe(detect(detector)).subscribe((result) => output.push(`${result.sourceId}${result.index}`));

    input.next(frame('a', 0));
    input.next(frame('b', 0));
    input.next(frame('a', 1));
    const [a0, b0, a1] = detector.calls;

    b0!.resolve([]);
    a1!.resolve([]);
    await flushAsync();
    // b0 does not wait for a0; a1 does.
    expect(output).toEqual(['b0']);

    a0!.resolve([]);
    await flushAsync();
    expect(output).toEqual(['b0', 'a0', 'a1']);
    input.complete();
  });

  it('carries detections only within a source', async () => {
    const detector = scriptedDetector({ concurrency: 2 });
    const input = new Subject<Frame>();
    const output: DetectedFrame[] = [];
    input.pipe(detect(detector)).subscribe((result) => output.push(result));

    input.next(frame('a', 0));
    await flushAsync();
    detector.calls[0]!.resolve([makeDetection(2, 'car')]);
    await flushAsync();
    input.next({ ...frame('b', 0), [INFERENCE_MARK]: false } as Frame);
    input.next({ ...frame('a', 1), [INFERENCE_MARK]: false } as Frame);

    expect(output.map((result) => [result.sourceId, result.carried, result.detections.length])).toEqual([
      ['a', false, 1],
      ['b', true, 0],
      ['a', true, 1],
    ]);
    input.complete();
  });

  it.each([
    [{ maxBatchSize: 0 }, /maxBatchSize/],
    [{ maxBatchSize: 2.5 }, /maxBatchSize/],
    [{ maxBatchSize: 2, maxBatchWaitMs: -1 }, /maxBatchWaitMs/],
  ])('rejects %j', (options, message) => {
    expect(() => detect(scriptedDetector(), options)).toThrow(message);
  });
});

describe('mergeSources', () => {
  let dir: TempMediaDir;
  let red: Buffer[];
  let blue: Buffer[];
  const servers: MjpegServer[] = [];

  beforeAll(async () => {
    dir = await createTempMediaDir('framewise-live-merge-');
    red = await makeJpegFrames(dir, 'red', 'color=c=red:size=64x48', 2);
    blue = await makeJpegFrames(dir, 'blue', 'color=c=blue:size=64x48', 2);
  });

  afterAll(async () => {
    for (const server of servers.splice(0)) await server.close();
    await dir.remove();
  });

  it('keeps two sources going when a third fails for good', async () => {
    const redServer = await startMjpegServer({ frames: red, fps: 15 });
    const blueServer = await startMjpegServer({ frames: blue, fps: 15 });
    servers.push(redServer, blueServer);
    const refusedPort = await freePort();
    const logger = createRecordingLogger();

    const merged = mergeSources(
      [
        fromStream(redServer.url, { sourceId: 'red-camera' }),
        fromStream(`rtsp://127.0.0.1:${refusedPort}/gone`, { sourceId: 'gone-camera', reconnect: { maxAttempts: 1, initialDelayMs: 20 } }),
        fromStream(blueServer.url, { sourceId: 'blue-camera' }),
      ],
      { logger },
    );
    const states: Array<ReadonlyMap<string, SourceState>> = [];
    const watching = merged.state$.subscribe((snapshot) => states.push(snapshot));
    const detector = colorDetector();
    const count = (sourceId: string, results: DetectedFrame[]): number => results.filter((result) => result.sourceId === sourceId).length;

    // Results collected when the failing source reported `failed`; undefined before.
    let resultsAtFailure: number | undefined;
    const results = await lastValueFrom(
      merged.pipe(
        detect(detector, { maxBatchSize: 4, maxBatchWaitMs: 40 }),
        toArrayWhile((collected) => {
          if (resultsAtFailure === undefined && states.at(-1)?.get('gone-camera')?.status === 'failed') resultsAtFailure = collected.length;
          if (resultsAtFailure === undefined) return true;
          const after = collected.slice(resultsAtFailure);
          return count('red-camera', after) < 8 || count('blue-camera', after) < 8;
        }),
      ),
    );
    watching.unsubscribe();

    expect(merged.sourceIds).toEqual(['red-camera', 'gone-camera', 'blue-camera']);
    expect(resultsAtFailure).toBeDefined();
    expect(logger.at('error').map((entry) => entry.fields?.sourceId)).toContain('gone-camera');
    // Every result carries the colour of its own source's pixels.
    for (const result of results) {
      expect(result.detections.map((detection) => detection.name)).toEqual([result.sourceId === 'red-camera' ? 'red' : 'blue']);
    }
    for (const sourceId of ['red-camera', 'blue-camera']) {
      const indexes = results.filter((result) => result.sourceId === sourceId).map((result) => result.index);
      expect(indexes).toEqual(indexes.map((_, position) => position));
    }
    expect(detector.batches.some((batch) => batch.includes('red-camera') && batch.includes('blue-camera'))).toBe(true);
    expect(states.at(-1)?.get('gone-camera')?.lastError?.context).toMatchObject({ reason: 'reconnect-attempts-exhausted' });
  });

  it('names plain observables by the record keys', async () => {
    const merged = mergeSources({ left: fromFrames([makeFrame(0), makeFrame(1)]), right: fromFrames([makeFrame(0)]) });

    const frames = await lastValueFrom(merged.pipe(toArray()));

    expect(frames.map((frame) => `${frame.sourceId}:${frame.index}`).sort()).toEqual(['left:0', 'left:1', 'right:0']);
    const states = await firstValueFrom(merged.state$);
    expect([...states.values()].map((state) => [state.sourceId, state.status, state.framesReceived])).toEqual([
      ['left', 'ended', 2],
      ['right', 'ended', 1],
    ]);
  });

  it('reports a failing plain observable and completes', async () => {
    const failing = new Observable<Frame>((subscriber) => subscriber.error(new Error('disk unplugged')));
    const merged = mergeSources([fromFrames([makeFrame(0)]), failing]);

    const frames = await lastValueFrom(merged.pipe(toArray()));

    expect(frames).toHaveLength(1);
    const states = await firstValueFrom(merged.state$);
    expect(states.get('source-1')?.status).toBe('failed');
    expect(states.get('source-1')?.lastError?.message).toContain('disk unplugged');
  });

  it('rejects duplicate source ids', () => {
    expect(() => mergeSources([fromStream('rtsp://127.0.0.1:9/x'), fromStream('rtsp://127.0.0.1:9/x')])).toThrow(/appears twice/);
  });
});

function fromFrames(frames: Frame[]): Observable<Frame> {
  return new Observable<Frame>((subscriber) => {
    for (const frame of frames) subscriber.next(frame);
    subscriber.complete();
  });
}

/** Collects values into an array until `keepGoing(collected)` returns false, then emits the array. */
function toArrayWhile<T>(keepGoing: (collected: T[]) => boolean) {
  return (source: Observable<T>): Observable<T[]> =>
    new Observable<T[]>((subscriber) => {
      const collected: T[] = [];
      const subscription = source.subscribe({
        next: (value) => {
          collected.push(value);
          if (!keepGoing(collected)) {
            subscriber.next(collected);
            subscriber.complete();
          }
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => {
          subscriber.next(collected);
          subscriber.complete();
        },
      });
      return () => subscription.unsubscribe();
    });
}

/**
 * Creates a detector that names the dominant colour of each image (`red` or `blue`) after 20 ms.
 * It records which sources' frames it received together: calls made in one synchronous run are one batch.
 */
function colorDetector(): Detector & { batches: string[][] } {
  const batches: string[][] = [];
  let batchOpen = false;
  const detector = {
    batches,
    concurrency: 2,
    info: {
      path: 'color.onnx',
      family: 'test',
      inputWidth: 64,
      inputHeight: 48,
      labels: ['red', 'blue'],
      batchSize: 1,
      executionProviders: ['cpu'],
      workers: 1,
      intraOpThreads: 1,
    },
    detect(image: RgbImage): Promise<Detection[]> {
      if (!batchOpen) {
        batches.push([]);
        batchOpen = true;
        queueMicrotask(() => (batchOpen = false));
      }
      batches.at(-1)!.push((image as Frame).sourceId);
      let red = 0;
      let blue = 0;
      for (let offset = 0; offset < image.data.length; offset += 3) {
        red += image.data[offset]!;
        blue += image.data[offset + 2]!;
      }
      const detection: Detection = { classId: red > blue ? 0 : 1, name: red > blue ? 'red' : 'blue', score: 0.9, box: [0, 0, image.width, image.height] };
      return new Promise((resolve) => setTimeout(() => resolve([detection]), 20));
    },
    async dispose() {},
  };
  return detector;
}
