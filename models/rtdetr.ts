/**
 * RT-DETR exported by Ultralytics. The transformer decoder outputs a fixed set of queries, so no
 * NMS runs afterwards.
 *
 * Input: one float32 image `[1 | batch, 3, H, W]`, RGB 0..1, stretched to the input size
 * (Ultralytics' `LetterBox(scaleFill=True)`: no padding, aspect ratio not kept).
 * Output, in one of two layouts that changed between Ultralytics versions:
 * - `[1, K, 4 + nc]`: normalised `cx, cy, w, h`, then one sigmoid score per class (older exports);
 * - `[1, K, 6]`: normalised `cx, cy, w, h`, the score and the class index (newer exports, which
 *   take the top K inside the graph).
 * Boxes are fractions of the input, so they scale to the source by its width and height.
 */
import type { Candidate, DecodeContext, ModelAdapter, ModelPlan, RawTensor } from './adapter.js';
import { COCO80_LABELS } from './labels.js';
import { checkDims, requireOutput } from './output-tensors.js';
import { ULTRALYTICS_PREPROCESSING, type InputPreprocessing } from './preprocess.js';
import { classifySingleOutput, readSingleOutputModel } from './single-output-layout.js';
import { centreBoxToPixels, readTopkRows } from './yolo-end2end.js';

/** Decoding parameters of an RT-DETR plan. */
export interface RtdetrParams {
  /** Name of the single output. */
  readonly outputName: string;
  /** `scores`: `[1, K, 4 + nc]` with a score per class. `topk`: `[1, K, 6]` with score and class. */
  readonly layout: 'scores' | 'topk';
}

/** RT-DETR input: stretched to the input size, RGB, NCHW float32 in 0..1. */
export const RTDETR_PREPROCESSING: InputPreprocessing = Object.freeze<InputPreprocessing>({ ...ULTRALYTICS_PREPROCESSING, resize: 'stretch' });

/** The RT-DETR adapter. */
export const rtdetrAdapter: ModelAdapter<RtdetrParams> = {
  family: 'rtdetr',
  expectedLayout: 'rtdetr (Ultralytics RT-DETR): one float32 input [1, 3, H, W] and one float32 output [1, K, 4+classes] or [1, K, 6] of normalised cx, cy, w, h',

  recognise(signature, metadata, { forced, labelCount }) {
    const model = readSingleOutputModel(signature, metadata);
    if (!model || model.columns === undefined || model.columns <= 4) return undefined;
    const classified = classifySingleOutput(model, labelCount);
    let layout: RtdetrParams['layout'];
    if (classified === 'rtdetr-scores' || classified === 'rtdetr-topk') layout = classified === 'rtdetr-topk' ? 'topk' : 'scores';
    else if (forced) layout = model.columns === 6 ? 'topk' : 'scores';
    else return undefined;

    const { ultralytics } = model;
    const numClasses = layout === 'scores' ? model.columns - 4 : (ultralytics.names?.length ?? labelCount ?? COCO80_LABELS.length);
    const plan: ModelPlan<RtdetrParams> = {
      family: 'rtdetr',
      inputName: model.input.name,
      inputWidth: model.inputWidth,
      inputHeight: model.inputHeight,
      batchSize: model.batchSize,
      numClasses,
      preprocessing: RTDETR_PREPROCESSING,
      needsNms: false,
      modelLabels: ultralytics.names,
      defaultLabels: COCO80_LABELS,
      warnings: ultralytics.problems,
      params: { outputName: model.output.name, layout },
    };
    return plan;
  },

  decode(outputs, plan, context) {
    const output = requireOutput(outputs, plan.params.outputName);
    if (plan.params.layout === 'topk') {
      return readTopkRows(output, plan.numClasses, context).map(({ classId, score, values }) => ({
        classId,
        score,
        box: context.toSourceBox(centreBoxToPixels(values, plan.inputWidth, plan.inputHeight)),
      }));
    }
    return decodeScoresLayout(output, plan, context);
  },
};

/** Decodes `[1, K, 4 + nc]`: per query, the best wanted class, kept when its score reaches `context.minScore`. */
function decodeScoresLayout(output: RawTensor, plan: ModelPlan<RtdetrParams>, context: DecodeContext): Candidate[] {
  const columns = 4 + plan.numClasses;
  checkDims(plan.params.outputName, output, [1, undefined, columns]);
  const data = output.data;
  if (!(data instanceof Float32Array)) throw new Error(`Expected a float32 RT-DETR output, got ${output.type}`);

  const candidates: Candidate[] = [];
  for (let offset = 0; offset < data.length; offset += columns) {
    let bestScore = -Infinity;
    let bestClass = -1;
    for (let classId = 0; classId < plan.numClasses; classId += 1) {
      if (context.classIds && !context.classIds.has(classId)) continue;
      const score = data[offset + 4 + classId] as number;
      if (score > bestScore) {
        bestScore = score;
        bestClass = classId;
      }
    }
    if (!(bestScore >= context.minScore)) continue;
    const box = centreBoxToPixels(data.subarray(offset, offset + 4), plan.inputWidth, plan.inputHeight);
    candidates.push({ classId: bestClass, score: bestScore, box: context.toSourceBox(box) });
  }
  return candidates;
}
