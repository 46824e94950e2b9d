import type { Observable, Subscription } from 'rxjs';
import { FramewiseError } from './errors.js';
import { whenFinalized } from './finalizers.js';

/** Options of {@link runPipeline}. */
export interface RunOptions<T> {
  /** Aborting stops the pipeline, waits for outputs to be finalised, then rejects with `ABORTED`. */
  readonly signal?: AbortSignal;
  /** Called with every value the pipeline emits. An exception thrown here fails the run. */
  readonly onValue?: (value: T) => void;
}

/** Outcome of a finished run. */
export interface RunResult<T> {
  /** Number of values the pipeline emitted. */
  readonly values: number;
  /** The last value emitted, if any. */
  readonly lastValue: T | undefined;
  /** Wall-clock duration of the run in milliseconds. */
  readonly elapsedMs: number;
}

/**
 * Runs a pipeline to its end. The returned promise settles exactly once, and only after every
 * output writer (such as `writeVideo`) has finished its file: it resolves on completion, rejects
 * with the pipeline's error, or rejects with a `FramewiseError` of code `ABORTED` when `signal` aborts.
 *
 * @example
 * ```ts
 * const controller = new AbortController();
 * const result = await runPipeline(
 *   fromVideoFile('in.mp4').pipe(detect(detector), annotate(), writeVideo('out.mp4')),
 *   { signal: controller.signal },
 * );
 * console.log(`${result.values} frames`);
 * ```
 */
export function runPipeline<T>(pipeline: Observable<T>, options: RunOptions<T> = {}): Promise<RunResult<T>> {
  const { signal, onValue } = options;
  const startedAt = performance.now();

  return new Promise<RunResult<T>>((resolve, reject) => {
    // Values seen so far, and the last one.
    let values = 0;
    let lastValue: T | undefined;
    // Set once the outcome is decided; later notifications are ignored.
    let decided = false;
    // Filled in after subscribe() returns; a pipeline may settle synchronously before that.
    const active: { subscription?: Subscription } = {};

    const settle = (outcome: { ok: true } | { ok: false; error: unknown }): void => {
      if (decided) return;
      decided = true;
      signal?.removeEventListener('abort', onAbort);
      active.subscription?.unsubscribe();
      // RxJS runs teardowns right after this notification returns. The microtask lets them run, so
      // writers they close are registered before whenFinalized() waits for them.
      void Promise.resolve()
        .then(whenFinalized)
        .then(() => {
          if (outcome.ok) resolve({ values, lastValue, elapsedMs: performance.now() - startedAt });
          else reject(outcome.error);
        });
    };

    const onAbort = (): void => {
      settle({
        ok: false,
        error: new FramewiseError('ABORTED', 'The run was aborted; outputs written so far were finalised.', {
          values,
          reason: signal?.reason instanceof Error ? signal.reason.message : signal?.reason,
        }, { cause: signal?.reason }),
      });
    };

    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });

    const subscription = pipeline.subscribe({
      next: (value) => {
        if (decided) return;
        values += 1;
        lastValue = value;
        if (onValue) {
          try {
            onValue(value);
          } catch (error) {
            settle({ ok: false, error });
          }
        }
      },
      error: (error: unknown) => settle({ ok: false, error }),
      complete: () => settle({ ok: true }),
    });
    active.subscription = subscription;
    // A pipeline that completed or failed synchronously settled before `subscription` was assigned.
    if (decided) subscription.unsubscribe();
  });
}
