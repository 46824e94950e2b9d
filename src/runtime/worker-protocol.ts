/**
 * Messages between the worker pool (main thread) and an inference worker. Everything here is plain
 * data that survives `postMessage`'s structured clone.
 */
import type { ModelPlan, ModelSignature } from '../../models/adapter.js';
import type { Detection } from '../types.js';
import type { DetectionSettings } from './types.js';

/** `workerData` of an inference worker. */
export interface WorkerInit {
  readonly modelPath: string;
  /** Providers to request, in order. */
  readonly executionProviders: readonly string[];
  /** When the providers fail, retry with `['cpu']` and report the fallback instead of failing. */
  readonly allowCpuFallback: boolean;
  readonly intraOpThreads: number;
  /** The plan and labels, for workers started after recognition; the first worker gets them in a `configure` message. */
  readonly configuration?: WorkerConfiguration;
}

/** Plan and labels a worker needs to run jobs after its session is loaded. */
export interface WorkerConfiguration {
  readonly plan: ModelPlan;
  /** Class names by class id, for `Detection.name`. */
  readonly labels: readonly string[];
  /** Most images combined into one `session.run`: 1 for models without a free batch dimension. */
  readonly maxBatchSize: number;
}

/** An error as plain data. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
}

/** Messages from the main thread to a worker. */
export type ToWorkerMessage =
  | { readonly type: 'configure'; readonly configuration: WorkerConfiguration }
  /** Finish the running job, skip queued ones, release the session and exit. */
  | { readonly type: 'close' }
  | {
      readonly type: 'detect';
      readonly jobId: number;
      readonly width: number;
      readonly height: number;
      /** RGB24 pixels, transferred (not copied) to the worker. */
      readonly pixels: ArrayBuffer;
      readonly settings: DetectionSettings;
    };

/** Messages from a worker to the main thread. */
export type FromWorkerMessage =
  | {
      readonly type: 'loaded';
      readonly signature: ModelSignature;
      /** Providers the session was created with. */
      readonly executionProviders: readonly string[];
      /** Set when the requested providers failed and the session fell back to CPU. */
      readonly fallback?: { readonly requested: readonly string[]; readonly reason: string };
    }
  | { readonly type: 'load-failed'; readonly error: SerializedError }
  | {
      readonly type: 'result';
      readonly jobId: number;
      readonly detections: Detection[];
      /** Number of images in the `session.run` that produced this result. */
      readonly batchSize: number;
    }
  | { readonly type: 'job-failed'; readonly jobId: number; readonly error: SerializedError }
  | ({ readonly type: 'batch-timing' } & BatchTiming);

/**
 * Timing of one `session.run` batch, posted by the worker after the batch's results. Times are
 * wall-clock milliseconds measured in the worker thread.
 */
export interface BatchTiming {
  /** Images in the batch. */
  readonly batchSize: number;
  /**
   * Jobs waiting in the worker when `session.run` returned: the next run can start on them without
   * a round trip to the main thread. With onnxruntime-node 1.30, whose `run` blocks the worker
   * thread, these are the jobs that had arrived before the run started.
   */
  readonly readyJobs: number;
  /** Resizing the images and building the input tensor. */
  readonly preprocessMs: number;
  /** `session.run` alone. On an accelerator this is the time the device was given work. */
  readonly runMs: number;
  /** Decoding the outputs, NMS and posting the results. */
  readonly decodeMs: number;
  /**
   * Start and end of `session.run` in milliseconds since the Unix epoch (`performance.timeOrigin +
   * performance.now()`), comparable across the worker threads of one process. Gaps between the
   * run intervals of the workers sharing one device are the time that device had nothing to do.
   */
  readonly runStartMs: number;
  readonly runEndMs: number;
}

/** Converts an error into plain data for `postMessage`. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { name: 'Error', message: String(error) };
}

/** Rebuilds an `Error` from {@link serializeError}'s data, for use as a `cause`. */
export function deserializeError(data: SerializedError): Error {
  const error = new Error(data.message);
  error.name = data.name;
  if (data.stack !== undefined) error.stack = data.stack;
  return error;
}
