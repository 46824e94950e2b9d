import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { from, lastValueFrom, Subject, toArray } from 'rxjs';
import { pendingWriters, writeVideo, type WriteVideoOptions } from '../operators/write-video.js';
import { FRAME_LEASE, FlowGate } from '../src/backpressure.js';
import { isFramewiseError, type FramewiseError } from '../src/errors.js';
import { runningChildPids } from '../src/ffmpeg/process.js';
import type { Frame } from '../src/types.js';

const run = promisify(execFile);

interface ProbedStream {
  codec_type: string;
  codec_name: string;
  pix_fmt?: string;
  width?: number;
  height?: number;
  nb_read_frames?: string;
}

interface Probe {
  streams: ProbedStream[];
  format: { duration: string };
}

async function probe(path: string): Promise<Probe> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-count_frames', '-show_streams', '-show_format', '-of', 'json', path]);
  return JSON.parse(stdout) as Probe;
}

function videoStream(result: Probe): ProbedStream {
  const stream = result.streams.find((candidate) => candidate.codec_type === 'video');
  if (!stream) throw new Error('no video stream');
  return stream;
}

async function frameTimestamps(path: string): Promise<number[]> {
  const { stdout } = await run('ffprobe', [
    '-v', 'error', '-select_streams', 'v:0', '-show_entries', 'frame=best_effort_timestamp_time', '-of', 'json', path,
  ]);
  const { frames } = JSON.parse(stdout) as { frames: { best_effort_timestamp_time: string }[] };
  return frames.map((frame) => Number(frame.best_effort_timestamp_time));
}

/** Builds a gradient frame whose colours shift with the index, so consecutive frames differ. */
function makeFrame(index: number, timestampMs: number, width = 320, height = 240): Frame {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const offset = (y * width + x) * 3;
      data[offset] = (x + index * 4) & 0xff;
      data[offset + 1] = (y + index * 2) & 0xff;
      data[offset + 2] = (index * 16) & 0xff;
    }
  }
  return { sourceId: 'synthetic', index, timestampMs, width, height, data, live: false };
}

function makeFrames(count: number, intervalMs = 40, width = 320, height = 240): Frame[] {
  return Array.from({ length: count }, (_, index) => makeFrame(index, index * intervalMs, width, height));
}

function expectCode(error: unknown, code: FramewiseError['code']): void {
  expect(isFramewiseError(error), `expected a FramewiseError, got ${String(error)}`).toBe(true);
  expect((error as FramewiseError).code).toBe(code);
}

let directory: string;

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'framewise-write-video-'));
});

afterEach(async () => {
  await pendingWriters();
  expect(runningChildPids()).toEqual([]);
});

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

describe('writeVideo containers', () => {
  const cases: [string, string, string][] = [
    ['mp4', 'h264', 'yuv420p'],
    ['mkv', 'h264', 'yuv420p'],
    ['webm', 'vp9', 'yuv420p'],
    ['avi', 'mjpeg', 'yuvj420p'],
  ];
  it.each(cases)('writes 50 frames at 40 ms as .%s', async (extension, codec, pixelFormat) => {
    const path = join(directory, `fifty.${extension}`);
    await lastValueFrom(from(makeFrames(50)).pipe(writeVideo(path)), { defaultValue: undefined });

    const result = await probe(path);
    const stream = videoStream(result);
    expect(stream.codec_name).toBe(codec);
    expect(stream.pix_fmt).toBe(pixelFormat);
    expect(stream.width).toBe(320);
    expect(stream.height).toBe(240);
    expect(Number(stream.nb_read_frames)).toBe(50);
    expect(Number(result.format.duration)).toBeCloseTo(2.0, 1);
    expect(Math.abs(Number(result.format.duration) - 2.0)).toBeLessThanOrEqual(0.05);
  });
});

