import { EMPTY, from, interval, map, NEVER, Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { resample } from '../operators/resample.js';
import { shouldRunInference } from '../operators/sample-every.js';
import { FlowGate, FRAME_LEASE, holdFrame } from '../src/backpressure.js';
import type { Frame } from '../src/types.js';
import { createScheduler } from './helpers/analysis-frames.js';
import { makeFrame } from './helpers/fake-detector.js';

/** Frame `index` at `timestampMs`, its first pixel byte set to `index` to identify its source frame. */
const frameAt = (index: number, timestampMs: number): Frame => makeFrame(index, { timestampMs });

/** Each output as `source pixel@timestamp` plus `*` when it is a repeat that skips inference. */
const describeFrame = (frame: Frame): string =>
  `${frame.data[0]}@${Math.round(frame.timestampMs * 1000) / 1000}${shouldRunInference(frame) ? '' : '*'}`;

function resampleAll(frames: readonly Frame[], frameRate: number): { outputs: string[]; indices: number[] } {
  const outputs: string[] = [];
  const indices: number[] = [];
  from(frames)
    .pipe(resample({ frameRate }))
    .subscribe((frame) => {
      outputs.push(describeFrame(frame));
      indices.push(frame.index);
    });
  return { outputs, indices };
}

describe('resample', () => {
  it('rejects an invalid frame rate', () => {
    for (const frameRate of [0, -5, Number.NaN, Number.POSITIVE_INFINITY, 1001]) {
      expect(() => resample({ frameRate })).toThrow(/resample frameRate/);
    }
    expect(() => resample(undefined as never)).toThrow(/resample options/);
  });

  it('drops frames to lower 25 fps to 10 fps', () => {
    const input = Array.from({ length: 25 }, (_, i) => frameAt(i, i * 40));
    const { outputs, indices } = resampleAll(input, 10);
    // Output k shows the input frame on screen at k * 100 ms: frames at 0, 80, 200, 280, … ms.
    expect(outputs).toEqual(['0@0', '2@100', '5@200', '7@300', '10@400', '12@500', '15@600', '17@700', '20@800', '22@900']);
    expect(indices).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('repeats frames to raise 10 fps to 25 fps and marks the repeats', () => {
    const input = Array.from({ length: 4 }, (_, i) => frameAt(i, i * 100));
    const { outputs } = resampleAll(input, 25);
    expect(outputs).toEqual([
      '0@0', '0@40*', '0@80*', '1@120', '1@160*', '2@200', '2@240*', '2@280*', '3@320', '3@360*',
    ]);
  });

  it('keeps the duration of a 29.83 fps file at 10 fps', () => {
    // 1189 frames at 179/6 fps last 39.855 s: 399 frames at 10 fps (39.9 s).
    const input = Array.from({ length: 1189 }, (_, i) => frameAt(i, Math.round(((i * 6000) / 179) * 1000) / 1000));
    const { outputs } = resampleAll(input, 10);
    expect(outputs).toHaveLength(399);
    // At 39 800 ms the frame on screen is 1187 (stamped 39 787 ms); pixels carry the index modulo 256.
    expect(outputs[398]).toBe(`${1187 % 256}@39800`);
  });

  it('passes a same-rate stream through despite rounded timestamps', () => {
    // 29.97 fps timestamps rounded to whole milliseconds, as some containers store them.
    const input = Array.from({ length: 300 }, (_, i) => frameAt(i, Math.round((i * 1001) / 30)));
    const { outputs } = resampleAll(input, 30000 / 1001);
    expect(outputs.map((text) => Number(text.split('@')[0]))).toEqual(input.map((frame) => frame.index % 256));
    expect(outputs.some((text) => text.endsWith('*'))).toBe(false);
  });

  it('gives one output for a single frame', () => {
    expect(resampleAll([frameAt(0, 0)], 10).outputs).toEqual(['0@0']);
  });

  it('starts the grid at the first frame', () => {
    const input = [frameAt(0, 500), frameAt(1, 600), frameAt(2, 700)];
    expect(resampleAll(input, 10).outputs).toEqual(['0@500', '1@600', '2@700']);
  });

  it('emits each frame when its successor arrives', () => {
    createScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b-c|', { a: frameAt(0, 0), b: frameAt(1, 100), c: frameAt(2, 200) });
      expectObservable(source.pipe(resample({ frameRate: 10 }), map(describeFrame))).toBe('--a-b(c|)', {
        a: '0@0',
        b: '1@100',
        c: '2@200',
      });
      expectSubscriptions(source.subscriptions).toBe('^----!');
    });
  });

  it('handles never, empty, errors and early unsubscribe', () => {
    createScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      expectObservable(NEVER.pipe(resample({ frameRate: 10 }))).toBe('');
      expectObservable(EMPTY.pipe(resample({ frameRate: 10 }))).toBe('|');
      const failing = cold('a-b-#', { a: frameAt(0, 0), b: frameAt(1, 100) }, new Error('decode'));
      expectObservable(failing.pipe(resample({ frameRate: 10 }), map(describeFrame))).toBe('--a-#', { a: '0@0' }, new Error('decode'));

      const infinite = interval(1).pipe(map((i) => frameAt(i, i * 100)));
      expectObservable(infinite.pipe(resample({ frameRate: 10 }), map(describeFrame)), '^---!').toBe('--ab', { a: '0@0', b: '1@100' });
      const long = cold('a-b-c-d-e-f|', { a: frameAt(0, 0), b: frameAt(1, 100), c: frameAt(2, 200), d: frameAt(3, 300), e: frameAt(4, 400), f: frameAt(5, 500) });
      expectObservable(long.pipe(resample({ frameRate: 10 }), map(describeFrame)), '^----!').toBe('--a-b', { a: '0@0', b: '1@100' });
      expectSubscriptions(long.subscriptions).toBe('^----!');
    });
  });

  it('tears down the source when a downstream callback throws', () => {
    createScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b-c|', { a: frameAt(0, 0), b: frameAt(1, 100), c: frameAt(2, 200) });
      const failing = source.pipe(
        resample({ frameRate: 10 }),
        map(() => {
          throw new Error('callback');
        }),
      );
      expectObservable(failing).toBe('--#', undefined, new Error('callback'));
      expectSubscriptions(source.subscriptions).toBe('^-!');
    });
  });

  it('lends the lease of the frame being delivered to the copies it emits', () => {
    const gate = new FlowGate(2, () => {});
    const input = new Subject<Frame>();
    const held: (() => void)[] = [];
    input.pipe(resample({ frameRate: 10 })).subscribe((frame) => held.push(holdFrame(frame)));

    const emit = (index: number, timestampMs: number): void => {
      const { lease, releaseEmission } = gate.issue();
      input.next({ ...frameAt(index, timestampMs), [FRAME_LEASE]: lease });
      releaseEmission();
    };
    emit(0, 0);
    // Nothing was emitted yet, so frame 0 is no longer counted once its delivery ends.
    expect(gate.counters.queued).toBe(0);
    emit(1, 100);
    // The copy of frame 0 is held downstream under frame 1's lease.
    expect(held).toHaveLength(1);
    expect(gate.counters.queued).toBe(1);
    held[0]!();
    expect(gate.counters.queued).toBe(0);
  });
});
