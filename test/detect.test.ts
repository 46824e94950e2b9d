import { Subject, from, throwError, concat, NEVER, EMPTY } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { detect } from '../operators/detect.js';
import { FlowGate, FRAME_LEASE } from '../src/backpressure.js';
import { isFramewiseError } from '../src/errors.js';
import type { DetectedFrame, Frame } from '../src/types.js';
import { flushAsync, makeDetection, makeFrame, scriptedDetector } from './helpers/fake-detector.js';

function collect(observable: ReturnType<ReturnType<typeof detect>>) {
  const values: DetectedFrame[] = [];
  const state: { completed: boolean; error: unknown } = { completed: false, error: undefined };
  const subscription = observable.subscribe({
    next: (value) => values.push(value),
    error: (error: unknown) => (state.error = error),
    complete: () => (state.completed = true),
  });
  return { values, state, subscription };
}

describe('detect', () => {
  it('keeps input order when results arrive out of order', async () => {
    const detector = scriptedDetector({ concurrency: 3 });
    const { values, state } = collect(from([0, 1, 2].map((i) => makeFrame(i))).pipe(detect(detector)));

    expect(detector.calls).toHaveLength(3);
    detector.calls[2]!.resolve([makeDetection(2, 'car')]);
    detector.calls[1]!.resolve([]);
    await flushAsync();
    expect(values).toHaveLength(0);

    detector.calls[0]!.resolve([makeDetection(0, 'person')]);
    await flushAsync();
    expect(values.map((frame) => frame.index)).toEqual([0, 1, 2]);
    expect(values[0]!.detections.map((d) => d.name)).toEqual(['person']);
    expect(values[1]!.detections).toEqual([]);
    expect(values[2]!.detections.map((d) => d.name)).toEqual(['car']);
    expect(state.completed).toBe(true);
  });

  it('never exceeds the detector concurrency', async () => {
    const detector = scriptedDetector({ concurrency: 2 });
    const { values, state } = collect(from([0, 1, 2, 3, 4].map((i) => makeFrame(i))).pipe(detect(detector)));
    expect(detector.calls).toHaveLength(2);

    detector.calls[0]!.resolve([]);
    await flushAsync();
    expect(detector.calls).toHaveLength(3);
    expect(values).toHaveLength(1);

    for (let i = 1; i < 5; i += 1) {
      detector.calls[i]!.resolve([]);
      await flushAsync();
    }
    expect(values.map((frame) => frame.index)).toEqual([0, 1, 2, 3, 4]);
    expect(state.completed).toBe(true);
  });

  it('keeps pixels, timestamps and the lease on emitted frames', async () => {
    const detector = scriptedDetector();
    const frame = makeFrame(7);
    const { values } = collect(from([frame]).pipe(detect(detector)));
    detector.calls[0]!.resolve([]);
    await flushAsync();
    expect(values[0]!.data).toBe(frame.data);
    expect(values[0]!.timestampMs).toBe(280);
    expect(values[0]!.index).toBe(7);
  });

  it('holds frames until they are emitted', async () => {
    const detector = scriptedDetector({ concurrency: 1 });
    const gate = new FlowGate(10, () => {});
    const input = new Subject<Frame>();
    const { values } = collect(input.pipe(detect(detector)));

    for (let i = 0; i < 3; i += 1) {
      const { lease, releaseEmission } = gate.issue();
      input.next({ ...makeFrame(i), [FRAME_LEASE]: lease });
      releaseEmission();
    }
    expect(gate.counters.queued).toBe(3);

    detector.calls[0]!.resolve([]);
    await flushAsync();
    expect(values).toHaveLength(1);
    expect(gate.counters.queued).toBe(2);
  });

  it('releases held frames on unsubscribe', () => {
    const detector = scriptedDetector({ concurrency: 1 });
    const gate = new FlowGate(10, () => {});
    const input = new Subject<Frame>();
    const { subscription } = collect(input.pipe(detect(detector)));
    for (let i = 0; i < 3; i += 1) {
      const { lease, releaseEmission } = gate.issue();
      input.next({ ...makeFrame(i), [FRAME_LEASE]: lease });
      releaseEmission();
    }
    subscription.unsubscribe();
    expect(gate.counters.queued).toBe(0);
    expect(input.observed).toBe(false);
  });

  it('ignores results that arrive after unsubscribe', async () => {
    const detector = scriptedDetector();
    const { values, subscription } = collect(from([makeFrame(0)]).pipe(detect(detector)));
    subscription.unsubscribe();
    detector.calls[0]!.resolve([makeDetection(0, 'person')]);
    await flushAsync();
    expect(values).toHaveLength(0);
  });

  it('wraps a detector failure as INFERENCE_FAILED with the frame index', async () => {
    const detector = scriptedDetector();
    const { values, state } = collect(from([makeFrame(0), makeFrame(1)]).pipe(detect(detector)));
    detector.calls[1]!.reject(new Error('out of memory'));
    await flushAsync();
    expect(values).toHaveLength(0);
    expect(isFramewiseError(state.error, 'INFERENCE_FAILED')).toBe(true);
    expect((state.error as Error).message).toContain('frame 1');
    expect((state.error as Error).message).toContain('out of memory');
  });

  it('forwards an upstream error without waiting for inference', () => {
    const detector = scriptedDetector();
    const failure = new Error('decode failed');
    const { state } = collect(concat(from([makeFrame(0)]), throwError(() => failure)).pipe(detect(detector)));
    expect(state.error).toBe(failure);
  });

  it('completes at once on an empty source', () => {
    const detector = scriptedDetector();
    const { values, state } = collect(EMPTY.pipe(detect(detector)));
    expect(values).toEqual([]);
    expect(state.completed).toBe(true);
    expect(detector.calls).toHaveLength(0);
  });

  it('stays silent on a source that never emits', () => {
    const detector = scriptedDetector();
    const { values, state, subscription } = collect(NEVER.pipe(detect(detector)));
    expect(values).toEqual([]);
    expect(state.completed).toBe(false);
    subscription.unsubscribe();
  });

  it('passes resolved class ids and scores to the detector', () => {
    const detector = scriptedDetector();
    collect(from([makeFrame(0)]).pipe(detect(detector, { minScore: 0.6, iouThreshold: 0.3, classes: ['car', 'stop_sign'] })));
    expect(detector.calls[0]!.settings).toEqual({ minScore: 0.6, iouThreshold: 0.3, maxDetections: 100, classIds: [2, 3] });
  });

  it.each([
    [{ minScore: 1.5 }, 'minScore'],
    [{ minScore: -0.1 }, 'minScore'],
    [{ minScore: Number.NaN }, 'minScore'],
    [{ iouThreshold: 2 }, 'iouThreshold'],
    [{ maxDetections: 0 }, 'maxDetections'],
    [{ maxDetections: 2.5 }, 'maxDetections'],
  ])('rejects %o at call time', (options, argument) => {
    const detector = scriptedDetector();
    try {
      detect(detector, options);
      expect.unreachable('detect should throw');
    } catch (error) {
      expect(isFramewiseError(error, 'INVALID_ARGUMENT')).toBe(true);
      expect((error as { context: { argument: string } }).context.argument).toBe(argument);
    }
  });

  it('rejects an unknown class name listing the valid ones', () => {
    const detector = scriptedDetector();
    expect(() => detect(detector, { classes: ['persn'] })).toThrow(/Unknown class name "persn".*person, bicycle, car, stop sign/);
  });
});
