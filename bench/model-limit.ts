/**
 * The model's own inference throughput, the limit a pipeline is compared with: ONNX Runtime
 * sessions in worker threads time `session.run` alone on frames that were decoded and letterboxed
 * before the clock starts.
 */
import { Worker } from 'node:worker_threads';
import type * as ort from 'onnxruntime-node';
import { lastValueFrom, map, toArray } from 'rxjs';
import { prepareInput, type InputPreprocessing } from '../models/preprocess.js';
import { fromVideoFile } from '../src/sources/video-file.js';

/** One model input, letterboxed, NCHW, as 0..255 bytes (a quarter of the float tensor's memory). */
export interface PreparedFrame {
  readonly bytes: Uint8Array;
  readonly dims: readonly number[];
}

/** Result of {@link measureModelLimit}. */
export interface ModelLimitResult {
  readonly frames: number;
  readonly sessions: number;
  /** Frames divided by the summed `session.run` times of one session, times the number of sessions. */
  readonly runFps: number;
  /** Frames divided by the wall time from the first run to the last result. */
  readonly wallFps: number;
  readonly runMsMedian: number;
  readonly runMsP90: number;
}

/**
 * Decodes every frame of a video and prepares it as the model input, as framewise's workers do,
 * but keeps bytes instead of floats so a whole clip fits in memory.
 */
export async function prepareFrames(videoPath: string, width: number, height: number, spec: InputPreprocessing): Promise<PreparedFrame[]> {
  const bytesSpec: InputPreprocessing = { ...spec, dtype: 'uint8' };
  return lastValueFrom(
    fromVideoFile(videoPath).pipe(
      map((frame) => {
        const input = prepareInput(frame, width, height, bytesSpec);
        return { bytes: input.data as Uint8Array, dims: input.dims };
      }),
      toArray(),
    ),
  );
}

/** Options of {@link measureModelLimit}. */
export interface ModelLimitOptions {
  readonly modelPath: string;
  readonly frames: readonly PreparedFrame[];
  /** Float value of each input byte: `byte * scale`. */
  readonly scale: number;
  /** Sessions running side by side, each in its own thread. */
  readonly sessions: number;
  /** Options of every session; undefined keeps ONNX Runtime's defaults. */
  readonly sessionOptions?: ort.InferenceSession.SessionOptions;
  /** Runs per session before the clock starts. */
  readonly warmupRuns: number;
}

/**
 * Runs every prepared frame once through `sessions` sessions side by side; each session takes the
 * next frame as soon as it has finished one.
 */
export async function measureModelLimit(options: ModelLimitOptions): Promise<ModelLimitResult> {
  const workers = await Promise.all(Array.from({ length: options.sessions }, () => startSessionWorker(options)));
  try {
    const warmup = options.frames[0];
    if (!warmup) throw new Error('No frames to run');
    for (const worker of workers) {
      for (let run = 0; run < options.warmupRuns; run += 1) await worker.run(toFloat(warmup, options.scale));
    }

    const runTimes: number[] = [];
    let next = 0;
    const startedAt = performance.now();
    await Promise.all(
      workers.map(async (worker) => {
        while (next < options.frames.length) {
          const frame = options.frames[next] as PreparedFrame;
          next += 1;
          runTimes.push(await worker.run(toFloat(frame, options.scale)));
        }
      }),
    );
    const wallMs = performance.now() - startedAt;

    const sorted = [...runTimes].sort((a, b) => a - b);
    const totalRunMs = runTimes.reduce((sum, value) => sum + value, 0);
    return {
      frames: runTimes.length,
      sessions: options.sessions,
      runFps: (runTimes.length * 1000 * options.sessions) / totalRunMs,
      wallFps: (runTimes.length * 1000) / wallMs,
      runMsMedian: sorted[Math.floor(sorted.length / 2)] ?? 0,
      runMsP90: sorted[Math.floor(sorted.length * 0.9)] ?? 0,
    };
  } finally {
    await Promise.all(workers.map((worker) => worker.close()));
  }
}

function toFloat(frame: PreparedFrame, scale: number): { buffer: ArrayBuffer; dims: readonly number[] } {
  const values = new Float32Array(frame.bytes.length);
  for (let index = 0; index < values.length; index += 1) values[index] = (frame.bytes[index] as number) * scale;
  return { buffer: values.buffer, dims: frame.dims };
}

interface SessionWorker {
  /** Runs one input and resolves with the `session.run` time in milliseconds. */
  run(input: { buffer: ArrayBuffer; dims: readonly number[] }): Promise<number>;
  close(): Promise<void>;
}

async function startSessionWorker(options: ModelLimitOptions): Promise<SessionWorker> {
  const thread = new Worker(new URL('./session-worker.mjs', import.meta.url), {
    workerData: { modelPath: options.modelPath, sessionOptions: options.sessionOptions ?? {} },
  });
  const exited = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    thread.once('error', reject);
    thread.once('message', () => resolve());
  });

  return {
    run: (input) =>
      new Promise<number>((resolve) => {
        thread.once('message', (message: { runMs: number }) => resolve(message.runMs));
        thread.postMessage({ type: 'run', buffer: input.buffer, dims: input.dims }, [input.buffer]);
      }),
    close: () => {
      thread.postMessage({ type: 'close' });
      return exited;
    },
  };
}
