/**
 * The model families framewise recognises, in the order recognition tries them. Families with a more
 * specific signature (extra inputs, several named outputs) belong before the generic single-output
 * layouts, so the first match is the right one.
 */
import type { ModelAdapter, ModelPlan, ModelSignature } from './adapter.js';
import type { OnnxMetadata } from './onnx-metadata.js';
import { yolov8Adapter } from './yolov8.js';

/** Adapters in recognition order. */
export const MODEL_ADAPTERS: readonly ModelAdapter[] = Object.freeze([yolov8Adapter as ModelAdapter]);

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
 * is given, only that adapter is tried, in forced mode.
 *
 * @throws Error when `family` names no known adapter (callers validate it first).
 */
export function recogniseModel(signature: ModelSignature, metadata: OnnxMetadata, family?: string): Recognition {
  if (family !== undefined) {
    const adapter = findAdapter(family);
    if (!adapter) throw new Error(`Unknown model family "${family}"`);
    return { plan: adapter.recognise(signature, metadata, { forced: true }), tried: [adapter] };
  }

  for (const adapter of MODEL_ADAPTERS) {
    const plan = adapter.recognise(signature, metadata, { forced: false });
    if (plan) return { plan, tried: MODEL_ADAPTERS };
  }
  return { plan: undefined, tried: MODEL_ADAPTERS };
}
