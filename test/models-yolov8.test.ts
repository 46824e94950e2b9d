import { describe, expect, it } from 'vitest';
import type { DecodeContext, ModelSignature, TensorSignature } from '../models/adapter.js';
import type { OnnxMetadata } from '../models/onnx-metadata.js';
import { knownFamilies, recogniseModel } from '../models/registry.js';
import { decodeYolov8Output, yolov8Adapter } from '../models/yolov8.js';

function metadata(props: Record<string, string> = {}): OnnxMetadata {
  return { opsetImports: [], metadataProps: new Map(Object.entries(props)), hasGraph: true };
}

function signature(input: TensorSignature['shape'], output: TensorSignature['shape']): ModelSignature {
  return {
    inputs: [{ name: 'images', type: 'float32', shape: input }],
    outputs: [{ name: 'output0', type: 'float32', shape: output }],
  };
}

const COCO_SIGNATURE = signature([1, 3, 640, 640], [1, 84, 8400]);

describe('yolov8Adapter.recognise', () => {
  it('recognises the standard COCO export', () => {
    const plan = yolov8Adapter.recognise(COCO_SIGNATURE, metadata(), { forced: false });
    expect(plan?.family).toBe('yolov8');
    expect(plan?.numClasses).toBe(80);
    expect(plan?.inputWidth).toBe(640);
    expect(plan?.inputHeight).toBe(640);
    expect(plan?.batchSize).toBe(1);
    expect(plan?.needsNms).toBe(true);
    expect(plan?.inputName).toBe('images');
    expect(plan?.params).toEqual({ outputName: 'output0' });
    expect(plan?.modelLabels).toBeUndefined();
    expect(plan?.preprocessing.padValue).toBe(114);
  });

  it('takes a free input size from imgsz metadata', () => {
    const plan = yolov8Adapter.recognise(signature(['batch', 3, 'height', 'width'], ['batch', 84, 'anchors']), metadata({ imgsz: '[480, 640]' }), {
      forced: false,
    });
    expect(plan?.batchSize).toBe('dynamic');
    expect(plan?.inputHeight).toBe(480);
    expect(plan?.inputWidth).toBe(640);
  });

  it('uses 640 for a free input size without metadata', () => {
    const plan = yolov8Adapter.recognise(signature([-1, 3, -1, -1], [-1, 84, -1]), metadata(), { forced: false });
    expect(plan?.batchSize).toBe('dynamic');
    expect(plan?.inputWidth).toBe(640);
    expect(plan?.inputHeight).toBe(640);
  });

  it('carries names and metadata problems', () => {
    const plan = yolov8Adapter.recognise(signature([1, 3, 64, 64], [1, 6, 84]), metadata({ names: "{0: 'a', 1: 'b'}", imgsz: 'oops' }), {
      forced: false,
    });
    expect(plan?.modelLabels).toEqual(['a', 'b']);
    expect(plan?.warnings).toHaveLength(1);
    expect(plan?.warnings[0]).toContain('"imgsz"');
  });

  it.each([
    ['an end-to-end output [1, 300, 6]', signature([1, 3, 640, 640], [1, 300, 6]), {}],
    ['a batch of 2', signature([2, 3, 640, 640], [2, 84, 8400]), {}],
    ['a single-channel input', signature([1, 1, 640, 640], [1, 84, 8400]), {}],
    ['a rank-4 output', signature([1, 3, 352, 352], [1, 85, 22, 22]), {}],
    ['four output rows', signature([1, 3, 640, 640], [1, 4, 8400]), {}],
    ['a segmentation task', COCO_SIGNATURE, { task: 'segment' }],
    ['an end-to-end export', COCO_SIGNATURE, { end2end: 'True' }],
    [
      'two outputs',
      { inputs: COCO_SIGNATURE.inputs, outputs: [...COCO_SIGNATURE.outputs, { name: 'output1', type: 'float32', shape: [1, 32, 160, 160] }] },
      {},
    ],
    ['a uint8 input', { inputs: [{ name: 'images', type: 'uint8', shape: [1, 3, 640, 640] }], outputs: COCO_SIGNATURE.outputs }, {}],
  ] as const)('rejects %s', (_case, modelSignature, props) => {
    expect(yolov8Adapter.recognise(modelSignature, metadata(props), { forced: false })).toBeUndefined();
  });

  it('accepts more rows than anchors only when forced', () => {
    const tallOutput = signature([1, 3, 64, 64], [1, 10, 6]);
    expect(yolov8Adapter.recognise(tallOutput, metadata(), { forced: false })).toBeUndefined();
    expect(yolov8Adapter.recognise(tallOutput, metadata(), { forced: true })?.numClasses).toBe(6);
  });
});

