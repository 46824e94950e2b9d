import { from, map, NEVER, EMPTY, throwError, interval, Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { detect } from '../operators/detect.js';
import { INFERENCE_MARK, sampleEvery, shouldRunInference } from '../operators/sample-every.js';
import { FlowGate, FRAME_LEASE } from '../src/backpressure.js';
import { isFramewiseError } from '../src/errors.js';
import type { DetectedFrame, Frame } from '../src/types.js';
import { createScheduler } from './helpers/analysis-frames.js';
import { flushAsync, makeDetection, makeFrame, scriptedDetector } from './helpers/fake-detector.js';

/** The inference mark of each frame as a letter: R (run) or s (skip). */
const markOf = (frame: Frame): string => (shouldRunInference(frame) ? 'R' : 's');

describe('sampleEvery', () => {
  it('rejects a non-positive or fractional n', () => {
    for (const n of [0, -1, 1.5, Number.NaN, '2' as unknown as number]) {
      expect(() => sampleEvery(n)).toThrow(/sampleEvery n/);
    }
  });

  it('marks positions 0, n, 2n for inference', () => {
    createScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const frames = Object.fromEntries('abcdefg'.split('').map((key, i) => [key, makeFrame(i)]));
      const source = cold('a-b-c-d-e-f-g|', frames);
      expectObservable(source.pipe(sampleEvery(3), map(markOf))).toBe('R-s-s-R-s-s-R|', { R: 'R', s: 's' });
      expectSubscriptions(source.subscriptions).toBe('^------------!');
    });
  });

  it('marks every frame with n = 1', () => {
    createScheduler().run(({ cold, expectObservable }) => {
      const source = cold('a-b-c|', { a: makeFrame(0), b: makeFrame(1), c: makeFrame(2) });
      expectObservable(source.pipe(sampleEvery(1), map(markOf))).toBe('R-R-R|', { R: 'R' });
    });
  });

  it('passes never, empty, one value and errors through', () => {
    createScheduler().run(({ cold, expectObservable }) => {
      expectObservable(NEVER.pipe(sampleEvery(2))).toBe('');
      expectObservable(EMPTY.pipe(sampleEvery(2))).toBe('|');
      expectObservable(cold('a|', { a: makeFrame(0) }).pipe(sampleEvery(2), map(markOf))).toBe('R|', { R: 'R' });
      expectObservable(cold('a-#', { a: makeFrame(0) }, new Error('decode')).pipe(sampleEvery(2), map(markOf))).toBe(
        'R-#',
        { R: 'R' },
        new Error('decode'),
      );
    });
  });

  it('stops an infinite source on unsubscribe', () => {
    createScheduler().run(({ expectObservable }) => {
      const infinite = interval(1).pipe(map((i) => makeFrame(i)));
      expectObservable(infinite.pipe(sampleEvery(2), map(markOf)), '^----!').toBe('-RsRs', { R: 'R', s: 's' });
    });
  });

  it('keeps a skip mark set upstream', () => {
    const repeated = { ...makeFrame(0), [INFERENCE_MARK]: false };
    const marks: string[] = [];
    from([repeated, makeFrame(1)]).pipe(sampleEvery(1)).subscribe((frame) => marks.push(markOf(frame)));
    expect(marks).toEqual(['s', 'R']);
  });

  it('restarts counting for each subscription', () => {
    const source = from([0, 1, 2].map((i) => makeFrame(i))).pipe(sampleEvery(2));
    const first: string[] = [];
    const second: string[] = [];
    source.subscribe((frame) => first.push(markOf(frame)));
    source.subscribe((frame) => second.push(markOf(frame)));
    expect(first).toEqual(['R', 's', 'R']);
    expect(second).toEqual(['R', 's', 'R']);
  });

  it('tears down the source when a downstream callback throws', () => {
    createScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b-c|', { a: makeFrame(0), b: makeFrame(1), c: makeFrame(2) });
      const failing = source.pipe(
        sampleEvery(2),
        map((frame) => {
          if (frame.index === 1) throw new Error('callback');
          return frame.index;
        }),
      );
      expectObservable(failing).toBe('0-#', { 0: 0 }, new Error('callback'));
      expectSubscriptions(source.subscriptions).toBe('^-!');
    });
  });
});

