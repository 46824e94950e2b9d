/**
 * A logger for the benchmark that keeps the worker pool's per-batch timing events and drops the
 * rest, and the summary of those events.
 */
import type { LogFields, Logger } from '../src/logger.js';
import type { BatchTiming } from '../src/runtime/worker-protocol.js';
import { BATCH_TIMING_EVENT } from '../src/runtime/worker-pool.js';

/** One batch as the pool logged it. */
export type LoggedBatch = BatchTiming & { readonly threadId: number };

/** Totals over the batches of one measurement. */
export interface BatchSummary {
  readonly batches: number;
  readonly images: number;
  readonly meanBatchSize: number;
  /** Summed over every worker, in milliseconds per image. */
  readonly preprocessMsPerImage: number;
  readonly runMsPerImage: number;
  readonly decodeMsPerImage: number;
  /**
   * Share of the wall time between the first run's start and the last run's end in which no session
   * was running (0..1). On an accelerator shared by the workers, the device's idle share.
   */
  readonly idleShare: number;
  /** Mean share of that wall time each worker spent in `session.run` (0..1). */
  readonly runShareMean: number;
}

/** Collects {@link BATCH_TIMING_EVENT} entries. */
export class BatchLog implements Logger {
  readonly batches: LoggedBatch[] = [];

  debug(message: string, fields?: LogFields): void {
    if (message === BATCH_TIMING_EVENT && fields) this.batches.push(fields as unknown as LoggedBatch);
  }

  info(): void {}
  warn(): void {}
  error(): void {}

  /** Forgets the batches seen so far (for example those of a warm-up). */
  clear(): void {
    this.batches.length = 0;
  }

  summarize(): BatchSummary | undefined {
    const { batches } = this;
    if (batches.length === 0) return undefined;
    const images = batches.reduce((sum, batch) => sum + batch.batchSize, 0);
    const total = (pick: (batch: LoggedBatch) => number): number => batches.reduce((sum, batch) => sum + pick(batch), 0);

    const intervals = batches.map((batch) => [batch.runStartMs, batch.runEndMs] as const).sort((a, b) => a[0] - b[0]);
    const first = intervals[0]?.[0] ?? 0;
    const last = Math.max(...intervals.map((interval) => interval[1]));
    // Union of the run intervals: time in which at least one session was running.
    let busy = 0;
    let coveredUntil = first;
    for (const [start, end] of intervals) {
      if (end <= coveredUntil) continue;
      busy += end - Math.max(start, coveredUntil);
      coveredUntil = end;
    }
    const span = last - first;
    const workers = new Set(batches.map((batch) => batch.threadId)).size;

    return {
      batches: batches.length,
      images,
      meanBatchSize: images / batches.length,
      preprocessMsPerImage: total((batch) => batch.preprocessMs) / images,
      runMsPerImage: total((batch) => batch.runMs) / images,
      decodeMsPerImage: total((batch) => batch.decodeMs) / images,
      idleShare: span > 0 ? 1 - busy / span : 0,
      runShareMean: span > 0 ? total((batch) => batch.runMs) / span / workers : 0,
    };
  }
}
