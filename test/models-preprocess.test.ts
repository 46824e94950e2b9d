import { describe, expect, it } from 'vitest';
import type { RawTensor } from '../models/adapter.js';
import { concatBatch, sliceBatch, splitBatchOutputs } from '../models/batch.js';
import { FASTESTDET_PREPROCESSING } from '../models/fastestdet.js';
import { KERAS_YOLO3_PREPROCESSING } from '../models/keras-yolo3.js';
import { computeLetterbox } from '../models/letterbox.js';
import { placementToSourceBox, prepareInput, ULTRALYTICS_PREPROCESSING, type InputPreprocessing } from '../models/preprocess.js';
import { anchorBox, applyDeltas, RETINANET_PREPROCESSING } from '../models/retinanet.js';
import { TF_OD_API_PREPROCESSING } from '../models/tf-od-api.js';
import type { RgbImage } from '../src/types.js';

/** Creates a `width` x `height` image whose every pixel is `rgb`. */
function solidImage(width: number, height: number, rgb: readonly [number, number, number]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i += 1) data.set(rgb, i * 3);
  return { width, height, data };
}

describe('computeLetterbox conventions', () => {
  it('truncates the scaled size with floor rounding, as keras-yolo3 does', () => {
    // 832x301 at scale 0.5 is 416x150.5: keras-yolo3 keeps 150 rows, Ultralytics rounds to 151.
    expect(computeLetterbox(832, 301, 416, 416, { rounding: 'floor' })).toMatchObject({ newWidth: 416, newHeight: 150, padY: 133 });
    expect(computeLetterbox(832, 301, 416, 416)).toMatchObject({ newWidth: 416, newHeight: 151, padY: 132 });
  });

  it('puts all padding right and below with top-left alignment', () => {
    expect(computeLetterbox(256, 96, 128, 64, { align: 'top-left' })).toMatchObject({ scale: 0.5, padX: 0, padY: 0, newWidth: 128, newHeight: 48 });
  });
});

describe('prepareInput layouts and types', () => {
  it('writes BGR planes for FastestDet', () => {
    const input = prepareInput(solidImage(4, 2, [10, 20, 30]), 8, 8, FASTESTDET_PREPROCESSING);
    expect(input.dims).toEqual([1, 3, 8, 8]);
    expect([input.data[0], input.data[64], input.data[128]]).toEqual([30 / 255, 20 / 255, 10 / 255].map(Math.fround));
    // Stretched: no padding anywhere, the last pixel is image too.
    expect(input.data[63]).toBe(Math.fround(30 / 255));
  });

  it('writes interleaved uint8 values for the TF Object Detection API', () => {
    const input = prepareInput(solidImage(6, 3, [10, 20, 30]), 3, 3, TF_OD_API_PREPROCESSING);
    expect(input.data).toBeInstanceOf(Uint8Array);
    expect(input.dims).toEqual([1, 3, 3, 3]);
    expect([...input.data.subarray(0, 6)]).toEqual([10, 20, 30, 10, 20, 30]);
  });

  it('keeps the image size for resize none', () => {
    const spec: InputPreprocessing = { ...ULTRALYTICS_PREPROCESSING, resize: 'none', layout: 'chw' };
    const image = solidImage(5, 3, [255, 0, 51]);
    const input = prepareInput(image, 0, 0, spec);
    expect(input.dims).toEqual([3, 3, 5]);
    expect([input.data[0], input.data[15], input.data[30]]).toEqual([1, 0, 0.2].map(Math.fround));
    expect(placementToSourceBox(input.placement, [1, 1, 4, 2])).toEqual([1, 1, 4, 2]);
  });

  it('pads retinanet input with 0 after ImageNet normalisation, right and below', () => {
    const input = prepareInput(solidImage(4, 2, [124, 116, 104]), 4, 4, RETINANET_PREPROCESSING);
    const plane = 16;
    // Image rows 0-1 hold (value / 255 - mean) / std, padding rows 2-3 hold exactly 0.
    expect(input.data[0]).toBeCloseTo((124 / 255 - 0.485) / 0.229, 5);
    expect(input.data[plane + 4]).toBeCloseTo((116 / 255 - 0.456) / 0.224, 5);
    expect([...input.data.subarray(8, 16)]).toEqual(new Array(8).fill(0));
    expect([...input.data.subarray(2 * plane + 8, 3 * plane)]).toEqual(new Array(8).fill(0));
  });

  it('pads keras-yolo3 input with 128 around the centred image', () => {
    const input = prepareInput(solidImage(4, 2, [0, 0, 0]), 4, 4, KERAS_YOLO3_PREPROCESSING);
    // Rows 0 and 3 are padding, rows 1 and 2 the image.
    expect(input.data[0]).toBe(Math.fround(128 / 255));
    expect(input.data[4]).toBe(0);
    expect(input.data[12]).toBe(Math.fround(128 / 255));
    expect(input.placement).toMatchObject({ padX: 0, padY: 1, newWidth: 4, newHeight: 2 });
  });
});

