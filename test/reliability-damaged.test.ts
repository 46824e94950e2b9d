import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFramewiseError, type FramewiseError } from '../src/errors.js';
import { runningChildPids } from '../src/ffmpeg/process.js';
import { runPipeline } from '../src/runner.js';
import { fromVideoFile } from '../src/sources/video-file.js';
import type { Frame } from '../src/types.js';
import { createRecordingLogger, createTempMediaDir, type TempMediaDir } from './helpers/media.js';
import { inspectMedia } from './helpers/reliability.js';

let media: TempMediaDir;

beforeAll(async () => {
  media = await createTempMediaDir('framewise-damaged-');
  // 4 s at 25 fps with a keyframe every second, as MPEG-TS (no index: a reader resynchronises).
  await media.ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25:duration=4', '-c:v', 'libx264', '-g', '25', '-f', 'mpegts', 'clean.ts');
  const ts = Buffer.from(await readFile(media.file('clean.ts')));
  // 3000 pseudo-random bytes in the middle of the file.
  let seed = 20240611;
  const start = Math.floor(ts.length / 2);
  for (let i = start; i < start + 3000; i += 1) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    ts[i] = seed & 0xff;
  }
  await writeFile(media.file('damaged.ts'), ts);

  // The same 2 s clip with its index (moov) first and, as ffmpeg writes it by default, last.
  await media.ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=25:duration=2', '-c:v', 'libx264', '-movflags', '+faststart', 'index-first.mp4');
  await media.ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=25:duration=2', '-c:v', 'libx264', 'index-last.mp4');
  for (const name of ['index-first', 'index-last']) {
    const whole = await readFile(media.file(`${name}.mp4`));
    await writeFile(media.file(`${name}-cut.mp4`), whole.subarray(0, Math.floor(whole.length * 0.6)));
  }
});

afterAll(async () => {
  await media?.remove();
});

describe('damaged files', () => {
  it('goes on after damage in an MPEG-TS', async () => {
    const input = media.file('damaged.ts');
    const logger = createRecordingLogger();
    const frames: Frame[] = [];

    await runPipeline(fromVideoFile(input, { logger }), { onValue: (frame) => frames.push(frame) });

    const decodable = (await inspectMedia(input)).frames;
    expect(decodable).toBeLessThan(100);
    expect(Math.abs(frames.length - decodable)).toBeLessThanOrEqual(1);
    // Frames after the damage arrive: the last one is at the end of the 4 s.
    expect(frames.at(-1)?.timestampMs).toBeGreaterThanOrEqual(3900);
    const warnings = logger.at('warn').filter((entry) => entry.message === 'ffmpeg reported damaged input');
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings[0]?.fields?.sourceId).toBe(input);
  });

  it('reports a truncated MP4 and keeps its frames', async () => {
    const input = media.file('index-first-cut.mp4');
    const logger = createRecordingLogger();
    const startedAt = Date.now();

    const result = await runPipeline(fromVideoFile(input, { logger }));

    // A liveness bound with a wide margin.
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    const decodable = (await inspectMedia(input)).frames;
    expect(decodable).toBeGreaterThan(0);
    expect(Math.abs(result.values - decodable)).toBeLessThanOrEqual(1);
    const truncation = logger.at('warn').find((entry) => entry.message === 'The file yielded fewer frames than it declares');
    expect(truncation?.fields).toMatchObject({ expectedFrames: 50, decodedFrames: result.values });
  });

  it('rejects an MP4 cut before its index', async () => {
    const input = media.file('index-last-cut.mp4');
    const startedAt = Date.now();

    const error = await runPipeline(fromVideoFile(input)).then(
      () => undefined,
      (reason: unknown) => reason,
    );

    expect(Date.now() - startedAt).toBeLessThan(10_000);
    expect(isFramewiseError(error, 'INVALID_INPUT')).toBe(true);
    expect((error as FramewiseError).message).toContain(JSON.stringify(input));
    expect((error as FramewiseError).message).toContain('moov atom not found');
    expect(runningChildPids()).toEqual([]);
  });
});
