import { lastValueFrom, map, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { timeout } from '../operators/timeout.js';
import { windowBySecond } from '../operators/window-by-second.js';
import { writeVideo } from '../operators/write-video.js';
import { probeVideo } from '../src/ffmpeg/probe.js';
import { runPipeline } from '../src/runner.js';
import { DEFAULT_UNTIMED_FRAME_RATE, fromVideoFile } from '../src/sources/video-file.js';
import type { DetectedFrame, Frame } from '../src/types.js';
import { createRecordingLogger, createTempMediaDir, type TempMediaDir } from './helpers/media.js';
import { frameTimesMs, inspectMedia } from './helpers/reliability.js';

let media: TempMediaDir;

beforeAll(async () => {
  media = await createTempMediaDir('framewise-timing-');
  // Multipart JPEG stores no timestamps: ffprobe reports avg_frame_rate 0/0 and no duration.
  await media.ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10:duration=2', '-c:v', 'mjpeg', '-f', 'mpjpeg', 'untimed.mpjpeg');
  // A raw MPEG-4 stream: no average rate in the container, but the bitstream times frames at 10 fps.
  await media.ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10:duration=1', '-c:v', 'mpeg4', '-f', 'm4v', 'raw.m4v');
  // Variable frame rate: pairs of frames 20 ms apart, with larger steps between the pairs.
  await media.ffmpeg(
    '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=50:duration=2',
    '-vf', "settb=1/1000,setpts='floor(N/2)*70+mod(N\\,2)*20'",
    '-fps_mode', 'passthrough', '-c:v', 'libx264', '-video_track_timescale', '1000', 'variable.mp4',
  );
});

afterAll(async () => {
  await media?.remove();
});

async function collect(input: string, options: Parameters<typeof fromVideoFile>[1] = {}): Promise<Frame[]> {
  const frames: Frame[] = [];
  await runPipeline(fromVideoFile(input, options), { onValue: (frame) => frames.push(frame) });
  return frames;
}

describe('missing timing', () => {
  it('reports the rate and duration as unknown', async () => {
    const info = await probeVideo(media.file('untimed.mpjpeg'));

    expect(info.formatName).toBe('mpjpeg');
    expect(info.hasTimestamps).toBe(false);
    expect(info.frameRate).toBeUndefined();
    expect(info.fps).toBeUndefined();
    expect(info.durationMs).toBeUndefined();
    expect(info.frameCount).toBeUndefined();
    for (const [field, value] of Object.entries(info)) {
      if (typeof value === 'number') expect(Number.isFinite(value), field).toBe(true);
    }
  });

  it('times frames at 25 fps by default, with a warning', async () => {
    const logger = createRecordingLogger();
    const frames = await collect(media.file('untimed.mpjpeg'), { logger });

    expect(DEFAULT_UNTIMED_FRAME_RATE).toBe(25);
    expect(frames).toHaveLength(20);
    expect(frames.map((frame) => frame.timestampMs)).toEqual(frames.map((_, index) => index * 40));
    const warnings = logger.at('warn').map((entry) => entry.message);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('no timing');
    expect(warnings[0]).toContain('25 fps');
  });

  it('times frames by the frameRate option', async () => {
    const logger = createRecordingLogger();
    const frames = await collect(media.file('untimed.mpjpeg'), { frameRate: 10, logger });

    expect(frames.map((frame) => frame.timestampMs)).toEqual(frames.map((_, index) => index * 100));
    expect(logger.at('warn').map((entry) => entry.fields?.frameRate)).toEqual([10]);
  });

  it('writes the untimed frames at that rate', async () => {
    const output = media.file('untimed-out.mp4');
    await runPipeline(fromVideoFile(media.file('untimed.mpjpeg'), { frameRate: 10 }).pipe(writeVideo(output)));

    const report = await inspectMedia(output);
    expect(report.frames).toBe(20);
    expect(report.durationS).toBeCloseTo(2.0, 1);
    expect(Number.isFinite(report.durationS)).toBe(true);
  });

  it('follows stream timing when the average rate is unknown', async () => {
    const logger = createRecordingLogger();
    const info = await probeVideo(media.file('raw.m4v'));
    const frames = await collect(media.file('raw.m4v'), { logger });

    expect(info.fps).toBeUndefined();
    expect(info.hasTimestamps).toBe(true);
    expect(frames.map((frame) => frame.timestampMs)).toEqual(frames.map((_, index) => index * 100));
    expect(logger.at('warn')).toEqual([]);
  });
});

describe('variable frame rate', () => {
  it('gives each frame its own timestamp', async () => {
    const input = media.file('variable.mp4');
    const expected = await frameTimesMs(input);
    const frames = await collect(input);

    expect(new Set(expected.slice(1).map((time, index) => Math.round(time - (expected[index] as number)))).size).toBeGreaterThan(1);
    expect(frames).toHaveLength(expected.length);
    frames.forEach((frame, index) => {
      expect(frame.timestampMs).toBeCloseTo((expected[index] as number) - (expected[0] as number), 3);
    });
  });

  it('times out by media time', async () => {
    const input = media.file('variable.mp4');
    const times = await frameTimesMs(input);
    const expected = times.filter((time) => time - (times[0] as number) < 1000).length;

    const frames = await lastValueFrom(fromVideoFile(input).pipe(timeout({ seconds: 1 }), toArray()));

    expect(expected).toBeGreaterThan(0);
    expect(expected).toBeLessThan(times.length);
    expect(frames).toHaveLength(expected);
  });

  it('windows frames by media time', async () => {
    const input = media.file('variable.mp4');
    const times = (await frameTimesMs(input)).map((time, _, all) => time - (all[0] as number));
    const expectedCounts = [0, 1, 2, 3].map((second) => times.filter((time) => Math.floor(time / 1000) === second).length).filter((count) => count > 0);

    const windows = await lastValueFrom(
      fromVideoFile(input).pipe(
        map((frame): DetectedFrame => ({ ...frame, detections: [] })),
        windowBySecond(),
        toArray(),
      ),
    );

    expect(windows.map((window) => window.frameCount)).toEqual(expectedCounts);
  });

  it('writes each frame at its own timestamp', async () => {
    const input = media.file('variable.mp4');
    const output = media.file('variable-out.mkv');
    const frames = await collect(input);
    await runPipeline(fromVideoFile(input).pipe(writeVideo(output)));

    const written = await frameTimesMs(output);
    expect(written).toHaveLength(frames.length);
    written.forEach((time, index) => {
      expect(Math.abs(time - (written[0] as number) - (frames[index] as Frame).timestampMs)).toBeLessThanOrEqual(1);
    });
  });
});
