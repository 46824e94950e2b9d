import { firstValueFrom, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { holdFrame } from '../src/backpressure.js';
import { isFramewiseError } from '../src/errors.js';
import { fromCapture, type CaptureImage, type CaptureLike, type MatLike } from '../src/sources/capture.js';
import type { Frame } from '../src/types.js';
import { flushAsync } from './helpers/fake-detector.js';

/** A 2x1 BGR image: pixel 0 is (blue, green, red) = (b, 20, 30), pixel 1 is (40, 50, 60). */
const bgrImage = (b: number) => ({ width: 2, height: 1, data: new Uint8Array([b, 20, 30, 40, 50, 60]) });

/** Creates a capture that returns `images` in order, then `null`, and counts reads and releases. */
function scriptedCapture(images: CaptureImage[]): CaptureLike & { reads: number; releases: number } {
  const capture = {
    reads: 0,
    releases: 0,
    read() {
      const image = images[capture.reads] ?? null;
      capture.reads += 1;
      return image;
    },
    release() {
      capture.releases += 1;
    },
  };
  return capture;
}

function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('fromCapture', () => {
  it('converts BGR images to RGB frames until read() returns null', async () => {
    const capture = scriptedCapture([bgrImage(10), bgrImage(11), bgrImage(12)]);
    const frames = await firstValueFrom(fromCapture(capture).pipe(toArray()));

    expect(frames.map((frame) => frame.index)).toEqual([0, 1, 2]);
    expect([...frames[0]!.data]).toEqual([30, 20, 10, 60, 50, 40]);
    expect(frames.every((frame) => frame.live && frame.sourceId === 'camera')).toBe(true);
    expect(frames[0]!.timestampMs).toBe(0);
    expect(frames[2]!.timestampMs).toBeGreaterThanOrEqual(frames[1]!.timestampMs);
    expect(capture.releases).toBe(1);
  });

  it('reads OpenCV Mat-like images with 1, 3 or 4 channels', async () => {
    const mat = (channels: number, bytes: number[]): MatLike => ({ rows: 1, cols: 1, channels: () => channels, getData: () => new Uint8Array(bytes) });
    const empty: MatLike = { rows: 0, cols: 0, empty: true, getData: () => new Uint8Array(0) };
    const capture = scriptedCapture([mat(1, [7]), mat(3, [1, 2, 3]), mat(4, [1, 2, 3, 255]), empty, bgrImage(0)]);
    const frames = await firstValueFrom(fromCapture(capture, { sourceId: 'cam0' }).pipe(toArray()));

    expect(frames.map((frame) => [...frame.data])).toEqual([[7, 7, 7], [3, 2, 1], [3, 2, 1]]);
    expect(frames[0]!.sourceId).toBe('cam0');
    expect(capture.reads).toBe(4);
  });

  it('supports read() returning a promise', async () => {
    const capture: CaptureLike = {
      reads: 0,
      read() {
        this.reads += 1;
        return Promise.resolve(this.reads <= 2 ? bgrImage(this.reads) : null);
      },
    } as CaptureLike & { reads: number };
    const frames = await firstValueFrom(fromCapture(capture).pipe(toArray()));
    expect(frames.map((frame) => frame.data[2])).toEqual([1, 2]);
  });

  it('errors with SOURCE_FAILED when read() throws', async () => {
    const cause = new Error('device lost');
    const capture = { read: () => { throw cause; }, releases: 0, release() { this.releases += 1; } };
    const error = await errorOf(firstValueFrom(fromCapture(capture)));
    expect(isFramewiseError(error, 'SOURCE_FAILED')).toBe(true);
    expect((error as Error).cause).toBe(cause);
    expect(capture.releases).toBe(1);
  });

  it('errors with INVALID_INPUT for a wrongly sized image', async () => {
    const capture = scriptedCapture([{ width: 2, height: 2, data: new Uint8Array(5) }]);
    const error = await errorOf(firstValueFrom(fromCapture(capture)));
    expect(isFramewiseError(error, 'INVALID_INPUT')).toBe(true);
    expect((error as { context: Record<string, unknown> }).context).toMatchObject({ expected: 12, actual: 5 });
  });

  it('stops reading and releases on unsubscribe', async () => {
    const endless: CaptureLike & { reads: number; releases: number } = {
      reads: 0,
      releases: 0,
      read() {
        this.reads += 1;
        return bgrImage(1);
      },
      release() {
        this.releases += 1;
      },
    };
    const frames = await firstValueFrom(fromCapture(endless).pipe(take(3), toArray()));
    expect(frames).toHaveLength(3);
    await flushAsync();
    expect(endless.reads).toBe(3);
    expect(endless.releases).toBe(1);
  });

  it('keeps the capture when releaseOnEnd is false', async () => {
    const capture = scriptedCapture([bgrImage(1)]);
    await firstValueFrom(fromCapture(capture, { releaseOnEnd: false }).pipe(toArray()));
    expect(capture.releases).toBe(0);
  });

  it('pauses reading while downstream holds maxQueuedFrames frames', async () => {
    const capture = scriptedCapture(Array.from({ length: 10 }, (_, i) => bgrImage(i)));
    const releases: (() => void)[] = [];
    const seen: Frame[] = [];
    let completed = false;
    fromCapture(capture, { maxQueuedFrames: 2 }).subscribe({
      next: (frame) => {
        seen.push(frame);
        releases.push(holdFrame(frame));
      },
      complete: () => (completed = true),
    });
    for (let i = 0; i < 5; i += 1) await flushAsync();
    expect(seen).toHaveLength(2);
    expect(capture.reads).toBe(2);

    releases.shift()!();
    for (let i = 0; i < 5; i += 1) await flushAsync();
    expect(seen).toHaveLength(3);

    while (releases.length > 0) releases.shift()!();
    for (let i = 0; i < 20 && !completed; i += 1) {
      await flushAsync();
      while (releases.length > 0) releases.shift()!();
    }
    expect(seen).toHaveLength(10);
    expect(completed).toBe(true);
  });

  it('rejects a capture without read()', () => {
    expect(() => fromCapture({} as CaptureLike)).toThrow(/read\(\) method/);
    expect(() => fromCapture(scriptedCapture([]), { maxQueuedFrames: 0 })).toThrow(/maxQueuedFrames/);
  });
});
