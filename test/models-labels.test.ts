import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalizeLabels, COCO80_LABELS, COCO91_GAP_IDS, COCO91_LABELS, DARKNET_COCO80_LABELS, readLabelsFile } from '../models/labels.js';

describe('COCO91_LABELS', () => {
  it('has 91 entries indexed by COCO category id', () => {
    expect(COCO91_LABELS).toHaveLength(91);
    expect(COCO91_LABELS[0]).toBe('__background__');
  });

  it.each([
    [1, 'person'],
    [4, 'motorcycle'],
    [5, 'airplane'],
    [13, 'stop sign'],
    [63, 'couch'],
    [64, 'potted plant'],
    [67, 'dining table'],
    [72, 'tv'],
    [89, 'hair drier'],
    [90, 'toothbrush'],
  ])('category id %i is %s', (id, name) => {
    expect(COCO91_LABELS[id]).toBe(name);
  });

  it('marks the ten unused ids N/A', () => {
    expect(COCO91_GAP_IDS).toEqual([12, 26, 29, 30, 45, 66, 68, 69, 71, 83]);
    const gaps = COCO91_LABELS.flatMap((name, id) => (name === 'N/A' ? [id] : []));
    expect(gaps).toEqual(COCO91_GAP_IDS);
  });

  it('contains every COCO-80 name once, in order', () => {
    expect(COCO91_LABELS.filter((name, id) => id > 0 && name !== 'N/A')).toEqual(COCO80_LABELS);
  });
});

describe('DARKNET_COCO80_LABELS', () => {
  it('differs from COCO-80 only in the darknet spellings', () => {
    const differences = DARKNET_COCO80_LABELS.flatMap((name, id) => (name === COCO80_LABELS[id] ? [] : [[id, name]]));
    expect(differences).toEqual([
      [3, 'motorbike'],
      [4, 'aeroplane'],
      [57, 'sofa'],
      [58, 'pottedplant'],
      [60, 'diningtable'],
      [62, 'tvmonitor'],
    ]);
  });
});

describe('canonicalizeLabels', () => {
  it('turns darknet spellings into canonical ones', () => {
    expect(canonicalizeLabels(DARKNET_COCO80_LABELS)).toEqual(COCO80_LABELS);
  });

  it('turns ImageAI spellings with underscores into canonical ones', () => {
    const imageai = COCO80_LABELS.map((name) => name.replace(/ /g, '_'));
    imageai[78] = 'hair dryer';
    expect(canonicalizeLabels(imageai)).toEqual(COCO80_LABELS);
  });

  it('keeps the placeholders of the 91-entry list', () => {
    expect(canonicalizeLabels(COCO91_LABELS)).toEqual(COCO91_LABELS);
  });

  it('keeps gap names of a COCO list that names its unused ids', () => {
    const imageai91 = [...COCO91_LABELS];
    imageai91[12] = 'street sign';
    imageai91[4] = 'motorbike';
    const canonical = canonicalizeLabels(imageai91);
    expect(canonical[12]).toBe('street sign');
    expect(canonical[4]).toBe('motorcycle');
  });

  it('returns a custom label list unchanged, capitals included', () => {
    expect(canonicalizeLabels(['Helmet', 'Vest', 'Motorbike'])).toEqual(['Helmet', 'Vest', 'Motorbike']);
  });
});

describe('readLabelsFile', () => {
  it('trims CR and surrounding spaces', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'framewise-labels-'));
    try {
      const path = join(directory, 'names.txt');
      await writeFile(path, ' person \r\n\tmotorbike\r\ncar\n\n');
      expect(await readLabelsFile(path)).toEqual(['person', 'motorbike', 'car']);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
