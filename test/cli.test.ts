import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTempMediaDir, sharedPath, type TempMediaDir } from './helpers/media.js';
import { buildConstantYolov8Model } from './helpers/synthetic-models.js';

// The CLI runs as a real child process through tsx, from the repository root (where tsx resolves).
const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const CLI_ENTRY = join(REPO_ROOT, 'src/cli/main.ts');
const CAR_VIDEO = sharedPath('media', 'car-detection.mp4');
const YOLOV8N = sharedPath('models', 'yolov8n_int8.onnx');
const HAS_SHARED = existsSync(CAR_VIDEO) && existsSync(YOLOV8N);

const PACKAGE_VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const HINT = 'Run "framewise --help" for usage.';
/** A progress line such as `[####----] 12/50 24%  3.1 fps  ETA 0:12`, capturing done, total and percent. */
const PROGRESS_LINE = /(\d+)\/(\d+) (\d+)%/;

// Every CLI run gets this variable in its environment with a unique value. Its ffmpeg children
// inherit it, so a child left running after the CLI exited can be found in /proc even after it was
// re-parented to init.
const MARKER_VARIABLE = 'FRAMEWISE_CLI_TEST_RUN';
const MARKER_PREFIX = `${process.pid}-${randomUUID()}`;
const HAS_PROC = existsSync('/proc/self/environ');
let runCount = 0;

/** Exit status and output of one CLI run. */
interface CliResult {
  /** Exit code, or null when the process ended by a signal (the test killed it after its deadline). */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The marker value that this run and its children carry in their environment. */
  readonly marker: string;
}

/** A CLI run in progress. */
interface CliProcess {
  readonly pid: number;
  readonly result: Promise<CliResult>;
  kill(signal: NodeJS.Signals): void;
}

/** CLI processes that have not exited yet, so `afterAll` can stop them if a test failed early. */
const liveCliPids = new Set<number>();

/** Starts `framewise ...args` and kills it with SIGKILL when it runs past `deadlineMs`. */
function startCli(args: readonly string[], deadlineMs = 60_000): CliProcess {
  runCount += 1;
  const marker = `${MARKER_PREFIX}-${runCount}`;
  const child = spawn(process.execPath, ['--import', 'tsx', CLI_ENTRY, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, [MARKER_VARIABLE]: marker },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`Cannot start ${process.execPath} for the CLI`);
  liveCliPids.add(pid);

  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);

  const result = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      liveCliPids.delete(pid);
      resolve({ code, stdout, stderr, marker });
    });
  });
  return { pid, result, kill: (signal) => child.kill(signal) };
}

/** Runs `framewise ...args` to the end. */
function runCli(args: readonly string[], deadlineMs?: number): Promise<CliResult> {
  return startCli(args, deadlineMs).result;
}

/** A running process found in /proc. */
interface ProcessEntry {
  readonly pid: number;
  readonly command: string;
}

/**
 * Lists running processes whose environment contains the marker (an exact value, or any value that
 * starts with the prefix). Zombies are left out because they have exited. Empty where /proc is absent.
 */
function processesWithMarker(marker: string, matchPrefix = false): ProcessEntry[] {
  if (!HAS_PROC) return [];
  const found: ProcessEntry[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const variables = readFileSync(`/proc/${name}/environ`, 'latin1').split('\0');
      const value = variables.find((entry) => entry.startsWith(`${MARKER_VARIABLE}=`))?.slice(MARKER_VARIABLE.length + 1);
      if (value === undefined || !(matchPrefix ? value.startsWith(marker) : value === marker)) continue;

      // The command name sits in brackets before the state letter, and it may itself contain spaces.
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state === 'Z') continue;
      found.push({ pid: Number(name), command: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) });
    } catch {
      // The process exited while being read, or belongs to another user: not one of ours.
    }
  }
  return found;
}

/** Asserts that no process started by the CLI run (ffmpeg, ffprobe) is still running. */
function expectNoLeftoverProcesses(result: CliResult): void {
  expect(processesWithMarker(result.marker)).toEqual([]);
}

/** Asserts a usage error: exit code 2, then two stderr lines, the message and the hint. */
function expectUsageError(result: CliResult, message: RegExp): void {
  expect(result.code).toBe(2);
  expect(result.stdout).toBe('');
  const lines = result.stderr.split('\n');
  expect(lines).toHaveLength(3);
  expect(lines[0]).toMatch(/^framewise: \S/);
  expect(lines[0]).toMatch(message);
  expect(lines[1]).toBe(HINT);
  expect(lines[2]).toBe('');
}

