import { chmod, copyFile, readFile, writeFile } from 'node:fs/promises';
import { firstValueFrom, lastValueFrom, merge, take, tap, toArray, type Observable } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFlowCounters } from '../src/backpressure.js';
import { isFramewiseError, type FramewiseError } from '../src/errors.js';
import { probeVideo } from '../src/ffmpeg/probe.js';
import { runningChildPids } from '../src/ffmpeg/process.js';
import { fromVideoFile } from '../src/sources/video-file.js';
import type { Frame, RgbImage } from '../src/types.js';
import { createRecordingLogger, createTempMediaDir, sharedMedia, waitForNoChildren, type TempMediaDir } from './helpers/media.js';

const carVideo = sharedMedia('car-detection.mp4');

function collect(source: Observable<Frame>): Promise<Frame[]> {
  return lastValueFrom(source.pipe(toArray()));
}

async function errorOf(source: Observable<unknown>): Promise<FramewiseError> {
  const error = await lastValueFrom(source).then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!isFramewiseError(error)) throw new Error(`Expected a FramewiseError, got ${String(error)}`);
  return error;
}

function pixel(image: RgbImage, x: number, y: number): [number, number, number] {
  const offset = (y * image.width + x) * 3;
  return [image.data[offset] as number, image.data[offset + 1] as number, image.data[offset + 2] as number];
}

/** Rotates an RGB image clockwise by a multiple of 90 degrees. */
function rotateClockwise(image: RgbImage, degrees: number): RgbImage {
  const turns = ((degrees / 90) % 4 + 4) % 4;
  let current = image;
  for (let turn = 0; turn < turns; turn += 1) {
    const { width, height, data } = current;
    const rotated = new Uint8Array(data.length);
    // One clockwise quarter turn moves (x, y) to (height - 1 - y, x) in an image `height` wide.
    for (let y = 0; y < height; y += 1) {
      for (let x = 0; x < width; x += 1) {
        const from = (y * width + x) * 3;
        const to = (x * height + (height - 1 - y)) * 3;
        rotated.set(data.subarray(from, from + 3), to);
      }
    }
    current = { width: height, height: width, data: rotated };
  }
  return current;
}

function meanAbsoluteDifference(a: RgbImage, b: RgbImage): number {
  expect([a.width, a.height]).toEqual([b.width, b.height]);
  let sum = 0;
  for (let i = 0; i < a.data.length; i += 1) sum += Math.abs((a.data[i] as number) - (b.data[i] as number));
  return sum / a.data.length;
}

describe.skipIf(!carVideo)('fromVideoFile on car-detection.mp4 (needs ../shared/media)', () => {
  it('emits all 377 frames in order', async () => {
    const frames = await collect(fromVideoFile(carVideo as string));
    expect(frames).toHaveLength(377);
    expect(frames.map((frame) => frame.index)).toEqual([...Array(377).keys()]);
    expect(frames[0]?.timestampMs).toBe(0);
    expect(frames.at(-1)?.timestampMs).toBeCloseTo(30080, 3);
    for (let i = 1; i < frames.length; i += 1) {
      expect(frames[i]?.timestampMs).toBeGreaterThan(frames[i - 1]?.timestampMs as number);
    }
    const first = frames[0] as Frame;
    expect([first.width, first.height, first.data.length]).toEqual([768, 432, 768 * 432 * 3]);
    expect(first.sourceId).toBe(carVideo);
    expect(first.live).toBe(false);
  });
});

