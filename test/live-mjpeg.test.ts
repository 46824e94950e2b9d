import { lastValueFrom, map, take, takeUntil, takeWhile, tap, timer, toArray } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { detect } from '../operators/detect.js';
import { windowBySecond } from '../operators/window-by-second.js';
import { probeVideo } from '../src/ffmpeg/probe.js';
import { runningChildPids } from '../src/ffmpeg/process.js';
import type { Detector } from '../src/runtime/types.js';
import type { SourceState } from '../src/sources/source-state.js';
import { fromStream } from '../src/sources/stream.js';
import type { DetectedFrame, Frame } from '../src/types.js';
import { makeJpegFrames, startMjpegServer, type MjpegServer } from './helpers/live-servers.js';
import { createTempMediaDir, waitForNoChildren, type TempMediaDir } from './helpers/media.js';

let dir: TempMediaDir;
let pattern: Buffer[];
let red: Buffer[];
let blue: Buffer[];
const servers: MjpegServer[] = [];

beforeAll(async () => {
  dir = await createTempMediaDir('framewise-live-mjpeg-');
  pattern = await makeJpegFrames(dir, 'pattern', 'testsrc2=size=64x48:rate=10', 10);
  red = await makeJpegFrames(dir, 'red', 'color=c=red:size=64x48', 3);
  blue = await makeJpegFrames(dir, 'blue', 'color=c=blue:size=80x60', 3);
});

afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
  await waitForNoChildren(runningChildPids);
});

afterAll(async () => {
  await dir.remove();
});

async function serve(options: Parameters<typeof startMjpegServer>[0]): Promise<MjpegServer> {
  const server = await startMjpegServer(options);
  servers.push(server);
  return server;
}

/** Mean of each RGB channel over the frame. */
function meanColor(frame: Frame): [number, number, number] {
  const sums = [0, 0, 0];
  for (let offset = 0; offset < frame.data.length; offset += 3) {
    sums[0]! += frame.data[offset]!;
    sums[1]! += frame.data[offset + 1]!;
    sums[2]! += frame.data[offset + 2]!;
  }
  const pixels = frame.width * frame.height;
  return [sums[0]! / pixels, sums[1]! / pixels, sums[2]! / pixels];
}

