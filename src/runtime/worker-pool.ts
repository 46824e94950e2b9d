/**
 * A pool of inference worker threads, each with its own ONNX Runtime session. The main thread
 * only copies pixels, queues jobs and routes results.
 */
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { FramewiseError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Detection, RgbImage } from '../types.js';
import type { DetectionSettings } from './types.js';
import {
  deserializeError,
  type FromWorkerMessage,
  type SerializedError,
  type ToWorkerMessage,
  type WorkerConfiguration,
  type WorkerInit,
} from './worker-protocol.js';

/** Maximum jobs posted to one worker: one running and one queued behind it, so the worker never waits for the main thread. */
export const JOBS_PER_WORKER = 2;

/**
 * Maximum jobs posted to one worker that combines up to `maxBatchSize` images per run: one full
 * batch running and one waiting.
 */
export function jobsPerWorker(maxBatchSize: number): number {
  return Math.max(JOBS_PER_WORKER, 2 * maxBatchSize);
}

/**
 * Message of the debug event the pool logs after each `session.run`, with the fields of
 * `BatchTiming` (worker-protocol.ts) plus `path` and `threadId`. A logger that collects these
 * events measures how busy each session was and, on an accelerator, how long the device waited
 * between runs (docs/benchmarks.md shows how).
 */
export const BATCH_TIMING_EVENT = 'Inference batch finished';

/** Inference worker threads started and not yet exited, in this process. */
const liveThreads = new Set<Worker>();

/**
 * Thread ids of the inference workers that are running, across all detectors. Tests use it to
 * check that `dispose()` stopped every worker; it is empty once every detector is disposed.
 */
export function runningInferenceWorkers(): number[] {
  return [...liveThreads].map((thread) => thread.threadId);
}

/** The `loaded` message a worker posts after creating its session. */
export type LoadedReport = Extract<FromWorkerMessage, { type: 'loaded' }>;

/** One detection request, from `detect` until its promise settles. */
interface Job {
  readonly id: number;
  readonly width: number;
  readonly height: number;
  readonly pixels: ArrayBuffer;
  readonly settings: DetectionSettings;
  resolve(detections: Detection[]): void;
  reject(error: unknown): void;
}

/**
 * A started worker thread. `start` resolves once its session is loaded; it rejects with
 * `MODEL_INVALID` when ONNX Runtime cannot load the model.
 */
export class InferenceWorker {
  readonly thread: Worker;
  /** Jobs posted to the thread whose result has not arrived yet, by id. */
  readonly jobs = new Map<number, Job>();
  /** The error the thread raised before it exited, if any. */
  crashError: Error | undefined;
  /** Resolves when the thread has exited. */
  readonly exited: Promise<void>;
  private readonly modelPath: string;

  private constructor(thread: Worker, modelPath: string) {
    this.thread = thread;
    this.modelPath = modelPath;
    this.exited = new Promise((resolve) => thread.once('exit', () => resolve()));
  }

  /** Starts a worker thread and waits until its session is created. */
  static async start(init: WorkerInit, scriptUrl: URL = inferenceWorkerUrl()): Promise<{ worker: InferenceWorker; report: LoadedReport }> {
    const thread = startThread(scriptUrl, init);
    liveThreads.add(thread);
    thread.once('exit', () => liveThreads.delete(thread));
    const worker = new InferenceWorker(thread, init.modelPath);
    thread.on('error', (error) => {
      worker.crashError = error;
    });

    const report = await new Promise<LoadedReport>((resolve, reject) => {
      const onExit = (code: number): void => {
        const cause = worker.crashError ?? new Error(`the worker thread exited with code ${code}`);
        reject(
          new FramewiseError(
            'WORKER_FAILED',
            `The inference worker for ${JSON.stringify(init.modelPath)} stopped while loading the model: ${cause.message}.`,
            { path: init.modelPath, exitCode: code },
            { cause },
          ),
        );
      };
      const onMessage = (message: FromWorkerMessage): void => {
        if (message.type !== 'loaded' && message.type !== 'load-failed') return;
        thread.off('exit', onExit);
        thread.off('message', onMessage);
        if (message.type === 'loaded') resolve(message);
        else reject(loadFailedError(init.modelPath, message.error));
      };
      thread.on('message', onMessage);
      thread.once('exit', onExit);
    }).catch(async (error: unknown) => {
      await worker.close();
      throw error;
    });

    thread.unref();
    return { worker, report };
  }

  /** Sends a message to the thread, transferring `transfer` buffers. */
  post(message: ToWorkerMessage, transfer: ArrayBuffer[] = []): void {
    this.thread.postMessage(message, transfer);
  }

  /**
   * Asks the thread to finish its running job, release its session and exit; resolves once it has
   * exited. It never calls `Worker.terminate()`, which aborts the process when it interrupts
   * `session.run` (onnxruntime-node 1.30), so it waits up to one inference.
   */
  close(): Promise<void> {
    // Referenced again so that a caller awaiting the exit is not left with an empty event loop.
    this.thread.ref();
    this.post({ type: 'close' });
    return this.exited;
  }

