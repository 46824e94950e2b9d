import { Observable, Subject, from, throwError, NEVER } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { isFramewiseError } from '../src/errors.js';
import { pendingFinalizationCount, trackFinalization } from '../src/finalizers.js';
import { runPipeline } from '../src/runner.js';

/** A source whose teardown registers a finalisation that ends after `delayMs`, like a video writer. */
function sourceWithSlowTeardown<T>(inner: Observable<T>, delayMs: number, log: string[]): Observable<T> {
  return new Observable<T>((subscriber) => {
    const subscription = inner.subscribe(subscriber);
    return () => {
      subscription.unsubscribe();
      trackFinalization(
        new Promise<void>((resolve) =>
          setTimeout(() => {
            log.push('finalized');
            resolve();
          }, delayMs),
        ),
      );
    };
  });
}

describe('runPipeline', () => {
  it('resolves with the value count and last value', async () => {
    const result = await runPipeline(from([1, 2, 3]));
    expect(result.values).toBe(3);
    expect(result.lastValue).toBe(3);
    expect(result.elapsedMs).toBeGreaterThanOrEqual(0);
  });

  it('rejects with the pipeline error', async () => {
    const failure = new Error('boom');
    await expect(runPipeline(throwError(() => failure))).rejects.toBe(failure);
  });

  it('rejects with ABORTED only after finalisation', async () => {
    const log: string[] = [];
    const controller = new AbortController();
    const promise = runPipeline(sourceWithSlowTeardown(NEVER, 50, log), { signal: controller.signal });
    controller.abort();
    await expect(promise).rejects.toSatisfy((error: unknown) => isFramewiseError(error, 'ABORTED'));
    expect(log).toEqual(['finalized']);
    expect(pendingFinalizationCount()).toBe(0);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    let subscribed = false;
    const source = new Observable<number>(() => {
      subscribed = true;
    });
    await expect(runPipeline(source, { signal: controller.signal })).rejects.toSatisfy((error: unknown) =>
      isFramewiseError(error, 'ABORTED'),
    );
    expect(subscribed).toBe(false);
  });

  it('settles once when abort follows completion', async () => {
    const controller = new AbortController();
    const subject = new Subject<number>();
    const promise = runPipeline(subject, { signal: controller.signal });
    subject.next(1);
    subject.complete();
    controller.abort();
    const result = await promise;
    expect(result.values).toBe(1);
  });

  it('fails the run when onValue throws, and stops the source', async () => {
    const failure = new Error('callback failed');
    const subject = new Subject<number>();
    const promise = runPipeline(subject, {
      onValue: () => {
        throw failure;
      },
    });
    subject.next(1);
    await expect(promise).rejects.toBe(failure);
    expect(subject.observed).toBe(false);
  });

  it('waits for writers torn down on completion', async () => {
    const log: string[] = [];
    await runPipeline(sourceWithSlowTeardown(from([1]), 30, log));
    expect(log).toEqual(['finalized']);
  });
});
