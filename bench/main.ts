/**
 * framewise benchmark harness. Runs every measurement in its own Node process, in rounds, so the
 * configurations are measured side by side under the same conditions, then prints a report and
 * appends it to docs/benchmarks.md with the machine, versions and command.
 *
 * Run: npm run bench
 *
 * Environment:
 *   FRAMEWISE_ASSETS    folder with models/ and media/ (default: ../shared from the repository root)
 *   BENCH_ROUNDS        rounds of the short measurements (default 2)
 *   BENCH_LONG_MINUTES  length of the generated long video, in minutes (default 10; 0 skips the long run)
 *   BENCH_RECORD        set to 0 to print the report without appending it to docs/benchmarks.md
 *
 * Other processes on the machine slow the measurements down. The report gives, for each
 * measurement, the share of CPU time other processes took while it ran.
 */
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESULT_PREFIX, type LimitsResult, type LongRunResult, type MeasurementRequest, type PipelineResult } from './cases.js';
import type { NaiveResult } from './naive-loop.js';
import { readCpu, readMachineCpu, type CpuUsage } from './process-stats.js';
import { formatReport, type BenchmarkResults, type Measured, type Round } from './report.js';
import { buildSyntheticConvModel } from './synthetic-conv-model.js';
import { defaultMaxQueuedFrames } from '../src/sources/video-file.js';

const repositoryRoot = fileURLToPath(new URL('..', import.meta.url));
const assets = resolve(repositoryRoot, process.env.FRAMEWISE_ASSETS ?? '../shared');
const modelPath = join(assets, 'models/yolov8n_int8.onnx');
const videoPath = join(assets, 'media/car-detection.mp4');
const rounds = positiveInteger('BENCH_ROUNDS', 2);
const longMinutes = Number(process.env.BENCH_LONG_MINUTES ?? 10);
const record = process.env.BENCH_RECORD !== '0';

/** Clips of the multi-source row: this many sources of this many frames each. */
const MULTI_SOURCE_COUNT = 4;
const MULTI_SOURCE_FRAMES = 40;
const MULTI_SOURCE_BATCH_SIZES = [1, 4, 8] as const;
/** Stand-in detector of the long run, slower than decoding a 1280x720 frame so the source must pause, and the source's default queue bound. */
const LONG_RUN_DETECTOR = { detectorDelayMs: 10, detectorConcurrency: 2, maxQueuedFrames: defaultMaxQueuedFrames(1280 * 720 * 3) };

