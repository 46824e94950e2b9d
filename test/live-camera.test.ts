import { lastValueFrom, Observable, take, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { holdFrame } from '../src/backpressure.js';
import { isFramewiseError } from '../src/errors.js';
import { runningChildPids } from '../src/ffmpeg/process.js';
import type { BgrImage, CaptureLike } from '../src/sources/capture.js';
import { fromCamera } from '../src/sources/camera.js';
import type { SourceStatus } from '../src/sources/source-state.js';
import type { Frame } from '../src/types.js';
import { waitForNoChildren } from './helpers/media.js';

afterEach(async () => {
  await waitForNoChildren(runningChildPids);
});

/**
 * A capture object like OpenCV's VideoCapture: `read()` returns a 2x1 BGR image whose first pixel
 * encodes the frame number (blue = n, green = 100, red = 200), and null after `frameCount` reads.
 */
class FakeCapture implements CaptureLike {
  reads = 0;
  releases = 0;
  /** Frames emitted by the source when each read() happened, set by the test. */
  readonly readsAhead: number[] = [];
  emitted = 0;

  constructor(private readonly frameCount: number) {}

  read(): BgrImage | null {
    this.readsAhead.push(this.reads - this.emitted);
    if (this.reads >= this.frameCount) return null;
    const n = this.reads;
    this.reads += 1;
    return { width: 2, height: 1, data: new Uint8Array([n, 100, 200, 0, 0, 0]) };
  }

  release(): void {
    this.releases += 1;
  }
}

/** Subscribes like a slow stage: keeps each frame for `holdMs` before releasing it. */
function consumeSlowly(source: Observable<Frame>, holdMs: number, onFrame: (frame: Frame) => void = () => {}): Promise<Frame[]> {
  return new Promise((resolve, reject) => {
    const frames: Frame[] = [];
    const timers = new Set<NodeJS.Timeout>();
    source.subscribe({
      next: (frame) => {
        frames.push(frame);
        onFrame(frame);
        const release = holdFrame(frame);
        const timer = setTimeout(() => {
          timers.delete(timer);
          release();
        }, holdMs);
        timers.add(timer);
      },
      error: reject,
      complete: () => {
        // Wait for the last holds, so counters are final.
        const check = (): void => {
          if (timers.size === 0) resolve(frames);
          else setTimeout(check, holdMs);
        };
        check();
      },
    });
  });
}

describe('fromCamera with a device', () => {
  it('reads a synthetic ffmpeg input as a camera', async () => {
    const camera = fromCamera('testsrc2=size=64x48:rate=20', { inputFormat: 'lavfi', nativeRate: true });
    const statuses: SourceStatus[] = [];
    const watching = camera.state$.subscribe((state) => statuses.push(state.status));

    const frames = await lastValueFrom(camera.pipe(take(10), toArray()));
    watching.unsubscribe();

    expect(frames.map((frame) => frame.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(frames.every((frame) => frame.width === 64 && frame.height === 48 && frame.live)).toBe(true);
    expect(frames[0]?.sourceId).toBe('camera:testsrc2=size=64x48:rate=20');
    // 10 frames at 20 fps, read at their own rate: about 450 ms from the first to the last.
    expect(frames.at(-1)!.timestampMs).toBeGreaterThan(300);
    expect(statuses).toEqual(['ended', 'connecting', 'live', 'ended']);
  });

  it.each([
    [3, { inputFormat: 'dshow' }, /camera name on Windows/],
    [-1, {}, /camera index of 0 or more/],
    [0, { width: 640 }, /together with the other/],
    [0, { width: 640, height: 0 }, /positive integer/],
    [0, { frameRate: 0 }, /positive number of frames per second/],
    ['', {}, /a camera index, a device name/],
  ])('rejects device %j with options %j', (device, options, message) => {
    expect(() => fromCamera(device, options)).toThrow(message);
  });
});

describe('fromCamera with a capture object', () => {
  it('converts BGR images and completes at the end of the stream', async () => {
    const capture = new FakeCapture(5);
    const camera = fromCamera(capture);

    const frames = await lastValueFrom(camera.pipe(toArray()));

    expect(frames.map((frame) => Array.from(frame.data.slice(0, 3)))).toEqual([
      [200, 100, 0],
      [200, 100, 1],
      [200, 100, 2],
      [200, 100, 3],
      [200, 100, 4],
    ]);
    expect(frames.every((frame) => frame.sourceId === 'camera' && frame.live)).toBe(true);
    expect(capture.releases).toBe(1);
    expect(camera.state.status).toBe('ended');
    expect(camera.state.framesReceived).toBe(5);
  });

  it('drops the oldest frames for a slow consumer', async () => {
    const capture = new FakeCapture(40);
    const camera = fromCamera(capture, { maxQueuedFrames: 3 });

    const frames = await consumeSlowly(camera, 15);

    const state = camera.state;
    expect(state.framesReceived).toBe(40);
    expect(state.drops.overflow).toBeGreaterThan(0);
    expect(state.framesEmitted).toBe(frames.length);
    expect(state.framesDropped).toBe(40 - frames.length);
    expect(state.maxQueuedFramesSeen).toBeLessThanOrEqual(3);
    // The newest frame always waits, so the last frame read is emitted.
    expect(frames.at(-1)!.data[2]).toBe(39);
  });

  it('stops reading instead of dropping under block', async () => {
    const capture = new FakeCapture(20);
    const camera = fromCamera(capture, { maxQueuedFrames: 2, overflow: 'block' });

    const frames = await consumeSlowly(camera, 5, () => (capture.emitted += 1));

    expect(frames.map((frame) => frame.data[2])).toEqual(Array.from({ length: 20 }, (_, n) => n));
    expect(camera.state.framesDropped).toBe(0);
    // fromCapture reads one frame ahead of what the queue holds.
    expect(Math.max(...capture.readsAhead)).toBeLessThanOrEqual(3);
  });

  it('fails when read() throws, and releases the capture', async () => {
    const capture: CaptureLike & { releases: number } = {
      releases: 0,
      read: () => {
        throw new Error('camera unplugged');
      },
      release() {
        this.releases += 1;
      },
    };
    const camera = fromCamera(capture);

    const error = await lastValueFrom(camera).then(
      () => undefined,
      (reason: unknown) => reason,
    );

    expect(isFramewiseError(error, 'SOURCE_FAILED')).toBe(true);
    expect((error as Error).message).toContain('camera unplugged');
    expect(camera.state.status).toBe('failed');
    expect(capture.releases).toBe(1);
  });
});
