/**
 * The measurements of the benchmark. Each runs in its own Node process (see measure.ts), so one
 * measurement's memory, JIT state and threads do not affect the next.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { Observable } from 'rxjs';
import { ULTRALYTICS_PREPROCESSING } from '../models/preprocess.js';
import { annotate } from '../operators/annotate.js';
import { detect } from '../operators/detect.js';
import { sampleEvery } from '../operators/sample-every.js';
import { writeVideo } from '../operators/write-video.js';
import { createFlowCounters, type FlowCounters } from '../src/backpressure.js';
import { runPipeline } from '../src/runner.js';
import { loadDetector } from '../src/runtime/load-detector.js';
import type { Detector } from '../src/runtime/types.js';
import { mergeSources } from '../src/sources/merge-sources.js';
import { fromVideoFile } from '../src/sources/video-file.js';
import type { Detection, Frame } from '../src/types.js';
import { BatchLog, type BatchSummary } from './batch-log.js';
import { measureModelLimit, prepareFrames, type ModelLimitResult } from './model-limit.js';
import { runNaiveLoop, type NaiveResult } from './naive-loop.js';
import { cpuBetween, LoopMonitor, readCpu, RssSampler, toMiB, type CpuUsage, type LoopStats } from './process-stats.js';

/** One measurement, as bench/main.ts requests it from bench/measure.ts. */
export type MeasurementRequest =
  | { readonly kind: 'limits'; readonly modelPath: string; readonly videoPath: string }
  | ({ readonly kind: 'pipeline' } & PipelineCase)
  | { readonly kind: 'naive'; readonly modelPath: string; readonly videoPath: string }
  | ({ readonly kind: 'multi-source' } & MultiSourceCase)
  | ({ readonly kind: 'long-run' } & LongRunCase);

/** Prefix of the line on which bench/measure.ts prints its result. */
export const RESULT_PREFIX = 'BENCH_RESULT ';

/** Result of one pipeline measurement. */
export interface PipelineResult {
  readonly frames: number;
  readonly seconds: number;
  readonly fps: number;
  readonly cpu: CpuUsage;
  readonly loop: LoopStats;
  readonly peakRssMiB: number;
  readonly flow: FlowCounters;
  readonly workers: number;
  readonly intraOpThreads: number;
  readonly batches?: BatchSummary;
}

/** Options of a framewise pipeline on one video. */
export interface PipelineCase {
  readonly modelPath: string;
  readonly videoPath: string;
  /** `detect`: detection only; `full`: detect, annotate and writeVideo. */
  readonly stages: 'detect' | 'full';
  readonly sampleEvery?: number;
  readonly workers?: number;
  readonly intraOpThreads?: number;
  readonly maxQueuedFrames?: number;
}

