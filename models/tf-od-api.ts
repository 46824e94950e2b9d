/**
 * Models from the TensorFlow Object Detection API converted to ONNX, such as the ONNX Model Zoo's
 * `ssd_mobilenet_v1_10` and `ssd_mobilenet_v1_12`. Resizing, normalisation and NMS run inside the
 * graph.
 *
 * Input: uint8 `[1 | batch, H, W, 3]` (NHWC), RGB 0..255, usually with free height and width.
 * Outputs, matched by name whether or not it carries TensorFlow's `:0` suffix:
 * - `num_detections` float32 `[N]`: how many rows of the others are valid;
 * - `detection_boxes` float32 `[N, K, 4]`: `y1, x1, y2, x2` as fractions of the image;
 * - `detection_scores` float32 `[N, K]`, highest first;
 * - `detection_classes` float32 `[N, K]`: COCO category ids 1..90, as floats.
 * Labels: the 91-entry COCO list indexed by category id, or the caller's list, which must start
 * with an entry for id 0 (the background).
 */
import { fixedDim, type Candidate, type ModelAdapter, type ModelPlan, type TensorSignature } from './adapter.js';
import { COCO91_LABELS } from './labels.js';
import { numericValues, requireOutput } from './output-tensors.js';
import type { InputPreprocessing } from './preprocess.js';

/** Decoding parameters of a TF Object Detection API plan. */
export interface TfOdApiParams {
  readonly numDetectionsName: string;
  readonly boxesName: string;
  readonly scoresName: string;
  readonly classesName: string;
}

/**
 * Input size used when the model leaves height and width free: the 300x300 of SSD-MobileNet's
 * fixed-shape resizer, so frames are shrunk once here rather than copied at full size.
 */
const DEFAULT_INPUT_SIZE = 300;

/** TF Object Detection API input: stretched, RGB, NHWC uint8 0..255. */
export const TF_OD_API_PREPROCESSING: InputPreprocessing = Object.freeze<InputPreprocessing>({
  resize: 'stretch',
  padValue: 0,
  channelOrder: 'rgb',
  layout: 'nhwc',
  dtype: 'uint8',
  scale: 1,
  mean: [0, 0, 0],
  std: [1, 1, 1],
});

/** The TensorFlow Object Detection API adapter. */
export const tfOdApiAdapter: ModelAdapter<TfOdApiParams> = {
  family: 'tf-od-api',
  expectedLayout:
    'tf-od-api (TensorFlow Object Detection API, SSD-MobileNet): one uint8 input [1, H, W, 3] and outputs ' +
    'num_detections, detection_boxes, detection_scores and detection_classes',

  recognise(signature, _metadata, { labelCount }) {
    const [input, ...otherInputs] = signature.inputs;
    if (!input || otherInputs.length > 0 || input.type !== 'uint8' || input.shape.length !== 4) return undefined;
    if (fixedDim(input.shape[3]) !== 3) return undefined;
    const batch = fixedDim(input.shape[0]);
    if (batch !== undefined && batch !== 1) return undefined;

    const numDetections = findOutput(signature.outputs, 'num_detections');
    const boxes = findOutput(signature.outputs, 'detection_boxes');
    const scores = findOutput(signature.outputs, 'detection_scores');
    const classes = findOutput(signature.outputs, 'detection_classes');
    if (!numDetections || !boxes || !scores || !classes) return undefined;

    const plan: ModelPlan<TfOdApiParams> = {
      family: 'tf-od-api',
      inputName: input.name,
      inputWidth: fixedDim(input.shape[2]) ?? DEFAULT_INPUT_SIZE,
      inputHeight: fixedDim(input.shape[1]) ?? DEFAULT_INPUT_SIZE,
      batchSize: batch ?? 'dynamic',
      // Category ids are not visible in the signature: a custom model has as many as its label list.
      numClasses: labelCount ?? COCO91_LABELS.length,
      preprocessing: TF_OD_API_PREPROCESSING,
      needsNms: false,
      defaultLabels: COCO91_LABELS,
      warnings: [],
      params: { numDetectionsName: numDetections.name, boxesName: boxes.name, scoresName: scores.name, classesName: classes.name },
    };
    return plan;
  },

  decode(outputs, plan, context) {
    const count = numericValues(requireOutput(outputs, plan.params.numDetectionsName))[0] ?? 0;
    const boxes = numericValues(requireOutput(outputs, plan.params.boxesName));
    const scores = numericValues(requireOutput(outputs, plan.params.scoresName));
    const classes = numericValues(requireOutput(outputs, plan.params.classesName));
    const rows = Math.min(Math.floor(count), scores.length, classes.length, Math.floor(boxes.length / 4));

    const candidates: Candidate[] = [];
    for (let row = 0; row < rows; row += 1) {
      const score = scores[row] as number;
      if (!(score >= context.minScore)) continue;
      const classId = Math.round(classes[row] as number);
      // Category id 0 is the background; ids past the label list cannot be named.
      if (classId < 1 || classId >= plan.numClasses) continue;
      if (context.classIds && !context.classIds.has(classId)) continue;

      // Fractions of the whole image, whatever size the tensor had.
      const { sourceWidth: width, sourceHeight: height } = context;
      const y1 = (boxes[row * 4] as number) * height;
      const x1 = (boxes[row * 4 + 1] as number) * width;
      const y2 = (boxes[row * 4 + 2] as number) * height;
      const x2 = (boxes[row * 4 + 3] as number) * width;
      candidates.push({ classId, score, box: [x1, y1, x2, y2] });
    }
    return candidates;
  },
};

/** Finds the output whose name, without a `:0`-style suffix, ends with `name`. */
function findOutput(outputs: readonly TensorSignature[], name: string): TensorSignature | undefined {
  return outputs.find((output) => output.name.replace(/:\d+$/, '').endsWith(name));
}
