/**
 * The ONNX Model Zoo's `retinanet-9` (NVIDIA retinanet-examples, ResNet101-FPN): the raw class and
 * box heads of five pyramid levels, decoded here with RetinaNet's anchors.
 *
 * Input: float32 `[1, 3, 480, 640]`, RGB, `/255`, then normalised with the ImageNet mean and std.
 * The image is scaled to fit and padded right and below with 0 after normalisation, as
 * retinanet-examples pads its batches.
 * Outputs: for each level (strides 8 to 128), a class head `[1, A * nc, h, w]` holding sigmoid
 * scores and a box head `[1, A * 4, h, w]` holding raw deltas, with A = 9 anchors per cell. The
 * heads pair up by grid size; in the zoo file they are `output1`..`output5` (class) and
 * `output6`..`output10` (box).
 *
 * Decoding follows retinanet-examples `box.py` (`generate_anchors`, `decode`, `delta2box`):
 * anchor `a = 3 * s + r` has scale `4 * 2^(s/3)` and aspect ratio `[1, 2, 0.5][r]`; channel
 * `a * nc + c` scores class `c`, channels `a * 4 .. a * 4 + 3` hold `dx, dy, dw, dh`.
 */
import type { BoxXYXY } from '../src/types.js';
import { fixedDim, type Candidate, type DecodeContext, type ModelAdapter, type ModelPlan, type RawTensor, type TensorSignature } from './adapter.js';
import { COCO80_LABELS } from './labels.js';
import { requireOutput } from './output-tensors.js';
import type { InputPreprocessing } from './preprocess.js';

/** One pyramid level of a RetinaNet plan. */
export interface RetinanetLevel {
  readonly classHeadName: string;
  readonly boxHeadName: string;
  /** Input pixels per grid cell. */
  readonly stride: number;
}

/** Decoding parameters of a RetinaNet plan. */
export interface RetinanetParams {
  /** Levels from the finest grid to the coarsest. */
  readonly levels: readonly RetinanetLevel[];
}

/** Anchors per grid cell: three scales times three aspect ratios. */
const ANCHORS_PER_CELL = 9;
const ANCHOR_SCALES = [0, 1, 2].map((step) => 4 * 2 ** (step / 3));
/** Height over width of the anchors. */
const ANCHOR_RATIOS = [1, 2, 0.5];
/** Candidates kept per level before NMS, highest scores first, as retinanet-examples does. */
const TOP_CANDIDATES_PER_LEVEL = 1000;
/** Input size of the zoo model (width x height), used when the model leaves them free. */
const DEFAULT_INPUT_WIDTH = 640;
const DEFAULT_INPUT_HEIGHT = 480;

/** retinanet-9 input: scaled to fit, padded right and below with 0 after ImageNet normalisation. */
export const RETINANET_PREPROCESSING: InputPreprocessing = Object.freeze<InputPreprocessing>({
  resize: 'letterbox',
  rounding: 'floor',
  align: 'top-left',
  padValue: 0,
  padTensorValue: 0,
  channelOrder: 'rgb',
  layout: 'nchw',
  dtype: 'float32',
  scale: 1 / 255,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
});

/** The retinanet-9 adapter. */
export const retinanetAdapter: ModelAdapter<RetinanetParams> = {
  family: 'retinanet',
  expectedLayout:
    'retinanet (ONNX Model Zoo retinanet-9): one float32 input [1, 3, H, W] and pairs of float32 outputs per level, ' +
    'class heads [1, 9*classes, h, w] and box heads [1, 36, h, w]',

  recognise(signature) {
    const [input, ...otherInputs] = signature.inputs;
    if (!input || otherInputs.length > 0 || input.type !== 'float32' || input.shape.length !== 4) return undefined;
    if (fixedDim(input.shape[0]) !== 1 || fixedDim(input.shape[1]) !== 3) return undefined;
    const { outputs } = signature;
    if (outputs.length < 2 || outputs.length % 2 !== 0) return undefined;
    if (!outputs.every((output) => output.type === 'float32' && output.shape.length === 4 && fixedDim(output.shape[0]) === 1)) return undefined;

    const inputHeight = fixedDim(input.shape[2]) ?? DEFAULT_INPUT_HEIGHT;
    const inputWidth = fixedDim(input.shape[3]) ?? DEFAULT_INPUT_WIDTH;
    const paired = pairHeads(outputs, inputWidth);
    if (!paired) return undefined;

    const plan: ModelPlan<RetinanetParams> = {
      family: 'retinanet',
      inputName: input.name,
      inputWidth,
      inputHeight,
      batchSize: 1,
      numClasses: paired.numClasses,
      preprocessing: RETINANET_PREPROCESSING,
      needsNms: true,
      defaultLabels: COCO80_LABELS,
      warnings: [],
      params: { levels: paired.levels },
    };
    return plan;
  },

  decode(outputs, plan, context) {
    const candidates: Candidate[] = [];
    for (const level of plan.params.levels) {
      const classHead = requireOutput(outputs, level.classHeadName);
      const boxHead = requireOutput(outputs, level.boxHeadName);
      candidates.push(...decodeLevel(classHead, boxHead, level.stride, plan.numClasses, context));
    }
    return candidates;
  },
};

/**
 * Pairs class and box heads by grid size. Box heads have `9 * 4 = 36` channels, class heads a
 * multiple of 9 other than 36. Returns `undefined` unless every output belongs to exactly one
 * pair with fixed sizes and all class heads score the same number of classes.
 */
