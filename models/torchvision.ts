/**
 * torchvision detection models exported to ONNX: RetinaNet (ImageAI's RetinaNet is torchvision's
 * `retinanet_resnet50_fpn` with COCO weights), SSD, SSDlite, FCOS and Faster R-CNN. Resizing,
 * normalisation, box decoding and NMS run inside the graph (`GeneralizedRCNNTransform` and the
 * model's `postprocess_detections`).
 *
 * Input: float32 RGB 0..1, `[3, H, W]` when traced with a list of images or `[1, 3, H, W]`.
 * With free height and width the image goes in at its own size; with a fixed size it is
 * letterboxed into it, top-left, padded with black.
 * Outputs, told apart by type and shape because their order differs between models
 * (`boxes, scores, labels` for RetinaNet, SSD and FCOS; `boxes, labels, scores` for Faster R-CNN):
 * - boxes, float32 `[N, 4]`: `x1, y1, x2, y2` in the pixels of the tensor that went in;
 * - scores, float32 `[N]`;
 * - labels, int64 `[N]`: COCO category ids 1..90.
 * Further outputs (Mask R-CNN masks, keypoints) are ignored.
 * Labels: the 91-entry COCO list indexed by category id.
 */
import { fixedDim, type Candidate, type ModelAdapter, type ModelPlan, type TensorSignature } from './adapter.js';
import { COCO91_LABELS } from './labels.js';
import { numericValues, requireOutput } from './output-tensors.js';
import type { InputPreprocessing } from './preprocess.js';

/** Decoding parameters of a torchvision plan. */
export interface TorchvisionParams {
  readonly boxesName: string;
  readonly scoresName: string;
  readonly labelsName: string;
}

/** The torchvision detection adapter. */
export const torchvisionAdapter: ModelAdapter<TorchvisionParams> = {
  family: 'torchvision',
  expectedLayout:
    'torchvision (RetinaNet, SSD, FCOS, Faster R-CNN): one float32 input [3, H, W] or [1, 3, H, W] and outputs ' +
    'boxes float32 [N, 4], scores float32 [N] and labels int64 [N]',

  recognise(signature, _metadata, { labelCount }) {
    const [input, ...otherInputs] = signature.inputs;
    if (!input || otherInputs.length > 0 || input.type !== 'float32') return undefined;
    const rank = input.shape.length;
    if (rank !== 3 && rank !== 4) return undefined;
    if (rank === 4 && (fixedDim(input.shape[0]) ?? 1) !== 1) return undefined;
    if (fixedDim(input.shape[rank - 3]) !== 3) return undefined;

    const boxes = signature.outputs.find((output) => output.type === 'float32' && output.shape.length === 2 && fixedDim(output.shape[1]) === 4);
    const scores = signature.outputs.find((output) => output.type === 'float32' && output.shape.length === 1);
    const labels = signature.outputs.find((output) => output.type === 'int64' && output.shape.length === 1);
    if (!boxes || !scores || !labels) return undefined;

    const inputHeight = fixedDim(input.shape[rank - 2]);
    const inputWidth = fixedDim(input.shape[rank - 1]);
    const fixedSize = inputHeight !== undefined && inputWidth !== undefined;
    const preprocessing: InputPreprocessing = {
      resize: fixedSize ? 'letterbox' : 'none',
      align: 'top-left',
      padValue: 0,
      channelOrder: 'rgb',
      layout: rank === 3 ? 'chw' : 'nchw',
      dtype: 'float32',
      scale: 1 / 255,
      mean: [0, 0, 0],
      std: [1, 1, 1],
    };
    const plan: ModelPlan<TorchvisionParams> = {
      family: 'torchvision',
      inputName: input.name,
      // 0 when the image goes in at its own size.
      inputWidth: inputWidth ?? 0,
      inputHeight: inputHeight ?? 0,
      // The outputs hold one image's detections without a batch dimension.
      batchSize: 1,
      numClasses: labelCount ?? COCO91_LABELS.length,
      preprocessing,
      needsNms: false,
      defaultLabels: COCO91_LABELS,
      warnings: fasterRcnn10Warning(input),
      params: { boxesName: boxes.name, scoresName: scores.name, labelsName: labels.name },
    };
    return plan;
  },

  decode(outputs, plan, context) {
    const boxes = numericValues(requireOutput(outputs, plan.params.boxesName));
    const scores = numericValues(requireOutput(outputs, plan.params.scoresName));
    const labels = numericValues(requireOutput(outputs, plan.params.labelsName));
    const rows = Math.min(scores.length, labels.length, Math.floor(boxes.length / 4));

    const candidates: Candidate[] = [];
    for (let row = 0; row < rows; row += 1) {
      const score = scores[row] as number;
      if (!(score >= context.minScore)) continue;
      const classId = labels[row] as number;
      // Category id 0 is the background, which RetinaNet's sigmoid head can score.
      if (classId < 1 || classId >= plan.numClasses) continue;
      if (context.classIds && !context.classIds.has(classId)) continue;
      const box = [boxes[row * 4] as number, boxes[row * 4 + 1] as number, boxes[row * 4 + 2] as number, boxes[row * 4 + 3] as number] as const;
      candidates.push({ classId, score, box: context.toSourceBox(box) });
    }
    return candidates;
  },
};

/**
 * The ONNX Model Zoo's FasterRCNN-10 (maskrcnn-benchmark) has the same outputs but expects BGR
 * 0..255 minus per-channel means, and an 81-entry label list. Its input is called `image`.
 */
function fasterRcnn10Warning(input: TensorSignature): string[] {
  if (input.name !== 'image' || input.shape.length !== 3) return [];
  return [
    'input "image" [3, H, W] matches the ONNX Model Zoo FasterRCNN-10, which expects BGR 0..255 minus channel means and other labels; ' +
      'framewise feeds torchvision-style RGB 0..1, so detections of that model will be wrong',
  ];
}