describe('writeVideo timing', () => {
  it('keeps variable timestamps', async () => {
    const timestamps = [0, 40, 120, 140, 200, 333, 400, 1000, 1040, 1500];
    const frames = timestamps.map((timestampMs, index) => makeFrame(index, timestampMs));
    const path = join(directory, 'variable.mp4');
    await lastValueFrom(from(frames).pipe(writeVideo(path)));

    const written = await frameTimestamps(path);
    expect(written).toHaveLength(timestamps.length);
    written.forEach((seconds, index) => expect(seconds * 1000).toBeCloseTo(timestamps[index]!, 0));
  });

  it('starts the output at the first frame timestamp', async () => {
    const frames = [5000, 5040, 5080].map((timestampMs, index) => makeFrame(index, timestampMs));
    const path = join(directory, 'offset.mkv');
    await lastValueFrom(from(frames).pipe(writeVideo(path)));
    expect(await frameTimestamps(path)).toEqual([0, 0.04, 0.08]);
  });

  it('gives the last frame the frame interval', async () => {
    const path = join(directory, 'last-frame.mp4');
    await lastValueFrom(from(makeFrames(25, 80)).pipe(writeVideo(path)));
    const result = await probe(path);
    expect(Number(videoStream(result).nb_read_frames)).toBe(25);
    expect(Number(result.format.duration)).toBeCloseTo(2.0, 2);
  });

  it('gives a lone frame 40 ms', async () => {
    const path = join(directory, 'lone.mp4');
    await lastValueFrom(from([makeFrame(0, 1234)]).pipe(writeVideo(path)));
    const result = await probe(path);
    expect(Number(videoStream(result).nb_read_frames)).toBe(1);
    expect(Number(result.format.duration)).toBeCloseTo(0.04, 3);
  });

  it('writes every frame at frameRate, ignoring timestamps', async () => {
    const frames = Array.from({ length: 10 }, (_, index) => makeFrame(index, 0));
    const path = join(directory, 'rate.mp4');
    await lastValueFrom(from(frames).pipe(writeVideo(path, { frameRate: 5 })));
    const result = await probe(path);
    expect(Number(videoStream(result).nb_read_frames)).toBe(10);
    expect(Number(result.format.duration)).toBeCloseTo(2.0, 2);
  });

  it('leaves out frames whose timestamp does not increase', async () => {
    const frames = [0, 40, 40, 30, 80].map((timestampMs, index) => makeFrame(index, timestampMs));
    const path = join(directory, 'repeated.mp4');
    const passed = await lastValueFrom(from(frames).pipe(writeVideo(path), toArray()));
    expect(passed).toHaveLength(5);
    expect(await frameTimestamps(path)).toEqual([0, 0.04, 0.08]);
  });
});

describe('writeVideo frames', () => {
  it('pads odd sizes to even for H.264', async () => {
    const path = join(directory, 'odd.mp4');
    await lastValueFrom(from(makeFrames(50, 40, 641, 359)).pipe(writeVideo(path)));
    const stream = videoStream(await probe(path));
    expect(stream.width).toBe(642);
    expect(stream.height).toBe(360);
    expect(Number(stream.nb_read_frames)).toBe(50);
  });

  it('passes frames through unchanged and completes after the file is final', async () => {
    const path = join(directory, 'pass-through.mp4');
    writeFileSync(path, 'an older file that gets replaced');
    const frames = makeFrames(20);
    const received: Frame[] = [];
    let sizeAtComplete = -1;
    const subject = new Subject<Frame>();
    const done = new Promise<void>((resolve, reject) => {
      subject.pipe(writeVideo(path)).subscribe({
        next: (frame) => received.push(frame),
        error: reject,
        complete: () => {
          sizeAtComplete = statSync(path).size;
          resolve();
        },
      });
    });

    for (const frame of frames) subject.next(frame);
    expect(received).toEqual(frames);
    received.forEach((frame, index) => expect(frame).toBe(frames[index]));
    subject.complete();
    await done;

    expect(sizeAtComplete).toBeGreaterThan(1000);
    expect(Number(videoStream(await probe(path)).nb_read_frames)).toBe(20);
    expect(readdirSync(directory).filter((name) => name.includes('.partial-'))).toEqual([]);
  });

  it('holds each frame lease until ffmpeg accepted it', async () => {
    const path = join(directory, 'leases.mp4');
    const gate = new FlowGate(4, () => {});
    const subject = new Subject<Frame>();
    const done = lastValueFrom(subject.pipe(writeVideo(path)), { defaultValue: undefined });

    for (const frame of makeFrames(6)) {
      const { lease, releaseEmission } = gate.issue();
      subject.next({ ...frame, [FRAME_LEASE]: lease });
      releaseEmission();
    }
    // ffmpeg is still starting, so every frame is held and the source was asked to pause.
    expect(gate.counters.queued).toBe(6);
    expect(gate.paused).toBe(true);

    subject.complete();
    await done;
    expect(gate.counters.queued).toBe(0);
    expect(gate.paused).toBe(false);
  });

  it('writes nothing for zero frames', async () => {
    const path = join(directory, 'empty.mp4');
    const frames = await lastValueFrom(from([] as Frame[]).pipe(writeVideo(path), toArray()));
    expect(frames).toEqual([]);
    expect(existsSync(path)).toBe(false);
  });

  it('accepts names that look like options or URLs', async () => {
    const path = join(directory, '-odd:name.mp4');
    await lastValueFrom(from(makeFrames(5)).pipe(writeVideo(path)));
    expect(Number(videoStream(await probe(path)).nb_read_frames)).toBe(5);
  });
});

