/**
 * The model families framewise recognises, in the order recognition tries them. Families with a more
 * specific signature (extra inputs, several named outputs) come before the generic single-output
 * layouts, so the first match is the right one:
 * 1. keras-yolo3: a second input `image_shape` `[1, 2]`;
 * 2. tf-od-api: a uint8 NHWC input and `detection_*` outputs;
 * 3. retinanet: class and box heads in pairs;
 * 4. torchvision: boxes, scores and int64 labels;
 * 5-8. yolov8, yolo-end2end, rtdetr, yolov5: one rank-3 output, distinguished by Ultralytics
 *    metadata and shape (see single-output-layout.ts);
 * 9. fastestdet: one rank-4 output on a stride-16 grid;
 * 10. yolov3: never recognised on its own, only when named by the `family` option.
 */
import type { ModelAdapter, ModelPlan, ModelSignature } from './adapter.js';
import { fastestDetAdapter } from './fastestdet.js';
import { kerasYolo3Adapter } from './keras-yolo3.js';
import type { OnnxMetadata } from './onnx-metadata.js';
import { retinanetAdapter } from './retinanet.js';
import { rtdetrAdapter } from './rtdetr.js';
import { tfOdApiAdapter } from './tf-od-api.js';
import { torchvisionAdapter } from './torchvision.js';
import { yoloEnd2endAdapter } from './yolo-end2end.js';
import { yolov3Adapter, yolov5Adapter } from './yolov5.js';
import { yolov8Adapter } from './yolov8.js';

/** Adapters in recognition order. */
export const MODEL_ADAPTERS: readonly ModelAdapter[] = Object.freeze([
  kerasYolo3Adapter,
  tfOdApiAdapter,
  retinanetAdapter,
  torchvisionAdapter,
  yolov8Adapter,
  yoloEnd2endAdapter,
  rtdetrAdapter,
  yolov5Adapter,
  fastestDetAdapter,
  yolov3Adapter,
] as ModelAdapter[]);

/** Names of the known families, in recognition order. */
export function knownFamilies(): string[] {
  return MODEL_ADAPTERS.map((adapter) => adapter.family);
}

/** Returns the adapter of `family`, or `undefined` when no family has that name. */
export function findAdapter(family: string): ModelAdapter | undefined {
  return MODEL_ADAPTERS.find((adapter) => adapter.family === family);
}

/** Outcome of {@link recogniseModel}: a plan, or the adapters that were tried without a match. */
export type Recognition =
  | { readonly plan: ModelPlan; readonly tried: readonly ModelAdapter[] }
  | { readonly plan: undefined; readonly tried: readonly ModelAdapter[] };

/**
 * Finds the family of a model: the first adapter whose `recognise` returns a plan. When `family`
 * is given, only that adapter is tried, in forced mode. `labelCount` is the number of class names
 * the caller passed, when any.
 *
 * @throws Error when `family` names no known adapter (callers validate it first).
 */
export function recogniseModel(signature: ModelSignature, metadata: OnnxMetadata, family?: string, labelCount?: number): Recognition {
  if (family !== undefined) {
    const adapter = findAdapter(family);
    if (!adapter) throw new Error(`Unknown model family "${family}"`);
    return { plan: adapter.recognise(signature, metadata, { forced: true, labelCount }), tried: [adapter] };
  }

  for (const adapter of MODEL_ADAPTERS) {
    const plan = adapter.recognise(signature, metadata, { forced: false, labelCount });
    if (plan) return { plan, tried: MODEL_ADAPTERS };
  }
  return { plan: undefined, tried: MODEL_ADAPTERS };
}
