import { EMPTY, from, interval, map, NEVER } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { filterClasses } from '../operators/filter-classes.js';
import { isFramewiseError } from '../src/errors.js';
import type { DetectedFrame } from '../src/types.js';
import { createScheduler, detectedFrame } from './helpers/analysis-frames.js';

const namesOf = (frame: DetectedFrame): string => frame.detections.map((d) => d.name).join('+');

function filterOnce(frame: DetectedFrame, ...args: Parameters<typeof filterClasses>): string {
  let result = '';
  from([frame]).pipe(filterClasses(...args)).subscribe((out) => (result = namesOf(out)));
  return result;
}

function thrown(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('filterClasses', () => {
  const frame = detectedFrame(0, 0, ['person', 'car', 'motorcycle', 'stop sign', 'hair drier', 'person']);

  it('keeps only the named classes', () => {
    expect(filterOnce(frame, ['person'])).toBe('person+person');
    expect(filterOnce(frame, ['car', 'person'])).toBe('person+car+person');
  });

  it('accepts ImageAI and darknet spellings', () => {
    expect(filterOnce(frame, ['motorbike'])).toBe('motorcycle');
    expect(filterOnce(frame, ['stop_sign'])).toBe('stop sign');
    expect(filterOnce(frame, ['hair_dryer'])).toBe('hair drier');
    expect(filterOnce(frame, ['PERSON'])).toBe('person+person');
  });

  it("accepts ImageAI's CustomObjects result", () => {
    expect(filterOnce(frame, { person: false, car: true, motorbike: true })).toBe('car+motorcycle');
    expect(filterOnce(frame, { person: false })).toBe('');
  });

  it('keeps nothing for an empty selection', () => {
    expect(filterOnce(frame, [])).toBe('');
  });

  it('keeps pixels and other fields', () => {
    let out: DetectedFrame | undefined;
    from([frame]).pipe(filterClasses(['car'])).subscribe((value) => (out = value));
    expect(out!.data).toBe(frame.data);
    expect(out!.timestampMs).toBe(frame.timestampMs);
    expect(frame.detections).toHaveLength(6);
  });

  it('throws at call time for an unknown name with close names', () => {
    const error = thrown(() => filterClasses(['persn', 'bycicle']));
    expect(isFramewiseError(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toMatch(/"persn" \(did you mean "person"\?\)/);
    expect((error as Error).message).toMatch(/"bycicle" \(did you mean "bicycle"\?\)/);
    expect((error as { context: { value: unknown } }).context.value).toEqual(['persn', 'bycicle']);
  });

  it('accepts COCO-91 names that ImageAI RetinaNet uses', () => {
    expect(() => filterClasses(['street_sign', 'eye glasses', 'hair brush'])).not.toThrow();
  });

  it('accepts custom names given as labels', () => {
    const custom = detectedFrame(0, 0, ['forklift', 'pallet']);
    expect(filterOnce(custom, ['forklift'], { labels: ['forklift', 'pallet'] })).toBe('forklift');
    expect(() => filterClasses(['forklift'])).toThrow(/not in any known label set/);
  });

  it("errors at subscription for a name missing from the model's labels", () => {
    let error: unknown;
    let completed = false;
    from([frame])
      .pipe(filterClasses(['person', 'car'], { labels: () => ['person', 'bicycle'] }))
      .subscribe({ error: (e: unknown) => (error = e), complete: () => (completed = true) });
    expect(completed).toBe(false);
    expect(isFramewiseError(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toMatch(/"car" is not among the model's labels/);
  });

  it('rejects selections of the wrong shape', () => {
    expect(() => filterClasses('person' as never)).toThrow(/Invalid classes/);
    expect(() => filterClasses([''])).toThrow(/Invalid classes/);
    expect(() => filterClasses({ person: 'yes' } as never)).toThrow(/Invalid classes.person/);
    expect(() => filterClasses(['person'], { labels: 'coco' as never })).toThrow(/labels/);
  });

  it('errors when the labels function throws', () => {
    let error: unknown;
    from([frame])
      .pipe(
        filterClasses(['person'], {
          labels: () => {
            throw new Error('detector not loaded');
          },
        }),
      )
      .subscribe({ error: (e: unknown) => (error = e) });
    expect((error as Error).message).toBe('detector not loaded');
  });

  it('handles never, empty, many, errors, infinite sources and unsubscribe', () => {
    createScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      expectObservable(NEVER.pipe(filterClasses(['car']))).toBe('');
      expectObservable(EMPTY.pipe(filterClasses(['car']))).toBe('|');
      const many = cold('a-b-c|', {
        a: detectedFrame(0, 0, ['car', 'bus']),
        b: detectedFrame(1, 40, ['bus']),
        c: detectedFrame(2, 80, ['car']),
      });
      expectObservable(many.pipe(filterClasses(['car']), map(namesOf))).toBe('a-b-c|', { a: 'car', b: '', c: 'car' });
      const failing = cold('a-#', { a: detectedFrame(0, 0, ['car']) }, new Error('inference'));
      expectObservable(failing.pipe(filterClasses(['car']), map(namesOf))).toBe('a-#', { a: 'car' }, new Error('inference'));
      const infinite = interval(1).pipe(map((i) => detectedFrame(i, i * 40, ['car', 'bus'])));
      expectObservable(infinite.pipe(filterClasses(['bus']), map(namesOf)), '^--!').toBe('-ab', { a: 'bus', b: 'bus' });
      expectSubscriptions(many.subscriptions).toBe('^----!');
    });
  });

  it('tears down the source when a downstream callback throws', () => {
    createScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b|', { a: detectedFrame(0, 0, ['car']), b: detectedFrame(1, 40) });
      const failing = source.pipe(
        filterClasses(['car']),
        map(() => {
          throw new Error('callback');
        }),
      );
      expectObservable(failing).toBe('#', undefined, new Error('callback'));
      expectSubscriptions(source.subscriptions).toBe('(^!)');
    });
  });
});