/** What ffprobe reports about the first video stream of a file. */
interface VideoProbe {
  readonly codec: string;
  /** Frames counted by decoding the whole stream. */
  readonly frames: number;
  /** Container duration in seconds, the longest of its streams. */
  readonly durationS: number;
  /** Duration of the video stream in seconds. */
  readonly videoDurationS: number;
  readonly width: number;
  readonly height: number;
}

/** Decodes the first video stream of `path` with ffprobe `-count_frames` and rejects when ffprobe fails. */
async function probeVideoFile(path: string): Promise<VideoProbe> {
  const child = spawn(
    'ffprobe',
    ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,nb_read_frames,width,height,duration:format=duration', '-of', 'json', path],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new Error(`ffprobe failed on ${path} with exit code ${code}: ${stderr.trim()}`);

  const report = JSON.parse(stdout) as {
    streams: { codec_name: string; nb_read_frames: string; width: number; height: number; duration: string }[];
    format: { duration: string };
  };
  const stream = report.streams[0];
  if (stream === undefined) throw new Error(`ffprobe found no video stream in ${path}`);
  return {
    codec: stream.codec_name,
    frames: Number(stream.nb_read_frames),
    durationS: Number(report.format.duration),
    videoDurationS: Number(stream.duration),
    width: stream.width,
    height: stream.height,
  };
}

/** One line of the `--json` output. */
interface FrameRecord {
  readonly index: number;
  readonly timestampMs: number;
  readonly sourceId: string;
  readonly detections: readonly { classId: number; name: string; score: number; box: number[] }[];
}

async function readJsonLines(path: string): Promise<FrameRecord[]> {
  const text = await readFile(path, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => JSON.parse(line) as FrameRecord);
}

/** Resolves once `predicate` returns true, checking every 100 ms, and rejects after `timeoutMs`. */
async function waitUntil(what: string, predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Number of lines in the `--json` file while the CLI still writes it under its temporary name. */
function partialJsonLineCount(directory: string, finalName: string): number {
  const partial = readdirSync(directory).find((name) => name.startsWith(`.${finalName}.`) && name.endsWith('.partial'));
  if (partial === undefined) return 0;
  return readFileSync(join(directory, partial), 'utf8').split('\n').length - 1;
}

// Small inputs that need no shared assets: a 1 s test pattern and a YOLOv8-shaped model with
// classes person and car whose output is one constant `car` box.
let fixtures: TempMediaDir;
let smallVideo: string;
let smallModel: string;

beforeAll(async () => {
  fixtures = await createTempMediaDir('framewise-cli-');
  smallVideo = fixtures.file('pattern.mp4');
  smallModel = fixtures.file('constant-car.onnx');
  await fixtures.ffmpeg('-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=10', '-t', '1', '-pix_fmt', 'yuv420p', smallVideo);
  const anchors = [[32, 32, 32, 16, 0.1, 0.9], ...Array.from({ length: 7 }, () => [0, 0, 0, 0, 0, 0])];
  await writeFile(smallModel, buildConstantYolov8Model({ anchors, metadata: { names: "['person', 'car']" } }));
});

afterAll(async () => {
  // Stop whatever a failed test left behind (only processes this file started), then report it.
  for (const pid of liveCliPids) process.kill(pid, 'SIGKILL');
  const leftovers = processesWithMarker(MARKER_PREFIX, true);
  for (const { pid } of leftovers) process.kill(pid, 'SIGKILL');
  await fixtures.remove();
  expect(leftovers).toEqual([]);
});

describe('framewise help and version', () => {
  it('prints the usage for --help', async () => {
    const result = await runCli(['--help']);

    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout.startsWith('Usage: framewise <command> [options]\n')).toBe(true);
    for (const option of ['--model', '--output', '--json', '--classes', '--min-score', '--iou', '--no-progress', '--version']) {
      expect(result.stdout).toContain(option);
    }
  });

  it('prints the package version for --version', async () => {
    const result = await runCli(['--version']);

    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(`${PACKAGE_VERSION}\n`);
  });
});

describe('framewise usage errors', () => {
  it('rejects a missing command', async () => {
    expectUsageError(await runCli([]), /^framewise: Missing command\.$/);
  });

  it('rejects an unknown command', async () => {
    expectUsageError(await runCli(['detecc', 'in.mp4']), /Unknown command "detecc"/);
  });

  it('rejects a missing INPUT', async () => {
    expectUsageError(await runCli(['detect', '--model', smallModel]), /Missing INPUT/);
  });

  it('rejects a missing --model', async () => {
    expectUsageError(await runCli(['detect', smallVideo]), /Missing --model/);
  });

  it('rejects --min-score 2', async () => {
    const result = await runCli(['detect', smallVideo, '--model', smallModel, '--min-score', '2']);
    expectUsageError(result, /Invalid --min-score: "2"\. Expected a number from 0 to 1\./);
  });

  it('rejects --iou abc', async () => {
    const result = await runCli(['detect', smallVideo, '--model', smallModel, '--iou', 'abc']);
    expectUsageError(result, /Invalid --iou: "abc"\. Expected a number from 0 to 1\./);
  });

  it('rejects an unknown option', async () => {
    const result = await runCli(['detect', smallVideo, '--model', smallModel, '--frobnicate']);
    expectUsageError(result, /^framewise: Unknown option --frobnicate\.$/m);
  });

  it('rejects an option without its value', async () => {
    const result = await runCli(['detect', smallVideo, '--model']);
    expectUsageError(result, /^framewise: Option --model needs a value\.$/m);
  });

  it('rejects an unknown class name and lists the valid ones', async () => {
    const result = await runCli(['detect', smallVideo, '--model', smallModel, '--classes', 'persn']);

    expectUsageError(result, /Unknown class name "persn"\. Valid names for this model: person, car\./);
    expectNoLeftoverProcesses(result);
  });

  it('rejects an unsupported --output extension', async () => {
    const result = await runCli(['detect', smallVideo, '--model', smallModel, '--output', fixtures.file('out.gif')]);
    expectUsageError(result, /Invalid --output: ".*out\.gif"\. Expected a file name ending in one of \.mp4/);
    expectNoLeftoverProcesses(result);
  });

  it('rejects an empty --classes list', async () => {
    const result = await runCli(['detect', smallVideo, '--model', smallModel, '--classes', ' , ']);
    expectUsageError(result, /Invalid --classes: " , "\. Expected comma-separated class names/);
  });

  // Nothing listens on port 1: the stream keeps reconnecting until --timeout ends the run.
  it.each([
    { url: 'rtsp://user:pass@127.0.0.1:1/x', secrets: ['user', ':pass', 'pass@'] },
    { url: 'rtsp://viewer:Se@cret99@127.0.0.1:1/x', secrets: ['viewer', 'Se@', 'cret99'] },
  ])('reports URL $url without credentials', async ({ url, secrets }) => {
    const result = await runCli(['detect', url, '--model', smallModel, '--timeout', '1', '--no-progress']);

    expect(result.code).toBe(0);
    expect(result.stderr).toContain('rtsp://***:***@127.0.0.1:1/x');
    for (const secret of secrets) expect(result.stderr + result.stdout).not.toContain(secret);
    expectNoLeftoverProcesses(result);
  });
});

describe('framewise failures on files', () => {
  it('reports a missing input file as INPUT_NOT_FOUND', async () => {
    const missing = fixtures.file('no-such-video.mp4');
    const result = await runCli(['detect', missing, '--model', smallModel]);

    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const lines = result.stderr.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^framewise: /);
    expect(lines[0]).toContain(missing);
    expect(lines[0]).toMatch(/\[INPUT_NOT_FOUND\]$/);
    expectNoLeftoverProcesses(result);
  });

  it('reports a missing model file as MODEL_NOT_FOUND', async () => {
    const missing = fixtures.file('no-such-model.onnx');
    const result = await runCli(['detect', smallVideo, '--model', missing]);

    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const lines = result.stderr.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^framewise: /);
    expect(lines[0]).toContain(missing);
    expect(lines[0]).toMatch(/\[MODEL_NOT_FOUND\]$/);
    expectNoLeftoverProcesses(result);
  });
});

