import { buildOnnxModel, constantNode } from './onnx-builder.js';

/** Options of {@link buildConstantYolov8Model}. */
export interface ConstantYolov8Options {
  /**
   * One entry per anchor point: `[cx, cy, w, h, score of class 0, score of class 1, ...]` in
   * model-input pixels. Every entry has `4 + numClasses` values.
   */
  readonly anchors: readonly (readonly number[])[];
  /** Shape of the image input. Default `[1, 3, 64, 64]`. */
  readonly inputShape?: readonly (number | string)[];
  /** Declared shape of the output. Default `[1, 4 + numClasses, anchors.length]`. */
  readonly outputShape?: readonly (number | string)[];
  readonly metadata?: Readonly<Record<string, string>>;
}

/**
 * Builds a model with the YOLOv8 signature (`images` -> `output0` `[1, 4 + nc, N]`) whose output
 * is a constant, so decoding can be checked against known boxes whatever the input image.
 */
export function buildConstantYolov8Model(options: ConstantYolov8Options): Uint8Array {
  const anchors = options.anchors;
  const channels = anchors[0]?.length ?? 0;
  if (anchors.some((anchor) => anchor.length !== channels)) throw new Error('Every anchor needs the same number of values');

  // Channels first: row r contains value r of every anchor.
  const values = new Float32Array(channels * anchors.length);
  anchors.forEach((anchor, column) => {
    anchor.forEach((value, row) => {
      values[row * anchors.length + column] = value;
    });
  });

  return buildOnnxModel({
    inputs: [{ name: 'images', type: 'float32', shape: options.inputShape ?? [1, 3, 64, 64] }],
    outputs: [{ name: 'output0', type: 'float32', shape: options.outputShape ?? [1, channels, anchors.length] }],
    nodes: [constantNode('output0', { type: 'float32', dims: [1, channels, anchors.length], values })],
    metadata: options.metadata,
  });
}

/** Builds a model with one input and one output of the same shape, which matches no detector family. */
export function buildIdentityModel(shape: readonly (number | string)[] = [1, 4]): Uint8Array {
  return buildOnnxModel({
    inputs: [{ name: 'x', type: 'float32', shape }],
    outputs: [{ name: 'y', type: 'float32', shape }],
    nodes: [{ opType: 'Identity', inputs: ['x'], outputs: ['y'] }],
  });
}
