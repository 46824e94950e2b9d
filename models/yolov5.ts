/**
 * YOLOv5 exports of the `ultralytics/yolov5` repository, and YOLOv3/TinyYOLOv3 exports with the
 * same decoded rows (Ultralytics' yolov3 repository, ImageAI 3's YOLOv3): anchor-based, with
 * objectness, boxes already decoded by the graph.
 *
 * Input: one float32 image `[1 | batch, 3, H, W]`, RGB 0..1, letterboxed.
 * Output: one float32 tensor `[1, N, 5 + nc]`: each row is `cx, cy, w, h` in model-input pixels,
 * the objectness and the `nc` class probabilities, all after the sigmoid. The score of a class is
 * objectness × class probability, as YOLOv5's `non_max_suppression` computes it.
 *
 * Two families share the decoder. `yolov5` is recognised from the shape and pads with 114, as
 * YOLOv5 does. `yolov3` is only used when named by the `family` option and pads with 128, as
 * keras-yolo3 and ImageAI do; the two layouts cannot be told apart from the model file.
 */
import type { BoxXYXY } from '../src/types.js';
import type { Candidate, DecodeContext, ModelAdapter, ModelPlan, RawTensor } from './adapter.js';
import { COCO80_LABELS } from './labels.js';
import { requireOutput } from './output-tensors.js';
import { ULTRALYTICS_PREPROCESSING, type InputPreprocessing } from './preprocess.js';
import { classifySingleOutput, readSingleOutputModel } from './single-output-layout.js';

/** Decoding parameters of a YOLOv5 or YOLOv3 plan. */
export interface Yolov5Params {
  /** Name of the single output. */
  readonly outputName: string;
}

/** YOLOv3 input as keras-yolo3 and ImageAI prepare it: letterbox padded with 128, RGB, NCHW float32 in 0..1. */
const YOLOV3_PREPROCESSING: InputPreprocessing = Object.freeze<InputPreprocessing>({ ...ULTRALYTICS_PREPROCESSING, padValue: 128 });

/** The YOLOv5 adapter, recognised from the output shape. */
export const yolov5Adapter: ModelAdapter<Yolov5Params> = {
  family: 'yolov5',
  expectedLayout: 'yolov5 (YOLOv5, decoded YOLOv3 rows): one float32 input [1, 3, H, W] and one float32 output [1, N, 5+classes] with N > 5+classes',
  recognise: (signature, metadata, options) => recogniseRows('yolov5', ULTRALYTICS_PREPROCESSING, signature, metadata, options),
  decode: (outputs, plan, context) => decodeYolov5Output(requireOutput(outputs, plan.params.outputName), plan.numClasses, context),
};

/** The YOLOv3 adapter: the YOLOv5 layout with 128 padding, used only when named by the `family` option. */
export const yolov3Adapter: ModelAdapter<Yolov5Params> = {
  family: 'yolov3',
  expectedLayout: 'yolov3 (decoded YOLOv3/TinyYOLOv3 rows, only when named by the family option): the yolov5 layout',
  recognise: (signature, metadata, options) =>
    options.forced ? recogniseRows('yolov3', YOLOV3_PREPROCESSING, signature, metadata, options) : undefined,
  decode: (outputs, plan, context) => decodeYolov5Output(requireOutput(outputs, plan.params.outputName), plan.numClasses, context),
};

function recogniseRows(
  family: string,
  preprocessing: InputPreprocessing,
  ...[signature, metadata, { forced, labelCount }]: Parameters<ModelAdapter['recognise']>
): ModelPlan<Yolov5Params> | undefined {
  const model = readSingleOutputModel(signature, metadata);
  if (!model || model.columns === undefined || model.columns <= 5) return undefined;
  if (!forced && classifySingleOutput(model, labelCount) !== 'yolov5') return undefined;

  const { ultralytics } = model;
  return {
    family,
    inputName: model.input.name,
    inputWidth: model.inputWidth,
    inputHeight: model.inputHeight,
    batchSize: model.batchSize,
    numClasses: model.columns - 5,
    preprocessing,
    needsNms: true,
    modelLabels: ultralytics.names,
    defaultLabels: COCO80_LABELS,
    warnings: ultralytics.problems,
    params: { outputName: model.output.name },
  };
}

/**
 * Decodes a `[1, N, 5 + numClasses]` output: for each row, the best wanted class by objectness ×
 * class probability, kept when that score is at least `context.minScore`.
 *
 * @throws Error when the output shape does not match `numClasses`.
 */
export function decodeYolov5Output(output: RawTensor, numClasses: number, context: DecodeContext): Candidate[] {
  const [batch, rows, columns] = output.dims;
  if (output.dims.length !== 3 || batch !== 1 || columns !== 5 + numClasses || rows === undefined) {
    throw new Error(`Expected a YOLOv5 output of shape [1, N, ${5 + numClasses}], got [${output.dims.join(', ')}]`);
  }
  const data = output.data;
  if (!(data instanceof Float32Array)) throw new Error(`Expected a float32 YOLOv5 output, got ${output.type}`);

  const candidates: Candidate[] = [];
  for (let row = 0; row < rows; row += 1) {
    const offset = row * columns;
    const objectness = data[offset + 4] as number;
    // Class probabilities are at most 1, so a row whose objectness is below the cut cannot pass it.
    if (!(objectness >= context.minScore)) continue;

    let bestScore = -Infinity;
    let bestClass = -1;
    for (let classId = 0; classId < numClasses; classId += 1) {
      if (context.classIds && !context.classIds.has(classId)) continue;
      const score = objectness * (data[offset + 5 + classId] as number);
      if (score > bestScore) {
        bestScore = score;
        bestClass = classId;
      }
    }
    if (!(bestScore >= context.minScore)) continue;

    const cx = data[offset] as number;
    const cy = data[offset + 1] as number;
    const halfWidth = (data[offset + 2] as number) / 2;
    const halfHeight = (data[offset + 3] as number) / 2;
    const box: BoxXYXY = [cx - halfWidth, cy - halfHeight, cx + halfWidth, cy + halfHeight];
    candidates.push({ classId: bestClass, score: bestScore, box: context.toSourceBox(box) });
  }
  return candidates;
}