function positiveInteger(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${process.env[name]}`);
  return value;
}

function log(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

/**
 * Runs one measurement in a fresh Node process and returns its result, with the share of the
 * machine's CPU time that other processes used meanwhile (0..1): all CPU time spent on the machine,
 * minus the time of the measurement process and its children, over wall time times cores.
 */
async function measure<T>(label: string, request: MeasurementRequest): Promise<Measured<T>> {
  log(`${label} (one-minute load average ${(os.loadavg()[0] ?? 0).toFixed(2)})`);
  const machineStart = readMachineCpu();
  const childrenStart = readCpu().children;
  const startedAt = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', join(repositoryRoot, 'bench/measure.ts'), JSON.stringify(request)], {
    cwd: repositoryRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const code = await new Promise<number | null>((done) => child.once('close', done));
  const line = stdout.split('\n').find((entry) => entry.startsWith(RESULT_PREFIX));
  if (code !== 0 || line === undefined) throw new Error(`Measurement ${label} failed with exit code ${code}: ${stdout.slice(-2000)}`);
  const wallSeconds = (performance.now() - startedAt) / 1000;
  const foreignSeconds = readMachineCpu() - machineStart - (readCpu().children - childrenStart);
  const otherCpuShare = Math.max(0, foreignSeconds / (wallSeconds * os.availableParallelism()));
  log(`${label}: other processes used ${(otherCpuShare * 100).toFixed(0)} % of the CPU`);
  return { result: JSON.parse(line.slice(RESULT_PREFIX.length)) as T, otherCpuShare };
}

function ffmpeg(args: readonly string[]): void {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
}

/** Writes the multi-source clips: 768x432 at 25 fps, each with a different test pattern. */
function generateClips(directory: string): string[] {
  const patterns = ['testsrc2', 'smptehdbars', 'rgbtestsrc', 'testsrc'];
  return Array.from({ length: MULTI_SOURCE_COUNT }, (_, index) => {
    const path = join(directory, `source-${index}.mp4`);
    const pattern = patterns[index % patterns.length] as string;
    ffmpeg(['-f', 'lavfi', '-i', `${pattern}=size=768x432:rate=25`, '-frames:v', String(MULTI_SOURCE_FRAMES), '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', path]);
    return path;
  });
}

/** Writes a `minutes`-long 1280x720 25 fps video: a 10-second clip, looped without re-encoding. */
function generateLongVideo(directory: string, minutes: number): string {
  const clip = join(directory, 'long-clip.mp4');
  const path = join(directory, 'long.mp4');
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=25:duration=10', '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '30', '-pix_fmt', 'yuv420p', clip]);
  ffmpeg(['-stream_loop', String(Math.ceil(minutes * 6) - 1), '-i', clip, '-c', 'copy', path]);
  return path;
}

function versions(): BenchmarkResults['versions'] {
  const ort = JSON.parse(execFileSync(process.execPath, ['-p', "JSON.stringify(require('onnxruntime-node/package.json'))"], { cwd: repositoryRoot, encoding: 'utf8' })) as { version: string };
  const ffmpegVersion = execFileSync('ffmpeg', ['-version'], { encoding: 'utf8' }).split('\n', 1)[0] ?? 'unknown';
  return { node: process.version, onnxruntimeNode: ort.version, ffmpeg: ffmpegVersion };
}

function machine(): BenchmarkResults['machine'] {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown CPU',
    cores: os.availableParallelism(),
    memoryGiB: os.totalmem() / 2 ** 30,
    system: `${os.type()} ${os.release()}`,
  };
}

async function main(): Promise<void> {
  for (const path of [modelPath, videoPath]) {
    if (!existsSync(path)) throw new Error(`${path} not found; set FRAMEWISE_ASSETS to the folder with models/ and media/`);
  }
  const startedAt = new Date();
  const work = mkdtempSync(join(os.tmpdir(), 'framewise-bench-'));
  try {
    const syntheticModel = join(work, 'synthetic-conv.onnx');
    writeFileSync(syntheticModel, buildSyntheticConvModel());
    const clips = generateClips(work);

    const video = { modelPath, videoPath };
    const roundResults: Round[] = [];
    for (let round = 1; round <= rounds; round += 1) {
      log(`round ${round} of ${rounds}`);
      const limits = await measure<LimitsResult>('model limit', { kind: 'limits', ...video });
      const detectOnly = await measure<PipelineResult>('detection only', { kind: 'pipeline', ...video, stages: 'detect' });
      const fullJob = await measure<PipelineResult>('detect + annotate + writeVideo', { kind: 'pipeline', ...video, stages: 'full' });
      const naive = await measure<NaiveResult & { cpu: CpuUsage }>('naive sequential loop', { kind: 'naive', ...video });
      const sampled = await measure<PipelineResult>('sampleEvery(5)', { kind: 'pipeline', ...video, stages: 'detect', sampleEvery: 5 });
      const sampledShortQueue = await measure<PipelineResult>('sampleEvery(5), 4 queued frames', {
        kind: 'pipeline',
        ...video,
        stages: 'detect',
        sampleEvery: 5,
        maxQueuedFrames: 4,
      });
      const detectOneSession = await measure<PipelineResult>('detection only, 1 worker x 2 threads', {
        kind: 'pipeline',
        ...video,
        stages: 'detect',
        workers: 1,
        intraOpThreads: 2,
      });
      const multiSource: (Measured<PipelineResult> & { batchSize: number })[] = [];
      for (const batchSize of MULTI_SOURCE_BATCH_SIZES) {
        const measured = await measure<PipelineResult>(`${MULTI_SOURCE_COUNT} sources, batch ${batchSize}`, {
          kind: 'multi-source',
          modelPath: syntheticModel,
          videoPaths: clips,
          batchSize,
        });
        multiSource.push({ batchSize, ...measured });
      }
      roundResults.push({ limits, detectOnly, fullJob, naive, sampled, sampledShortQueue, detectOneSession, multiSource });
    }

    let longRun: Measured<LongRunResult> | undefined;
    if (longMinutes > 0) {
      log(`generating a ${longMinutes}-minute 1280x720 video`);
      const longVideo = generateLongVideo(work, longMinutes);
      longRun = await measure<LongRunResult>(`${longMinutes}-minute long run`, { kind: 'long-run', videoPath: longVideo, ...LONG_RUN_DETECTOR });
    }

    const results: BenchmarkResults = {
      startedAt,
      finishedAt: new Date(),
      machine: machine(),
      versions: versions(),
      command: `${process.env.FRAMEWISE_ASSETS ? `FRAMEWISE_ASSETS=${process.env.FRAMEWISE_ASSETS} ` : ''}BENCH_ROUNDS=${rounds} BENCH_LONG_MINUTES=${longMinutes} npm run bench`,
      model: basename(modelPath),
      video: basename(videoPath),
      multiSource: { sources: MULTI_SOURCE_COUNT, framesPerSource: MULTI_SOURCE_FRAMES },
      longRunSettings: { minutes: longMinutes, ...LONG_RUN_DETECTOR },
      rounds: roundResults,
      longRun,
    };
    const report = formatReport(results);
    process.stdout.write(`${report}\n`);
    if (record) appendFileSync(join(repositoryRoot, 'docs/benchmarks.md'), `\n${report}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
