/**
 * End-to-end YOLO exports: YOLOv10 and YOLO26 heads, and any Ultralytics model exported with
 * `nms=True`. The graph selects the final boxes itself, so no NMS runs afterwards.
 *
 * Input: one float32 image `[1 | batch, 3, H, W]`, RGB 0..1, letterboxed with 114.
 * Output: one float32 tensor `[1, K, 6]` (K is `max_det`, 300 by default): each row is
 * `x1, y1, x2, y2` in model-input pixels, the score and the class index as a float. End-to-end
 * heads fill every row (low scores included); `nms=True` exports pad unused rows with zeros.
 *
 * Newer RT-DETR exports have the same `[1, K, 6]` shape with normalised `cx, cy, w, h` boxes. When
 * the model has no metadata to separate the two, the plan's box format is `auto`: each image's rows above the
 * score cut are read as RT-DETR boxes when all their box values lie within 0..1 (pixel corners of
 * a real object exceed 1), and as pixel corners otherwise.
 */
import type { BoxXYXY } from '../src/types.js';
import type { DecodeContext, ModelAdapter, ModelPlan, RawTensor } from './adapter.js';
import { COCO80_LABELS } from './labels.js';
import { checkDims, requireOutput } from './output-tensors.js';
import { ULTRALYTICS_PREPROCESSING } from './preprocess.js';
import { classifySingleOutput, readSingleOutputModel } from './single-output-layout.js';

/** Decoding parameters of an end-to-end plan. */
export interface End2endParams {
  /** Name of the single output. */
  readonly outputName: string;
  /** `xyxy`: pixel corners. `auto`: pixel corners or normalised RT-DETR centres, decided per image. */
  readonly boxFormat: 'xyxy' | 'auto';
}

/** Slack around 0..1 within which box values still count as normalised, for rounding in the graph. */
const NORMALISED_SLACK = 0.01;

/** The end-to-end YOLO adapter. */
export const yoloEnd2endAdapter: ModelAdapter<End2endParams> = {
  family: 'yolo-end2end',
  expectedLayout: 'yolo-end2end (YOLOv10, YOLO26, nms=True exports): one float32 input [1, 3, H, W] and one float32 output [1, K, 6] of x1, y1, x2, y2, score, class',

  recognise(signature, metadata, { forced, labelCount }) {
    const model = readSingleOutputModel(signature, metadata);
    if (!model || model.columns !== 6) return undefined;
    const layout = classifySingleOutput(model, labelCount);
    if (!forced && layout !== 'end2end' && layout !== 'end2end-or-rtdetr') return undefined;

    const { ultralytics } = model;
    const ambiguous = !forced && layout === 'end2end-or-rtdetr';
    const warnings = [...ultralytics.problems];
    if (ambiguous) {
      warnings.push(
        `output ${model.output.name} [1, ${model.rows}, 6] can be an end-to-end YOLO or an RT-DETR export and the model has no metadata to tell; ` +
          'each image is decoded by its box value range. Pass family "yolo-end2end" or "rtdetr" to fix the choice',
      );
    }
    const plan: ModelPlan<End2endParams> = {
      family: 'yolo-end2end',
      inputName: model.input.name,
      inputWidth: model.inputWidth,
      inputHeight: model.inputHeight,
      batchSize: model.batchSize,
      numClasses: ultralytics.names?.length ?? labelCount ?? COCO80_LABELS.length,
      preprocessing: ULTRALYTICS_PREPROCESSING,
      needsNms: false,
      modelLabels: ultralytics.names,
      defaultLabels: COCO80_LABELS,
      warnings,
      params: { outputName: model.output.name, boxFormat: ambiguous ? 'auto' : 'xyxy' },
    };
    return plan;
  },

  decode(outputs, plan, context) {
    const output = requireOutput(outputs, plan.params.outputName);
    const rows = readTopkRows(output, plan.numClasses, context);
    const normalised = plan.params.boxFormat === 'auto' && rows.length > 0 && rows.every((row) => isNormalised(row.values));

    return rows.map(({ classId, score, values }) => {
      const box: BoxXYXY = normalised
        ? centreBoxToPixels(values, plan.inputWidth, plan.inputHeight)
        : [values[0], values[1], values[2], values[3]];
      return { classId, score, box: context.toSourceBox(box) };
    });
  },
};

/** One row of a `[1, K, 6]` output that passed the score cut and the class filter. */
export interface TopkRow {
  readonly classId: number;
  readonly score: number;
  /** The four box values as the model wrote them. */
  readonly values: readonly [number, number, number, number];
}

/**
 * Reads the rows of a `[1, K, 6]` output (four box values, score, class index) whose score is at
 * least `context.minScore` and whose class is a valid, wanted class id.
 *
 * @throws Error when the output is not float32 `[1, K, 6]`.
 */
export function readTopkRows(output: RawTensor, numClasses: number, context: DecodeContext): TopkRow[] {
  checkDims('output', output, [1, undefined, 6]);
  const data = output.data;
  if (!(data instanceof Float32Array)) throw new Error(`Expected a float32 [1, K, 6] output, got ${output.type}`);

  const rows: TopkRow[] = [];
  for (let offset = 0; offset < data.length; offset += 6) {
    const score = data[offset + 4] as number;
    if (!(score >= context.minScore)) continue;
    const classId = Math.round(data[offset + 5] as number);
    if (classId < 0 || classId >= numClasses) continue;
    if (context.classIds && !context.classIds.has(classId)) continue;
    rows.push({ classId, score, values: [data[offset] as number, data[offset + 1] as number, data[offset + 2] as number, data[offset + 3] as number] });
  }
  return rows;
}

/** Converts a normalised `cx, cy, w, h` box to corners in model-input pixels. */
export function centreBoxToPixels(values: ArrayLike<number>, inputWidth: number, inputHeight: number): BoxXYXY {
  const cx = values[0] ?? 0;
  const cy = values[1] ?? 0;
  const w = values[2] ?? 0;
  const h = values[3] ?? 0;
  return [(cx - w / 2) * inputWidth, (cy - h / 2) * inputHeight, (cx + w / 2) * inputWidth, (cy + h / 2) * inputHeight];
}

function isNormalised(values: readonly number[]): boolean {
  return values.every((value) => value >= -NORMALISED_SLACK && value <= 1 + NORMALISED_SLACK);
}
