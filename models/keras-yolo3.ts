/**
 * The keras-yolo3 conversions in the ONNX Model Zoo: `yolov3-10`, `yolov3-12` and
 * `tiny-yolov3-11`. Box decoding and per-class NMS run inside the graph.
 *
 * Inputs: the image, float32 `[1, 3, H, W]` (416x416), RGB 0..1, letterboxed as keras-yolo3's
 * `letterbox_image` does: scaled size truncated, centred, padded with 128. And `image_shape`,
 * float32 `[1, 2]`: the **original** `[height, width]`, from which the graph maps the boxes back.
 * Outputs, distinguished by type and shape rather than by name (the zoo files name them differently):
 * - boxes, float32 `[1, n, 4]`: `y1, x1, y2, x2` in original-image pixels, not clipped;
 * - scores, float32 `[1, nc, n]`: objectness × class probability per class and candidate;
 * - indices, int32 `[k, 3]` (yolov3-10/12) or `[1, k, 3]` (tiny): the `(batch, class, box)` triples
 *   that NMS kept. A batch value of -1 ends the list where a runtime pads it.
 * Labels: COCO-80 in keras-yolo3's darknet spellings, reported in the canonical ones.
 */
import { fixedDim, type Candidate, type ModelAdapter, type ModelPlan, type RawTensor, type TensorSignature } from './adapter.js';
import { COCO80_LABELS } from './labels.js';
import { numericValues, requireOutput } from './output-tensors.js';
import type { InputPreprocessing } from './preprocess.js';

/** Decoding parameters of a keras-yolo3 plan. */
export interface KerasYolo3Params {
  /** Name of the `image_shape` input. */
  readonly imageShapeName: string;
  readonly boxesName: string;
  readonly scoresName: string;
  readonly indicesName: string;
}

/** Input size of the zoo models, used when the model leaves height and width free. */
const DEFAULT_INPUT_SIZE = 416;

/** keras-yolo3 input: letterbox with truncated size, padded with 128, RGB, NCHW float32 in 0..1. */
export const KERAS_YOLO3_PREPROCESSING: InputPreprocessing = Object.freeze<InputPreprocessing>({
  resize: 'letterbox',
  rounding: 'floor',
  padValue: 128,
  channelOrder: 'rgb',
  layout: 'nchw',
  dtype: 'float32',
  scale: 1 / 255,
  mean: [0, 0, 0],
  std: [1, 1, 1],
});

