/**
 * Builders of small ONNX models with the input and output signature of each model family, for
 * tests. Their outputs are constants (or simple functions of the inputs, where a test needs to see
 * what went in), so decoding can be checked against known boxes, classes and scores.
 */
import { buildOnnxModel, constantNode, type NodeSpec, type OnnxElementType, type ValueInfoSpec } from './onnx-builder.js';

/** A constant output: its declared shape (symbolic dimensions allowed), the shape of the values and the values. */
export interface ConstantOutput {
  readonly name: string;
  readonly type?: OnnxElementType;
  /** Declared shape. Default: `dims`. */
  readonly shape?: readonly (number | string)[];
  readonly dims: readonly number[];
  readonly values: ArrayLike<number>;
}

/** Builds a model whose outputs are constants, whatever its inputs. */
export function buildConstantOutputsModel(
  inputs: readonly ValueInfoSpec[],
  outputs: readonly ConstantOutput[],
  metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  return buildOnnxModel({
    inputs,
    outputs: outputs.map((output) => ({ name: output.name, type: output.type ?? 'float32', shape: output.shape ?? output.dims })),
    nodes: outputs.map((output) => constantNode(output.name, { type: output.type ?? 'float32', dims: output.dims, values: output.values })),
    metadata,
  });
}

/** Options of {@link buildKerasYolo3Model}. */
export interface KerasYolo3ModelOptions {
  /** Per candidate box, `[y1, x1, y2, x2]` as fractions of the original image. */
  readonly normalisedBoxes: readonly (readonly number[])[];
  /** `scores[classId][boxIndex]`. */
  readonly scores: readonly (readonly number[])[];
  /** `(batch, class, box)` triples. */
  readonly indices: readonly (readonly number[])[];
  /** True for tiny-yolov3-11's `[1, k, 3]` indices; false for yolov3-10's `[k, 3]`. */
  readonly tinyIndices?: boolean;
}

/**
 * Builds a model with the keras-yolo3 zoo signature. Its boxes are the normalised boxes times
 * `image_shape` (`[h, w, h, w]`), so they come out in original-image pixels only when the runtime
 * feeds the original image size.
 */
export function buildKerasYolo3Model(options: KerasYolo3ModelOptions): Uint8Array {
  const candidates = options.normalisedBoxes.length;
  const classes = options.scores.length;
  const indicesDims = options.tinyIndices ? [1, options.indices.length, 3] : [options.indices.length, 3];
  const boxesName = options.tinyIndices ? 'yolonms_layer_1' : 'yolonms_layer_1/ExpandDims_1:0';
  const scoresName = options.tinyIndices ? 'yolonms_layer_1:1' : 'yolonms_layer_1/ExpandDims_3:0';
  const indicesName = options.tinyIndices ? 'yolonms_layer_1:2' : 'yolonms_layer_1/concat_2:0';

  const nodes: NodeSpec[] = [
    constantNode('normalised_boxes', { type: 'float32', dims: [1, candidates, 4], values: options.normalisedBoxes.flat() }),
    { opType: 'Concat', inputs: ['image_shape', 'image_shape'], outputs: ['hwhw'], attributes: { axis: { int: 1 } } },
    constantNode('unsqueeze_axes', { type: 'int64', dims: [1], values: [1] }),
    { opType: 'Unsqueeze', inputs: ['hwhw', 'unsqueeze_axes'], outputs: ['hwhw_3d'] },
    { opType: 'Mul', inputs: ['normalised_boxes', 'hwhw_3d'], outputs: [boxesName] },
    constantNode(scoresName, { type: 'float32', dims: [1, classes, candidates], values: options.scores.flat() }),
    constantNode(indicesName, { type: 'int32', dims: indicesDims, values: options.indices.flat() }),
  ];
  return buildOnnxModel({
    inputs: [
      { name: 'input_1', type: 'float32', shape: ['N', 3, 'height', 'width'] },
      { name: 'image_shape', type: 'float32', shape: ['N', 2] },
    ],
    outputs: [
      { name: boxesName, type: 'float32', shape: [1, 'n_candidates', 4] },
      { name: scoresName, type: 'float32', shape: [1, classes, 'n_candidates'] },
      { name: indicesName, type: 'int32', shape: options.tinyIndices ? [1, 'n_selected', 3] : ['n_selected', 3] },
    ],
    nodes,
  });
}

