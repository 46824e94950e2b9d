/*
 * One synthetic model per family, run through the real runtime (worker threads, ONNX Runtime,
 * pre-processing, decoding, NMS, clipping). Each model's outputs are known tensors, so the boxes,
 * classes and scores in source pixels are known too. Unless a case states otherwise the source image
 * is 200x100, so letterboxed families see it scaled by 0.32 into 64x32 with 16 rows of padding above.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COCO80_LABELS, COCO91_LABELS, DARKNET_COCO80_LABELS } from '../models/labels.js';
import { loadDetector } from '../src/runtime/load-detector.js';
import type { Detector, LoadDetectorOptions } from '../src/runtime/types.js';
import { runningInferenceWorkers } from '../src/runtime/worker-pool.js';
import type { Detection, RgbImage } from '../src/types.js';
import {
  buildFastestDetModel,
  buildKerasYolo3Model,
  buildRetinanetModel,
  buildRowsModel,
  buildTfOdApiModel,
  buildTorchvisionModel,
  padRows,
} from './helpers/family-models.js';
import { createRecordingLogger } from './helpers/media.js';

const IMAGE: RgbImage = { width: 200, height: 100, data: new Uint8Array(200 * 100 * 3).fill(90) };

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'framewise-runtime-families-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
  expect(runningInferenceWorkers()).toEqual([]);
});

/** Writes the model, loads it with one worker, runs `use` and disposes the detector. */
async function withDetector(name: string, bytes: Uint8Array, options: LoadDetectorOptions, use: (detector: Detector) => Promise<void>): Promise<void> {
  const path = join(directory, `${name}.onnx`);
  await writeFile(path, bytes);
  const detector = await loadDetector(path, { workers: 1, ...options });
  try {
    await use(detector);
  } finally {
    await detector.dispose();
  }
}

/** Name, score and box of each detection, rounded to 4 decimals. */
function summary(detections: readonly Detection[]): [string, number, number[]][] {
  return detections.map((d) => [d.name, round(d.score), d.box.map(round)]);
}

function round(value: number): number {
  return Number(value.toFixed(4));
}

describe('keras-yolo3 family', () => {
  // Normalised [y1, x1, y2, x2] boxes; times image_shape they are source pixels.
  const normalisedBoxes = [
    [0.25, 0.25, 0.75, 0.5], // [50, 25, 100, 75]
    [0, 0, 1, 1],
    [0.1, 0.6, 0.3, 1.1], // [120, 10, 220, 30], clipped at x = 200
    [0.5, 0.1, 0.9, 0.2], // [20, 50, 40, 90]
  ];
  const scores = Array.from({ length: 80 }, () => [0, 0, 0, 0]);
  scores[3] = [0.9, 0, 0, 0.2]; // motorbike in keras-yolo3's labels
  scores[62] = [0, 0.7, 0.6, 0]; // tvmonitor
  // The row after the -1 terminator must be ignored.
  const indices = [[0, 3, 0], [0, 62, 2], [0, 3, 3], [-1, -1, -1], [0, 62, 1]];

  it.each([
    ['yolov3-10 indices [k, 3]', false],
    ['tiny-yolov3-11 indices [1, k, 3]', true],
  ])('decodes %s in source pixels through image_shape', async (name, tinyIndices) => {
    const bytes = buildKerasYolo3Model({ normalisedBoxes, scores, indices, tinyIndices });
    await withDetector(`keras-${tinyIndices}`, bytes, {}, async (detector) => {
      expect(detector.info.family).toBe('keras-yolo3');
      expect([detector.info.inputWidth, detector.info.inputHeight]).toEqual([416, 416]);
      expect(detector.info.batchSize).toBe(1);
      expect(detector.info.labels).toEqual(COCO80_LABELS);
      expect(summary(await detector.detect(IMAGE))).toEqual([
        ['motorcycle', 0.9, [50, 25, 100, 75]],
        ['tv', 0.6, [120, 10, 200, 30]],
      ]);
      expect(summary(await detector.detect(IMAGE, { minScore: 0.1 }))[2]).toEqual(['motorcycle', 0.2, [20, 50, 40, 90]]);
    });
  });

  it('reports a darknet label file in canonical spellings', async () => {
    const labelsPath = join(directory, 'coco_classes.txt');
    await writeFile(labelsPath, `${DARKNET_COCO80_LABELS.join('\n')}\n`);
    const bytes = buildKerasYolo3Model({ normalisedBoxes, scores, indices });
    await withDetector('keras-darknet-labels', bytes, { labels: labelsPath }, async (detector) => {
      expect(detector.info.labels).toEqual(COCO80_LABELS);
      expect((await detector.detect(IMAGE)).map((d) => d.name)).toEqual(['motorcycle', 'tv']);
    });
  });

  it('keeps only the requested classes', async () => {
    const bytes = buildKerasYolo3Model({ normalisedBoxes, scores, indices });
    await withDetector('keras-classes', bytes, {}, async (detector) => {
      expect((await detector.detect(IMAGE, { classIds: [62] })).map((d) => d.name)).toEqual(['tv']);
    });
  });
});

