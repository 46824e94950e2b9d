/**
 * Recognition of the models with one image input and one rank-3 output `[1, A, B]`: YOLOv8/YOLO11
 * (`[1, 4 + nc, N]`, channels first), YOLOv5 and decoded YOLOv3 rows (`[1, N, 5 + nc]`),
 * end-to-end YOLO exports (`[1, K, 6]` of `x1, y1, x2, y2, score, class`) and RT-DETR
 * (`[1, K, 4 + nc]` or `[1, K, 6]` with normalised `cx, cy, w, h`). The shapes overlap, so the
 * four adapters share one classification and each accepts only its own layout.
 */
import { fixedDim, type ModelSignature, type TensorSignature } from './adapter.js';
import type { OnnxMetadata } from './onnx-metadata.js';
import { isPythonDict, parsePythonLiteral } from './python-literal.js';
import { readUltralyticsMetadata, type UltralyticsMetadata } from './ultralytics-metadata.js';

/** Input size used when the model leaves height and width free and has no `imgsz` metadata. */
export const DEFAULT_ULTRALYTICS_INPUT_SIZE = 640;

/**
 * What a single rank-3 output holds:
 * - `yolov8`: `[1, 4 + nc, N]`;
 * - `yolov5`: `[1, N, 5 + nc]`;
 * - `end2end`: `[1, K, 6]` with pixel corners;
 * - `rtdetr-scores`: `[1, K, 4 + nc]`;
 * - `rtdetr-topk`: `[1, K, 6]` with normalised centres;
 * - `end2end-or-rtdetr`: a `[1, K, 6]` output whose metadata cannot separate the last two.
 */
export type SingleOutputLayout = 'yolov8' | 'yolov5' | 'end2end' | 'rtdetr-scores' | 'rtdetr-topk' | 'end2end-or-rtdetr';

/** The parts of a single-output model that recognition looks at. */
export interface SingleOutputModel {
  readonly input: TensorSignature;
  readonly output: TensorSignature;
  readonly inputWidth: number;
  readonly inputHeight: number;
  /** 1, or `'dynamic'` when the batch dimension of the input is free. */
  readonly batchSize: 1 | 'dynamic';
  /** Output dimension 1, when fixed. */
  readonly rows?: number;
  /** Output dimension 2, when fixed. */
  readonly columns?: number;
  readonly ultralytics: UltralyticsMetadata;
  /**
   * True when the metadata comes from the `ultralytics` package (it writes `author`, `task` and
   * `imgsz`). The older `yolov5` repository writes only `stride` and `names`.
   */
  readonly fromUltralyticsPackage: boolean;
  /** True when the metadata description names RT-DETR, such as "Ultralytics rtdetr-l model". */
  readonly describesRtdetr: boolean;
  /** True when the export arguments in `args` contain `'nms': True`. */
  readonly exportedWithNms: boolean;
}

/**
 * Returns the model's input and output when it has one float32 image input `[1 | batch, 3, H, W]`
 * and one float32 output `[1 | batch, A, B]`, or `undefined` for any other signature.
 */
export function readSingleOutputModel(signature: ModelSignature, metadata: OnnxMetadata): SingleOutputModel | undefined {
  const [input, ...otherInputs] = signature.inputs;
  const [output, ...otherOutputs] = signature.outputs;
  if (!input || !output || otherInputs.length > 0 || otherOutputs.length > 0) return undefined;
  if (input.type !== 'float32' || output.type !== 'float32') return undefined;
  if (input.shape.length !== 4 || output.shape.length !== 3) return undefined;

  const inputBatch = fixedDim(input.shape[0]);
  if (inputBatch !== undefined && inputBatch !== 1) return undefined;
  if (fixedDim(input.shape[1]) !== 3) return undefined;
  const outputBatch = fixedDim(output.shape[0]);
  if (outputBatch !== undefined && outputBatch !== 1) return undefined;

  const props = metadata.metadataProps;
  const ultralytics = readUltralyticsMetadata(props);
  return {
    input,
    output,
    inputHeight: fixedDim(input.shape[2]) ?? ultralytics.imgsz?.[0] ?? DEFAULT_ULTRALYTICS_INPUT_SIZE,
    inputWidth: fixedDim(input.shape[3]) ?? ultralytics.imgsz?.[1] ?? DEFAULT_ULTRALYTICS_INPUT_SIZE,
    batchSize: inputBatch ?? 'dynamic',
    rows: fixedDim(output.shape[1]),
    columns: fixedDim(output.shape[2]),
    ultralytics,
    fromUltralyticsPackage: (props.get('author') ?? '').includes('Ultralytics') || props.has('task') || props.has('imgsz'),
    describesRtdetr: /rt-?detr/i.test(props.get('description') ?? ''),
    exportedWithNms: readNmsArgument(props.get('args')),
  };
}