  /** Keeps the process alive while the thread has jobs, and lets it exit when the thread is idle. */
  updateRef(): void {
    if (this.jobs.size > 0) this.thread.ref();
    else this.thread.unref();
  }

  /** Model path, for error messages. */
  get path(): string {
    return this.modelPath;
  }
}

/** Options of {@link WorkerPool}. */
export interface WorkerPoolOptions {
  /** Init data for replacement workers; carries the configuration so they can take jobs at once. */
  readonly init: WorkerInit & { readonly configuration: WorkerConfiguration };
  readonly logger: Logger;
  /** Worker script; the default is inference-worker next to this module. Tests pass their own. */
  readonly scriptUrl?: URL;
}

/**
 * Distributes detection jobs over loaded workers. Each worker has at most
 * {@link jobsPerWorker} jobs for the configured batch size. Further jobs wait in a FIFO queue on the main thread and go to the
 * least-busy worker as soon as one has room.
 *
 * Warning: that queue is unbounded. Each waiting job holds one copy of its image's pixels, so
 * callers should keep at most `concurrency` calls in flight, as the `detect` operator does.
 */
export class WorkerPool {
  private readonly workers: InferenceWorker[];
  private readonly options: WorkerPoolOptions;
  /** Jobs not yet posted to a worker, oldest first. */
  private readonly waiting: Job[] = [];
  /** Id of the next job. */
  private nextJobId = 1;
  /** Replacement workers being started after a crash. */
  private replacements = 0;
  /** Set by `dispose`; jobs are rejected from then on. */
  private disposed = false;
  /** Jobs one worker may hold. */
  private readonly maxJobsPerWorker: number;

  constructor(workers: readonly InferenceWorker[], options: WorkerPoolOptions) {
    this.workers = [...workers];
    this.options = options;
    this.maxJobsPerWorker = jobsPerWorker(options.init.configuration.maxBatchSize);
    for (const worker of this.workers) this.attach(worker);
  }

  /** Number of live workers. */
  get size(): number {
    return this.workers.length;
  }

  /** Thread ids of the live workers, for tests and diagnostics. */
  get threadIds(): number[] {
    return this.workers.map((worker) => worker.thread.threadId);
  }

  /**
   * Queues a detection job. The pixels are copied at once into a buffer that is then transferred
   * to the worker, so the caller may reuse `image.data` as soon as this returns.
   */
  run(image: RgbImage, settings: DetectionSettings): Promise<Detection[]> {
    if (this.disposed) return Promise.reject(disposedError(this.options.init.modelPath));
    const pixels = new Uint8Array(image.data).buffer;

    return new Promise<Detection[]>((resolve, reject) => {
      const id = this.nextJobId++;
      this.waiting.push({ id, width: image.width, height: image.height, pixels, settings, resolve, reject });
      this.dispatch();
    });
  }

  /**
   * Rejects all pending jobs with `DETECTOR_DISPOSED` at once, then stops every worker and resolves
   * when they have exited, which can take up to one inference. Calling it twice is safe.
   */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const error = disposedError(this.options.init.modelPath);

