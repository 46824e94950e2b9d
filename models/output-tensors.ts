/**
 * Access to decoded model outputs shared by the adapters: finding an output by name, reading its
 * values as numbers whatever the element type, and checking its shape.
 */
import type { RawTensor } from './adapter.js';

/**
 * Returns the output called `name`.
 *
 * @throws Error when the run did not produce it.
 */
export function requireOutput(outputs: Readonly<Record<string, RawTensor>>, name: string): RawTensor {
  const output = outputs[name];
  if (!output) throw new Error(`Model output "${name}" is missing from the results`);
  return output;
}

/**
 * Returns the values of a numeric tensor as numbers. `int64` values are converted (exactly up to
 * 2^53); other types are returned as they are, without a copy.
 *
 * @throws Error for a tensor of another element type, such as strings.
 */
export function numericValues(tensor: RawTensor): ArrayLike<number> {
  const { data } = tensor;
  if (data instanceof BigInt64Array) return Float64Array.from(data, Number);
  if (data instanceof Float32Array || data instanceof Float64Array || data instanceof Int32Array || data instanceof Uint8Array) return data;
  throw new Error(`Expected a numeric output, got element type ${tensor.type}`);
}

/**
 * Checks that a tensor has `expected.length` dimensions and that each fixed entry of `expected`
 * matches; `undefined` entries accept any size.
 *
 * @throws Error naming the output, the expected and the actual shape.
 */
export function checkDims(name: string, tensor: RawTensor, expected: readonly (number | undefined)[]): void {
  const matches = tensor.dims.length === expected.length && expected.every((dim, index) => dim === undefined || tensor.dims[index] === dim);
  if (!matches) {
    const wanted = expected.map((dim) => (dim === undefined ? '?' : String(dim))).join(', ');
    throw new Error(`Expected output "${name}" of shape [${wanted}], got [${tensor.dims.join(', ')}]`);
  }
}

/** The logistic function, `1 / (1 + e^-x)`. */
export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}