/** One TF Object Detection API detection: normalised `[y1, x1, y2, x2]`, score and category id. */
export interface TfDetection {
  readonly box: readonly [number, number, number, number];
  readonly score: number;
  readonly classId: number;
}

/** Builds a model with the TF Object Detection API SSD signature, with `:0` suffixes as the zoo's opset-10 file. */
export function buildTfOdApiModel(detections: readonly TfDetection[], numDetections: number): Uint8Array {
  const rows = detections.length;
  return buildConstantOutputsModel(
    [{ name: 'image_tensor:0', type: 'uint8', shape: [1, 'unk__height', 'unk__width', 3] }],
    [
      { name: 'detection_boxes:0', dims: [1, rows, 4], values: detections.flatMap((d) => d.box) },
      { name: 'detection_classes:0', dims: [1, rows], values: detections.map((d) => d.classId) },
      { name: 'detection_scores:0', dims: [1, rows], values: detections.map((d) => d.score) },
      { name: 'num_detections:0', dims: [1], values: [numDetections] },
    ],
  );
}

/** One nonzero entry of a RetinaNet head output. */
export interface RetinanetHit {
  /** Index of the level, 0 for the finest grid (stride 8). */
  readonly level: number;
  readonly anchor: number;
  readonly classId: number;
  readonly gx: number;
  readonly gy: number;
  readonly score: number;
  /** `dx, dy, dw, dh`. Default zeros, which give the anchor box itself. */
  readonly deltas?: readonly [number, number, number, number];
}

/**
 * Builds a model with the retinanet-9 signature for a `width` x `height` input: `output1`..`output5`
 * class heads and `output6`..`output10` box heads at strides 8 to 128, all zero except `hits`.
 */
export function buildRetinanetModel(width: number, height: number, numClasses: number, hits: readonly RetinanetHit[]): Uint8Array {
  const strides = [8, 16, 32, 64, 128];
  const grids = strides.map((stride) => [Math.ceil(height / stride), Math.ceil(width / stride)] as const);
  const classHeads = grids.map(([h, w]) => new Float32Array(9 * numClasses * h * w));
  const boxHeads = grids.map(([h, w]) => new Float32Array(9 * 4 * h * w));
  for (const hit of hits) {
    const [h, w] = grids[hit.level] as readonly [number, number];
    const plane = h * w;
    const cell = hit.gy * w + hit.gx;
    (classHeads[hit.level] as Float32Array)[(hit.anchor * numClasses + hit.classId) * plane + cell] = hit.score;
    (hit.deltas ?? [0, 0, 0, 0]).forEach((delta, k) => {
      (boxHeads[hit.level] as Float32Array)[(hit.anchor * 4 + k) * plane + cell] = delta;
    });
  }
  return buildConstantOutputsModel(
    [{ name: 'input', type: 'float32', shape: [1, 3, height, width] }],
    [
      ...grids.map(([h, w], level) => ({ name: `output${level + 1}`, dims: [1, 9 * numClasses, h, w], values: classHeads[level] as Float32Array })),
      ...grids.map(([h, w], level) => ({ name: `output${level + 6}`, dims: [1, 36, h, w], values: boxHeads[level] as Float32Array })),
    ],
  );
}

/** Options of {@link buildTorchvisionModel}. */
export interface TorchvisionModelOptions {
  /** Image input shape: `[3, H, W]` or `[1, 3, H, W]`, with symbolic or fixed height and width. */
  readonly inputShape: readonly (number | string)[];
  /** Per detection, `[x1, y1, x2, y2]` as fractions of the tensor's width and height. */
  readonly normalisedBoxes: readonly (readonly number[])[];
  readonly scores: readonly number[];
  readonly labels: readonly number[];
  /** Output order: `boxes, scores, labels` (RetinaNet) or `boxes, labels, scores` (Faster R-CNN). */
  readonly order?: 'retinanet' | 'faster-rcnn';
}

