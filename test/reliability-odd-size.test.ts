import { chmod, readdir, writeFile } from 'node:fs/promises';
import { from } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { annotate } from '../operators/annotate.js';
import { detect } from '../operators/detect.js';
import { writeVideo } from '../operators/write-video.js';
import { isFramewiseError, type FramewiseError } from '../src/errors.js';
import { runningChildPids } from '../src/ffmpeg/process.js';
import { runPipeline } from '../src/runner.js';
import { loadDetector } from '../src/runtime/load-detector.js';
import type { Detector } from '../src/runtime/types.js';
import { fromVideoFile } from '../src/sources/video-file.js';
import type { DetectedFrame, Frame } from '../src/types.js';
import { createTempMediaDir, type TempMediaDir } from './helpers/media.js';
import { decodeFirstFrameWithFfmpeg, inspectMedia, meanColour } from './helpers/reliability.js';
import { buildConstantYolov8Model } from './helpers/synthetic-models.js';

// 641x359 cannot be stored in 4:2:0 chroma as it is. writeVideo pads H.264 and VP9 output by one
// black column and row (642x360) and keeps detections in the source's 641x359 coordinates.

let media: TempMediaDir;
let detector: Detector;
let input: string;

beforeAll(async () => {
  media = await createTempMediaDir('framewise-odd-size-');
  input = media.file('odd.mp4');
  await media.ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=641x359:rate=25:duration=2', '-pix_fmt', 'yuv444p', '-c:v', 'libx264', 'odd.mp4');
  // One box in the middle of the 64x64 model input, so it maps to the middle of any frame.
  const anchors = [[32, 32, 32, 16, 0.9], ...Array.from({ length: 7 }, () => [0, 0, 0, 0, 0])];
  await writeFile(media.file('centre-box.onnx'), buildConstantYolov8Model({ anchors, metadata: { names: "['thing']" } }));
  detector = await loadDetector(media.file('centre-box.onnx'), { workers: 1 });
});

afterAll(async () => {
  await detector?.dispose();
  await media?.remove();
});

/** Frames of 641x359 with a white right column and bottom row, so padding shows up as black beyond them. */
function whiteEdgedFrames(count: number): Frame[] {
  const width = 641;
  const height = 359;
  return Array.from({ length: count }, (_, index) => {
    const data = new Uint8Array(width * height * 3).fill(255);
    return { sourceId: 'edges', index, timestampMs: index * 40, width, height, data, live: false };
  });
}

describe('odd frame size 641x359', () => {
  it('writes a playable annotated mp4', async () => {
    const output = media.file('annotated.mp4');
    const detected: DetectedFrame[] = [];

    const result = await runPipeline(fromVideoFile(input).pipe(detect(detector), annotate(), writeVideo(output)), {
      onValue: (frame) => detected.push(frame),
    });

    expect(result.values).toBe(50);
    const report = await inspectMedia(output);
    expect(report.codec).toBe('h264');
    expect(report.frames).toBe(50);
    expect(report.durationS).toBeCloseTo(2.0, 1);
    expect([report.width, report.height]).toEqual([642, 360]);
    expect(runningChildPids()).toEqual([]);
  });

  it('keeps detections in 641x359 coordinates', async () => {
    const detected: DetectedFrame[] = [];
    await runPipeline(fromVideoFile(input).pipe(detect(detector)), { onValue: (frame) => detected.push(frame) });

    expect(detected).toHaveLength(50);
    for (const frame of detected) {
      expect([frame.width, frame.height]).toEqual([641, 359]);
      const [x1, y1, x2, y2] = frame.detections[0]?.box ?? [Number.NaN, 0, 0, 0];
      // The box sits in the middle of the frame: its centre is the centre of 641x359.
      // Up to a pixel off, because the letterbox rounds its scaled size and padding to whole pixels.
      expect(Math.abs((x1 + x2) / 2 - 320.5)).toBeLessThan(1.5);
      expect(Math.abs((y1 + y2) / 2 - 179.5)).toBeLessThan(1.5);
      expect(x1).toBeGreaterThanOrEqual(0);
      expect(y1).toBeGreaterThanOrEqual(0);
      expect(x2).toBeLessThanOrEqual(641);
      expect(y2).toBeLessThanOrEqual(359);
    }
  });

  it('pads with one black column and row', async () => {
    const output = media.file('edges.mp4');
    await runPipeline(from(whiteEdgedFrames(5)).pipe(writeVideo(output)));

    const written = await decodeFirstFrameWithFfmpeg(output, media.file('edges.png'));
    expect([written.width, written.height]).toEqual([642, 360]);
    // Column 640 and row 358 are the source's last ones (white); column 641 and row 359 are padding.
    expect(meanColour(written, 640, 100, 1, 100)[0]).toBeGreaterThan(200);
    expect(meanColour(written, 641, 100, 1, 100)[0]).toBeLessThan(60);
    expect(meanColour(written, 100, 358, 100, 1)[0]).toBeGreaterThan(200);
    expect(meanColour(written, 100, 359, 100, 1)[0]).toBeLessThan(60);
  });

  it.each([
    ['webm', 'vp9', 642, 360],
    ['mkv', 'h264', 642, 360],
    ['avi', 'mjpeg', 641, 359],
  ])('writes a playable .%s', async (extension, codec, width, height) => {
    const output = media.file(`odd.${extension}`);
    await runPipeline(from(whiteEdgedFrames(10)).pipe(writeVideo(output)));

    const report = await inspectMedia(output);
    expect(report.codec).toBe(codec);
    expect(report.frames).toBe(10);
    expect([report.width, report.height]).toEqual([width, height]);
  });

  it('rejects with the encoder message and leaves no file', async () => {
    const output = media.file('rejected.mp4');
    // libx264's baseline profile has no 4:4:4 mode, so the encoder fails to open.
    const extraOutputArgs = ['-profile:v', 'baseline', '-pix_fmt', 'yuv444p'];
    const error = await runPipeline(fromVideoFile(input).pipe(writeVideo(output, { extraOutputArgs }))).then(
      () => undefined,
      (reason: unknown) => reason,
    );

    expect(isFramewiseError(error, 'ENCODE_FAILED')).toBe(true);
    expect((error as FramewiseError).message).toContain("baseline profile doesn't support 4:4:4");
    expect((await readdir(media.path)).filter((name) => name.startsWith('rejected'))).toEqual([]);
    expect(runningChildPids()).toEqual([]);
  });

  it('leaves no 0-byte file when ffmpeg writes nothing', async () => {
    // A stand-in ffmpeg that passes the version check, reads its input and exits 0 without writing.
    const silentFfmpeg = media.file('silent-ffmpeg.sh');
    await writeFile(silentFfmpeg, '#!/bin/sh\nif [ "$1" = "-version" ]; then echo "ffmpeg version 5.1-test"; exit 0; fi\ncat >/dev/null\nexit 0\n');
    await chmod(silentFfmpeg, 0o755);
    const output = media.file('empty.mp4');

    const error = await runPipeline(from(whiteEdgedFrames(3)).pipe(writeVideo(output, { ffmpegPath: silentFfmpeg }))).then(
      () => undefined,
      (reason: unknown) => reason,
    );

    expect(isFramewiseError(error, 'ENCODE_FAILED')).toBe(true);
    expect((error as FramewiseError).message).toContain('empty file');
    expect((await readdir(media.path)).filter((name) => name.startsWith('empty'))).toEqual([]);
  });
});