describe('recogniseModel', () => {
  it('lists yolov8 among the known families', () => {
    expect(knownFamilies()).toContain('yolov8');
  });

  it('returns the plan of the first matching family', () => {
    expect(recogniseModel(COCO_SIGNATURE, metadata()).plan?.family).toBe('yolov8');
  });

  it('returns the families tried when none matches', () => {
    const recognition = recogniseModel(signature([1, 4], [1, 4]), metadata());
    expect(recognition.plan).toBeUndefined();
    expect(recognition.tried.map((adapter) => adapter.family)).toEqual(knownFamilies());
  });

  it('throws for an unknown family name', () => {
    expect(() => recogniseModel(COCO_SIGNATURE, metadata(), 'yolov99')).toThrow('Unknown model family "yolov99"');
  });
});

describe('decodeYolov8Output', () => {
  // Two classes, three anchors; rows are cx, cy, w, h, score of class 0, score of class 1.
  const output = {
    type: 'float32',
    dims: [1, 6, 3],
    data: Float32Array.from([
      [10, 50, 90],
      [10, 50, 90],
      [4, 8, 2],
      [2, 4, 2],
      [0.9, 0.1, 0.25],
      [0.2, 0.6, 0.2],
    ].flat()),
  };
  const context = (overrides: Partial<DecodeContext> = {}): DecodeContext => ({
    sourceWidth: 100,
    sourceHeight: 100,
    minScore: 0.25,
    toSourceBox: (box) => box,
    ...overrides,
  });

  it('takes the best class of each anchor and converts centre boxes to corners', () => {
    const candidates = decodeYolov8Output(output, 2, context());
    expect(candidates.map((c) => c.classId)).toEqual([0, 1, 0]);
    expect(candidates.map((c) => c.score)).toEqual([Math.fround(0.9), Math.fround(0.6), 0.25]);
    expect(candidates[0]?.box).toEqual([8, 9, 12, 11]);
    expect(candidates[1]?.box).toEqual([46, 48, 54, 52]);
  });

  it('keeps a score equal to minScore and drops lower ones', () => {
    expect(decodeYolov8Output(output, 2, context({ minScore: 0.6 })).map((c) => c.classId)).toEqual([0, 1]);
  });

  it('only considers the wanted classes', () => {
    const candidates = decodeYolov8Output(output, 2, context({ classIds: new Set([1]), minScore: 0.1 }));
    expect(candidates.map((c) => [c.classId, c.score])).toEqual([
      [1, Math.fround(0.2)],
      [1, Math.fround(0.6)],
      [1, Math.fround(0.2)],
    ]);
  });

  it('maps boxes through the context', () => {
    const candidates = decodeYolov8Output(output, 2, context({ toSourceBox: (box) => box.map((v) => v * 2) as never }));
    expect(candidates[0]?.box).toEqual([16, 18, 24, 22]);
  });

  it('throws when the output does not match the class count', () => {
    expect(() => decodeYolov8Output(output, 3, context())).toThrow('Expected a YOLOv8 output of shape [1, 7, N], got [1, 6, 3]');
  });
});
