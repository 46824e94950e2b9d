import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeVideo } from '../operators/write-video.js';
import { isFramewiseError, type FramewiseError } from '../src/errors.js';
import { probeVideo } from '../src/ffmpeg/probe.js';
import { runningChildPids } from '../src/ffmpeg/process.js';
import { runPipeline } from '../src/runner.js';
import { fromVideoFile } from '../src/sources/video-file.js';
import { createTempMediaDir, type TempMediaDir } from './helpers/media.js';
import { inspectMedia, osChildPids } from './helpers/reliability.js';

let media: TempMediaDir;

beforeAll(async () => {
  media = await createTempMediaDir('framewise-streams-');
  // Audio is stream 0 and video stream 1: the first stream is not the video.
  await media.ffmpeg(
    '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=25:duration=2',
    '-f', 'lavfi', '-i', 'sine=frequency=440:duration=2',
    '-map', '1:a', '-map', '0:v', '-c:v', 'libx264', '-c:a', 'aac', 'audio-first.mp4',
  );
  await media.ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=25:duration=2', '-c:v', 'libx264', 'silent.mp4');
  await media.ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=440:duration=2', '-c:a', 'aac', 'audio-only.m4a');
});

afterAll(async () => {
  await media?.remove();
});

describe('stream layout', () => {
  it('processes video stored after audio', async () => {
    const input = media.file('audio-first.mp4');
    const output = media.file('audio-first-out.mp4');

    const info = await probeVideo(input);
    const result = await runPipeline(fromVideoFile(input).pipe(writeVideo(output, { audioFrom: input })));

    expect(info.videoStreamIndex).toBe(1);
    expect(result.values).toBe(50);
    const report = await inspectMedia(output);
    expect(report.videoStreams).toBe(1);
    expect(report.audioStreams).toBe(1);
    expect(report.frames).toBe(50);
  });

  it('processes video without audio', async () => {
    const input = media.file('silent.mp4');
    const output = media.file('silent-out.mp4');

    const result = await runPipeline(fromVideoFile(input).pipe(writeVideo(output, { audioFrom: input })));

    expect(result.values).toBe(50);
    const report = await inspectMedia(output);
    expect(report.videoStreams).toBe(1);
    expect(report.audioStreams).toBe(0);
    expect(report.frames).toBe(50);
  });

  it('rejects audio only with NO_VIDEO_STREAM', async () => {
    const input = media.file('audio-only.m4a');
    const output = media.file('audio-only-out.mp4');
    const startedAt = Date.now();

    const error = await runPipeline(fromVideoFile(input).pipe(writeVideo(output, { audioFrom: input }))).then(
      () => undefined,
      (reason: unknown) => reason,
    );

    // A liveness bound with a wide margin: it takes well under a second.
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    expect(isFramewiseError(error, 'NO_VIDEO_STREAM')).toBe(true);
    expect((error as FramewiseError).message).toContain(JSON.stringify(input));
    expect((await readdir(media.path)).filter((name) => name.startsWith('audio-only-out'))).toEqual([]);
    expect(runningChildPids()).toEqual([]);
    expect(osChildPids() ?? []).toEqual([]);
  });
});
