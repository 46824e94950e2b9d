import { copyFile, readdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeVideo } from '../operators/write-video.js';
import { isFramewiseError, type FramewiseError } from '../src/errors.js';
import { probeVideo } from '../src/ffmpeg/probe.js';
import { runningChildPids } from '../src/ffmpeg/process.js';
import { runPipeline } from '../src/runner.js';
import { fromVideoFile } from '../src/sources/video-file.js';
import { createRecordingLogger, createTempMediaDir, type TempMediaDir } from './helpers/media.js';
import { inspectMedia } from './helpers/reliability.js';

let media: TempMediaDir;

beforeAll(async () => {
  media = await createTempMediaDir('framewise-paths-');
  await media.ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=25:duration=0.4', '-c:v', 'libx264', 'clip.mp4');
});

afterAll(async () => {
  await media?.remove();
});

/** Runs `work` with the temporary folder as working directory, so names are used exactly as given. */
async function inMediaDirectory<T>(work: () => Promise<T>): Promise<T> {
  const previous = process.cwd();
  process.chdir(media.path);
  try {
    return await work();
  } finally {
    process.chdir(previous);
  }
}

async function failureOf(work: Promise<unknown>): Promise<FramewiseError> {
  const error = await work.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!isFramewiseError(error)) throw new Error(`Expected a FramewiseError, got ${String(error)}`);
  return error;
}

describe('unusual file names', () => {
  // Each row: an input name and an output name that ffmpeg would read as an option, a protocol,
  // a concatenation, an image sequence pattern, a glob or shell syntax if it saw them bare.
  it.each([
    ['-i', '-y.mp4'],
    ['-version.mp4', '-f.mp4'],
    ['http:clip.mp4', 'http:out.mp4'],
    ['concat:clip.mp4|clip.mp4', 'concat:out.mp4'],
    ['clip%03d.mp4', 'out%03d.mp4'],
    ['pipe:0', 'pipe:1.mp4'],
    ['clip*.mp4', 'out?.mp4'],
    ['it\'s "quoted" $HOME `x`.mp4', 'out $(echo x) ;.mp4'],
    ['ünï cødé 映像.mp4', 'sortie été.mp4'],
  ])('reads %j and writes %j', async (inputName, outputName) => {
    await copyFile(media.file('clip.mp4'), media.file(inputName));
    const before = new Set(await readdir(media.path));

    const result = await inMediaDirectory(() => runPipeline(fromVideoFile(inputName).pipe(writeVideo(outputName))));

    expect(result.values).toBe(10);
    expect(result.lastValue?.sourceId).toBe(inputName);
    const created = (await readdir(media.path)).filter((name) => !before.has(name));
    expect(created).toEqual([outputName]);
    expect((await inspectMedia(media.file(outputName))).frames).toBe(10);
    expect(runningChildPids()).toEqual([]);
  });

  it('quotes a missing input as given', async () => {
    const name = '-missing %d.mp4';
    const error = await failureOf(inMediaDirectory(() => runPipeline(fromVideoFile(name))));

    expect(error.code).toBe('INPUT_NOT_FOUND');
    expect(error.message).toContain(JSON.stringify(name));
    expect(error.context.path).toBe(name);
  });

  it('quotes an unwritable output as given', async () => {
    const name = 'no-such-folder/-out.mp4';
    const error = await failureOf(inMediaDirectory(() => runPipeline(fromVideoFile('clip.mp4').pipe(writeVideo(name)))));

    expect(error.code).toBe('OUTPUT_FAILED');
    expect(error.message).toContain(JSON.stringify(name));
    expect(error.context.path).toBe(name);
  });

  it('reads a URL-like string as a file name', async () => {
    const name = 'http://127.0.0.1:9/clip.mp4';
    const error = await failureOf(probeVideo(name));

    expect(error.code).toBe('INPUT_NOT_FOUND');
    expect(error.message).toContain(JSON.stringify(name));
    expect(error.message).toContain('pass a URL object');
  });
});

describe('URL inputs', () => {
  it('keeps credentials out of errors and logs', async () => {
    // A port that was just released on the loopback address, so the connection is refused.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const url = new URL(`http://viewer:Se%40cret99@127.0.0.1:${port}/clip.mp4?token=abc123`);
    const logger = createRecordingLogger();

    const error = await failureOf(runPipeline(fromVideoFile(url, { logger })));

    expect(error.code).toBe('INVALID_INPUT');
    expect(error.context.network).toBe(true);
    expect(error.message).toContain('Check that the server is running');
    const masked = `http://***:***@127.0.0.1:${port}/clip.mp4?token=***`;
    expect(error.message).toContain(JSON.stringify(masked));
    const everything = JSON.stringify({ message: error.message, context: error.context, logs: logger.entries });
    for (const secret of ['viewer', 'Se%40cret99', 'Se@cret99', 'abc123']) expect(everything).not.toContain(secret);
  });

  it('rejects other protocols at call time', () => {
    expect(() => fromVideoFile(new URL('rtsp://user:pass@127.0.0.1:8554/cam'))).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.not.stringContaining('pass@') }),
    );
  });

  it('reads a file: URL as its path', async () => {
    const result = await runPipeline(fromVideoFile(new URL(`file://${media.file('clip.mp4')}`)));

    expect(result.values).toBe(10);
    expect(result.lastValue?.sourceId).toBe(media.file('clip.mp4'));
  });
});
