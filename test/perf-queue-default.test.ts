import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createFlowCounters, holdFrame } from '../src/backpressure.js';
import { runningChildPids } from '../src/ffmpeg/process.js';
import { DEFAULT_MAX_QUEUED_BYTES, DEFAULT_MAX_QUEUED_FRAMES, defaultMaxQueuedFrames, fromVideoFile } from '../src/sources/video-file.js';
import { createTempMediaDir, waitForNoChildren, type TempMediaDir } from './helpers/media.js';

describe('defaultMaxQueuedFrames', () => {
  it.each([
    // width, height, frames
    [64, 48, 16],
    [768, 432, 16],
    [1280, 720, 16],
    [1920, 1080, 10],
    [2560, 1440, 6],
    [3840, 2160, 4],
    [7680, 4320, 4],
  ])('%dx%d queues %d frames', (width, height, frames) => {
    expect(defaultMaxQueuedFrames(width * height * 3)).toBe(frames);
  });

  it('stays within the memory budget above four frames', () => {
    const frameBytes = 1920 * 1080 * 3;
    expect(defaultMaxQueuedFrames(frameBytes) * frameBytes).toBeLessThanOrEqual(DEFAULT_MAX_QUEUED_BYTES);
  });

  it('caps small frames', () => {
    expect(defaultMaxQueuedFrames(1)).toBe(DEFAULT_MAX_QUEUED_FRAMES);
  });
});

describe('fromVideoFile default queue bound', () => {
  let media: TempMediaDir;

  beforeAll(async () => {
    media = await createTempMediaDir('framewise-perf-queue-');
    await media.ffmpeg('-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=25', '-frames:v', '40', '-pix_fmt', 'yuv420p', media.file('clip.mp4'));
  });

  afterAll(async () => {
    await media.remove();
    await waitForNoChildren(runningChildPids);
  });

  it('pauses at the default for the frame size', async () => {
    const counters = createFlowCounters();
    const releases: (() => void)[] = [];
    let completed = false;
    const subscription = fromVideoFile(media.file('clip.mp4'), { counters }).subscribe({
      next: (frame) => releases.push(holdFrame(frame)),
      complete: () => (completed = true),
    });

    try {
      // Nothing is released, so the source stops at its bound and stays there.
      await vi.waitFor(() => expect(counters.pauses).toBe(1));
      expect(counters.queued).toBe(defaultMaxQueuedFrames(64 * 48 * 3));
      expect(counters.emitted).toBe(16);

      for (const release of releases.splice(0)) release();
      await vi.waitFor(() => expect(counters.emitted).toBeGreaterThan(16));
      for (const release of releases.splice(0)) release();
      expect(counters.maxQueued).toBe(16);
      expect(completed).toBe(false);
    } finally {
      subscription.unsubscribe();
    }
  });
});
