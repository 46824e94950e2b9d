import { TestScheduler } from 'rxjs/testing';
import { expect } from 'vitest';
import type { DetectedFrame, Detection } from '../../src/types.js';

/** Creates a TestScheduler whose assertions use vitest's deep equality. */
export function createScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** Creates a detection of class `name` with a fixed box. The analysis operators ignore its class id. */
export function detection(name: string, score = 0.9): Detection {
  return { classId: 0, name, score, box: [1.7, 2.2, 30.9, 40.5] };
}

/** Creates a 2x2 detected frame at `timestampMs` with one detection per name in `names`. */
export function detectedFrame(index: number, timestampMs: number, names: readonly string[] = []): DetectedFrame {
  return {
    sourceId: 'test',
    index,
    timestampMs,
    width: 2,
    height: 2,
    data: new Uint8Array(12),
    live: false,
    detections: names.map((name) => detection(name)),
  };
}

/** Frames `0..count-1` at a constant rate, each with the detections `namesOf(index)`. */
export function framesAt(fps: number, count: number, namesOf: (index: number) => readonly string[] = () => []): DetectedFrame[] {
  return Array.from({ length: count }, (_, index) => detectedFrame(index, (index * 1000) / fps, namesOf(index)));
}
