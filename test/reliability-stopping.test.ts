import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Subject } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { annotate } from '../operators/annotate.js';
import { detect } from '../operators/detect.js';
import { timeout } from '../operators/timeout.js';
import { pendingWriters, writeVideo } from '../operators/write-video.js';
import { isFramewiseError, type FramewiseError } from '../src/errors.js';
import { runningChildPids } from '../src/ffmpeg/process.js';
import { runPipeline } from '../src/runner.js';
import { loadDetector } from '../src/runtime/load-detector.js';
import type { Detector } from '../src/runtime/types.js';
import { fromVideoFile } from '../src/sources/video-file.js';
import type { Frame } from '../src/types.js';
import { createRecordingLogger, createTempMediaDir, waitForNoChildren, type TempMediaDir } from './helpers/media.js';
import { buildRedSquareModel } from './helpers/red-square-model.js';
import { delay, inspectMedia, osChildPids, waitFor } from './helpers/reliability.js';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const CLI_ENTRY = join(REPO_ROOT, 'src/cli/main.ts');
/** Environment variable that marks the CLI runs of this file and, by inheritance, their ffmpeg children. */
const MARKER_VARIABLE = 'FRAMEWISE_RELIABILITY_RUN';

let media: TempMediaDir;
let detector: Detector;
let tenSeconds: string;
let minute: string;
let model: string;

beforeAll(async () => {
  media = await createTempMediaDir('framewise-stopping-');
  tenSeconds = media.file('ten-seconds.mp4');
  minute = media.file('minute.mp4');
  model = media.file('red-square.onnx');
  await media.ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=25:duration=10', '-c:v', 'libx264', '-preset', 'ultrafast', tenSeconds);
  // Long enough that no run below reaches its end before it is stopped.
  await media.ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25:duration=60', '-c:v', 'libx264', '-preset', 'ultrafast', minute);
  await writeFile(model, buildRedSquareModel());
  detector = await loadDetector(model, { workers: 1 });
});

afterAll(async () => {
  await detector?.dispose();
  await media?.remove();
});

/** Builds a 320x240 frame with colours that change with the index. */
function gradientFrame(index: number): Frame {
  const width = 320;
  const height = 240;
  const data = new Uint8Array(width * height * 3);
  for (let offset = 0; offset < data.length; offset += 3) {
    data[offset] = (offset / 3 + index * 7) & 0xff;
    data[offset + 1] = (index * 13) & 0xff;
    data[offset + 2] = 128;
  }
  return { sourceId: 'gradient', index, timestampMs: index * 40, width, height, data, live: false };
}

/** Size in bytes of the temporary file that writeVideo fills for `finalPath`, or 0 while there is none. */
function partialVideoBytes(finalPath: string): number {
  const directory = media.path;
  const prefix = `${finalPath.slice(directory.length + 1)}.partial-`;
  const partial = readdirSync(directory).find((name) => name.startsWith(prefix));
  return partial === undefined ? 0 : statSync(join(directory, partial)).size;
}

describe('stopping early in code', () => {
  it('cuts output at timeout({ seconds: 2 })', async () => {
    const output = media.file('timeout.mp4');

    const result = await runPipeline(fromVideoFile(tenSeconds).pipe(timeout({ seconds: 2 }), writeVideo(output)));

    expect(result.values).toBe(50);
    const report = await inspectMedia(output);
    expect(Math.abs(report.frames - 50)).toBeLessThanOrEqual(1);
    expect(Math.abs(report.durationS - 2.0)).toBeLessThanOrEqual(0.1);
    expect(runningChildPids()).toEqual([]);
  });

  it('finalises every frame when the runner is aborted', async () => {
    const output = media.file('aborted.mp4');
    const controller = new AbortController();
    const startedAt = performance.now();
    let seen = 0;
    // About 1 s in, but never before a few frames were through, since a loaded machine may start slowly.
    const abortWhenDue = (): void => {
      seen += 1;
      if (seen >= 5 && performance.now() - startedAt >= 1000) controller.abort(new Error('stop after about 1 s'));
    };

    const error = await runPipeline(fromVideoFile(minute).pipe(detect(detector), annotate(), writeVideo(output)), {
      signal: controller.signal,
      onValue: abortWhenDue,
    }).then(
      () => undefined,
      (reason: unknown) => reason,
    );

    expect(isFramewiseError(error, 'ABORTED')).toBe(true);
    const valuesBeforeAbort = (error as FramewiseError).context.values as number;
    expect(valuesBeforeAbort).toBeGreaterThan(0);
    expect(valuesBeforeAbort).toBeLessThan(1500);
    const report = await inspectMedia(output);
    expect(report.codec).toBe('h264');
    expect(report.frames).toBe(valuesBeforeAbort);
    expect(runningChildPids()).toEqual([]);
    expect(osChildPids() ?? []).toEqual([]);
  });

  it('keeps the file of an encoder stopped from outside', async () => {
    const output = media.file('outside-signal.mp4');
    const frames = new Subject<Frame>();
    const errors: unknown[] = [];
    frames.pipe(writeVideo(output)).subscribe({ error: (error: unknown) => errors.push(error) });
    for (let index = 0; index < 30; index += 1) frames.next(gradientFrame(index));
    await waitFor('the encoder to write', () => partialVideoBytes(output) > 0);
    const [encoder] = runningChildPids();

    process.kill(encoder as number, 'SIGTERM');
    await waitFor('the error notification', () => errors.length > 0);
    await pendingWriters();

    expect(isFramewiseError(errors[0], 'ENCODE_FAILED')).toBe(true);
    expect((errors[0] as FramewiseError).message).toContain('stopped by a signal from outside framewise');
    const report = await inspectMedia(output);
    expect(report.frames).toBeGreaterThan(0);
    expect(report.frames).toBeLessThanOrEqual(30);
    expect(runningChildPids()).toEqual([]);
  });

  it('keeps the file when a signal arrives while closing', async () => {
    const output = media.file('closing-signal.mp4');
    const logger = createRecordingLogger();
    const frames = new Subject<Frame>();
    const subscription = frames.pipe(writeVideo(output, { logger })).subscribe();
    for (let index = 0; index < 30; index += 1) frames.next(gradientFrame(index));
    await waitFor('the encoder to write', () => partialVideoBytes(output) > 0);
    const [encoder] = runningChildPids();

    subscription.unsubscribe();
    process.kill(encoder as number, 'SIGTERM');
    await pendingWriters();

    const report = await inspectMedia(output);
    expect(report.frames).toBeGreaterThan(0);
    expect(report.frames).toBeLessThanOrEqual(30);
    expect(runningChildPids()).toEqual([]);
  });
});

