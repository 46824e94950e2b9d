import { describe, expect, it } from 'vitest';
import { intersectionOverUnion, nonMaxSuppression, type ScoredBox } from '../models/nms.js';
import type { BoxXYXY } from '../src/types.js';

describe('intersectionOverUnion', () => {
  it.each([
    // case, a, b, expected IoU
    ['identical boxes', [0, 0, 10, 10], [0, 0, 10, 10], 1],
    ['disjoint boxes', [0, 0, 10, 10], [20, 20, 30, 30], 0],
    ['boxes touching at an edge', [0, 0, 10, 10], [10, 0, 20, 10], 0],
    ['half overlap', [0, 0, 10, 10], [5, 0, 15, 10], 50 / 150],
    ['one inside the other', [0, 0, 10, 10], [0, 0, 5, 10], 0.5],
    ['zero-area box', [5, 5, 5, 5], [0, 0, 10, 10], 0],
  ] as const)('%s', (_case, a, b, expected) => {
    expect(intersectionOverUnion(a, b)).toBeCloseTo(expected, 12);
    expect(intersectionOverUnion(b, a)).toBeCloseTo(expected, 12);
  });
});

function box(classId: number, score: number, coordinates: BoxXYXY): ScoredBox & { id: string } {
  return { id: `${classId}@${score}`, classId, score, box: coordinates };
}

describe('nonMaxSuppression', () => {
  const a = box(0, 0.9, [0, 0, 10, 10]);
  const overlapsA = box(0, 0.8, [1, 0, 11, 10]); // IoU with a = 90 / 110
  const otherClassOnA = box(1, 0.7, [0, 0, 10, 10]);
  const apart = box(0, 0.6, [50, 50, 60, 60]);

  it.each([
    // case, candidates, iouThreshold, maxDetections, expected ids in order
    ['no candidates', [], 0.45, 100, []],
    ['overlap of one class keeps the higher score', [overlapsA, a], 0.45, 100, ['0@0.9']],
    ['classes never suppress each other', [a, otherClassOnA], 0.45, 100, ['0@0.9', '1@0.7']],
    ['distant boxes of one class are kept', [apart, a], 0.45, 100, ['0@0.9', '0@0.6']],
    ['a high threshold keeps overlaps', [a, overlapsA], 0.95, 100, ['0@0.9', '0@0.8']],
    ['maxDetections caps the result', [a, otherClassOnA, apart], 0.45, 2, ['0@0.9', '1@0.7']],
  ] as const)('%s', (_case, candidates, iouThreshold, maxDetections, expected) => {
    const kept = nonMaxSuppression(candidates as readonly (ScoredBox & { id: string })[], iouThreshold, maxDetections);
    expect(kept.map((item) => item.id)).toEqual(expected);
  });

  it('does not suppress at exactly the threshold', () => {
    const half = box(0, 0.5, [0, 0, 5, 10]); // IoU with a = 0.5
    expect(nonMaxSuppression([a, half], 0.5, 10)).toHaveLength(2);
    expect(nonMaxSuppression([a, half], 0.49, 10)).toHaveLength(1);
  });

  it('suppresses greedily, so a box dropped by NMS cannot drop another', () => {
    const first = box(0, 0.9, [0, 0, 10, 10]);
    const middle = box(0, 0.8, [6, 0, 16, 10]); // overlaps first and last
    const last = box(0, 0.7, [12, 0, 22, 10]); // does not overlap first
    expect(nonMaxSuppression([last, middle, first], 0.1, 10).map((item) => item.score)).toEqual([0.9, 0.7]);
  });

  it('keeps input order for equal scores', () => {
    const left = { ...box(0, 0.5, [0, 0, 10, 10]), id: 'left' };
    const right = { ...box(0, 0.5, [1, 0, 11, 10]), id: 'right' };
    expect(nonMaxSuppression([left, right], 0.45, 10).map((item) => item.id)).toEqual(['left']);
    expect(nonMaxSuppression([right, left], 0.45, 10).map((item) => item.id)).toEqual(['right']);
  });
});