describe.skipIf(!HAS_SHARED)('framewise detect on car-detection.mp4 (needs ../shared)', () => {
  let output: TempMediaDir;
  let result: CliResult;
  let records: FrameRecord[];
  let video: VideoProbe;
  let input: VideoProbe;

  // The whole video took about 33 s on a 2-core machine, so it runs once for every check below.
  beforeAll(async () => {
    output = await createTempMediaDir('framewise-cli-main-');
    result = await runCli(
      ['detect', CAR_VIDEO, '--model', YOLOV8N, '--output', output.file('out.mp4'), '--json', output.file('out.jsonl'), '--no-progress'],
      240_000,
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    records = await readJsonLines(output.file('out.jsonl'));
    video = await probeVideoFile(output.file('out.mp4'));
    input = await probeVideoFile(CAR_VIDEO);
  }, 300_000);

  afterAll(async () => {
    await output?.remove();
  });

  it('exits 0 and leaves no ffmpeg running', () => {
    expect(result.code).toBe(0);
    expectNoLeftoverProcesses(result);
  });

  it('writes an h264 video of 377 frames and 30.2 s', () => {
    expect(video.codec).toBe('h264');
    expect(video.frames).toBe(377);
    expect(video.durationS).toBeGreaterThanOrEqual(30.1);
    expect(video.durationS).toBeLessThanOrEqual(30.3);
    expect(video.videoDurationS).toBeGreaterThanOrEqual(30.1);
    expect(video.videoDurationS).toBeLessThanOrEqual(30.3);
    expect(video.width).toBe(input.width);
    expect(video.height).toBe(input.height);
  });

  it('writes one JSON line per frame in order', () => {
    expect(records).toHaveLength(377);
    records.forEach((record, i) => {
      expect(Object.keys(record).sort()).toEqual(['detections', 'index', 'sourceId', 'timestampMs']);
      expect(record.index).toBe(i);
      expect(record.sourceId).toBe(CAR_VIDEO);
      if (i > 0) expect(record.timestampMs).toBeGreaterThan(records[i - 1]!.timestampMs);
    });
    expect(records[0]!.timestampMs).toBe(0);
  });

  it('writes well-formed detections', () => {
    const namesById = new Map<number, string>();
    const detections = records.flatMap((record) => record.detections);
    expect(detections.length).toBeGreaterThan(0);

    for (const detection of detections) {
      expect(Object.keys(detection).sort()).toEqual(['box', 'classId', 'name', 'score']);
      expect(Number.isInteger(detection.classId)).toBe(true);
      expect(detection.name).not.toBe('');
      expect(namesById.get(detection.classId) ?? detection.name).toBe(detection.name);
      namesById.set(detection.classId, detection.name);

      expect(detection.score).toBeGreaterThanOrEqual(0);
      expect(detection.score).toBeLessThanOrEqual(1);

      expect(detection.box).toHaveLength(4);
      const [x1, y1, x2, y2] = detection.box as [number, number, number, number];
      expect(detection.box.every((value) => Number.isFinite(value))).toBe(true);
      expect(x1).toBeGreaterThanOrEqual(0);
      expect(y1).toBeGreaterThanOrEqual(0);
      expect(x2).toBeGreaterThanOrEqual(x1);
      expect(y2).toBeGreaterThanOrEqual(y1);
      expect(x2).toBeLessThanOrEqual(input.width);
      expect(y2).toBeLessThanOrEqual(input.height);
    }
  });

  it('prints a summary that matches the JSON lines', () => {
    const lines = result.stdout.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe('');
    expect(lines[0]).toMatch(new RegExp(`^Processed 377 frames of ${escapeRegExp(CAR_VIDEO)} in `));

    const counts = new Map<string, number>();
    for (const detection of records.flatMap((record) => record.detections)) {
      counts.set(detection.name, (counts.get(detection.name) ?? 0) + 1);
    }
    const match = /Detections: (\d+) \((.*?)\)\./.exec(lines[0]!);
    expect(match).not.toBeNull();
    expect(Number(match![1])).toBe([...counts.values()].reduce((sum, count) => sum + count, 0));
    const printed = new Map(match![2]!.split(', ').map((entry) => {
      const at = entry.lastIndexOf(' ');
      return [entry.slice(0, at), Number(entry.slice(at + 1))] as const;
    }));
    expect(printed).toEqual(counts);
    expect(lines[0]).toContain(`Wrote ${output.file('out.mp4')} and ${output.file('out.jsonl')}.`);
  });

  it('draws no progress with --no-progress', () => {
    expect(result.stderr).not.toMatch(PROGRESS_LINE);
  });
});

describe.skipIf(!HAS_SHARED)('framewise detect --classes car on a 2 s clip (needs ../shared)', () => {
  let clips: TempMediaDir;
  let result: CliResult;
  let records: FrameRecord[];

  // In seconds 4 to 6 of car-detection.mp4, yolov8n finds cars and, without the filter, other classes too.
  beforeAll(async () => {
    clips = await createTempMediaDir('framewise-cli-clip-');
    await clips.ffmpeg('-ss', '4', '-t', '2', '-i', CAR_VIDEO, '-an', '-c:v', 'libx264', '-preset', 'ultrafast', 'clip.mp4');
    // Progress stays on: stderr is a pipe, so the bar prints whole lines, the last one on completion.
    result = await runCli(['detect', clips.file('clip.mp4'), '--model', YOLOV8N, '--classes', 'car', '--json', clips.file('clip.jsonl')], 120_000);
    expect(result.code).toBe(0);
    records = await readJsonLines(clips.file('clip.jsonl'));
  }, 150_000);

  afterAll(async () => {
    await clips?.remove();
  });

  it('keeps only car detections', () => {
    const names = records.flatMap((record) => record.detections.map((detection) => detection.name));
    expect(names.length).toBeGreaterThan(0);
    expect(new Set(names)).toEqual(new Set(['car']));
  });

  it('ends the progress at 100%', async () => {
    const frames = (await probeVideoFile(clips.file('clip.mp4'))).frames;
    expect(records).toHaveLength(frames);

    const progress = result.stderr.trimEnd().split('\n').filter((line) => PROGRESS_LINE.test(line));
    expect(progress.length).toBeGreaterThan(0);
    const last = PROGRESS_LINE.exec(progress[progress.length - 1]!)!;
    expect(last[0]).toBe(`${frames}/${frames} 100%`);
  });

  it('leaves no ffmpeg running', () => {
    expectNoLeftoverProcesses(result);
  });
});

describe.skipIf(!HAS_SHARED)('framewise interrupted by a signal (needs ../shared)', () => {
  let outputs: TempMediaDir;

  beforeAll(async () => {
    outputs = await createTempMediaDir('framewise-cli-signal-');
  });

  afterAll(async () => {
    await outputs?.remove();
  });

  /** Starts the full video, waits for 10 JSON lines, sends `signal` and returns the result. */
  async function interruptAfterTenFrames(signal: NodeJS.Signals, name: string): Promise<CliResult> {
    const cli = startCli(['detect', CAR_VIDEO, '--model', YOLOV8N, '--output', outputs.file(`${name}.mp4`), '--json', outputs.file(`${name}.jsonl`), '--no-progress'], 120_000);
    let exited = false;
    void cli.result.then(() => (exited = true), () => (exited = true));

    await waitUntil('10 JSON lines', () => exited || partialJsonLineCount(outputs.path, `${name}.jsonl`) >= 10, 60_000);
    expect(exited).toBe(false);
    const signalledAt = Date.now();
    cli.kill(signal);

    const result = await cli.result;
    // A wide bound: finalising waits for the encoder to flush the frames already queued.
    expect(Date.now() - signalledAt).toBeLessThan(60_000);
    return result;
  }

  it('finalises playable outputs on SIGINT and exits 130', async () => {
    const result = await interruptAfterTenFrames('SIGINT', 'sigint');

    expect(result.code).toBe(130);
    expect(result.stderr).toContain('framewise: SIGINT received, finalising outputs');
    expect(result.stderr).toContain('framewise: stopped; outputs were finalised.');
    expect(result.stdout).toBe('');
    expectNoLeftoverProcesses(result);

    const video = await probeVideoFile(outputs.file('sigint.mp4'));
    expect(video.codec).toBe('h264');
    expect(video.frames).toBeGreaterThan(0);
    expect(video.frames).toBeLessThan(377);

    // Frames reach the JSON Lines writer before the video writer, so every encoded frame has a line.
    const records = await readJsonLines(outputs.file('sigint.jsonl'));
    expect(records.length).toBeGreaterThanOrEqual(10);
    expect(records.length).toBeLessThan(377);
    expect(records.map((record) => record.index)).toEqual(records.map((_, i) => i));
    expect(video.frames).toBeLessThanOrEqual(records.length);
    expect(readdirSync(outputs.path).filter((file) => file.endsWith('.partial'))).toEqual([]);
  }, 150_000);

  it('finalises a playable video on SIGTERM and exits 143', async () => {
    const result = await interruptAfterTenFrames('SIGTERM', 'sigterm');

    expect(result.code).toBe(143);
    expect(result.stderr).toContain('framewise: SIGTERM received, finalising outputs');
    expectNoLeftoverProcesses(result);

    const video = await probeVideoFile(outputs.file('sigterm.mp4'));
    expect(video.codec).toBe('h264');
    expect(video.frames).toBeGreaterThan(0);
    expect(video.frames).toBeLessThan(377);
  }, 150_000);
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