/** Exit status and output of one CLI run. */
interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

/** Running processes whose environment carries `marker` in {@link MARKER_VARIABLE}, zombies left out. */
function processesWithMarker(marker: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const environment = readFileSync(`/proc/${name}/environ`, 'latin1').split('\0');
      if (!environment.includes(`${MARKER_VARIABLE}=${marker}`)) continue;
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z') found.push(Number(name));
    } catch {
      // The process exited while it was read.
    }
  }
  return found;
}

/** Lines written so far to the JSON Lines output, under its temporary or its final name. */
function jsonLineCount(directory: string, finalName: string): number {
  const name = readdirSync(directory).find((entry) => entry === finalName || (entry.startsWith(`.${finalName}.`) && entry.endsWith('.partial')));
  return name === undefined ? 0 : readFileSync(join(directory, name), 'utf8').split('\n').length - 1;
}

describe.skipIf(!existsSync('/proc/self/environ'))('stopping the CLI with a signal', () => {
  /**
   * Runs `framewise detect` on the 60 s clip in its own process group, waits for 10 JSON lines,
   * then sends `signal` to the whole group (as a terminal's Ctrl-C does) or to the CLI alone.
   * With `twice`, it sends the signal again as soon as the CLI has reported the first one.
   */
  async function interrupt(name: string, signal: NodeJS.Signals, target: 'group' | 'process', twice = false): Promise<CliRun & { marker: string }> {
    const marker = randomUUID();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', CLI_ENTRY, 'detect', minute, '--model', model, '--output', media.file(`${name}.mp4`), '--json', media.file(`${name}.jsonl`), '--no-progress'],
      { cwd: REPO_ROOT, env: { ...process.env, [MARKER_VARIABLE]: marker }, stdio: ['ignore', 'ignore', 'pipe'], detached: true },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<CliRun>((resolve) => child.once('close', (code, exitSignal) => resolve({ code, signal: exitSignal, stderr })));
    const pid = child.pid as number;
    // A deadline far beyond the few seconds a run takes, so a stuck CLI fails the test instead of hanging it.
    const deadline = setTimeout(() => process.kill(-pid, 'SIGKILL'), 90_000);

    try {
      await waitFor('10 JSON lines', () => jsonLineCount(media.path, `${name}.jsonl`) >= 10 || child.exitCode !== null, 60_000);
      expect(child.exitCode).toBeNull();
      process.kill(target === 'group' ? -pid : pid, signal);
      if (twice) {
        await waitFor('the CLI to report the signal', () => stderr.includes('finalising outputs'));
        process.kill(target === 'group' ? -pid : pid, signal);
      }
      return { ...(await exited), marker };
    } finally {
      clearTimeout(deadline);
    }
  }

  async function expectFinalisedOutputs(name: string, run: CliRun & { marker: string }): Promise<void> {
    expect(run.stderr).toContain(`framewise: ${name === 'sigterm' ? 'SIGTERM' : 'SIGINT'} received, finalising outputs`);
    expect(run.stderr).toContain('framewise: stopped; outputs were finalised.');
    const report = await inspectMedia(media.file(`${name}.mp4`));
    const lines = (await readFile(media.file(`${name}.jsonl`), 'utf8')).trimEnd().split('\n');
    expect(report.codec).toBe('h264');
    expect(lines.length).toBeGreaterThanOrEqual(10);
    expect(lines.length).toBeLessThan(1500);
    // Every frame that reached the writers before the signal is in both files.
    expect(report.frames).toBe(lines.length);
    expect(readdirSync(media.path).filter((entry) => entry.includes(name) && entry.includes('partial'))).toEqual([]);
    await delay(100);
    expect(processesWithMarker(run.marker)).toEqual([]);
  }

  it('finalises outputs on Ctrl-C to the process group', async () => {
    const run = await interrupt('sigint', 'SIGINT', 'group');

    expect(run.code).toBe(130);
    await expectFinalisedOutputs('sigint', run);
  }, 120_000);

  it('finalises outputs on SIGTERM', async () => {
    const run = await interrupt('sigterm', 'SIGTERM', 'process');

    expect(run.code).toBe(143);
    await expectFinalisedOutputs('sigterm', run);
  }, 120_000);

  it('kills ffmpeg and exits at once on a second Ctrl-C', async () => {
    const run = await interrupt('twice', 'SIGINT', 'group', true);

    expect(run.code).toBe(130);
    expect(run.stderr).not.toContain('framewise: stopped; outputs were finalised.');
    await waitFor('the killed ffmpeg processes to disappear', () => processesWithMarker(run.marker).length === 0);
  }, 120_000);

  it('leaves no child process', async () => {
    await waitForNoChildren(runningChildPids);
    expect(osChildPids() ?? []).toEqual([]);
  });
});