/** Runs a framewise pipeline on one video with the detector's defaults unless the case sets them. */
export async function measurePipeline(spec: PipelineCase): Promise<PipelineResult> {
  const log = new BatchLog();
  const detector = await loadDetector(spec.modelPath, { workers: spec.workers, intraOpThreads: spec.intraOpThreads, logger: log });
  const work = mkdtempSync(join(os.tmpdir(), 'framewise-bench-'));
  try {
    await warmUp(detector);
    log.clear();
    const counters = createFlowCounters();
    let frames: Observable<Frame> = fromVideoFile(spec.videoPath, { counters, maxQueuedFrames: spec.maxQueuedFrames });
    if (spec.sampleEvery !== undefined) frames = frames.pipe(sampleEvery(spec.sampleEvery));
    const detected = frames.pipe(detect(detector));
    const pipeline = spec.stages === 'full' ? detected.pipe(annotate(), writeVideo(join(work, 'out.mp4'))) : detected;

    const result = await measure(() => runPipeline(pipeline));
    return {
      ...result,
      flow: { ...counters },
      workers: detector.info.workers,
      intraOpThreads: detector.info.intraOpThreads,
      batches: log.summarize(),
    };
  } finally {
    await detector.dispose();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Runs a few images through every worker, so session start-up costs stay out of the timing. */
async function warmUp(detector: Detector): Promise<void> {
  const image = { width: 640, height: 360, data: new Uint8Array(640 * 360 * 3).fill(114) };
  for (let round = 0; round < 2; round += 1) {
    await Promise.all(Array.from({ length: detector.concurrency }, () => detector.detect(image)));
  }
}

/** Times a run with the counters of process-stats. */
async function measure(run: () => Promise<{ values: number; elapsedMs: number }>): Promise<Omit<PipelineResult, 'flow' | 'workers' | 'intraOpThreads'>> {
  const loop = new LoopMonitor();
  const rss = new RssSampler();
  const cpuStart = readCpu();
  loop.start();
  rss.start();
  const { values, elapsedMs } = await run();
  rss.stop();
  const loopStats = loop.stop();
  const cpu = cpuBetween(cpuStart, readCpu());
  const seconds = elapsedMs / 1000;
  return { frames: values, seconds, fps: values / seconds, cpu, loop: loopStats, peakRssMiB: toMiB(rss.peakBytes) };
}

/** Result of {@link measureLimits}. */
export interface LimitsResult {
  /** One session with ONNX Runtime's default options: the limit the issue defines. */
  readonly defaultSession: ModelLimitResult;
  /** framewise's default layout (sessions side by side, one intra-op thread each), with nothing else running. */
  readonly framewiseLayout: ModelLimitResult;
}

/** Measures the model limit with ONNX Runtime's defaults and with framewise's default layout. */
export async function measureLimits(modelPath: string, videoPath: string): Promise<LimitsResult> {
  const probe = await loadDetector(modelPath);
  const { inputWidth, inputHeight, workers, intraOpThreads } = probe.info;
  await probe.dispose();

  const frames = await prepareFrames(videoPath, inputWidth, inputHeight, ULTRALYTICS_PREPROCESSING);
  const common = { modelPath, frames, scale: ULTRALYTICS_PREPROCESSING.scale, warmupRuns: 3 };
  const defaultSession = await measureModelLimit({ ...common, sessions: 1 });
  const framewiseLayout = await measureModelLimit({
    ...common,
    sessions: workers,
    sessionOptions: { intraOpNumThreads: intraOpThreads, interOpNumThreads: 1 },
  });
  return { defaultSession, framewiseLayout };
}

/** Runs the naive sequential loop and reports its CPU use as well. */
export async function measureNaive(modelPath: string, videoPath: string): Promise<NaiveResult & { cpu: CpuUsage }> {
  const work = mkdtempSync(join(os.tmpdir(), 'framewise-bench-naive-'));
  try {
    const cpuStart = readCpu();
    const result = await runNaiveLoop(modelPath, videoPath, join(work, 'naive.mp4'));
    return { ...result, cpu: cpuBetween(cpuStart, readCpu()) };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Options of the multi-source measurement. */
export interface MultiSourceCase {
  readonly modelPath: string;
  readonly videoPaths: readonly string[];
  /** Images per `session.run`; 1 turns batching off. */
  readonly batchSize: number;
}

/** Runs several sources merged into one `detect` with a dynamic-batch model. */
export async function measureMultiSource(spec: MultiSourceCase): Promise<PipelineResult> {
  const log = new BatchLog();
  const detector = await loadDetector(spec.modelPath, { maxBatchSize: spec.batchSize, logger: log });
  try {
    await warmUp(detector);
    log.clear();
    const counters = spec.videoPaths.map(() => createFlowCounters());
    const sources = spec.videoPaths.map((path, index) => fromVideoFile(path, { sourceId: `source-${index}`, counters: counters[index] }));
    const options = spec.batchSize > 1 ? { maxBatchSize: spec.batchSize } : {};
    const result = await measure(() => runPipeline(mergeSources(sources).pipe(detect(detector, options))));
    // Summed over the sources, except maxQueued: the highest of any one source.
    const flow: FlowCounters = {
      emitted: counters.reduce((sum, each) => sum + each.emitted, 0),
      queued: 0,
      maxQueued: Math.max(...counters.map((each) => each.maxQueued)),
      pauses: counters.reduce((sum, each) => sum + each.pauses, 0),
    };
    return { ...result, flow, workers: detector.info.workers, intraOpThreads: detector.info.intraOpThreads, batches: log.summarize() };
  } finally {
    await detector.dispose();
  }
}

/** Options of the long run. */
export interface LongRunCase {
  readonly videoPath: string;
  /** Time the stand-in detector waits per frame, in milliseconds. */
  readonly detectorDelayMs: number;
  /** Frames the stand-in detector works on at once. */
  readonly detectorConcurrency: number;
  readonly maxQueuedFrames: number;
}

/** Result of {@link measureLongRun}. */
export interface LongRunResult extends Omit<PipelineResult, 'workers' | 'intraOpThreads' | 'batches'> {
  /** RSS in MiB when the first frame of each media minute was emitted: entry 0 is minute 0. */
  readonly rssByMinuteMiB: readonly number[];
  /** V8 heap in use in MiB at the same moments. */
  readonly heapByMinuteMiB: readonly number[];
  /** RSS in MiB when the last frame was emitted. */
  readonly rssAtEndMiB: number;
}

/**
 * Decodes a long video through `detect` with a stand-in detector that is slower than decoding,
 * then `annotate`, and records memory at each minute of media time.
 */
export async function measureLongRun(spec: LongRunCase): Promise<LongRunResult> {
  const counters = createFlowCounters();
  const rssByMinute: number[] = [];
  const heapByMinute: number[] = [];
  const pipeline = fromVideoFile(spec.videoPath, { counters, maxQueuedFrames: spec.maxQueuedFrames }).pipe(
    detect(slowDetector(spec.detectorDelayMs, spec.detectorConcurrency)),
    annotate(),
  );
  const onValue = (frame: Frame): void => {
    const minute = Math.floor(frame.timestampMs / 60_000);
    if (minute >= rssByMinute.length) {
      const memory = process.memoryUsage();
      rssByMinute[minute] = toMiB(memory.rss);
      heapByMinute[minute] = toMiB(memory.heapUsed);
    }
  };
  const result = await measure(() => runPipeline(pipeline, { onValue }));
  const rssAtEndMiB = toMiB(process.memoryUsage.rss());
  return { ...result, flow: { ...counters }, rssByMinuteMiB: rssByMinute, heapByMinuteMiB: heapByMinute, rssAtEndMiB };
}

/** Creates a detector that only waits and finds one fixed box, so decoding always outruns it. */
function slowDetector(delayMs: number, concurrency: number): Detector {
  const detection: Detection = { classId: 0, name: 'object', score: 0.9, box: [100, 100, 300, 260] };
  return {
    concurrency,
    info: {
      path: 'stand-in',
      family: 'stand-in',
      inputWidth: 0,
      inputHeight: 0,
      labels: ['object'],
      batchSize: 1,
      executionProviders: ['none'],
      workers: 0,
      intraOpThreads: 0,
    },
    detect: () => new Promise<Detection[]>((resolve) => setTimeout(() => resolve([detection]), delayMs)),
    dispose: async () => {},
  };
}
