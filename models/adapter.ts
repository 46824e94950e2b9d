/**
 * The contract between the runtime and a model family. An adapter recognises its family from the
 * model's inputs, outputs and metadata, declares how images must be prepared, and decodes the raw
 * outputs into scored boxes in source pixels. Adapters are plain code with no ONNX Runtime
 * dependency, so the same module runs in the main thread (recognition) and in the inference
 * workers (decoding).
 */
import type { BoxXYXY } from '../src/types.js';
import type { OnnxMetadata } from './onnx-metadata.js';
import type { InputPreprocessing } from './preprocess.js';

/** One dimension of a tensor shape: a size, or a symbolic name (or -1) when the model leaves it free. */
export type TensorDim = number | string;

/** Name, element type and shape of one model input or output, as ONNX Runtime reports them. */
export interface TensorSignature {
  readonly name: string;
  /** Element type such as `float32`, `uint8` or `int64`. */
  readonly type: string;
  readonly shape: readonly TensorDim[];
}

/** The inputs and outputs of a model. */
export interface ModelSignature {
  readonly inputs: readonly TensorSignature[];
  readonly outputs: readonly TensorSignature[];
}

/** Returns the size of a dimension, or `undefined` when it is symbolic, -1 or 0. */
export function fixedDim(dim: TensorDim | undefined): number | undefined {
  return typeof dim === 'number' && dim > 0 ? dim : undefined;
}

/** Formats one tensor as `name: type [d0, d1, ...]`, symbolic dimensions by name. */
export function formatTensorSignature(tensor: TensorSignature): string {
  return `${tensor.name}: ${tensor.type} [${tensor.shape.map(String).join(', ')}]`;
}

/** A tensor as plain data that crosses a worker boundary: element type, values and shape. */
export interface RawTensor {
  readonly type: string;
  readonly data: Float32Array | Uint8Array | Int32Array | BigInt64Array | Float64Array;
  readonly dims: readonly number[];
}

/**
 * The result of recognising a model: everything the workers need to run it. Plain data, so it can
 * be posted to worker threads. `P` is the type of the family-specific decoding parameters.
 */
export interface ModelPlan<P = unknown> {
  /** Family name, the key of the adapter in the registry. */
  readonly family: string;
  /** Name of the image input. */
  readonly inputName: string;
  readonly inputWidth: number;
  readonly inputHeight: number;
  /**
   * Images per run: 1 for a model with a fixed batch of one (or no batch dimension), `'dynamic'`
   * when the batch dimension is free and the runtime may combine several images in one run.
   */
  readonly batchSize: number | 'dynamic';
  /** Number of classes the model scores. */
  readonly numClasses: number;
  readonly preprocessing: InputPreprocessing;
  /** True when decoded candidates still need non-maximum suppression (false for models with NMS in the graph). */
  readonly needsNms: boolean;
  /** Class names stored in the model file, when it has any. */
  readonly modelLabels?: readonly string[];
  /** Class names used when neither the caller nor the model gives any. */
  readonly defaultLabels: readonly string[];
  /** Problems found in the model's metadata that did not prevent loading, for the logger. */
  readonly warnings: readonly string[];
  readonly params: P;
}

/** Inputs of a decoder besides the raw outputs. */
export interface DecodeContext {
  readonly sourceWidth: number;
  readonly sourceHeight: number;
  /** Candidates scoring below this are not returned, 0..1. */
  readonly minScore: number;
  /** When set, only these class ids are returned. */
  readonly classIds?: ReadonlySet<number>;
  /** Maps a box from model-input pixels to source pixels (inverse of the resize and padding), unclipped. */
  toSourceBox(box: BoxXYXY): BoxXYXY;
}

/** One decoded box before NMS and clipping, in source pixels. */
export interface Candidate {
  readonly classId: number;
  readonly score: number;
  readonly box: BoxXYXY;
}

/** Options of {@link ModelAdapter.recognise}. */
export interface RecogniseOptions {
  /**
   * True when the caller named this family explicitly. An adapter may then accept shapes it would
   * otherwise leave to other families, but still returns `undefined` for shapes it cannot decode.
   */
  readonly forced: boolean;
  /**
   * Number of class names the caller passed (the `labels` option), when any. Layouts that only
   * differ in how many columns precede the class scores use it to tell which one they see.
   */
  readonly labelCount?: number;
}

/** A model family: recognition, preprocessing and decoding. */
export interface ModelAdapter<P = unknown> {
  /** Family name, such as `yolov8`. */
  readonly family: string;
  /** The signature this family expects, for error messages. */
  readonly expectedLayout: string;
  /** Returns a plan when the model belongs to this family, or `undefined`. */
  recognise(signature: ModelSignature, metadata: OnnxMetadata, options: RecogniseOptions): ModelPlan<P> | undefined;
  /** Inputs besides the image (such as the original image size), when the family has any. */
  extraInputs?(plan: ModelPlan<P>, image: { readonly width: number; readonly height: number }): Record<string, RawTensor>;
  /**
   * Splits the outputs of a run over `count` images into one set of outputs per image, each as
   * if the image had run alone. Without this method the runtime slices every output along its
   * first dimension. Only called for `count > 1`.
   */
  splitBatch?(outputs: Readonly<Record<string, RawTensor>>, plan: ModelPlan<P>, count: number): Record<string, RawTensor>[];
  /**
   * Decodes the outputs of one image into candidates at or above `context.minScore`, in source
   * pixels. The runtime applies NMS (when `plan.needsNms`), the detection cap and clipping after.
   * Throws when the outputs do not have the shapes the plan expects.
   */
  decode(outputs: Readonly<Record<string, RawTensor>>, plan: ModelPlan<P>, context: DecodeContext): Candidate[];
}
