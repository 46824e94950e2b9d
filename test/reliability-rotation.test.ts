import { writeFile } from 'node:fs/promises';
import { lastValueFrom, take, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { annotate } from '../operators/annotate.js';
import { detect } from '../operators/detect.js';
import { writeVideo } from '../operators/write-video.js';
import { probeVideo } from '../src/ffmpeg/probe.js';
import { runningChildPids } from '../src/ffmpeg/process.js';
import { runPipeline } from '../src/runner.js';
import { loadDetector } from '../src/runtime/load-detector.js';
import type { Detector } from '../src/runtime/types.js';
import { fromVideoFile } from '../src/sources/video-file.js';
import type { DetectedFrame, Frame } from '../src/types.js';
import { createTempMediaDir, type TempMediaDir } from './helpers/media.js';
import { buildRedSquareModel } from './helpers/red-square-model.js';
import {
  decodeFirstFrameWithFfmpeg,
  inspectMedia,
  meanAbsoluteDifference,
  redCentroid,
  redCorners,
} from './helpers/reliability.js';

// A 640x360 blue clip with an 80x80 red square at the top-left and a tone, tagged with each
// rotation as phones do. ffmpeg's own auto-rotated decode is the reference for every check: the
// direction in which a `rotate` tag turns the picture is easy to get wrong.
const ROTATIONS = [90, 180, 270] as const;

let media: TempMediaDir;
let detector: Detector;

beforeAll(async () => {
  media = await createTempMediaDir('framewise-rotation-');
  await media.ffmpeg(
    '-f', 'lavfi', '-i', 'color=c=blue:size=640x360:rate=25:duration=1,drawbox=x=0:y=0:w=80:h=80:color=red:t=fill',
    '-f', 'lavfi', '-i', 'sine=duration=1',
    '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', 'upright.mp4',
  );
  for (const rotation of ROTATIONS) {
    await media.ffmpeg('-i', 'upright.mp4', '-c', 'copy', '-metadata:s:v:0', `rotate=${rotation}`, `rotate-${rotation}.mp4`);
  }
  await writeFile(media.file('red-square.onnx'), buildRedSquareModel());
  detector = await loadDetector(media.file('red-square.onnx'), { workers: 1 });
});

afterAll(async () => {
  await detector?.dispose();
  await media?.remove();
});

describe.each(ROTATIONS)('file tagged rotate=%i', (rotation) => {
  it('delivers frames as ffmpeg displays them', async () => {
    const input = media.file(`rotate-${rotation}.mp4`);
    const reference = await decodeFirstFrameWithFfmpeg(input, media.file(`reference-${rotation}.png`));
    const info = await probeVideo(input);
    const [frame] = await lastValueFrom(fromVideoFile(input).pipe(take(1), toArray()));

    expect(frame).toBeDefined();
    const first = frame as Frame;
    expect([first.width, first.height]).toEqual([reference.width, reference.height]);
    expect([info.width, info.height]).toEqual([first.width, first.height]);
    // A quarter turn swaps the sides of the 640x360 picture; a half turn keeps them.
    expect([first.width, first.height]).toEqual(rotation === 180 ? [640, 360] : [360, 640]);
    expect(redCorners(first)).toEqual(redCorners(reference));
    expect(redCorners(first)).toHaveLength(1);
    expect(meanAbsoluteDifference(first, reference)).toBeLessThan(2);
  });

  it('detects in display coordinates', async () => {
    const input = media.file(`rotate-${rotation}.mp4`);
    const frames = await lastValueFrom(fromVideoFile(input).pipe(take(3), detect(detector), toArray()));

    for (const frame of frames) {
      const [detection] = frame.detections;
      expect(detection?.name).toBe('red square');
      const [x1, y1, x2, y2] = detection?.box ?? [0, 0, 0, 0];
      const [redX, redY] = redCentroid(frame) ?? [Number.NaN, Number.NaN];
      expect(Math.abs((x1 + x2) / 2 - redX)).toBeLessThan(8);
      expect(Math.abs((y1 + y2) / 2 - redY)).toBeLessThan(8);
      expect(x2).toBeLessThanOrEqual(frame.width);
      expect(y2).toBeLessThanOrEqual(frame.height);
    }
  });

  it('writes an upright output without a rotation tag', async () => {
    const input = media.file(`rotate-${rotation}.mp4`);
    const output = media.file(`annotated-${rotation}.mp4`);
    const reference = await decodeFirstFrameWithFfmpeg(input, media.file(`reference-out-${rotation}.png`));
    const detected: DetectedFrame[] = [];

    await runPipeline(
      fromVideoFile(input).pipe(detect(detector), annotate({ showName: false, showScore: false }), writeVideo(output, { audioFrom: input })),
      { onValue: (frame) => detected.push(frame) },
    );

    const report = await inspectMedia(output);
    expect(report.rotation).toBeUndefined();
    expect([report.width, report.height]).toEqual([reference.width, reference.height]);
    expect(report.frames).toBe(25);
    expect(report.audioStreams).toBe(1);
    const written = await decodeFirstFrameWithFfmpeg(output, media.file(`written-${rotation}.png`));
    expect(redCorners(written)).toEqual(redCorners(reference));
    expect(detected).toHaveLength(25);
    expect(runningChildPids()).toEqual([]);
  });
});