describe('fromVideoFile on generated files', () => {
  let media: TempMediaDir;

  beforeAll(async () => {
    media = await createTempMediaDir();
    await media.ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25:duration=2', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', 'clip.mp4');
    await media.ffmpeg('-i', 'clip.mp4', '-c', 'copy', '-metadata:s:v:0', 'rotate=90', 'rotated.mp4');
    await media.ffmpeg('-f', 'lavfi', '-i', 'color=c=red:size=64x48:rate=25:duration=0.4', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', 'red.mp4');
    // Red rises with x and green with y, so each pixel's value encodes its position.
    await media.ffmpeg('-f', 'lavfi', '-i', 'color=c=black:size=64x48,format=rgb24,geq=r=X*4:g=Y*5:b=77', '-frames:v', '1', 'gradient.png');
    await media.ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=64x48', '-frames:v', '1', 'still.jpg');
    await media.ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=10:duration=1', '-c:v', 'mjpeg', '-f', 'mjpeg', 'raw.mjpeg');
    // Frames 10 to 24 are shifted 2 s later: a constant-rate decode would invent 50 frames to fill the gap.
    await media.ffmpeg(
      '-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=25:duration=1',
      '-vf', 'setpts=if(lt(N\\,10)\\,N\\,N+50)/(25*TB)', '-fps_mode', 'passthrough', '-c:v', 'libx264', 'gap.mp4',
    );
    await media.ffmpeg(
      '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10:duration=1',
      '-f', 'lavfi', '-i', 'sine=duration=1',
      '-map', '1:a', '-map', '0:v', '-c:v', 'mpeg4', '-c:a', 'aac', 'audio-first.mp4',
    );
    await writeFile(media.file('text.mp4'), 'This is a text file, not a video.\n');
  });

  afterAll(async () => {
    await media?.remove();
  });

  it('emits 50 frames 40 ms apart', async () => {
    const frames = await collect(fromVideoFile(media.file('clip.mp4')));
    expect(frames.map((frame) => frame.timestampMs)).toEqual([...Array(50).keys()].map((i) => i * 40));
    expect(frames.map((frame) => frame.index)).toEqual([...Array(50).keys()]);
    // Completion waits for ffmpeg's exit.
    expect(runningChildPids()).toEqual([]);
  });

  it('keeps the gaps of variable-rate video', async () => {
    const frames = await collect(fromVideoFile(media.file('gap.mp4')));
    const expected = [...Array(25).keys()].map((n) => (n < 10 ? n * 40 : (n + 50) * 40));
    expect(frames.map((frame) => frame.timestampMs)).toEqual(expected);
  });

  it('decodes red as RGB red', async () => {
    const frames = await collect(fromVideoFile(media.file('red.mp4')));
    expect(frames).toHaveLength(10);
    for (const [x, y] of [[0, 0], [32, 24], [63, 47]] as const) {
      const [r, g, b] = pixel(frames[5] as Frame, x, y);
      expect(r).toBeGreaterThanOrEqual(245);
      expect(g).toBeLessThanOrEqual(10);
      expect(b).toBeLessThanOrEqual(10);
    }
  });

  it('gives each frame its own buffer', async () => {
    const frames = await collect(fromVideoFile(media.file('clip.mp4')));
    const buffers = new Set(frames.map((frame) => frame.data.buffer));
    expect(buffers.size).toBe(frames.length);
    for (const frame of frames) {
      expect(frame.data.byteOffset).toBe(0);
      expect(frame.data.buffer.byteLength).toBe(320 * 240 * 3);
    }
  });

  it('decodes a PNG as one exact frame', async () => {
    const frames = await collect(fromVideoFile(media.file('gradient.png')));
    expect(frames).toHaveLength(1);
    expect(frames[0]?.timestampMs).toBe(0);
    expect([frames[0]?.width, frames[0]?.height]).toEqual([64, 48]);
    for (const [x, y] of [[0, 0], [1, 0], [0, 1], [63, 0], [0, 47], [63, 47], [17, 29]] as const) {
      expect(pixel(frames[0] as Frame, x, y), `pixel ${x},${y}`).toEqual([x * 4, y * 5, 77]);
    }
  });

  it('decodes a JPEG as one frame', async () => {
    const frames = await collect(fromVideoFile(media.file('still.jpg')));
    expect(frames).toHaveLength(1);
    expect(frames[0]?.timestampMs).toBe(0);
    expect(frames[0]?.data.length).toBe(64 * 48 * 3);
  });

  it('applies the stored rotation', async () => {
    const info = await probeVideo(media.file('rotated.mp4'));
    const [upright] = await collect(fromVideoFile(media.file('clip.mp4')).pipe(take(1)));
    const [rotated] = await collect(fromVideoFile(media.file('rotated.mp4')).pipe(take(1)));
    expect([rotated?.width, rotated?.height]).toEqual([info.width, info.height]);
    expect([rotated?.width, rotated?.height]).toEqual([240, 320]);

    const expected = rotateClockwise(upright as Frame, info.rotation);
    const opposite = rotateClockwise(upright as Frame, info.rotation + 180);
    // Chroma is rotated before conversion to RGB, so a few levels of difference remain.
    expect(meanAbsoluteDifference(rotated as Frame, expected)).toBeLessThan(4);
    expect(meanAbsoluteDifference(rotated as Frame, opposite)).toBeGreaterThan(20);
  });

  it('decodes video stored after audio', async () => {
    const frames = await collect(fromVideoFile(media.file('audio-first.mp4')));
    expect(frames).toHaveLength(10);
    expect(frames[9]?.timestampMs).toBe(900);
    expect(frames[0]?.width).toBe(160);
  });

  it('reads names starting with a dash', async () => {
    await copyFile(media.file('gradient.png'), media.file('-still.png'));
    const cwd = process.cwd();
    process.chdir(media.path);
    try {
      const frames = await collect(fromVideoFile('-still.png'));
      expect(frames).toHaveLength(1);
      expect(frames[0]?.sourceId).toBe('-still.png');
    } finally {
      process.chdir(cwd);
    }
  });

  it('reads names holding a percent sign', async () => {
    await copyFile(media.file('gradient.png'), media.file('frame%d.png'));
    const frames = await collect(fromVideoFile(media.file('frame%d.png')));
    expect(frames).toHaveLength(1);
    expect(pixel(frames[0] as Frame, 17, 29)).toEqual([17 * 4, 29 * 5, 77]);
  });

  it('reads names holding a colon', async () => {
    await copyFile(media.file('gradient.png'), media.file('http:still.png'));
    const frames = await collect(fromVideoFile(media.file('http:still.png'), { sourceId: 'camera 1' }));
    expect(frames).toHaveLength(1);
    expect(frames[0]?.sourceId).toBe('camera 1');
  });

  it('times untimed MJPEG by frameRate', async () => {
    const logger = createRecordingLogger();
    const frames = await collect(fromVideoFile(media.file('raw.mjpeg'), { frameRate: 10, logger }));
    expect(frames.map((frame) => frame.timestampMs)).toEqual([...Array(10).keys()].map((i) => i * 100));
    expect(logger.at('warn').map((entry) => entry.message)).toContain('The file has no timing; timestamps follow the frameRate option');
  });

  it('warns when MJPEG has no timing', async () => {
    const logger = createRecordingLogger();
    const frames = await collect(fromVideoFile(media.file('raw.mjpeg'), { logger }));
    // ffmpeg 5.1 invents 25 fps timestamps for raw MJPEG.
    expect(frames.map((frame) => frame.timestampMs)).toEqual([...Array(10).keys()].map((i) => i * 40));
    expect(logger.at('warn')).toHaveLength(1);
    expect(logger.at('warn')[0]?.message).toContain('no timing');
  });

  it('ignores frameRate for timed files', async () => {
    const frames = await collect(fromVideoFile(media.file('clip.mp4'), { frameRate: 10 }));
    expect(frames[1]?.timestampMs).toBe(40);
  });

  it('fills and resets given counters', async () => {
    const counters = createFlowCounters();
    counters.emitted = 1000;
    await collect(fromVideoFile(media.file('clip.mp4'), { counters, maxQueuedFrames: 2 }));
    expect(counters.emitted).toBe(50);
    expect(counters.queued).toBe(0);
    expect(counters.maxQueued).toBeGreaterThanOrEqual(1);
    expect(counters.maxQueued).toBeLessThanOrEqual(2);
  });

  it('keeps counters apart for concurrent subscriptions', async () => {
    const counters = createFlowCounters();
    const logger = createRecordingLogger();
    const source = fromVideoFile(media.file('clip.mp4'), { counters, logger });
    const frames = await collect(merge(source, source));
    expect(frames).toHaveLength(100);
    expect(counters.emitted).toBe(50);
    expect(logger.at('warn').map((entry) => entry.message)).toContain(
      'The counters object is in use by another subscription; this subscription counts separately',
    );
  });

  it('warns when frames are missing', async () => {
    await media.ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=25:duration=2', '-c:v', 'libx264', '-movflags', '+faststart', 'whole.mp4');
    const whole = await readFile(media.file('whole.mp4'));
    await writeFile(media.file('truncated.mp4'), whole.subarray(0, Math.floor(whole.length * 0.6)));
    const logger = createRecordingLogger();

    const frames = await collect(fromVideoFile(media.file('truncated.mp4'), { logger }));
    expect(frames.length).toBeGreaterThan(0);
    expect(frames.length).toBeLessThan(50);
    const warning = logger.at('warn').find((entry) => entry.message === 'The file yielded fewer frames than it declares');
    expect(warning?.fields).toMatchObject({ expectedFrames: 50, decodedFrames: frames.length });
  });

  it('rate-limits damaged input warnings', async () => {
    await media.ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25:duration=4', '-c:v', 'libx264', '-g', '25', '-f', 'mpegts', 'clean.ts');
    const data = Buffer.from(await readFile(media.file('clean.ts')));
    // Overwrite 1000-byte stretches with pseudo-random bytes, sparing the 4-byte TS packet headers.
    let seed = 12345;
    for (let region = 1; region <= 20; region += 1) {
      const start = Math.floor((data.length * region) / 22);
      for (let i = start; i < start + 1000 && i < data.length; i += 1) {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        if (i % 188 >= 4) data[i] = seed & 0xff;
      }
    }
    await writeFile(media.file('damaged.ts'), data);
    const logger = createRecordingLogger();

    const frames = await collect(fromVideoFile(media.file('damaged.ts'), { logger }));
    expect(frames.length).toBeGreaterThan(0);
    const perLine = logger.at('warn').filter((entry) => entry.message === 'ffmpeg reported damaged input');
    const summary = logger.at('warn').find((entry) => entry.message === 'ffmpeg reported more damaged input than was logged');
    expect(perLine).toHaveLength(5);
    expect(summary?.fields?.decodeErrorLines).toBeGreaterThan(5);
  });

  it('stops ffmpeg after three frames', async () => {
    const pids: number[] = [];
    const frames = await collect(
      fromVideoFile(media.file('clip.mp4')).pipe(
        tap(() => {
          if (pids.length === 0) pids.push(...runningChildPids());
        }),
        take(3),
      ),
    );
    expect(frames).toHaveLength(3);
    expect(pids).toHaveLength(1);
    await waitForNoChildren(runningChildPids);
    expect(() => process.kill(pids[0] as number, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  });

  it('stops ffprobe when unsubscribed early', async () => {
    const subscription = fromVideoFile(media.file('clip.mp4')).subscribe({
      next: () => expect.fail('no frame expected'),
      error: (error: unknown) => expect.fail(`no error expected: ${String(error)}`),
    });
    while (runningChildPids().length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    subscription.unsubscribe();
    await waitForNoChildren(runningChildPids);
  });

  it('errors with INPUT_NOT_FOUND for a missing file', async () => {
    const error = await errorOf(fromVideoFile('missing/video.mp4'));
    expect(error.code).toBe('INPUT_NOT_FOUND');
    expect(error.message).toContain('"missing/video.mp4"');
  });

  it('errors with INVALID_INPUT for a text file', async () => {
    const error = await errorOf(fromVideoFile(media.file('text.mp4')));
    expect(error.code).toBe('INVALID_INPUT');
  });

  it('errors with FFMPEG_NOT_FOUND without ffmpeg', async () => {
    const error = await errorOf(fromVideoFile(media.file('clip.mp4'), { ffmpegPath: '/nonexistent/ffmpeg' }));
    expect(error.code).toBe('FFMPEG_NOT_FOUND');
    expect(error.message).toContain('apt-get install ffmpeg');
    expect(error.context.path).toBe('/nonexistent/ffmpeg');
  });

  it('errors with DECODE_FAILED when ffmpeg fails', async () => {
    // A stand-in ffmpeg that passes the version check, writes one 64x48 frame and then fails.
    const fakeFfmpeg = media.file('failing-ffmpeg.sh');
    await writeFile(
      fakeFfmpeg,
      [
        '#!/bin/sh',
        'if [ "$1" = "-version" ]; then echo "ffmpeg version 5.1-test"; exit 0; fi',
        'echo "[Parsed_showinfo_0 @ 0x1] config in time_base: 1/25, frame_rate: 25/1" >&2',
        'echo "[Parsed_showinfo_0 @ 0x1] n:   0 pts:      0 pts_time:0       pos: 48 fmt:rgb24 sar:1/1 s:64x48 i:P iskey:1 type:I" >&2',
        'head -c 9216 /dev/zero',
        'echo "[h264 @ 0x2] Something went badly wrong" >&2',
        'echo "Conversion failed!" >&2',
        'exit 1',
        '',
      ].join('\n'),
    );
    await chmod(fakeFfmpeg, 0o755);
    const frames: Frame[] = [];

    const error = await errorOf(fromVideoFile(media.file('gradient.png'), { ffmpegPath: fakeFfmpeg }).pipe(tap((frame) => frames.push(frame))));
    expect(error.code).toBe('DECODE_FAILED');
    expect(error.message).toContain('exited with code 1');
    expect(error.message).toContain('Conversion failed!');
    expect(error.message).toContain('Something went badly wrong');
    expect(error.message).not.toContain('Parsed_showinfo');
    expect(frames).toHaveLength(1);
  });

  it('rejects invalid options at call time', () => {
    expect(() => fromVideoFile('')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => fromVideoFile('a.mp4', { maxQueuedFrames: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => fromVideoFile('a.mp4', { maxQueuedFrames: 2.5 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => fromVideoFile('a.mp4', { frameRate: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => fromVideoFile('a.mp4', { frameRate: Number.NaN })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('starts nothing until subscribed', async () => {
    const source = fromVideoFile(media.file('clip.mp4'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(runningChildPids()).toEqual([]);
    const first = await firstValueFrom(source);
    expect(first.index).toBe(0);
    await waitForNoChildren(runningChildPids);
  });
});