describe('writeVideo stopping', () => {
  it('finishes the file in the background after unsubscribe', async () => {
    const path = join(directory, 'unsubscribed.mp4');
    const frames = makeFrames(100);
    const subject = new Subject<Frame>();
    const subscription = subject.pipe(writeVideo(path)).subscribe();
    for (const frame of frames.slice(0, 10)) subject.next(frame);
    subscription.unsubscribe();
    for (const frame of frames.slice(10)) subject.next(frame);

    await pendingWriters();
    expect(runningChildPids()).toEqual([]);
    expect(Number(videoStream(await probe(path)).nb_read_frames)).toBe(10);
  });

  it('stops an ffmpeg that makes no progress after unsubscribe', async () => {
    // A stand-in for ffmpeg that passes the version check, then never reads its input.
    const fakeFfmpeg = join(directory, 'stalled-ffmpeg.sh');
    writeFileSync(fakeFfmpeg, '#!/bin/sh\nif [ "$1" = "-version" ]; then echo "ffmpeg version fake"; exit 0; fi\nexec sleep 30\n', {
      mode: 0o755,
    });
    const errors: unknown[] = [];
    const logger = { debug() {}, info() {}, warn() {}, error: (_message: string, fields?: Record<string, unknown>) => errors.push(fields?.error) };
    const path = join(directory, 'stalled.mp4');
    const subject = new Subject<Frame>();
    const subscription = subject
      .pipe(writeVideo(path, { ffmpegPath: fakeFfmpeg, finalizeTimeoutMs: 300, logger }))
      .subscribe();
    for (const frame of makeFrames(10)) subject.next(frame);
    subscription.unsubscribe();

    await pendingWriters();
    expect(runningChildPids()).toEqual([]);
    expect(errors).toHaveLength(1);
    expectCode(errors[0], 'ENCODE_FAILED');
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(directory).filter((name) => name.startsWith('stalled.mp4'))).toEqual([]);
  });

  it('forwards an upstream error after finishing the file', async () => {
    const path = join(directory, 'upstream-error.mp4');
    const subject = new Subject<Frame>();
    const failure = new Error('source failed');
    let sizeAtError = -1;
    const errored = new Promise<unknown>((resolve) => {
      subject.pipe(writeVideo(path)).subscribe({
        error: (error: unknown) => {
          sizeAtError = existsSync(path) ? statSync(path).size : 0;
          resolve(error);
        },
      });
    });
    for (const frame of makeFrames(10)) subject.next(frame);
    subject.error(failure);

    expect(await errored).toBe(failure);
    expect(sizeAtError).toBeGreaterThan(0);
    expect(Number(videoStream(await probe(path)).nb_read_frames)).toBe(10);
  });

  it('completes when ffmpeg stops early by request', async () => {
    const path = join(directory, 'frame-limit.mp4');
    const frames = makeFrames(50);
    const passed = await lastValueFrom(from(frames).pipe(writeVideo(path, { extraOutputArgs: ['-frames:v', '5'] }), toArray()));
    expect(passed).toHaveLength(50);
    expect(Number(videoStream(await probe(path)).nb_read_frames)).toBe(5);
  });

  it('emits ENCODE_FAILED on a frame size change and keeps earlier frames', async () => {
    const path = join(directory, 'size-change.mp4');
    const frames = [...makeFrames(5), makeFrame(5, 200, 160, 120), makeFrame(6, 240)];
    const received: Frame[] = [];
    const error = await new Promise<unknown>((resolve) => {
      from(frames).pipe(writeVideo(path)).subscribe({ next: (frame) => received.push(frame), error: resolve });
    });
    expectCode(error, 'ENCODE_FAILED');
    expect((error as FramewiseError).context).toMatchObject({ frameIndex: 5, actual: { width: 160, height: 120 } });
    expect(received).toHaveLength(5);
    expect(Number(videoStream(await probe(path)).nb_read_frames)).toBe(5);
  });
});

