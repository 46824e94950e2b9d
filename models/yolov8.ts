/**
 * YOLOv8 / YOLO11 detection models exported by Ultralytics (also YOLOv5u and YOLOv9 from the
 * Ultralytics package): anchor-free, no objectness, boxes already decoded by the graph.
 *
 * Input: one float32 image `[1 | batch, 3, H, W]`, RGB 0..1, letterboxed with 114.
 * Output: one float32 tensor `[1, 4 + nc, N]`, channels first: rows 0-3 are `cx, cy, w, h` in
 * model-input pixels, rows `4 ..` are the class scores. `N` is the number of anchor points
 * (8400 at 640x640), which is larger than `4 + nc` for any practical class count.
 */
import type { BoxXYXY } from '../src/types.js';
import type { Candidate, DecodeContext, ModelAdapter, ModelPlan, RawTensor } from './adapter.js';
import { COCO80_LABELS } from './labels.js';
import { requireOutput } from './output-tensors.js';
import { ULTRALYTICS_PREPROCESSING } from './preprocess.js';
import { classifySingleOutput, readSingleOutputModel } from './single-output-layout.js';

/** Decoding parameters of a YOLOv8 plan. */
export interface Yolov8Params {
  /** Name of the single output. */
  readonly outputName: string;
}

/** The YOLOv8 / YOLO11 adapter. */
export const yolov8Adapter: ModelAdapter<Yolov8Params> = {
  family: 'yolov8',
  expectedLayout: 'yolov8 (YOLOv8/YOLO11): one float32 input [1, 3, H, W] and one float32 output [1, 4+classes, N] with 4+classes < N',

  recognise(signature, metadata, { forced, labelCount }) {
    const model = readSingleOutputModel(signature, metadata);
    if (!model) return undefined;
    const channels = model.rows;
    if (channels === undefined || channels <= 4) return undefined;
    const { ultralytics } = model;
    if (ultralytics.task !== undefined && ultralytics.task !== 'detect') return undefined;
    if (ultralytics.end2end === true) return undefined;
    // [1, 300, 6] end-to-end outputs (YOLOv10, RT-DETR) have more rows than columns; only a named family may skip this.
    if (!forced && classifySingleOutput(model, labelCount) !== 'yolov8') return undefined;

    const plan: ModelPlan<Yolov8Params> = {
      family: 'yolov8',
      inputName: model.input.name,
      inputWidth: model.inputWidth,
      inputHeight: model.inputHeight,
      batchSize: model.batchSize,
      numClasses: channels - 4,
      preprocessing: ULTRALYTICS_PREPROCESSING,
      needsNms: true,
      modelLabels: ultralytics.names,
      defaultLabels: COCO80_LABELS,
      warnings: ultralytics.problems,
      params: { outputName: model.output.name },
    };
    return plan;
  },

  decode(outputs, plan, context) {
    return decodeYolov8Output(requireOutput(outputs, plan.params.outputName), plan.numClasses, context);
  },
};

/**
 * Decodes a `[1, 4 + numClasses, N]` channels-first output: for each anchor point, the best class
 * among the wanted ones, kept when its score is at least `context.minScore`.
 *
 * @throws Error when the output shape does not match `numClasses`.
 */
export function decodeYolov8Output(output: RawTensor, numClasses: number, context: DecodeContext): Candidate[] {
  const [batch, channels, anchors] = output.dims;
  if (output.dims.length !== 3 || batch !== 1 || channels !== 4 + numClasses || anchors === undefined) {
    throw new Error(`Expected a YOLOv8 output of shape [1, ${4 + numClasses}, N], got [${output.dims.join(', ')}]`);
  }
  const data = output.data;
  if (!(data instanceof Float32Array)) throw new Error(`Expected a float32 YOLOv8 output, got ${output.type}`);

  // Scanning class rows one after another reads memory in order, unlike scanning each anchor's column.
  const bestScore = new Float32Array(anchors).fill(-Infinity);
  const bestClass = new Int32Array(anchors).fill(-1);
  for (let classId = 0; classId < numClasses; classId += 1) {
    if (context.classIds && !context.classIds.has(classId)) continue;
    const row = (4 + classId) * anchors;
    for (let anchor = 0; anchor < anchors; anchor += 1) {
      const score = data[row + anchor] as number;
      if (score > (bestScore[anchor] as number)) {
        bestScore[anchor] = score;
        bestClass[anchor] = classId;
      }
    }
  }

  const candidates: Candidate[] = [];
  for (let anchor = 0; anchor < anchors; anchor += 1) {
    const score = bestScore[anchor] as number;
    if (!(score >= context.minScore)) continue;
    const cx = data[anchor] as number;
    const cy = data[anchors + anchor] as number;
    const halfWidth = (data[2 * anchors + anchor] as number) / 2;
    const halfHeight = (data[3 * anchors + anchor] as number) / 2;
    const box: BoxXYXY = [cx - halfWidth, cy - halfHeight, cx + halfWidth, cy + halfHeight];
    candidates.push({ classId: bestClass[anchor] as number, score, box: context.toSourceBox(box) });
  }
  return candidates;
}