describe('tf-od-api family', () => {
  const detections = [
    { box: [0.25, 0.25, 0.75, 0.75], score: 0.9, classId: 1 }, // person [50, 25, 150, 75]
    { box: [0, 0, 0.5, 0.5], score: 0.8, classId: 3 }, // car [0, 0, 100, 50]
    { box: [0.5, 0.5, 1, 1], score: 0.3, classId: 4 }, // motorcycle [100, 50, 200, 100]
    { box: [0, 0, 1, 1], score: 0.95, classId: 0 }, // background: dropped
    { box: [0, 0, 1, 1], score: 0.99, classId: 90 }, // past num_detections: ignored
  ] as const;

  it('decodes normalised boxes and 1-based category ids with uint8 NHWC input', async () => {
    await withDetector('tf-od-api', buildTfOdApiModel(detections, 4), {}, async (detector) => {
      expect(detector.info.family).toBe('tf-od-api');
      expect([detector.info.inputWidth, detector.info.inputHeight]).toEqual([300, 300]);
      expect(detector.info.labels).toEqual(COCO91_LABELS);
      expect(summary(await detector.detect(IMAGE))).toEqual([
        ['person', 0.9, [50, 25, 150, 75]],
        ['car', 0.8, [0, 0, 100, 50]],
        ['motorcycle', 0.3, [100, 50, 200, 100]],
      ]);
      expect((await detector.detect(IMAGE, { classIds: [3] })).map((d) => [d.classId, d.name])).toEqual([[3, 'car']]);
    });
  });
});

describe('retinanet family', () => {
  // A 256x96 source fits the 128x64 input at scale 0.5 (128x48), padded below.
  const source: RgbImage = { width: 256, height: 96, data: new Uint8Array(256 * 96 * 3).fill(40) };
  const hits = [
    // Stride 8, cell (3, 2), anchor 0 (scale 4, ratio 1): the 32x32 anchor [12, 4, 44, 36].
    { level: 0, anchor: 0, classId: 0, gx: 3, gy: 2, score: 0.9 },
    // One cell to the right: IoU 0.6 with the first, so NMS at 0.45 removes it.
    { level: 0, anchor: 0, classId: 0, gx: 4, gy: 2, score: 0.6 },
    // Stride 32, cell (1, 0), anchor 5 (scale 4 * 2^(1/3), ratio 0.5): clamped to [0, 0, 127, 63].
    { level: 2, anchor: 5, classId: 1, gx: 1, gy: 0, score: 0.7 },
    // Stride 8, cell (0, 0): anchor [-12, -12, 20, 20] moved right by a quarter and doubled in width.
    { level: 0, anchor: 0, classId: 1, gx: 0, gy: 0, score: 0.2, deltas: [0.25, 0, Math.log(2), 0] as const },
  ];

  it('decodes raw heads with anchors', async () => {
    await withDetector('retinanet', buildRetinanetModel(128, 64, 2, hits), { labels: ['cat', 'dog'] }, async (detector) => {
      expect(detector.info.family).toBe('retinanet');
      expect([detector.info.inputWidth, detector.info.inputHeight]).toEqual([128, 64]);
      expect(summary(await detector.detect(source))).toEqual([
        ['cat', 0.9, [24, 8, 88, 72]],
        ['dog', 0.7, [0, 0, 254, 96]],
      ]);
      expect(summary(await detector.detect(source, { minScore: 0.1 }))[2]).toEqual(['dog', 0.2, [0, 0, 89.5, 40]]);
      expect(summary(await detector.detect(source, { iouThreshold: 0.95 }))[2]).toEqual(['cat', 0.6, [40, 8, 104, 72]]);
    });
  });

  it('rejects the built-in COCO-80 list for a two-class model, stating both counts', async () => {
    const path = join(directory, 'retinanet-unlabelled.onnx');
    await writeFile(path, buildRetinanetModel(128, 64, 2, hits));
    await expect(loadDetector(path, { workers: 1 })).rejects.toMatchObject({
      code: 'MODEL_INVALID',
      message: expect.stringContaining('scores 2 classes, but the built-in retinanet label list has 80 names'),
    });
  });
});