/**
 * Classifies the output of a single-output model, first from Ultralytics metadata and then from
 * the shape alone:
 * 1. metadata naming RT-DETR: RT-DETR, `[1, K, 6]` read as the newer top-k layout;
 * 2. `end2end` metadata or an export with `nms=True`: end-to-end `[1, K, 6]`;
 * 3. more columns than rows: YOLOv8 (channels first);
 * 4. other `ultralytics` package metadata: `[1, K, 6]` is end-to-end, anything else RT-DETR;
 * 5. a row count equal to a YOLO anchor grid for the input size (3 anchors per cell at strides
 *    8/16/32, 8/16/32/64 or 16/32): YOLOv5;
 * 6. `[1, K, 6]`: end-to-end or RT-DETR, decided per image from the box values;
 * 7. `5 + nc` columns: YOLOv5; `4 + nc` columns: RT-DETR, with `nc` from the metadata names, else
 *    the caller's labels, else 80;
 * 8. anything else with more than 5 columns: YOLOv5.
 *
 * @param labelCount Number of class names the caller passed, when any.
 * @returns `undefined` for a task other than `detect` or a shape none of the layouts can have.
 */
export function classifySingleOutput(model: SingleOutputModel, labelCount?: number): SingleOutputLayout | undefined {
  const { rows, columns, ultralytics } = model;
  if (ultralytics.task !== undefined && ultralytics.task !== 'detect') return undefined;
  if (rows === undefined && columns === undefined) return undefined;
  if (model.describesRtdetr) return rtdetrLayout(columns);
  if (ultralytics.end2end === true || model.exportedWithNms) return columns === 6 ? 'end2end' : undefined;

  const channelsFirst = columns === undefined || (rows !== undefined && rows < columns);
  if (channelsFirst) return rows !== undefined && rows > 4 ? 'yolov8' : undefined;
  if (rows === undefined) return columns > 5 ? 'yolov5' : undefined;
  // From the ultralytics package, only end-to-end YOLO and RT-DETR exports have more rows than columns.
  if (model.fromUltralyticsPackage) return columns === 6 ? 'end2end' : rtdetrLayout(columns);
  if (isYoloAnchorCount(rows, model.inputWidth, model.inputHeight)) return columns > 5 ? 'yolov5' : undefined;
  if (columns === 6) return 'end2end-or-rtdetr';

  const classCount = ultralytics.names?.length ?? labelCount ?? 80;
  if (columns - 5 === classCount) return 'yolov5';
  if (columns - 4 === classCount) return 'rtdetr-scores';
  return columns > 5 ? 'yolov5' : undefined;
}

/** RT-DETR's layout for an output with `columns` columns: top-k for 6, per-class scores above 4. */
function rtdetrLayout(columns: number | undefined): SingleOutputLayout | undefined {
  if (columns === 6) return 'rtdetr-topk';
  if (columns !== undefined && columns > 4) return 'rtdetr-scores';
  return undefined;
}

/** Stride sets of anchor-based YOLO heads: P3-P5, P3-P6 (YOLOv5 `*6` models) and tiny P4-P5. */
const ANCHOR_STRIDE_SETS: readonly (readonly number[])[] = [
  [8, 16, 32],
  [8, 16, 32, 64],
  [16, 32],
];

/** Anchors per grid cell of YOLOv3 and YOLOv5 heads. */
const ANCHORS_PER_CELL = 3;

/** True when `rows` equals the number of anchor rows a YOLOv3/v5 head has for a `width` x `height` input. */
export function isYoloAnchorCount(rows: number, width: number, height: number): boolean {
  return ANCHOR_STRIDE_SETS.some(
    (strides) => strides.reduce((total, stride) => total + Math.ceil(width / stride) * Math.ceil(height / stride) * ANCHORS_PER_CELL, 0) === rows,
  );
}

/** Reads `'nms': True` from the Python dict in the `args` metadata; false when absent or unreadable. */
function readNmsArgument(args: string | undefined): boolean {
  if (args === undefined) return false;
  try {
    const value = parsePythonLiteral(args);
    return isPythonDict(value) && value.entries.some(([key, setting]) => key === 'nms' && setting === true);
  } catch {
    // An unreadable `args` only means the shape rules decide; `names` and `imgsz` problems are reported elsewhere.
    return false;
  }
}