/**
 * Builds a model with a torchvision detection signature. Its boxes are the normalised boxes times
 * the input tensor's width and height, taken from the tensor's shape, so they come out in the
 * pixels of whatever tensor the runtime fed, as a real export's do.
 */
export function buildTorchvisionModel(options: TorchvisionModelOptions): Uint8Array {
  const rank = options.inputShape.length;
  const count = options.scores.length;
  const widthAxis = rank - 1;
  const heightAxis = rank - 2;
  const nodes: NodeSpec[] = [
    { opType: 'Shape', inputs: ['images'], outputs: ['input_shape'] },
    constantNode('size_axes', { type: 'int64', dims: [4], values: [widthAxis, heightAxis, widthAxis, heightAxis] }),
    { opType: 'Gather', inputs: ['input_shape', 'size_axes'], outputs: ['whwh_int'], attributes: { axis: { int: 0 } } },
    { opType: 'Cast', inputs: ['whwh_int'], outputs: ['whwh'], attributes: { to: { int: 1 } } },
    constantNode('normalised_boxes', { type: 'float32', dims: [count, 4], values: options.normalisedBoxes.flat() }),
    { opType: 'Mul', inputs: ['normalised_boxes', 'whwh'], outputs: ['boxes'] },
    constantNode('scores', { type: 'float32', dims: [count], values: options.scores }),
    constantNode('labels', { type: 'int64', dims: [count], values: options.labels }),
  ];
  const boxes: ValueInfoSpec = { name: 'boxes', type: 'float32', shape: ['N', 4] };
  const scores: ValueInfoSpec = { name: 'scores', type: 'float32', shape: ['N'] };
  const labels: ValueInfoSpec = { name: 'labels', type: 'int64', shape: ['N'] };
  return buildOnnxModel({
    inputs: [{ name: 'images', type: 'float32', shape: options.inputShape }],
    outputs: options.order === 'faster-rcnn' ? [boxes, labels, scores] : [boxes, scores, labels],
    nodes,
  });
}

/** Builds a model with one image input `[1, 3, size, size]` and one constant output of `rows` x `columns`. */
export function buildRowsModel(
  size: number,
  rows: readonly (readonly number[])[],
  metadata?: Readonly<Record<string, string>>,
  inputName = 'images',
): Uint8Array {
  const columns = rows[0]?.length ?? 0;
  return buildConstantOutputsModel(
    [{ name: inputName, type: 'float32', shape: [1, 3, size, size] }],
    [{ name: 'output0', dims: [1, rows.length, columns], values: rows.flat() }],
    metadata,
  );
}

/** Returns `count` rows of `columns` zeros, with `rows` written over the first ones. */
export function padRows(rows: readonly (readonly number[])[], count: number, columns: number): number[][] {
  return Array.from({ length: count }, (_, index) => [...(rows[index] ?? new Array<number>(columns).fill(0))]);
}

/** One FastestDet grid cell: objectness, raw regressors and class probabilities. */
export interface FastestDetCell {
  readonly gx: number;
  readonly gy: number;
  readonly objectness: number;
  readonly regressors: readonly [number, number, number, number];
  readonly classProbabilities: readonly number[];
}

/** Builds a model with FastestDet's signature: input `[1, 3, size, size]`, output `[1, 5 + nc, size/16, size/16]`. */
export function buildFastestDetModel(size: number, numClasses: number, cells: readonly FastestDetCell[]): Uint8Array {
  const grid = size / 16;
  const plane = grid * grid;
  const values = new Float32Array((5 + numClasses) * plane);
  for (const cell of cells) {
    const index = cell.gy * grid + cell.gx;
    values[index] = cell.objectness;
    cell.regressors.forEach((value, k) => {
      values[(1 + k) * plane + index] = value;
    });
    cell.classProbabilities.forEach((value, classId) => {
      values[(5 + classId) * plane + index] = value;
    });
  }
  return buildConstantOutputsModel(
    [{ name: 'input.1', type: 'float32', shape: [1, 3, size, size] }],
    [{ name: '758', dims: [1, 5 + numClasses, grid, grid], values }],
  );
}