describe('torchvision family', () => {
  // Boxes as fractions of the tensor; the model multiplies them by the tensor's own size.
  const normalisedBoxes = [
    [0.25, 0.25, 0.75, 0.75],
    [0, 0, 1, 1],
    [0.5, 0, 1, 0.5],
    [0, 0.5, 0.1, 1],
  ];
  const scores = [0.9, 0.95, 0.8, 0.2];
  const labels = [1, 0, 4, 90]; // person, background (dropped), motorcycle, toothbrush

  it.each([
    ['RetinaNet output order', 'retinanet'],
    ['Faster R-CNN output order', 'faster-rcnn'],
  ] as const)('feeds a [3, H, W] input at the image size (%s)', async (_case, order) => {
    const bytes = buildTorchvisionModel({ inputShape: [3, 'height', 'width'], normalisedBoxes, scores, labels, order });
    await withDetector(`torchvision-${order}`, bytes, {}, async (detector) => {
      expect(detector.info.family).toBe('torchvision');
      expect([detector.info.inputWidth, detector.info.inputHeight]).toEqual([0, 0]);
      expect(detector.info.labels).toEqual(COCO91_LABELS);
      expect(summary(await detector.detect(IMAGE))).toEqual([
        ['person', 0.9, [50, 25, 150, 75]],
        ['motorcycle', 0.8, [100, 0, 200, 50]],
      ]);
      expect(summary(await detector.detect(IMAGE, { minScore: 0.1 }))[2]).toEqual(['toothbrush', 0.2, [0, 50, 20, 100]]);
    });
  });

  it('letterboxes into a fixed [1, 3, 64, 64] input and maps boxes back', async () => {
    const bytes = buildTorchvisionModel({ inputShape: [1, 3, 64, 64], normalisedBoxes, scores, labels });
    await withDetector('torchvision-fixed', bytes, {}, async (detector) => {
      expect([detector.info.inputWidth, detector.info.inputHeight]).toEqual([64, 64]);
      // Model box [16, 16, 48, 48] / 0.32 = [50, 50, 150, 150], clipped to the 100-pixel height.
      expect(summary(await detector.detect(IMAGE))).toEqual([
        ['person', 0.9, [50, 50, 150, 100]],
        ['motorcycle', 0.8, [100, 0, 200, 100]],
      ]);
    });
  });
});