function pairHeads(outputs: readonly TensorSignature[], inputWidth: number): { levels: RetinanetLevel[]; numClasses: number } | undefined {
  const boxChannels = ANCHORS_PER_CELL * 4;
  const boxHeads = outputs.filter((output) => fixedDim(output.shape[1]) === boxChannels);
  const classHeads = outputs.filter((output) => !boxHeads.includes(output));
  if (boxHeads.length !== classHeads.length) return undefined;

  let numClasses: number | undefined;
  const levels: RetinanetLevel[] = [];
  for (const classHead of classHeads) {
    const channels = fixedDim(classHead.shape[1]);
    const height = fixedDim(classHead.shape[2]);
    const width = fixedDim(classHead.shape[3]);
    if (channels === undefined || height === undefined || width === undefined || channels % ANCHORS_PER_CELL !== 0) return undefined;
    if (numClasses !== undefined && numClasses !== channels / ANCHORS_PER_CELL) return undefined;
    numClasses = channels / ANCHORS_PER_CELL;

    const boxHead = boxHeads.find((head) => fixedDim(head.shape[2]) === height && fixedDim(head.shape[3]) === width);
    if (!boxHead || levels.some((level) => level.boxHeadName === boxHead.name)) return undefined;
    levels.push({ classHeadName: classHead.name, boxHeadName: boxHead.name, stride: inputWidth / width });
  }
  if (numClasses === undefined) return undefined;
  levels.sort((a, b) => a.stride - b.stride);
  return { levels, numClasses };
}

/** One score above the cut before its box is decoded. */
interface LevelHit {
  readonly score: number;
  readonly classId: number;
  readonly anchor: number;
  readonly cell: number;
}

/** Decodes one level: scores at or above `minScore`, at most 1000 of them, with boxes in source pixels. */
function decodeLevel(classHead: RawTensor, boxHead: RawTensor, stride: number, numClasses: number, context: DecodeContext): Candidate[] {
  const [, classChannels, height, width] = classHead.dims;
  if (classHead.dims.length !== 4 || classChannels !== ANCHORS_PER_CELL * numClasses || !height || !width) {
    throw new Error(`Expected a RetinaNet class head of shape [1, ${ANCHORS_PER_CELL * numClasses}, h, w], got [${classHead.dims.join(', ')}]`);
  }
  if (boxHead.dims.join(',') !== [1, ANCHORS_PER_CELL * 4, height, width].join(',')) {
    throw new Error(`Expected a RetinaNet box head of shape [1, ${ANCHORS_PER_CELL * 4}, ${height}, ${width}], got [${boxHead.dims.join(', ')}]`);
  }
  const scores = classHead.data;
  const deltas = boxHead.data;
  if (!(scores instanceof Float32Array) || !(deltas instanceof Float32Array)) throw new Error('Expected float32 RetinaNet heads');

  const plane = height * width;
  const hits: LevelHit[] = [];
  for (let anchor = 0; anchor < ANCHORS_PER_CELL; anchor += 1) {
    for (let classId = 0; classId < numClasses; classId += 1) {
      if (context.classIds && !context.classIds.has(classId)) continue;
      const base = (anchor * numClasses + classId) * plane;
      for (let cell = 0; cell < plane; cell += 1) {
        const score = scores[base + cell] as number;
        if (score >= context.minScore) hits.push({ score, classId, anchor, cell });
      }
    }
  }
  hits.sort((a, b) => b.score - a.score);
  if (hits.length > TOP_CANDIDATES_PER_LEVEL) hits.length = TOP_CANDIDATES_PER_LEVEL;

  const maxX = width * stride - 1;
  const maxY = height * stride - 1;
  return hits.map(({ score, classId, anchor, cell }) => {
    const gx = cell % width;
    const gy = Math.floor(cell / width);
    const delta = (k: number): number => deltas[(anchor * 4 + k) * plane + cell] as number;
    const box = applyDeltas(anchorBox(anchor, stride, gx, gy), delta(0), delta(1), delta(2), delta(3), maxX, maxY);
    return { classId, score, box: context.toSourceBox(box) };
  });
}

/** Corners of anchor `anchor` in grid cell `(gx, gy)`, in input pixels. */
export function anchorBox(anchor: number, stride: number, gx: number, gy: number): BoxXYXY {
  const scale = ANCHOR_SCALES[Math.floor(anchor / ANCHOR_RATIOS.length)] as number;
  const ratio = ANCHOR_RATIOS[anchor % ANCHOR_RATIOS.length] as number;
  const baseWidth = stride / Math.sqrt(ratio);
  const width = baseWidth * scale;
  const height = baseWidth * ratio * scale;
  const x = gx * stride;
  const y = gy * stride;
  return [x + (stride - width) / 2, y + (stride - height) / 2, x + (stride + width) / 2, y + (stride + height) / 2];
}

/**
 * Applies RetinaNet deltas to an anchor, with the "+1 pixel" width convention of retinanet-examples,
 * and clamps the corners to `[0, maxX] x [0, maxY]`.
 */
export function applyDeltas(anchor: BoxXYXY, dx: number, dy: number, dw: number, dh: number, maxX: number, maxY: number): BoxXYXY {
  const anchorWidth = anchor[2] - anchor[0] + 1;
  const anchorHeight = anchor[3] - anchor[1] + 1;
  const cx = anchor[0] + 0.5 * anchorWidth + dx * anchorWidth;
  const cy = anchor[1] + 0.5 * anchorHeight + dy * anchorHeight;
  const width = Math.exp(dw) * anchorWidth;
  const height = Math.exp(dh) * anchorHeight;
  const clamp = (value: number, max: number): number => Math.min(Math.max(value, 0), max);
  return [
    clamp(cx - 0.5 * width, maxX),
    clamp(cy - 0.5 * height, maxY),
    clamp(cx + 0.5 * width - 1, maxX),
    clamp(cy + 0.5 * height - 1, maxY),
  ];
}