describe('writeVideo failures', () => {
  it('emits OUTPUT_FAILED for a missing directory', async () => {
    const path = join(directory, 'missing-dir', 'out.mp4');
    const error = await lastValueFrom(from(makeFrames(3)).pipe(writeVideo(path))).catch((caught: unknown) => caught);
    expectCode(error, 'OUTPUT_FAILED');
    expect(existsSync(join(directory, 'missing-dir'))).toBe(false);
  });

  it('emits ENCODE_FAILED with ffmpeg stderr and leaves no file', async () => {
    const path = join(directory, 'bad-option.mp4');
    const error = await lastValueFrom(
      from(makeFrames(10)).pipe(writeVideo(path, { extraOutputArgs: ['-no-such-option', '1'] })),
    ).catch((caught: unknown) => caught);
    expectCode(error, 'ENCODE_FAILED');
    expect((error as FramewiseError).message).toContain('no-such-option');
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(directory).filter((name) => name.startsWith('bad-option'))).toEqual([]);
  });

  it('emits FFMPEG_NOT_FOUND for a missing binary', async () => {
    const path = join(directory, 'no-ffmpeg.mp4');
    const options: WriteVideoOptions = { ffmpegPath: join(directory, 'no-such-ffmpeg') };
    const error = await lastValueFrom(from(makeFrames(3)).pipe(writeVideo(path, options))).catch((caught: unknown) => caught);
    expectCode(error, 'FFMPEG_NOT_FOUND');
    expect(existsSync(path)).toBe(false);
  });

  const invalid: [string, string, WriteVideoOptions][] = [
    ['an unknown extension', 'out.xyz', {}],
    ['no extension', 'out', {}],
    ['a zero frame rate', 'out.mp4', { frameRate: 0 }],
    ['crf above 51 for H.264', 'out.mp4', { crf: 52 }],
    ['crf for AVI', 'out.avi', { crf: 20 }],
    ['qscale for MP4', 'out.mp4', { qscale: 3 }],
    ['an unknown preset', 'out.mp4', { preset: 'turbo' as never }],
    ['non-string extra arguments', 'out.mp4', { extraOutputArgs: [1] as never }],
  ];
  it.each(invalid)('rejects %s at call time', (_case, path, options) => {
    expect(() => writeVideo(path, options)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('lists the supported extensions for an unknown one', () => {
    expect(() => writeVideo('clip.flv')).toThrow(/\.mp4.*\.webm.*\.avi/);
  });
});

describe('writeVideo audio', () => {
  let withAudio: string;
  let withoutAudio: string;

  beforeAll(async () => {
    withAudio = join(directory, 'source-with-audio.mp4');
    withoutAudio = join(directory, 'source-without-audio.mp4');
    await run('ffmpeg', [
      '-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=2', '-f', 'lavfi', '-i',
      'testsrc=size=160x120:rate=25:duration=2', '-c:a', 'aac', '-c:v', 'libx264', '-preset', 'ultrafast', withAudio,
    ]);
    await run('ffmpeg', [
      '-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=25:duration=1', '-c:v', 'libx264',
      '-preset', 'ultrafast', withoutAudio,
    ]);
  });

  it('adds the first audio stream of audioFrom', async () => {
    const path = join(directory, 'with-audio.mp4');
    await lastValueFrom(from(makeFrames(50)).pipe(writeVideo(path, { audioFrom: withAudio })));
    const result = await probe(path);
    expect(result.streams.map((stream) => stream.codec_type).sort()).toEqual(['audio', 'video']);
    expect(result.streams.find((stream) => stream.codec_type === 'audio')?.codec_name).toBe('aac');
  });

  it('encodes audio the container cannot hold as is', async () => {
    const path = join(directory, 'with-audio.webm');
    await lastValueFrom(from(makeFrames(25)).pipe(writeVideo(path, { audioFrom: withAudio })));
    const result = await probe(path);
    expect(result.streams.find((stream) => stream.codec_type === 'audio')?.codec_name).toBe('opus');
  });

  it('writes video only when audioFrom has no audio', async () => {
    const path = join(directory, 'no-audio.mp4');
    await lastValueFrom(from(makeFrames(10)).pipe(writeVideo(path, { audioFrom: withoutAudio })));
    expect((await probe(path)).streams.map((stream) => stream.codec_type)).toEqual(['video']);
  });

  it('emits INPUT_NOT_FOUND for a missing audioFrom', async () => {
    const path = join(directory, 'missing-audio.mp4');
    const options = { audioFrom: join(directory, 'no-such-audio.mp4') };
    const error = await lastValueFrom(from(makeFrames(3)).pipe(writeVideo(path, options))).catch((caught: unknown) => caught);
    expectCode(error, 'INPUT_NOT_FOUND');
    expect(existsSync(path)).toBe(false);
  });
});