describe('yolov5 family', () => {
  // 252 rows = 3 anchors x (8x8 + 4x4 + 2x2) cells of a 64x64 input. Rows: cx, cy, w, h, objectness, class 0, class 1.
  const rows = padRows(
    [
      [32, 32, 32, 16, 0.9, 1, 0.1], // model [16, 24, 48, 40] -> source [50, 25, 150, 75]
      [32, 32, 32, 16, 0.8, 0.2, 0.9], // dog scores 0.8 x 0.9 = 0.72
      [50, 35, 20, 10, 0.5, 0.4, 0], // 0.5 x 0.4 = 0.2, below the default minScore
      [34, 32, 32, 16, 0.85, 1, 0], // IoU 0.88 with the first row: removed by NMS
    ],
    252,
    7,
  );
  const metadata = { stride: '32', names: "{0: 'cat', 1: 'dog'}" };

  it('scores objectness times class probability and reads YOLOv5 names', async () => {
    await withDetector('yolov5', buildRowsModel(64, rows, metadata), {}, async (detector) => {
      expect(detector.info.family).toBe('yolov5');
      expect(detector.info.labels).toEqual(['cat', 'dog']);
      expect(summary(await detector.detect(IMAGE))).toEqual([
        ['cat', 0.9, [50, 25, 150, 75]],
        ['dog', 0.72, [50, 25, 150, 75]],
      ]);
    });
  });

  it('decodes the same rows as yolov3 when the family is named', async () => {
    await withDetector('yolov3', buildRowsModel(64, rows, metadata), { family: 'yolov3' }, async (detector) => {
      expect(detector.info.family).toBe('yolov3');
      expect(summary(await detector.detect(IMAGE)).map(([name, score]) => [name, score])).toEqual([
        ['cat', 0.9],
        ['dog', 0.72],
      ]);
    });
  });
});

describe('yolo-end2end family', () => {
  // Rows: x1, y1, x2, y2 in model pixels, score, class. Eight rows, because without metadata a
  // [1, K, 6] output with K < 6 reads as YOLOv8's channels-first layout.
  const rows = padRows(
    [
      [16, 24, 48, 40, 0.9, 0], // source [50, 25, 150, 75]
      [16, 24, 48, 40, 0.8, 1],
      [18, 24, 50, 40, 0.7, 0], // overlaps the first but stays: the graph already ran NMS
      [0, 0, 10, 10, 0.1, 1],
    ],
    8,
    6,
  );
  const expected = [
    ['cat', 0.9, [50, 25, 150, 75]],
    ['dog', 0.8, [50, 25, 150, 75]],
    ['cat', 0.7, [56.25, 25, 156.25, 75]],
  ];

  it('decodes [1, K, 6] rows without NMS when the metadata says end2end', async () => {
    const metadata = { author: 'Ultralytics', task: 'detect', end2end: 'True', imgsz: '[64, 64]', names: "{0: 'cat', 1: 'dog'}" };
    await withDetector('end2end', buildRowsModel(64, rows, metadata), {}, async (detector) => {
      expect(detector.info.family).toBe('yolo-end2end');
      expect(summary(await detector.detect(IMAGE))).toEqual(expected);
    });
  });

  it('warns without metadata and reads pixel values as corners', async () => {
    const logger = createRecordingLogger();
    await withDetector('end2end-bare', buildRowsModel(64, rows), { labels: ['cat', 'dog'], logger }, async (detector) => {
      expect(detector.info.family).toBe('yolo-end2end');
      expect(summary(await detector.detect(IMAGE))).toEqual(expected);
      const warnings = logger.at('warn').map((entry) => entry.message);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('can be an end-to-end YOLO or an RT-DETR export');
    });
  });

  it('reads values within 0..1 as normalised RT-DETR centres without metadata', async () => {
    const normalised = padRows([[0.5, 0.5, 0.5, 0.5, 0.9, 1]], 8, 6);
    await withDetector('end2end-normalised', buildRowsModel(64, normalised), { labels: ['cat', 'dog'] }, async (detector) => {
      // Model box [16, 16, 48, 48] in the letterboxed input -> source [50, 0, 150, 100].
      expect(summary(await detector.detect(IMAGE))).toEqual([['dog', 0.9, [50, 0, 150, 100]]]);
    });
  });
});