    const pending = [...this.waiting, ...this.workers.flatMap((worker) => [...worker.jobs.values()])];
    this.waiting.length = 0;
    const workers = this.workers.splice(0);
    for (const worker of workers) worker.jobs.clear();
    for (const job of pending) job.reject(error);
    await Promise.all(workers.map((worker) => worker.close()));
  }

  private attach(worker: InferenceWorker): void {
    worker.thread.on('message', (message: FromWorkerMessage) => this.onMessage(worker, message));
    worker.thread.once('exit', (code) => this.onExit(worker, code));
    // Adding a 'message' listener references the thread's port again, so unreference it while idle.
    worker.updateRef();
  }

  /** Posts waiting jobs to the least-busy workers until every worker is full or nothing waits. */
  private dispatch(): void {
    while (this.waiting.length > 0) {
      let target: InferenceWorker | undefined;
      for (const worker of this.workers) {
        if (worker.jobs.size < this.maxJobsPerWorker && (!target || worker.jobs.size < target.jobs.size)) target = worker;
      }
      if (!target) break;

      const job = this.waiting.shift() as Job;
      target.jobs.set(job.id, job);
      target.updateRef();
      const message: ToWorkerMessage = {
        type: 'detect',
        jobId: job.id,
        width: job.width,
        height: job.height,
        pixels: job.pixels,
        settings: job.settings,
      };
      target.post(message, [job.pixels]);
    }

    if (this.waiting.length > 0 && this.workers.length === 0 && this.replacements === 0) {
      this.rejectWaiting(
        new FramewiseError(
          'WORKER_FAILED',
          `No inference worker is running for ${JSON.stringify(this.options.init.modelPath)}: every worker crashed and could not be restarted. ` +
            'Load the detector again; the logged errors say why the workers stopped.',
          { path: this.options.init.modelPath },
        ),
      );
    }
  }

  private onMessage(worker: InferenceWorker, message: FromWorkerMessage): void {
    if (message.type === 'batch-timing') {
      const { type: _type, ...timing } = message;
      this.options.logger.debug(BATCH_TIMING_EVENT, { path: worker.path, threadId: worker.thread.threadId, ...timing });
      return;
    }
    if (message.type !== 'result' && message.type !== 'job-failed') return;
    const job = worker.jobs.get(message.jobId);
    if (!job) return;
    worker.jobs.delete(message.jobId);
    worker.updateRef();

    if (message.type === 'result') {
      job.resolve(message.detections);
    } else {
      job.reject(inferenceFailedError(worker.path, job, message.error));
    }
    this.dispatch();
  }

  /** Handles a worker exit while the pool is live, which means a crash: its jobs fail and a replacement starts. */
  private onExit(worker: InferenceWorker, code: number): void {
    const index = this.workers.indexOf(worker);
    if (this.disposed || index === -1) return;
    this.workers.splice(index, 1);

    const cause = worker.crashError ?? new Error(`the worker thread exited with code ${code}`);
    const lost = [...worker.jobs.values()];
    worker.jobs.clear();
    this.options.logger.error('Inference worker crashed; starting a replacement', {
      path: worker.path,
      threadId: worker.thread.threadId,
      exitCode: code,
      lostJobs: lost.length,
      error: cause,
    });
    for (const job of lost) {
      job.reject(
        new FramewiseError(
          'WORKER_FAILED',
          `The inference worker for ${JSON.stringify(worker.path)} crashed while running job ${job.id}: ${cause.message}. ` +
            'The detector starts a replacement worker; retry the image, and check the logged error if it repeats.',
          { path: worker.path, exitCode: code },
          { cause },
        ),
      );
    }
    this.startReplacement();
    this.dispatch();
  }

  private startReplacement(): void {
    this.replacements += 1;
    InferenceWorker.start(this.options.init, this.options.scriptUrl).then(
      ({ worker }) => {
        this.replacements -= 1;
        if (this.disposed) {
          void worker.close();
          return;
        }
        this.workers.push(worker);
        this.attach(worker);
        this.dispatch();
      },
      (error: unknown) => {
        this.replacements -= 1;
        this.options.logger.error('Replacement inference worker failed to start', { path: this.options.init.modelPath, error });
        this.dispatch();
      },
    );
  }

  private rejectWaiting(error: FramewiseError): void {
    for (const job of this.waiting.splice(0)) job.reject(error);
  }
}

/**
 * Location of the worker script: `inference-worker.ts` when this module runs from source (vitest,
 * tsx), `inference-worker.js` when it runs from `dist/`.
 */
export function inferenceWorkerUrl(): URL {
  const extension = extname(fileURLToPath(import.meta.url));
  return new URL(`./inference-worker${extension}`, import.meta.url);
}

/**
 * Starts the worker thread. A TypeScript worker script (tests and tools running the sources) needs
 * tsx, a devDependency. On Node 20 the ESM hooks that `--import tsx` registers do not apply inside
 * worker threads, where the script fails with ERR_UNKNOWN_FILE_EXTENSION. So a small bootstrap
 * registers tsx's `require` hook in the thread and then requires the script, which tsx compiles
 * to CommonJS.
 */
function startThread(scriptUrl: URL, init: WorkerInit): Worker {
  if (!scriptUrl.pathname.endsWith('.ts')) return new Worker(scriptUrl, { workerData: init });

  // Absolute paths find tsx and the script whatever the current directory is. The bootstrap only
  // uses import(), so it runs whether the thread evaluates it as CommonJS or, when the process was
  // started with --input-type=module, as ESM.
  const tsxApi = createRequire(import.meta.url).resolve('tsx/cjs/api');
  const script = fileURLToPath(scriptUrl);
  const bootstrap = [
    "import('node:module').then(({ createRequire }) => {",
    `  const load = createRequire(${JSON.stringify(script)});`,
    `  load(${JSON.stringify(tsxApi)}).register();`,
    `  load(${JSON.stringify(script)});`,
    '});',
  ].join('\n');
  return new Worker(bootstrap, { eval: true, workerData: init });
}

function disposedError(modelPath: string): FramewiseError {
  return new FramewiseError(
    'DETECTOR_DISPOSED',
    `The detector for ${JSON.stringify(modelPath)} was disposed; load a new detector to run more detections.`,
    { path: modelPath },
  );
}

function loadFailedError(modelPath: string, error: SerializedError): FramewiseError {
  return new FramewiseError(
    'MODEL_INVALID',
    `ONNX Runtime cannot load ${JSON.stringify(modelPath)}: ${error.message}. Check that the file is a complete ONNX model, for example by loading it with another ONNX tool.`,
    { path: modelPath },
    { cause: deserializeError(error) },
  );
}

function inferenceFailedError(modelPath: string, job: Job, error: SerializedError): FramewiseError {
  return new FramewiseError(
    'INFERENCE_FAILED',
    `Inference with ${JSON.stringify(modelPath)} failed on a ${job.width}x${job.height} image: ${error.message}. ` +
      'Check that the model family and input size are right for this model.',
    { path: modelPath, width: job.width, height: job.height },
    { cause: deserializeError(error) },
  );
}