/** The keras-yolo3 (ONNX Model Zoo YOLOv3 and TinyYOLOv3) adapter. */
export const kerasYolo3Adapter: ModelAdapter<KerasYolo3Params> = {
  family: 'keras-yolo3',
  expectedLayout:
    'keras-yolo3 (ONNX Model Zoo yolov3, tiny-yolov3): inputs float32 [1, 3, H, W] and image_shape float32 [1, 2]; ' +
    'outputs boxes float32 [1, n, 4], scores float32 [1, classes, n] and indices int32 [k, 3] or [1, k, 3]',

  recognise(signature) {
    if (signature.inputs.length !== 2 || signature.outputs.length !== 3) return undefined;
    const imageShape = signature.inputs.find((input) => input.shape.length === 2 && fixedDim(input.shape[1]) === 2);
    const image = signature.inputs.find((input) => input !== imageShape && input.shape.length === 4);
    if (!image || !imageShape || image.type !== 'float32' || fixedDim(image.shape[1]) !== 3) return undefined;

    const floats3 = signature.outputs.filter((output) => output.type === 'float32' && output.shape.length === 3);
    const boxes = floats3.find((output) => fixedDim(output.shape[2]) === 4);
    const scores = floats3.find((output) => output !== boxes);
    const indices = signature.outputs.find(isIndicesOutput);
    if (!boxes || !scores || !indices) return undefined;

    const plan: ModelPlan<KerasYolo3Params> = {
      family: 'keras-yolo3',
      inputName: image.name,
      inputWidth: fixedDim(image.shape[3]) ?? DEFAULT_INPUT_SIZE,
      inputHeight: fixedDim(image.shape[2]) ?? DEFAULT_INPUT_SIZE,
      // NOTE: the zoo graphs declare a free batch dimension, but whether their NMS handles more
      // than one image was not verified, so they receive one image per run.
      batchSize: 1,
      numClasses: fixedDim(scores.shape[1]) ?? COCO80_LABELS.length,
      preprocessing: KERAS_YOLO3_PREPROCESSING,
      needsNms: false,
      defaultLabels: COCO80_LABELS,
      warnings: [],
      params: { imageShapeName: imageShape.name, boxesName: boxes.name, scoresName: scores.name, indicesName: indices.name },
    };
    return plan;
  },

  extraInputs(plan, image) {
    return { [plan.params.imageShapeName]: { type: 'float32', data: Float32Array.of(image.height, image.width), dims: [1, 2] } };
  },

  decode(outputs, plan, context) {
    const boxes = requireOutput(outputs, plan.params.boxesName);
    const scores = requireOutput(outputs, plan.params.scoresName);
    const indices = requireOutput(outputs, plan.params.indicesName);
    const candidateCount = checkShapes(boxes, scores, indices, plan.numClasses);
    const boxValues = numericValues(boxes);
    const scoreValues = numericValues(scores);
    const triples = numericValues(indices);

    const candidates: Candidate[] = [];
    for (let offset = 0; offset + 2 < triples.length; offset += 3) {
      const batch = triples[offset] as number;
      if (batch === -1) break;
      const classId = triples[offset + 1] as number;
      const boxIndex = triples[offset + 2] as number;
      if (batch !== 0 || classId < 0 || classId >= plan.numClasses || boxIndex < 0 || boxIndex >= candidateCount) continue;
      if (context.classIds && !context.classIds.has(classId)) continue;
      const score = scoreValues[classId * candidateCount + boxIndex] as number;
      if (!(score >= context.minScore)) continue;

      const y1 = boxValues[boxIndex * 4] as number;
      const x1 = boxValues[boxIndex * 4 + 1] as number;
      const y2 = boxValues[boxIndex * 4 + 2] as number;
      const x2 = boxValues[boxIndex * 4 + 3] as number;
      // The graph already mapped the box to original-image pixels through image_shape.
      candidates.push({ classId, score, box: [x1, y1, x2, y2] });
    }
    return candidates;
  },
};

/** Returns true for an int32 `[k, 3]` or `[1, k, 3]` output (the selected indices). */
function isIndicesOutput(output: TensorSignature): boolean {
  const rank = output.shape.length;
  return output.type === 'int32' && (rank === 2 || rank === 3) && fixedDim(output.shape[rank - 1]) === 3;
}

/**
 * Checks the shapes of one image's outputs and returns the number of candidate boxes.
 *
 * @throws Error when boxes, scores and indices disagree with each other or with `numClasses`.
 */
function checkShapes(boxes: RawTensor, scores: RawTensor, indices: RawTensor, numClasses: number): number {
  const candidateCount = boxes.dims[1] ?? 0;
  const boxesValid = boxes.dims.length === 3 && boxes.dims[0] === 1 && boxes.dims[2] === 4;
  const scoresValid = scores.dims.length === 3 && scores.dims[0] === 1 && scores.dims[1] === numClasses && scores.dims[2] === candidateCount;
  const indicesValid = indices.dims[indices.dims.length - 1] === 3;
  if (!boxesValid || !scoresValid || !indicesValid) {
    throw new Error(
      `Expected keras-yolo3 outputs boxes [1, n, 4], scores [1, ${numClasses}, n] and indices [k, 3]; ` +
        `got [${boxes.dims.join(', ')}], [${scores.dims.join(', ')}] and [${indices.dims.join(', ')}]`,
    );
  }
  return candidateCount;
}