describe('detect with sampleEvery', () => {
  it('runs the model on marked frames and carries detections', async () => {
    const detector = scriptedDetector({ concurrency: 4 });
    const values: DetectedFrame[] = [];
    let completed = false;
    from([0, 1, 2, 3, 4, 5].map((i) => makeFrame(i)))
      .pipe(sampleEvery(3), detect(detector))
      .subscribe({ next: (frame) => values.push(frame), complete: () => (completed = true) });

    expect(detector.calls).toHaveLength(2);
    expect(detector.calls.map((call) => call.image.data[0])).toEqual([0, 3]);
    detector.calls[1]!.resolve([makeDetection(2, 'car')]);
    await flushAsync();
    expect(values).toHaveLength(0);

    detector.calls[0]!.resolve([makeDetection(0, 'person'), makeDetection(0, 'person')]);
    await flushAsync();
    expect(values.map((frame) => frame.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(values.map((frame) => frame.carried)).toEqual([false, true, true, false, true, true]);
    expect(values.map((frame) => frame.detections.map((d) => d.name).join('+'))).toEqual([
      'person+person', 'person+person', 'person+person', 'car', 'car', 'car',
    ]);
    // Carried frames keep their own pixels; only the detections come from the earlier frame.
    expect(values.map((frame) => frame.data[0])).toEqual([0, 1, 2, 3, 4, 5]);
    expect(completed).toBe(true);
  });

  it('gives no detections to skipped frames before any detected frame', async () => {
    const detector = scriptedDetector();
    const values: DetectedFrame[] = [];
    const frames = [{ ...makeFrame(0), [INFERENCE_MARK]: false }, makeFrame(1)];
    from(frames).pipe(detect(detector)).subscribe((frame) => values.push(frame));
    expect(values.map((frame) => frame.detections)).toEqual([[]]);
    expect(values[0]!.carried).toBe(true);
    detector.calls[0]!.resolve([makeDetection(1, 'bicycle')]);
    await flushAsync();
    expect(values.map((frame) => frame.carried)).toEqual([true, false]);
  });

  it('holds carried frames until they are emitted', async () => {
    const detector = scriptedDetector({ concurrency: 1 });
    const gate = new FlowGate(10, () => {});
    const input = new Subject<Frame>();
    const values: DetectedFrame[] = [];
    input.pipe(sampleEvery(2), detect(detector)).subscribe((frame) => values.push(frame));
    for (let i = 0; i < 3; i += 1) {
      const { lease, releaseEmission } = gate.issue();
      input.next({ ...makeFrame(i), [FRAME_LEASE]: lease });
      releaseEmission();
    }
    expect(gate.counters.queued).toBe(3);
    detector.calls[0]!.resolve([]);
    await flushAsync();
    expect(values.map((frame) => frame.index)).toEqual([0, 1]);
    expect(gate.counters.queued).toBe(1);
  });

  it('forwards an inference error even when frames are carried', async () => {
    const detector = scriptedDetector();
    let error: unknown;
    from([0, 1].map((i) => makeFrame(i)))
      .pipe(sampleEvery(2), detect(detector))
      .subscribe({ error: (e: unknown) => (error = e) });
    detector.calls[0]!.reject(new Error('session failed'));
    await flushAsync();
    expect(isFramewiseError(error, 'INFERENCE_FAILED')).toBe(true);
  });

  it('passes an upstream error through', () => {
    const detector = scriptedDetector();
    let error: unknown;
    throwError(() => new Error('decode')).pipe(sampleEvery(2), detect(detector)).subscribe({ error: (e: unknown) => (error = e) });
    expect((error as Error).message).toBe('decode');
  });
});