describe('rtdetr family', () => {
  it('decodes the newer [1, K, 6] layout with a stretched input', async () => {
    const metadata = {
      author: 'Ultralytics',
      task: 'detect',
      description: 'Ultralytics rtdetr-l model trained on coco.yaml',
      imgsz: '[64, 64]',
      names: "{0: 'cat', 1: 'dog'}",
    };
    const rows = [
      [0.5, 0.5, 0.5, 0.5, 0.9, 1], // source [50, 25, 150, 75]
      [0.25, 0.25, 0.1, 0.2, 0.6, 0], // source [40, 15, 60, 35]
      [0.5, 0.5, 1, 1, 0.1, 0],
      [0, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0],
    ];
    await withDetector('rtdetr-topk', buildRowsModel(64, rows, metadata), {}, async (detector) => {
      expect(detector.info.family).toBe('rtdetr');
      expect(summary(await detector.detect(IMAGE))).toEqual([
        ['dog', 0.9, [50, 25, 150, 75]],
        ['cat', 0.6, [40, 15, 60, 35]],
      ]);
    });
  });

  it('decodes the older [1, K, 4 + classes] layout', async () => {
    const rows = padRows(
      [
        [0.5, 0.5, 0.5, 0.5, 0.1, 0.8, 0.3], // b: source [50, 25, 150, 75]
        [0.1, 0.1, 0.2, 0.2, 0.3, 0.2, 0.1], // a: source [0, 0, 40, 20]
      ],
      10,
      7,
    );
    await withDetector('rtdetr-scores', buildRowsModel(64, rows), { labels: ['a', 'b', 'c'] }, async (detector) => {
      expect(detector.info.family).toBe('rtdetr');
      expect(summary(await detector.detect(IMAGE))).toEqual([
        ['b', 0.8, [50, 25, 150, 75]],
        ['a', 0.3, [0, 0, 40, 20]],
      ]);
    });
  });
});

describe('fastestdet family', () => {
  const cells = [
    // Centre (1 + tanh(atanh 0.5)) / 2 = 0.75, 0; size sigmoid(logit 0.25) = 0.25 by sigmoid(0) = 0.5.
    { gx: 1, gy: 0, objectness: 0.9, regressors: [Math.atanh(0.5), 0, Math.log(0.25 / 0.75), 0] as const, classProbabilities: [0.2, 0.8] },
    // Centre (0, 0.5), size 0.5 x 0.5.
    { gx: 0, gy: 1, objectness: 0.5, regressors: [0, 0, 0, 0] as const, classProbabilities: [0.9, 0.1] },
    // Score 0.1^0.6 x 0.5^0.4 = 0.19: below the default minScore.
    { gx: 0, gy: 0, objectness: 0.1, regressors: [0, 0, 0, 0] as const, classProbabilities: [0.5, 0.5] },
  ];

  it('scores objectness^0.6 x class^0.4 and scales normalised boxes to the source', async () => {
    await withDetector('fastestdet', buildFastestDetModel(32, 2, cells), { labels: ['cat', 'dog'] }, async (detector) => {
      expect(detector.info.family).toBe('fastestdet');
      expect([detector.info.inputWidth, detector.info.inputHeight]).toEqual([32, 32]);
      const detections = await detector.detect(IMAGE);
      expect(detections.map((d) => d.name)).toEqual(['dog', 'cat']);
      expect(detections[0]?.score).toBeCloseTo(0.9 ** 0.6 * 0.8 ** 0.4, 5);
      expect(detections[1]?.score).toBeCloseTo(0.5 ** 0.6 * 0.9 ** 0.4, 5);
      // Normalised [0.625, -0.25, 0.875, 0.25] and [-0.25, 0.25, 0.25, 0.75] times 200 x 100, clipped at 0.
      [125, 0, 175, 25].forEach((value, index) => expect(detections[0]?.box[index]).toBeCloseTo(value, 3));
      [0, 25, 50, 75].forEach((value, index) => expect(detections[1]?.box[index]).toBeCloseTo(value, 3));
    });
  });
});
