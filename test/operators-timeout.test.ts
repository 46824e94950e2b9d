import { EMPTY, from, interval, map, NEVER, range } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { timeout } from '../operators/timeout.js';
import type { Frame } from '../src/types.js';
import { createScheduler } from './helpers/analysis-frames.js';
import { makeFrame } from './helpers/fake-detector.js';

const at = (index: number, timestampMs: number): Frame => makeFrame(index, { timestampMs });
const indexOf = (frame: Frame): number => frame.index;

describe('timeout', () => {
  it('rejects negative or non-finite seconds', () => {
    for (const seconds of [-1, Number.NaN, Number.POSITIVE_INFINITY, '2' as unknown as number]) {
      expect(() => timeout({ seconds })).toThrow(/timeout seconds/);
    }
    expect(() => timeout(undefined as never)).toThrow(/timeout options/);
  });

  it('lets 2 s of a 25 fps stream through', () => {
    const indices: number[] = [];
    let completed = false;
    from(Array.from({ length: 100 }, (_, i) => at(i, i * 40)))
      .pipe(timeout({ seconds: 2 }))
      .subscribe({ next: (frame) => indices.push(frame.index), complete: () => (completed = true) });
    expect(indices).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(completed).toBe(true);
  });

  it('counts from the first frame of a live stream', () => {
    const frames = [at(0, 1000), at(1, 1500), at(2, 1999), at(3, 2000)];
    const indices: number[] = [];
    from(frames).pipe(timeout({ seconds: 1 })).subscribe((frame) => indices.push(frame.index));
    expect(indices).toEqual([0, 1, 2]);
  });

  it('completes and unsubscribes the source at the limit', () => {
    createScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b-c-d|', { a: at(0, 0), b: at(1, 500), c: at(2, 1000), d: at(3, 1500) });
      expectObservable(source.pipe(timeout({ seconds: 1 }), map(indexOf))).toBe('a-b-|', { a: 0, b: 1 });
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
  });

  it('completes on the first frame with zero seconds', () => {
    createScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('a-b|', { a: at(0, 0), b: at(1, 40) }).pipe(timeout({ seconds: 0 }))).toBe('|');
    });
  });

  it('handles never, empty, one value and errors', () => {
    createScheduler().run(({ cold, expectObservable }) => {
      expectObservable(NEVER.pipe(timeout({ seconds: 1 }))).toBe('');
      expectObservable(EMPTY.pipe(timeout({ seconds: 1 }))).toBe('|');
      expectObservable(cold('a|', { a: at(0, 0) }).pipe(timeout({ seconds: 1 }), map(indexOf))).toBe('a|', { a: 0 });
      expectObservable(cold('a-#', { a: at(0, 0) }, new Error('decode')).pipe(timeout({ seconds: 1 }), map(indexOf))).toBe(
        'a-#',
        { a: 0 },
        new Error('decode'),
      );
    });
  });

  it('completes an infinite source', () => {
    createScheduler().run(({ expectObservable }) => {
      const infinite = interval(1).pipe(map((i) => at(i, i * 400)));
      expectObservable(infinite.pipe(timeout({ seconds: 1 }), map(indexOf))).toBe('-abc|', { a: 0, b: 1, c: 2 });
    });
  });

  it('stops a synchronous infinite source', () => {
    const indices: number[] = [];
    range(0, Number.POSITIVE_INFINITY)
      .pipe(map((i) => at(i, i * 100)), timeout({ seconds: 0.5 }))
      .subscribe((frame) => indices.push(frame.index));
    expect(indices).toEqual([0, 1, 2, 3, 4]);
  });

  it('stops the source on early unsubscribe', () => {
    createScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b-c|', { a: at(0, 0), b: at(1, 40), c: at(2, 80) });
      expectObservable(source.pipe(timeout({ seconds: 10 }), map(indexOf)), '^--!').toBe('a-b', { a: 0, b: 1 });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('tears down the source when a downstream callback throws', () => {
    createScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b|', { a: at(0, 0), b: at(1, 40) });
      const failing = source.pipe(
        timeout({ seconds: 10 }),
        map(() => {
          throw new Error('callback');
        }),
      );
      expectObservable(failing).toBe('#', undefined, new Error('callback'));
      expectSubscriptions(source.subscriptions).toBe('(^!)');
    });
  });
});