describe('RetinaNet anchors and deltas', () => {
  it.each([
    // anchor, stride, cell, expected corners
    [0, 8, [0, 0], [-12, -12, 20, 20]],
    [0, 8, [3, 2], [12, 4, 44, 36]],
    [3, 8, [0, 0], [4 - 16 * 2 ** (1 / 3), 4 - 16 * 2 ** (1 / 3), 4 + 16 * 2 ** (1 / 3), 4 + 16 * 2 ** (1 / 3)]],
  ] as const)('anchor %i at stride %i in cell %j', (anchor, stride, [gx, gy], expected) => {
    anchorBox(anchor, stride, gx, gy).forEach((value, index) => expect(value).toBeCloseTo(expected[index] as number, 9));
  });

  it('gives ratio-2 anchors twice the height of their width', () => {
    const [x1, y1, x2, y2] = anchorBox(1, 16, 0, 0);
    expect((y2 - y1) / (x2 - x1)).toBeCloseTo(2, 9);
    expect((x2 - x1) * (y2 - y1)).toBeCloseTo(64 * 64, 6);
  });

  it('applies deltas with the +1 pixel convention', () => {
    expect(applyDeltas([12, 4, 44, 36], 0, 0, 0, 0, 1000, 1000)).toEqual([12, 4, 44, 36]);
    // Width 33: centre 28.5 + 0.25 * 33, width 66.
    expect(applyDeltas([12, 4, 44, 36], 0.25, 0, Math.log(2), 0, 1000, 1000)).toEqual([3.75, 4, 68.75, 36]);
    expect(applyDeltas([-12, -12, 20, 20], 0, 0, 0, 0, 15, 10)).toEqual([0, 0, 15, 10]);
  });
});

describe('batch tensors', () => {
  const tensor = (values: number[], dims: number[]): RawTensor => ({ type: 'float32', data: Float32Array.from(values), dims });

  it('concatenates along the first dimension and slices back', () => {
    const batch = concatBatch([tensor([1, 2], [1, 2]), tensor([3, 4], [1, 2]), tensor([5, 6], [1, 2])]);
    expect(batch.dims).toEqual([3, 2]);
    expect([...batch.data]).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...sliceBatch(batch, 1, 3).data]).toEqual([3, 4]);
    expect(sliceBatch(batch, 2, 3).dims).toEqual([1, 2]);
  });

  it('keeps int64 values', () => {
    const batch = concatBatch([
      { type: 'int64', data: BigInt64Array.of(7n), dims: [1] },
      { type: 'int64', data: BigInt64Array.of(-1n), dims: [1] },
    ]);
    expect(batch.data).toBeInstanceOf(BigInt64Array);
    expect([...(batch.data as BigInt64Array)]).toEqual([7n, -1n]);
  });

  it('splits every output of a run', () => {
    const outputs = { a: tensor([1, 2, 3, 4], [2, 2]), b: tensor([5, 6], [2]) };
    const split = splitBatchOutputs(outputs, 2);
    expect(split.map((image) => [...(image.a?.data ?? [])])).toEqual([[1, 2], [3, 4]]);
    expect(split.map((image) => [...(image.b?.data ?? [])])).toEqual([[5], [6]]);
  });

  it('throws for mismatched shapes and batch sizes', () => {
    expect(() => concatBatch([tensor([1, 2], [1, 2]), tensor([1, 2, 3], [1, 3])])).toThrow('Cannot batch');
    expect(() => sliceBatch(tensor([1, 2], [1, 2]), 0, 2)).toThrow('Expected an output with 2 images');
  });
});