/**
 * Builds a YOLOv8-layout model with a free batch dimension, `[batch, 3, 64, 64]` to
 * `[batch, 7, 8]` (three classes, eight anchors of which the last five are empty), whose scores
 * reveal how it was run:
 * - anchor 0 (box centre 8, 8), class 0 scores `0.05 + 0.2 * i`, where `i` is the image's index in the batch;
 * - anchor 1 (box centre 40, 8), class 1 scores `0.1 * n`, where `n` is the number of images in the batch;
 * - anchor 2 (box centre 24, 40), class 2 scores the image's mean input value (its pixel value / 255 for a uniform image).
 * Every box is 16 x 16.
 */
export function buildBatchProbeModel(): Uint8Array {
  const channels = 7;
  // More anchors than channels, as in any real YOLOv8 output; anchors 3..7 stay empty.
  const anchors = 8;
  // Channels first: entry (row, anchor) at row * anchors + anchor.
  const pattern = (entries: readonly (readonly [number, number, number])[]): number[] => {
    const values = new Array<number>(channels * anchors).fill(0);
    for (const [row, anchor, value] of entries) values[row * anchors + anchor] = value;
    return values;
  };
  const base = pattern([
    [0, 0, 8], [1, 0, 8], [2, 0, 16], [3, 0, 16],
    [0, 1, 40], [1, 1, 8], [2, 1, 16], [3, 1, 16],
    [0, 2, 24], [1, 2, 40], [2, 2, 16], [3, 2, 16],
    [4, 0, 0.05],
  ]);
  const tensor = (values: number[]) => ({ type: 'float32' as const, dims: [1, channels, anchors], values });

  const nodes: NodeSpec[] = [
    { opType: 'Shape', inputs: ['images'], outputs: ['input_shape'] },
    constantNode('zero', { type: 'int64', dims: [], values: [0] }),
    constantNode('one', { type: 'int64', dims: [], values: [1] }),
    { opType: 'Gather', inputs: ['input_shape', 'zero'], outputs: ['batch_int'], attributes: { axis: { int: 0 } } },
    { opType: 'Range', inputs: ['zero', 'batch_int', 'one'], outputs: ['index_int'] },
    { opType: 'Cast', inputs: ['index_int'], outputs: ['index_flat'], attributes: { to: { int: 1 } } },
    constantNode('column_shape', { type: 'int64', dims: [3], values: [-1, 1, 1] }),
    { opType: 'Reshape', inputs: ['index_flat', 'column_shape'], outputs: ['index'] },
    { opType: 'Cast', inputs: ['batch_int'], outputs: ['batch'], attributes: { to: { int: 1 } } },
    { opType: 'ReduceMean', inputs: ['images'], outputs: ['mean_4d'], attributes: { axes: { ints: [1, 2, 3] }, keepdims: { int: 1 } } },
    { opType: 'Reshape', inputs: ['mean_4d', 'column_shape'], outputs: ['mean'] },
    constantNode('base', tensor(base)),
    constantNode('index_pattern', tensor(pattern([[4, 0, 0.2]]))),
    constantNode('batch_pattern', tensor(pattern([[5, 1, 0.1]]))),
    constantNode('mean_pattern', tensor(pattern([[6, 2, 1]]))),
    { opType: 'Mul', inputs: ['index', 'index_pattern'], outputs: ['index_part'] },
    { opType: 'Mul', inputs: ['batch', 'batch_pattern'], outputs: ['batch_part'] },
    { opType: 'Mul', inputs: ['mean', 'mean_pattern'], outputs: ['mean_part'] },
    { opType: 'Add', inputs: ['base', 'index_part'], outputs: ['sum_1'] },
    { opType: 'Add', inputs: ['sum_1', 'batch_part'], outputs: ['sum_2'] },
    { opType: 'Add', inputs: ['sum_2', 'mean_part'], outputs: ['output0'] },
  ];
  return buildOnnxModel({
    inputs: [{ name: 'images', type: 'float32', shape: ['batch', 3, 64, 64] }],
    outputs: [{ name: 'output0', type: 'float32', shape: ['batch', channels, anchors] }],
    nodes,
    metadata: { names: "{0: 'index', 1: 'size', 2: 'mean'}" },
  });
}
