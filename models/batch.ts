/**
 * Combining per-image tensors into one batch and splitting a batch's outputs back, along the first
 * dimension. Both work on plain {@link RawTensor} data so they run in any thread.
 */
import type { RawTensor } from './adapter.js';

type TensorData = RawTensor['data'];

/**
 * Concatenates tensors of the same type and trailing shape along their first dimension, so
 * `count` tensors of shape `[1, ...rest]` become one of shape `[count, ...rest]`.
 *
 * @throws Error when the types or trailing dimensions differ.
 */
export function concatBatch(tensors: readonly RawTensor[]): RawTensor {
  const first = tensors[0];
  if (!first) throw new Error('Cannot concatenate an empty list of tensors');
  if (tensors.length === 1) return first;

  const rest = first.dims.slice(1).join(',');
  let total = 0;
  let leading = 0;
  for (const tensor of tensors) {
    if (tensor.type !== first.type || tensor.dims.slice(1).join(',') !== rest) {
      throw new Error(`Cannot batch a ${tensor.type} [${tensor.dims.join(', ')}] tensor with a ${first.type} [${first.dims.join(', ')}] one`);
    }
    total += tensor.data.length;
    leading += tensor.dims[0] ?? 0;
  }

  const data = allocateLike(first.data, total);
  let offset = 0;
  for (const tensor of tensors) {
    (data as Float32Array).set(tensor.data as Float32Array, offset);
    offset += tensor.data.length;
  }
  return { type: first.type, data, dims: [leading, ...first.dims.slice(1)] };
}

/**
 * Returns entry `index` of a tensor's first dimension as a tensor of shape `[1, ...rest]`. The
 * data is a view on the original buffer, not a copy.
 *
 * @throws Error when the first dimension is not `count`.
 */
export function sliceBatch(tensor: RawTensor, index: number, count: number): RawTensor {
  const [leading, ...rest] = tensor.dims;
  if (leading !== count) {
    throw new Error(`Expected an output with ${count} images in its first dimension, got [${tensor.dims.join(', ')}]`);
  }
  const size = tensor.data.length / count;
  return { type: tensor.type, data: tensor.data.subarray(index * size, (index + 1) * size) as TensorData, dims: [1, ...rest] };
}

/** Splits every output of a run over `count` images along its first dimension. */
export function splitBatchOutputs(outputs: Readonly<Record<string, RawTensor>>, count: number): Record<string, RawTensor>[] {
  return Array.from({ length: count }, (_, index) =>
    Object.fromEntries(Object.entries(outputs).map(([name, tensor]) => [name, sliceBatch(tensor, index, count)])),
  );
}

function allocateLike(data: TensorData, length: number): TensorData {
  if (data instanceof Float32Array) return new Float32Array(length);
  if (data instanceof Uint8Array) return new Uint8Array(length);
  if (data instanceof Int32Array) return new Int32Array(length);
  if (data instanceof BigInt64Array) return new BigInt64Array(length);
  return new Float64Array(length);
}
