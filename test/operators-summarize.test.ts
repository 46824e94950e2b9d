import { EMPTY, from, interval, map, NEVER } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { summarize } from '../operators/summarize.js';
import { createScheduler, detectedFrame, framesAt } from './helpers/analysis-frames.js';

describe('summarize', () => {
  it('summarizes every frame on completion', () => {
    const values: ReturnType<typeof collectSummary> = collectSummary();
    expect(values).toHaveLength(1);
    const summary = values[0]!;
    expect(summary.frameCount).toBe(4);
    expect(summary.frameIndices).toEqual([0, 1, 2, 3]);
    expect(summary.counts).toEqual([{ person: 2 }, {}, { car: 1 }, { person: 1, car: 1 }]);
    expect(summary.averages).toEqual({ person: 0.75, car: 0.5 });
    expect(summary.startMs).toBe(0);
    expect(summary.endMs).toBe(400);
    expect(summary.detections[2]!.map((d) => d.name)).toEqual(['car']);
  });

  it('emits an empty summary for an empty stream', () => {
    createScheduler().run(({ expectObservable }) => {
      expectObservable(EMPTY.pipe(summarize())).toBe('(s|)', {
        s: { frameCount: 0, frameIndices: [], detections: [], counts: [], averages: {}, startMs: 0, endMs: 0 },
      });
    });
  });

  it('waits for completion', () => {
    createScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b-c|', { a: detectedFrame(0, 0, ['cat']), b: detectedFrame(1, 40), c: detectedFrame(2, 80, ['cat']) });
      expectObservable(source.pipe(summarize(), map((s) => [s.frameCount, s.averages.cat]))).toBe('-----(s|)', { s: [3, 2 / 3] });
      expectSubscriptions(source.subscriptions).toBe('^----!');
    });
  });

  it('handles never, one value, errors, infinite sources and unsubscribe', () => {
    createScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      expectObservable(NEVER.pipe(summarize())).toBe('');
      expectObservable(cold('a|', { a: detectedFrame(0, 100, ['dog']) }).pipe(summarize(), map((s) => [s.startMs, s.endMs, s.averages]))).toBe('-(s|)', {
        s: [100, 100, { dog: 1 }],
      });
      expectObservable(cold('a-#', { a: detectedFrame(0, 0) }, new Error('decode')).pipe(summarize())).toBe('--#', undefined, new Error('decode'));
      expectObservable(interval(1).pipe(map((i) => detectedFrame(i, i * 40)), summarize()), '^---!').toBe('');
      const source = cold('a-b-c|', { a: detectedFrame(0, 0), b: detectedFrame(1, 40), c: detectedFrame(2, 80) });
      expectObservable(source.pipe(summarize()), '^--!').toBe('');
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('tears down the source when a downstream callback throws', () => {
    createScheduler().run(({ cold, expectObservable }) => {
      const source = cold('a|', { a: detectedFrame(0, 0) });
      const failing = source.pipe(
        summarize(),
        map(() => {
          throw new Error('callback');
        }),
      );
      expectObservable(failing).toBe('-#', undefined, new Error('callback'));
    });
  });

  it('averages over the frames of a 25 fps stream', () => {
    let averages: Record<string, number> = {};
    from(framesAt(25, 50, (i) => (i < 10 ? ['bus'] : []))).pipe(summarize()).subscribe((s) => (averages = { ...s.averages }));
    expect(averages).toEqual({ bus: 0.2 });
  });
});

function collectSummary() {
  const frames = [
    detectedFrame(0, 0, ['person', 'person']),
    detectedFrame(1, 100),
    detectedFrame(2, 200, ['car']),
    detectedFrame(3, 300, ['person', 'car']),
  ];
  const values: import('../operators/summarize.js').VideoSummary[] = [];
  from(frames).pipe(summarize()).subscribe((summary) => values.push(summary));
  return values;
}