describe('fromStream over MJPEG-over-HTTP', () => {
  it('stamps frames with their arrival time when the stream has no rate', async () => {
    const server = await serve({ frames: pattern, fps: 10 });
    const info = await probeVideo(new URL(server.url), { networkTimeoutMs: 10_000 });
    expect(info.formatName).toBe('mpjpeg');
    expect(info.fps).toBeUndefined();

    const arrivals: number[] = [];
    const frames = await lastValueFrom(
      fromStream(server.url).pipe(
        tap(() => arrivals.push(performance.now())),
        take(15),
        toArray(),
      ),
    );

    const timestamps = frames.map((frame) => frame.timestampMs);
    expect(timestamps[0]).toBe(0);
    for (let i = 1; i < frames.length; i += 1) {
      expect(timestamps[i]).toBeGreaterThan(timestamps[i - 1]!);
      // The source emits as each frame arrives, so its clock and the subscriber's agree.
      expect(Math.abs(timestamps[i]! - (arrivals[i]! - arrivals[0]!))).toBeLessThan(20);
    }
    expect(frames.every((frame) => frame.live && frame.width === 64 && frame.height === 48)).toBe(true);
    // 15 frames sent 100 ms apart span more than a second on the arrival clock.
    expect(timestamps.at(-1)).toBeGreaterThan(1000);
  });

  it('builds per-second windows on the arrival clock with finite values', async () => {
    const server = await serve({ frames: pattern, fps: 10 });
    const windows = await lastValueFrom(
      fromStream(server.url).pipe(
        take(25),
        map((frame): DetectedFrame => ({ ...frame, detections: [] })),
        windowBySecond(),
        toArray(),
      ),
    );

    expect(windows.length).toBeGreaterThanOrEqual(2);
    expect(windows.reduce((sum, window) => sum + window.frameCount, 0)).toBe(25);
    for (const window of windows) {
      for (const value of [window.index, window.startMs, window.endMs, window.frameCount]) {
        expect(Number.isFinite(value)).toBe(true);
      }
      expect(window.endMs - window.startMs).toBe(1000);
    }
    expect(windows.slice(0, -1).every((window) => window.frameCount > 0)).toBe(true);
  });

  it('keeps each frame intact across resolution changes', async () => {
    const server = await serve({ frames: [...red, ...blue], fps: 20 });
    const frames = await lastValueFrom(fromStream(server.url).pipe(take(14), toArray()));

    const sizes = new Set(frames.map((frame) => `${frame.width}x${frame.height}`));
    expect(sizes).toEqual(new Set(['64x48', '80x60']));
    for (const frame of frames) {
      expect(frame.data.length).toBe(frame.width * frame.height * 3);
      const [r, g, b] = meanColor(frame);
      if (frame.width === 64) {
        expect(r).toBeGreaterThan(200);
        expect(b).toBeLessThan(60);
      } else {
        expect(b).toBeGreaterThan(200);
        expect(r).toBeLessThan(60);
      }
      expect(g).toBeLessThan(60);
    }
  });

  it('reconnects when the server closes the connection', async () => {
    const server = await serve({ frames: pattern, fps: 20, framesPerConnection: 8 });
    const source = fromStream(server.url, { reconnect: { initialDelayMs: 50, maxDelayMs: 200 } });
    const states: SourceState[] = [];
    const watching = source.state$.subscribe((state) => states.push(state));

    const frames = await lastValueFrom(source.pipe(takeWhile(() => source.state.reconnects < 2, true), toArray()));
    watching.unsubscribe();

    expect(source.state.reconnects).toBe(2);
    expect(server.connections).toBe(3);
    expect(frames.map((frame) => frame.index)).toEqual(frames.map((_, index) => index));
    for (let i = 1; i < frames.length; i += 1) expect(frames[i]!.timestampMs).toBeGreaterThan(frames[i - 1]!.timestampMs);
    const statuses = states.map((state) => state.status);
    expect(statuses.slice(0, 5)).toEqual(['ended', 'connecting', 'live', 'reconnecting', 'live']);
    expect(states.find((state) => state.status === 'reconnecting')?.lastError).toMatchObject({
      code: 'SOURCE_FAILED',
      context: { reason: 'disconnected', exitCode: 0 },
    });
    expect(statuses.at(-1)).toBe('ended');
  });

  it('drops the oldest frames for a slow detector and counts every drop', async () => {
    const server = await serve({ frames: pattern, fps: 25 });
    const source = fromStream(server.url, { maxQueuedFrames: 3 });
    const detector = slowDetector(120);

    const processed = await lastValueFrom(
      source.pipe(
        takeUntil(timer(2500)),
        detect(detector),
        toArray(),
      ),
    );

    const state = source.state;
    expect(state.maxQueuedFramesSeen).toBeLessThanOrEqual(3);
    expect(state.framesDropped).toBeGreaterThan(0);
    expect(state.framesDropped).toBe(state.framesReceived - processed.length);
    expect(state.framesEmitted).toBe(processed.length);
    expect(detector.calls).toBe(processed.length);
    // Each processed frame is newer than the previous one by more than one feed interval on average.
    expect(processed.length).toBeGreaterThanOrEqual(5);
    expect(processed.map((frame) => frame.index)).toEqual(processed.map((_, index) => index));
  });
});

/** Creates a detector that returns no detections for each image after `delayMs`, one image at a time. */
function slowDetector(delayMs: number): Detector & { calls: number } {
  const detector = {
    calls: 0,
    concurrency: 1,
    info: {
      path: 'slow.onnx',
      family: 'test',
      inputWidth: 64,
      inputHeight: 64,
      labels: ['person'],
      batchSize: 1,
      executionProviders: ['cpu'],
      workers: 1,
      intraOpThreads: 1,
    },
    detect() {
      detector.calls += 1;
      return new Promise<[]>((resolve) => setTimeout(() => resolve([]), delayMs));
    },
    async dispose() {},
  };
  return detector;
}
