import { describe, expect, it } from 'vitest';
import { canonicalClassName, resolveClassIds } from '../src/class-names.js';
import { isFramewiseError } from '../src/errors.js';

const COCO_SUBSET = ['person', 'motorcycle', 'stop sign', 'tv', 'hair drier', 'couch'];
const DARKNET_SUBSET = ['person', 'motorbike', 'stop sign', 'tvmonitor', 'hair drier', 'sofa'];

describe('class names', () => {
  it.each([
    ['Person', 'person'],
    [' stop_sign ', 'stop sign'],
    ['stop-sign', 'stop sign'],
    ['motorbike', 'motorcycle'],
    ['aeroplane', 'airplane'],
    ['sofa', 'couch'],
    ['pottedplant', 'potted plant'],
    ['diningtable', 'dining table'],
    ['tvmonitor', 'tv'],
    ['hair_dryer', 'hair drier'],
    ['donot', 'donut'],
    ['forklift', 'forklift'],
  ])('canonical name of %j is %j', (name, canonical) => {
    expect(canonicalClassName(name)).toBe(canonical);
  });

  it('resolves canonical and ImageAI spellings against COCO labels', () => {
    expect(resolveClassIds(['motorbike', 'stop_sign', 'tvmonitor', 'hair dryer'], COCO_SUBSET)).toEqual([1, 2, 3, 4]);
  });

  it('resolves canonical spellings against darknet labels', () => {
    expect(resolveClassIds(['motorcycle', 'tv', 'couch'], DARKNET_SUBSET)).toEqual([1, 3, 5]);
  });

  it('drops duplicate names', () => {
    expect(resolveClassIds(['person', 'Person', 'person'], COCO_SUBSET)).toEqual([0]);
  });

  it('rejects unknown names and lists valid ones', () => {
    try {
      resolveClassIds(['person', 'persn', 'dragon'], COCO_SUBSET);
      expect.unreachable('resolveClassIds should throw');
    } catch (error) {
      expect(isFramewiseError(error, 'INVALID_ARGUMENT')).toBe(true);
      expect((error as Error).message).toContain('"persn", "dragon"');
      expect((error as Error).message).toContain('person, motorcycle, stop sign');
    }
  });
});
