import { buildOnnxModel, type NodeSpec, type TensorSpec } from './onnx-builder.js';

/** Side of the model input in pixels. */
const SIZE = 64;

/** Anchor columns of the output; only the first carries the detection, the others score 0. */
const ANCHORS = 8;

/**
 * Builds a YOLOv8-shaped model (`images` [1,3,64,64] -> `output0` [1,5,8], one class) that
 * finds red pixels, so its detection follows the picture instead of being a constant.
 *
 * Each pixel gets the weight `max(0, R - G - B - 0.5)`, with channels in 0..1. Anchor 0 is the
 * square centred on the weighted centroid whose area equals the summed weight, in model-input
 * pixels. Its score is `total / (total + 1)`: about 1 for a solid red square and 0 without red.
 * Letterbox borders (grey) and blue or black backgrounds weigh 0.
 */
export function buildRedSquareModel(): Uint8Array {
  const xs = new Float32Array(SIZE * SIZE);
  const ys = new Float32Array(SIZE * SIZE);
  for (let y = 0; y < SIZE; y += 1) {
    for (let x = 0; x < SIZE; x += 1) {
      // Pixel centres, so a square covering columns 0..9 has its centre at 5.
      xs[y * SIZE + x] = x + 0.5;
      ys[y * SIZE + x] = y + 0.5;
    }
  }
  const scalar = (name: string, value: number): TensorSpec & { name: string } => ({ name, type: 'float32', dims: [], values: [value] });

  const initializers: (TensorSpec & { name: string })[] = [
    { name: 'grid_x', type: 'float32', dims: [1, 1, SIZE, SIZE], values: xs },
    { name: 'grid_y', type: 'float32', dims: [1, 1, SIZE, SIZE], values: ys },
    scalar('half', 0.5),
    scalar('one', 1),
    scalar('epsilon', 1e-6),
    { name: 'column_shape', type: 'int64', dims: [3], values: [1n, 1n, 1n] },
    { name: 'empty_anchors', type: 'float32', dims: [1, 5, ANCHORS - 1], values: new Float32Array(5 * (ANCHORS - 1)) },
  ];

  const node = (opType: string, inputs: string[], outputs: string[], attributes?: NodeSpec['attributes']): NodeSpec => ({
    opType,
    inputs,
    outputs,
    attributes,
  });
  const nodes: NodeSpec[] = [
    node('Split', ['images'], ['red', 'green', 'blue'], { axis: { int: 1 } }),
    node('Sub', ['red', 'green'], ['red_minus_green']),
    node('Sub', ['red_minus_green', 'blue'], ['redness']),
    node('Sub', ['redness', 'half'], ['redness_above_half']),
    node('Relu', ['redness_above_half'], ['weight']),
    node('ReduceSum', ['weight'], ['total'], { keepdims: { int: 1 } }),
    node('Mul', ['weight', 'grid_x'], ['weighted_x']),
    node('Mul', ['weight', 'grid_y'], ['weighted_y']),
    node('ReduceSum', ['weighted_x'], ['sum_x'], { keepdims: { int: 1 } }),
    node('ReduceSum', ['weighted_y'], ['sum_y'], { keepdims: { int: 1 } }),
    node('Add', ['total', 'epsilon'], ['safe_total']),
    node('Div', ['sum_x', 'safe_total'], ['centre_x']),
    node('Div', ['sum_y', 'safe_total'], ['centre_y']),
    node('Sqrt', ['total'], ['side']),
    node('Add', ['total', 'one'], ['total_plus_one']),
    node('Div', ['total', 'total_plus_one'], ['score']),
    ...['centre_x', 'centre_y', 'side', 'score'].map((name) => node('Reshape', [name, 'column_shape'], [`${name}_column`])),
    node('Concat', ['centre_x_column', 'centre_y_column', 'side_column', 'side_column', 'score_column'], ['detection'], {
      axis: { int: 1 },
    }),
    node('Concat', ['detection', 'empty_anchors'], ['output0'], { axis: { int: 2 } }),
  ];

  return buildOnnxModel({
    inputs: [{ name: 'images', type: 'float32', shape: [1, 3, SIZE, SIZE] }],
    outputs: [{ name: 'output0', type: 'float32', shape: [1, 5, ANCHORS] }],
    nodes,
    initializers,
    metadata: { names: "{0: 'red square'}" },
  });
}
