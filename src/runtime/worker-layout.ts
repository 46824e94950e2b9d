/**
 * How many inference workers a detector starts and how many ONNX Runtime intra-op threads each
 * session gets, when the caller does not set them.
 */

/** Worker threads and intra-op threads per session. */
export interface WorkerLayout {
  readonly workers: number;
  readonly intraOpThreads: number;
}

/**
 * Most workers started by default. Each worker loads its own copy of the model, so memory grows
 * with this number, and the frames kept in flight grow with it too.
 */
export const MAX_DEFAULT_WORKERS = 4;

/** Execution providers that run the whole model on the CPU cores. */
const CPU_PROVIDERS = new Set(['cpu']);

/**
 * Chooses the worker layout from the number of cores and the execution providers. Values the
 * caller set are kept. When the caller sets `workers` alone, each session gets one intra-op thread.
 *
 * On the CPU, separate single-thread sessions side by side raise throughput more than one wide
 * session. In a detection pipeline on a 2-core machine, 2 workers x 1 thread ran the int8 YOLOv8n at
 * 18 to 19 frames per second, 1 worker x 2 threads at 13 to 15 without spinning and 9 to 14 with
 * it (docs/benchmarks.md has the measurements).
 * So there is one worker per core up to {@link MAX_DEFAULT_WORKERS}, and the remaining cores are
 * shared out as intra-op threads, so every core has work: 2 cores give 2 x 1, 8 cores 4 x 2,
 * 16 cores 4 x 4.
 *
 * With an accelerator first in `executionProviders`, the device runs the model and the workers'
 * CPU time goes to preparing inputs and decoding outputs. Several workers let one prepare its next
 * batch while another's runs on the device, and one intra-op thread each is enough for the few
 * operators left on the CPU.
 *
 * NOTE: the split of cores above 2 into workers and threads is derived, not measured: the only
 * machine measured so far had 2 cores.
 *
 * @param cores Cores available to the process, for example `os.availableParallelism()`.
 */
export function chooseWorkerLayout(
  cores: number,
  executionProviders: readonly string[],
  requested: { readonly workers?: number; readonly intraOpThreads?: number } = {},
): WorkerLayout {
  const usableCores = Math.max(1, Math.floor(cores));
  const onCpu = CPU_PROVIDERS.has(executionProviders[0] ?? 'cpu');
  const workers = requested.workers ?? Math.min(MAX_DEFAULT_WORKERS, usableCores);
  if (requested.intraOpThreads !== undefined) return { workers, intraOpThreads: requested.intraOpThreads };
  if (requested.workers !== undefined || !onCpu) return { workers, intraOpThreads: 1 };
  return { workers, intraOpThreads: Math.max(1, Math.floor(usableCores / workers)) };
}
