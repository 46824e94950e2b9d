import { EMPTY, from, interval, map, NEVER, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { windowByMinute } from '../operators/window-by-minute.js';
import { windowBySecond } from '../operators/window-by-second.js';
import { windowByTime, type WindowSummary } from '../operators/window-by-time.js';
import type { DetectedFrame } from '../src/types.js';
import { createScheduler, detectedFrame, framesAt } from './helpers/analysis-frames.js';

/** Expands `{ bus: 4, car: 2 }` into the detection names of one frame. */
const namesFromCounts = (counts: Record<string, number>): string[] =>
  Object.entries(counts).flatMap(([name, count]) => Array<string>(count).fill(name));

function collect<T>(observable: Observable<T>): T[] {
  const values: T[] = [];
  observable.subscribe((value) => values.push(value));
  return values;
}

/** A window reduced to what the marble tests compare. */
const shape = (window: WindowSummary) => ({ index: window.index, frames: window.frameCount, partial: window.partial });

describe('windowByTime', () => {
  it('rejects a non-positive window length', () => {
    for (const windowMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => windowByTime({ windowMs })).toThrow(/windowMs/);
    }
    expect(() => windowByTime(null as never)).toThrow(/windowByTime options/);
  });

  it('averages the documented ImageAI example', () => {
    // The ten per-frame counts of one second at 10 fps, from ImageAI's video analysis documentation.
    const counts: Record<string, number>[] = [
      { bus: 4, boat: 3, person: 1, car: 8 },
      { truck: 1, bus: 4, boat: 3, person: 1, car: 7 },
      { bus: 5, boat: 2, person: 1, car: 5 },
      { bus: 5, boat: 1, person: 1, car: 9 },
      { truck: 1, bus: 2, car: 6, person: 1 },
      { truck: 2, bus: 4, boat: 2, person: 1, car: 7 },
      { truck: 1, bus: 3, car: 7, person: 1, umbrella: 1 },
      { bus: 4, car: 7, person: 1, umbrella: 2 },
      { bus: 3, car: 6, boat: 1, person: 1, umbrella: 3 },
      { bus: 3, car: 4, boat: 1, person: 1, umbrella: 2 },
    ];
    const frames = framesAt(10, 10, (i) => namesFromCounts(counts[i]!));
    const [second] = collect(from(frames).pipe(windowBySecond()));

    expect(second!.averages).toEqual({ truck: 0.5, bus: 3.7, umbrella: 0.8, boat: 1.3, person: 1.0, car: 6.6 });
    expect(second!.counts).toEqual(counts);
    expect(second!.frameCount).toBe(10);
    expect(second!.partial).toBe(false);
  });

  it('splits 2.6 s at 25 fps into 25, 25 and 15 frames', () => {
    const frames = framesAt(25, 65, (i) => (i % 5 === 0 ? ['person', 'car'] : ['person']));
    const windows = collect(from(frames).pipe(windowBySecond()));

    expect(windows.map((w) => w.frameCount)).toEqual([25, 25, 15]);
    expect(windows.map((w) => w.index)).toEqual([1, 2, 3]);
    expect(windows.map((w) => [w.startMs, w.endMs])).toEqual([[0, 1000], [1000, 2000], [2000, 3000]]);
    expect(windows.map((w) => w.partial)).toEqual([false, false, true]);
    expect(windows[0]!.frameIndices).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(windows[2]!.frameIndices[0]).toBe(50);
    expect(windows[0]!.averages).toEqual({ person: 1, car: 5 / 25 });
    expect(windows[2]!.averages).toEqual({ person: 1, car: 3 / 15 });
    expect(windows[1]!.detections[0]!.map((d) => d.name)).toEqual(['person', 'car']);
  });

  it('does not flag a last window that the stream fills', () => {
    const windows = collect(from(framesAt(25, 50)).pipe(windowBySecond()));
    expect(windows.map((w) => w.partial)).toEqual([false, false]);
  });

  it('emits empty windows for gaps without NaN', () => {
    const frames = [detectedFrame(0, 0, ['car']), detectedFrame(1, 500, ['car']), detectedFrame(2, 3200, ['bus'])];
    const windows = collect(from(frames).pipe(windowBySecond()));

    expect(windows.map((w) => w.index)).toEqual([1, 2, 3, 4]);
    expect(windows.map((w) => w.frameCount)).toEqual([2, 0, 0, 1]);
    expect(windows[1]!.averages).toEqual({});
    expect(windows[1]!.counts).toEqual([]);
    expect(windows[1]!.partial).toBe(false);
    expect(windows[3]!.averages).toEqual({ bus: 1 });
  });

  it('flags a single-frame stream as partial', () => {
    const windows = collect(from([detectedFrame(0, 0, ['dog'])]).pipe(windowBySecond()));
    expect(windows.map(shape)).toEqual([{ index: 1, frames: 1, partial: true }]);
  });

  it('starts at the window of the first frame', () => {
    const windows = collect(from([detectedFrame(0, 2500), detectedFrame(1, 2600)]).pipe(windowBySecond()));
    expect(windows.map((w) => w.index)).toEqual([3]);
  });

  it('keeps late frames in the open window', () => {
    const frames = [detectedFrame(0, 0), detectedFrame(1, 1100, ['cat']), detectedFrame(2, 900, ['cat']), detectedFrame(3, 1200)];
    const windows = collect(from(frames).pipe(windowBySecond()));
    expect(windows.map((w) => w.frameIndices)).toEqual([[0], [1, 2, 3]]);
  });

  it('groups minutes of 600 frames at 10 fps', () => {
    const frames = framesAt(10, 1500, (i) => (i < 600 ? ['person'] : []));
    const windows = collect(from(frames).pipe(windowByMinute()));
    expect(windows.map((w) => w.frameCount)).toEqual([600, 600, 300]);
    expect(windows.map((w) => w.averages)).toEqual([{ person: 1 }, {}, {}]);
    expect(windows[2]!.partial).toBe(true);
  });

  it('emits a window when the next one starts', () => {
    createScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b-c-d|', {
        a: detectedFrame(0, 0),
        b: detectedFrame(1, 600),
        c: detectedFrame(2, 1200),
        d: detectedFrame(3, 1800),
      });
      expectObservable(source.pipe(windowBySecond(), map(shape))).toBe('----x--(y|)', {
        x: { index: 1, frames: 2, partial: false },
        y: { index: 2, frames: 2, partial: false },
      });
      expectSubscriptions(source.subscriptions).toBe('^------!');
    });
  });

  it('handles never, empty, one value and errors', () => {
    createScheduler().run(({ cold, expectObservable }) => {
      expectObservable(NEVER.pipe(windowBySecond())).toBe('');
      expectObservable(EMPTY.pipe(windowBySecond())).toBe('|');
      expectObservable(cold('a|', { a: detectedFrame(0, 0) }).pipe(windowBySecond(), map(shape))).toBe('-(x|)', {
        x: { index: 1, frames: 1, partial: true },
      });
      // On error the open window is dropped.
      const failing = cold('a-b-#', { a: detectedFrame(0, 0), b: detectedFrame(1, 1000) }, new Error('decode'));
      expectObservable(failing.pipe(windowBySecond(), map(shape))).toBe('--x-#', { x: { index: 1, frames: 1, partial: false } }, new Error('decode'));
    });
  });

  it('keeps emitting from an infinite source until unsubscribed', () => {
    createScheduler().run(({ expectObservable }) => {
      // One frame per virtual millisecond, 500 ms of media time apart: a window closes every second frame.
      const infinite: Observable<DetectedFrame> = interval(1).pipe(map((i) => detectedFrame(i, i * 500)));
      expectObservable(infinite.pipe(windowBySecond(), map((w) => w.index)), '^------!').toBe('---1-2-', { 1: 1, 2: 2 });
    });
  });

  it('stops the source on early unsubscribe', () => {
    createScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b-c-d-e|', {
        a: detectedFrame(0, 0),
        b: detectedFrame(1, 1000),
        c: detectedFrame(2, 2000),
        d: detectedFrame(3, 3000),
        e: detectedFrame(4, 4000),
      });
      expectObservable(source.pipe(windowBySecond(), map((w) => w.index)), '^---!').toBe('--1-', { 1: 1 });
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
  });

  it('tears down the source when a downstream callback throws', () => {
    createScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b-c|', { a: detectedFrame(0, 0), b: detectedFrame(1, 1000), c: detectedFrame(2, 2000) });
      const failing = source.pipe(
        windowBySecond(),
        map(() => {
          throw new Error('callback');
        }),
      );
      expectObservable(failing).toBe('--#', undefined, new Error('callback'));
      expectSubscriptions(source.subscriptions).toBe('^-!');
    });
  });

  it('restarts for each subscription', () => {
    const windows$ = from(framesAt(25, 30)).pipe(windowBySecond());
    expect(collect(windows$).map((w) => w.frameCount)).toEqual([25, 5]);
    expect(collect(windows$).map((w) => w.frameCount)).toEqual([25, 5]);
  });
});
