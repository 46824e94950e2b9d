/**
 * A synthetic convolutional detector with a free batch dimension, for the multi-source row: neither
 * shared model has a dynamic batch. It has the YOLOv8 signature (`images` [batch, 3, 640, 640] ->
 * `output0` [batch, 84, 6400]) and a stack of 3x3 convolutions of about 7.9 GFLOPs per image, close
 * to YOLOv8n's 8.7 GFLOPs at 640x640.
 * Weights are fixed pseudo-random values; class scores end near 0.7 %, so decoding sees no
 * detections and NMS does no work, as on an empty scene.
 */
import { buildOnnxModel, type NodeSpec, type TensorSpec } from '../test/helpers/onnx-builder.js';

/** One convolution layer: output channels, stride. */
const LAYERS: readonly (readonly [channels: number, stride: number])[] = [
  [32, 2],
  [64, 2],
  [128, 2],
  [128, 1],
  [128, 1],
  [128, 1],
];
const INPUT_SIZE = 640;
const CLASSES = 80;
/** Bias of the output layer: sigmoid(-5) is about 0.0067, far below any useful `minScore`. */
const OUTPUT_BIAS = -5;

/** Deterministic values in [-1, 1), so every build of the model is identical. */
function pseudoRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  };
}

/** Builds the model's `.onnx` bytes. */
export function buildSyntheticConvModel(): Uint8Array {
  const random = pseudoRandom(42);
  const nodes: NodeSpec[] = [];
  const initializers: (TensorSpec & { name: string })[] = [];
  const addWeights = (name: string, dims: readonly number[], scale: number, offset = 0): void => {
    const count = dims.reduce((product, dim) => product * dim, 1);
    const values = new Float32Array(count);
    for (let index = 0; index < count; index += 1) values[index] = offset + random() * scale;
    initializers.push({ name, type: 'float32', dims, values });
  };

  let input = 'images';
  let channels = 3;
  LAYERS.forEach(([outChannels, stride], index) => {
    // He-style scale keeps activations in range through the ReLU stack.
    addWeights(`w${index}`, [outChannels, channels, 3, 3], Math.sqrt(6 / (channels * 9)));
    addWeights(`b${index}`, [outChannels], 0.01);
    nodes.push({
      opType: 'Conv',
      inputs: [input, `w${index}`, `b${index}`],
      outputs: [`conv${index}`],
      attributes: { kernel_shape: { ints: [3, 3] }, strides: { ints: [stride, stride] }, pads: { ints: [1, 1, 1, 1] } },
    });
    nodes.push({ opType: 'Relu', inputs: [`conv${index}`], outputs: [`relu${index}`] });
    input = `relu${index}`;
    channels = outChannels;
  });

  const outputs = 4 + CLASSES;
  addWeights('head_w', [outputs, channels, 1, 1], 0.01);
  addWeights('head_b', [outputs], 0.01, OUTPUT_BIAS);
  nodes.push({ opType: 'Conv', inputs: [input, 'head_w', 'head_b'], outputs: ['head'], attributes: { kernel_shape: { ints: [1, 1] } } });
  nodes.push({ opType: 'Sigmoid', inputs: ['head'], outputs: ['scores'] });
  initializers.push({ name: 'output_shape', type: 'int64', dims: [3], values: [0, outputs, -1] });
  nodes.push({ opType: 'Reshape', inputs: ['scores', 'output_shape'], outputs: ['output0'] });

  const gridSize = INPUT_SIZE / 8;
  return buildOnnxModel({
    inputs: [{ name: 'images', type: 'float32', shape: ['batch', 3, INPUT_SIZE, INPUT_SIZE] }],
    outputs: [{ name: 'output0', type: 'float32', shape: ['batch', outputs, gridSize * gridSize] }],
    nodes,
    initializers,
  });
}
