/*
 * Recognition from signatures alone: the published layouts of each family (as documented for the
 * ONNX Model Zoo files, FastestDet and Ultralytics exports), the collisions between the
 * single-output layouts, and the family option.
 */
import { describe, expect, it } from 'vitest';
import type { ModelSignature, TensorSignature } from '../models/adapter.js';
import type { OnnxMetadata } from '../models/onnx-metadata.js';
import { knownFamilies, recogniseModel } from '../models/registry.js';
import { classifySingleOutput, isYoloAnchorCount, readSingleOutputModel } from '../models/single-output-layout.js';

function metadata(props: Record<string, string> = {}): OnnxMetadata {
  return { opsetImports: [], metadataProps: new Map(Object.entries(props)), hasGraph: true };
}

function tensor(name: string, type: string, shape: TensorSignature['shape']): TensorSignature {
  return { name, type, shape };
}

function single(input: TensorSignature['shape'], output: TensorSignature['shape']): ModelSignature {
  return { inputs: [tensor('images', 'float32', input)], outputs: [tensor('output0', 'float32', output)] };
}

const ULTRALYTICS = { author: 'Ultralytics', task: 'detect', imgsz: '[640, 640]' };

const YOLOV3_10: ModelSignature = {
  inputs: [tensor('input_1', 'float32', ['unk__576', 3, 'unk__577', 'unk__578']), tensor('image_shape', 'float32', ['unk__579', 2])],
  outputs: [
    tensor('yolonms_layer_1/ExpandDims_1:0', 'float32', [1, 'unk__580', 4]),
    tensor('yolonms_layer_1/ExpandDims_3:0', 'float32', [1, 80, 'unk__581']),
    tensor('yolonms_layer_1/concat_2:0', 'int32', ['unk__582', 3]),
  ],
};

const TINY_YOLOV3_11: ModelSignature = {
  inputs: [tensor('input_1', 'float32', ['N', 3, '?', '?']), tensor('image_shape', 'float32', ['N', 2])],
  outputs: [
    tensor('yolonms_layer_1', 'float32', [1, 'n', 4]),
    tensor('yolonms_layer_1:1', 'float32', [1, 80, 'n']),
    tensor('yolonms_layer_1:2', 'int32', [1, 'k', 3]),
  ],
};

const SSD_MOBILENET_10: ModelSignature = {
  inputs: [tensor('image_tensor:0', 'uint8', ['unk__6', 'unk__7', 'unk__8', 3])],
  outputs: [
    tensor('detection_boxes:0', 'float32', ['unk__9', 100, 4]),
    tensor('detection_classes:0', 'float32', ['unk__10', 100]),
    tensor('detection_scores:0', 'float32', ['unk__11', 100]),
    tensor('num_detections:0', 'float32', ['unk__12']),
  ],
};

const SSD_MOBILENET_12: ModelSignature = {
  inputs: [tensor('inputs', 'uint8', [1, 'h', 'w', 3])],
  outputs: [
    tensor('detection_boxes', 'float32', [1, 100, 4]),
    tensor('detection_classes', 'float32', [1, 100]),
    tensor('detection_scores', 'float32', [1, 100]),
    tensor('num_detections', 'float32', [1]),
  ],
};

const RETINANET_9: ModelSignature = {
  inputs: [tensor('input', 'float32', [1, 3, 480, 640])],
  outputs: [
    ...[
      [60, 80],
      [30, 40],
      [15, 20],
      [8, 10],
      [4, 5],
    ].map(([h, w], level) => tensor(`output${level + 1}`, 'float32', [1, 720, h as number, w as number])),
    ...[
      [60, 80],
      [30, 40],
      [15, 20],
      [8, 10],
      [4, 5],
    ].map(([h, w], level) => tensor(`output${level + 6}`, 'float32', [1, 36, h as number, w as number])),
  ],
};

const TORCHVISION_RETINANET: ModelSignature = {
  inputs: [tensor('images', 'float32', [3, 'height', 'width'])],
  outputs: [tensor('boxes', 'float32', ['N', 4]), tensor('scores', 'float32', ['N']), tensor('labels', 'int64', ['N'])],
};

const FASTESTDET: ModelSignature = {
  inputs: [tensor('input.1', 'float32', [1, 3, 352, 352])],
  outputs: [tensor('758', 'float32', [1, 85, 22, 22])],
};

describe('recogniseModel on published layouts', () => {
  it.each([
    ['yolov3-10 and yolov3-12', YOLOV3_10, {}, 'keras-yolo3'],
    ['tiny-yolov3-11', TINY_YOLOV3_11, {}, 'keras-yolo3'],
    ['ssd_mobilenet_v1_10', SSD_MOBILENET_10, {}, 'tf-od-api'],
    ['ssd_mobilenet_v1_12', SSD_MOBILENET_12, {}, 'tf-od-api'],
    ['retinanet-9', RETINANET_9, {}, 'retinanet'],
    ['torchvision RetinaNet', TORCHVISION_RETINANET, {}, 'torchvision'],
    ['FastestDet', FASTESTDET, {}, 'fastestdet'],
    ['YOLOv8n with metadata', single([1, 3, 640, 640], [1, 84, 8400]), { ...ULTRALYTICS, names: "{0: 'person'}" }, 'yolov8'],
    ['YOLOv8n without metadata', single([1, 3, 640, 640], [1, 84, 8400]), {}, 'yolov8'],
    ['YOLOv8 dynamic', single(['batch', 3, 'height', 'width'], ['batch', 84, 'anchors']), {}, 'yolov8'],
    ['YOLOv5s', single([1, 3, 640, 640], [1, 25200, 85]), { stride: '32', names: "{0: 'person'}" }, 'yolov5'],
    ['YOLOv5s6', single([1, 3, 1280, 1280], [1, 102000, 85]), {}, 'yolov5'],
    ['YOLOv3 decoded at 416', single([1, 3, 416, 416], [1, 10647, 85]), {}, 'yolov5'],
    ['TinyYOLOv3 decoded at 416', single([1, 3, 416, 416], [1, 2535, 85]), {}, 'yolov5'],
    ['YOLOv5 dynamic', single(['batch', 3, 'height', 'width'], ['batch', 'anchors', 85]), {}, 'yolov5'],
    ['YOLOv10 with end2end', single([1, 3, 640, 640], [1, 300, 6]), { ...ULTRALYTICS, end2end: 'True' }, 'yolo-end2end'],
    ['nms=True export', single([1, 3, 640, 640], [1, 300, 6]), { ...ULTRALYTICS, args: "{'batch': 1, 'nms': True}" }, 'yolo-end2end'],
    ['YOLO26 from the ultralytics package', single([1, 3, 640, 640], [1, 300, 6]), ULTRALYTICS, 'yolo-end2end'],
    ['[1, 300, 6] without metadata', single([1, 3, 640, 640], [1, 300, 6]), {}, 'yolo-end2end'],
    ['RT-DETR [1, 300, 6]', single([1, 3, 640, 640], [1, 300, 6]), { ...ULTRALYTICS, description: 'Ultralytics rtdetr-l model' }, 'rtdetr'],
    ['RT-DETR [1, 300, 84]', single([1, 3, 640, 640], [1, 300, 84]), { ...ULTRALYTICS, description: 'Ultralytics RT-DETR-x model' }, 'rtdetr'],
    ['RT-DETR [1, 300, 84] from the package', single([1, 3, 640, 640], [1, 300, 84]), ULTRALYTICS, 'rtdetr'],
    ['RT-DETR [1, 300, 84] without metadata', single([1, 3, 640, 640], [1, 300, 84]), {}, 'rtdetr'],
  ] as const)('%s is %s', (_case, signature, props, family) => {
    expect(recogniseModel(signature, metadata(props)).plan?.family).toBe(family);
  });

  it('reads the keras-yolo3 inputs and outputs by shape and type', () => {
    const plan = recogniseModel(YOLOV3_10, metadata()).plan;
    expect(plan?.inputName).toBe('input_1');
    expect([plan?.inputWidth, plan?.inputHeight]).toEqual([416, 416]);
    expect(plan?.numClasses).toBe(80);
    expect(plan?.needsNms).toBe(false);
    expect(plan?.params).toEqual({
      imageShapeName: 'image_shape',
      boxesName: 'yolonms_layer_1/ExpandDims_1:0',
      scoresName: 'yolonms_layer_1/ExpandDims_3:0',
      indicesName: 'yolonms_layer_1/concat_2:0',
    });
    expect(plan?.preprocessing).toMatchObject({ resize: 'letterbox', rounding: 'floor', padValue: 128, channelOrder: 'rgb' });
  });

  it('pairs the retinanet-9 heads by grid size, finest first', () => {
    const plan = recogniseModel(RETINANET_9, metadata()).plan;
    expect(plan?.numClasses).toBe(80);
    expect([plan?.inputWidth, plan?.inputHeight]).toEqual([640, 480]);
    expect(plan?.params).toEqual({
      levels: [8, 16, 32, 64, 128].map((stride, level) => ({ classHeadName: `output${level + 1}`, boxHeadName: `output${level + 6}`, stride })),
    });
    expect(plan?.preprocessing).toMatchObject({ align: 'top-left', padTensorValue: 0, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
  });

  it('declares uint8 NHWC at 300x300 and a free batch for SSD-MobileNet', () => {
    const plan = recogniseModel(SSD_MOBILENET_10, metadata()).plan;
    expect(plan?.preprocessing).toMatchObject({ dtype: 'uint8', layout: 'nhwc', resize: 'stretch' });
    expect([plan?.inputWidth, plan?.inputHeight]).toEqual([300, 300]);
    expect(plan?.batchSize).toBe('dynamic');
    expect(plan?.numClasses).toBe(91);
  });

  it('feeds torchvision images at their own size without a batch dimension', () => {
    const plan = recogniseModel(TORCHVISION_RETINANET, metadata()).plan;
    expect(plan?.preprocessing).toMatchObject({ resize: 'none', layout: 'chw', scale: 1 / 255 });
    expect(plan?.batchSize).toBe(1);
    expect(plan?.numClasses).toBe(91);
    expect(plan?.warnings).toEqual([]);
  });

  it('warns that a torchvision-like input named image may be the zoo FasterRCNN-10', () => {
    const fasterRcnn10 = { ...TORCHVISION_RETINANET, inputs: [tensor('image', 'float32', [3, 'height', 'width'])] };
    expect(recogniseModel(fasterRcnn10, metadata()).plan?.warnings[0]).toContain('FasterRCNN-10');
  });

  it('uses BGR and a stretch for FastestDet', () => {
    const plan = recogniseModel(FASTESTDET, metadata()).plan;
    expect(plan?.preprocessing).toMatchObject({ channelOrder: 'bgr', resize: 'stretch' });
    expect(plan?.numClasses).toBe(80);
  });

  it('stretches RT-DETR input and letterboxes the end-to-end YOLO input', () => {
    const rtdetr = recogniseModel(single([1, 3, 640, 640], [1, 300, 84]), metadata()).plan;
    const end2end = recogniseModel(single([1, 3, 640, 640], [1, 300, 6]), metadata({ end2end: 'True' })).plan;
    expect(rtdetr?.preprocessing.resize).toBe('stretch');
    expect(end2end?.preprocessing.resize).toBe('letterbox');
    expect(rtdetr?.needsNms).toBe(false);
    expect(end2end?.needsNms).toBe(false);
  });

  it('decides a bare [1, 300, 6] output per image and says so', () => {
    const plan = recogniseModel(single([1, 3, 640, 640], [1, 300, 6]), metadata()).plan;
    expect(plan?.params).toMatchObject({ boxFormat: 'auto' });
    expect(plan?.warnings[0]).toContain('Pass family "yolo-end2end" or "rtdetr"');
  });
});

describe('recogniseModel rejections', () => {
  it.each([
    ['an identity model', single([1, 4], [1, 4])],
    ['a raw YOLOv3 head', single([1, 3, 416, 416], [1, 255, 13, 13])],
    ['a segmentation output at input size', single([1, 3, 64, 64], [1, 21, 64, 64])],
    ['a batch of 2', single([2, 3, 640, 640], [2, 84, 8400])],
    ['a float16 model', { inputs: [tensor('images', 'float16', [1, 3, 640, 640])], outputs: [tensor('output0', 'float16', [1, 84, 8400])] }],
  ] as const)('rejects %s', (_case, signature) => {
    expect(recogniseModel(signature, metadata()).plan).toBeUndefined();
  });

  it('rejects Ultralytics segmentation and pose tasks', () => {
    expect(recogniseModel(single([1, 3, 640, 640], [1, 116, 8400]), metadata({ ...ULTRALYTICS, task: 'segment' })).plan).toBeUndefined();
    expect(recogniseModel(single([1, 3, 640, 640], [1, 56, 8400]), metadata({ ...ULTRALYTICS, task: 'pose' })).plan).toBeUndefined();
  });

  it('tries every family in order', () => {
    expect(recogniseModel(single([1, 4], [1, 4]), metadata()).tried.map((adapter) => adapter.family)).toEqual(knownFamilies());
    expect(knownFamilies()).toEqual([
      'keras-yolo3',
      'tf-od-api',
      'retinanet',
      'torchvision',
      'yolov8',
      'yolo-end2end',
      'rtdetr',
      'yolov5',
      'fastestdet',
      'yolov3',
    ]);
  });
});

describe('family option', () => {
  it('overrides the shape rules for the single-output layouts', () => {
    const bare = single([1, 3, 640, 640], [1, 300, 6]);
    expect(recogniseModel(bare, metadata(), 'rtdetr').plan?.params).toEqual({ outputName: 'output0', layout: 'topk' });
    expect(recogniseModel(bare, metadata(), 'yolo-end2end').plan?.params).toEqual({ outputName: 'output0', boxFormat: 'xyxy' });
  });

  it('selects yolov3 only when named', () => {
    const rows = single([1, 3, 416, 416], [1, 10647, 85]);
    const plan = recogniseModel(rows, metadata(), 'yolov3').plan;
    expect(plan?.family).toBe('yolov3');
    expect(plan?.preprocessing.padValue).toBe(128);
  });

  it('accepts a FastestDet output off the stride-16 grid only when named', () => {
    const offGrid = single([1, 3, 320, 320], [1, 85, 10, 10]);
    expect(recogniseModel(offGrid, metadata()).plan).toBeUndefined();
    expect(recogniseModel(offGrid, metadata(), 'fastestdet').plan?.family).toBe('fastestdet');
  });

  it('returns no plan when the named family cannot decode the shapes', () => {
    const recognition = recogniseModel(FASTESTDET, metadata(), 'keras-yolo3');
    expect(recognition.plan).toBeUndefined();
    expect(recognition.tried.map((adapter) => adapter.family)).toEqual(['keras-yolo3']);
  });
});

describe('single-output classification', () => {
  it.each([
    [640, 640, 25200, true],
    [640, 640, 8400, false],
    [416, 416, 10647, true],
    [416, 416, 2535, true],
    [640, 480, 18900, true],
    [640, 640, 300, false],
  ])('%ix%i with %i rows is a YOLO anchor count: %s', (width, height, rows, expected) => {
    expect(isYoloAnchorCount(rows, width, height)).toBe(expected);
  });

  it.each([
    [[1, 300, 85], 80, 'yolov5'],
    [[1, 300, 84], 80, 'rtdetr-scores'],
    [[1, 300, 7], 2, 'yolov5'],
    [[1, 300, 7], 3, 'rtdetr-scores'],
    [[1, 300, 6], undefined, 'end2end-or-rtdetr'],
  ] as const)('output %j with %s labels is %s', (shape, labelCount, layout) => {
    const model = readSingleOutputModel(single([1, 3, 640, 640], shape), metadata());
    expect(model).toBeDefined();
    expect(classifySingleOutput(model!, labelCount)).toBe(layout);
  });

  it('takes the class count from metadata names before the caller labels', () => {
    const names = `{${Array.from({ length: 3 }, (_, i) => `${i}: 'c${i}'`).join(', ')}}`;
    const model = readSingleOutputModel(single([1, 3, 640, 640], [1, 300, 7]), metadata({ names }));
    expect(classifySingleOutput(model!, 2)).toBe('rtdetr-scores');
  });
});
