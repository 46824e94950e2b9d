/**
 * Builds small ONNX models in memory for tests, so no model binaries need to be committed.
 * It writes the protobuf wire format of `ModelProto` by hand (field numbers from onnx/onnx.proto):
 * inputs and outputs with fixed or symbolic dimensions, nodes with attributes, initializers,
 * the opset and `metadata_props`.
 *
 * @example
 * const bytes = buildOnnxModel({
 *   inputs: [{ name: 'x', type: 'float32', shape: [1, 4] }],
 *   outputs: [{ name: 'y', type: 'float32', shape: [1, 4] }],
 *   nodes: [{ opType: 'Identity', inputs: ['x'], outputs: ['y'] }],
 * });
 */

/** Tensor element types the builder can write. */
export type OnnxElementType = 'float32' | 'uint8' | 'int8' | 'int32' | 'int64' | 'bool' | 'float64';

/** `TensorProto.DataType` codes. */
const DATA_TYPE_CODES: Record<OnnxElementType, number> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float64: 11,
};

/** A graph input or output: name, element type and shape (a string is a symbolic dimension). */
export interface ValueInfoSpec {
  readonly name: string;
  readonly type: OnnxElementType;
  readonly shape: readonly (number | string)[];
}

/** A constant tensor (an initializer or a `Constant` node's value). Values in row-major order. */
export interface TensorSpec {
  readonly name?: string;
  readonly type: OnnxElementType;
  readonly dims: readonly number[];
  readonly values: ArrayLike<number> | readonly bigint[];
}

/** A node attribute, tagged with its ONNX attribute type. */
export type AttributeSpec =
  | { readonly float: number }
  | { readonly int: number }
  | { readonly string: string }
  | { readonly tensor: TensorSpec }
  | { readonly floats: readonly number[] }
  | { readonly ints: readonly number[] }
  | { readonly strings: readonly string[] };

/** One graph node. */
export interface NodeSpec {
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name?: string;
  readonly domain?: string;
  readonly attributes?: Readonly<Record<string, AttributeSpec>>;
}

/** A whole model. */
export interface ModelSpec {
  readonly inputs: readonly ValueInfoSpec[];
  readonly outputs: readonly ValueInfoSpec[];
  readonly nodes: readonly NodeSpec[];
  readonly initializers?: readonly (TensorSpec & { readonly name: string })[];
  /** Default-domain opset version. Default 13. */
  readonly opset?: number;
  /** ONNX IR version. Default 8 (ONNX 1.10), which every ONNX Runtime from 1.10 on reads. */
  readonly irVersion?: number;
  /** Default `framewise-test`. */
  readonly producerName?: string;
  readonly graphName?: string;
  /** Entries of `metadata_props`, in insertion order. */
  readonly metadata?: Readonly<Record<string, string>>;
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

const ATTRIBUTE_TYPES = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7, strings: 8 } as const;

/** Appends protobuf fields to a growing byte list. */
class ProtoWriter {
  private readonly parts: number[] = [];

  varint(value: number | bigint): this {
    // Negative int64 values are written as their 64-bit two's complement, 10 bytes long.
    let remaining = BigInt.asUintN(64, BigInt(value));
    do {
      const byte = Number(remaining & 0x7fn);
      remaining >>= 7n;
      this.parts.push(remaining > 0n ? byte | 0x80 : byte);
    } while (remaining > 0n);
    return this;
  }

  key(field: number, wireType: number): this {
    return this.varint(field * 8 + wireType);
  }

  int(field: number, value: number | bigint): this {
    return this.key(field, WIRE_VARINT).varint(value);
  }

  float(field: number, value: number): this {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.key(field, WIRE_FIXED32);
    this.parts.push(...bytes);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.key(field, WIRE_LENGTH_DELIMITED).varint(value.length);
    for (const byte of value) this.parts.push(byte);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, build: (writer: ProtoWriter) => void): this {
    const nested = new ProtoWriter();
    build(nested);
    return this.bytes(field, nested.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** Serialises a model to the bytes of an `.onnx` file. */
export function buildOnnxModel(spec: ModelSpec): Uint8Array {
  const model = new ProtoWriter();
  model.int(1, spec.irVersion ?? 8);
  model.string(2, spec.producerName ?? 'framewise-test');
  model.message(7, (graph) => writeGraph(graph, spec));
  model.message(8, (opset) => opset.string(1, '').int(2, spec.opset ?? 13));
  for (const [key, value] of Object.entries(spec.metadata ?? {})) {
    model.message(14, (entry) => entry.string(1, key).string(2, value));
  }
  return model.finish();
}

function writeGraph(graph: ProtoWriter, spec: ModelSpec): void {
  for (const node of spec.nodes) graph.message(1, (writer) => writeNode(writer, node));
  graph.string(2, spec.graphName ?? 'framewise_test_graph');
  for (const initializer of spec.initializers ?? []) graph.message(5, (writer) => writeTensor(writer, initializer));
  for (const input of spec.inputs) graph.message(11, (writer) => writeValueInfo(writer, input));
  for (const output of spec.outputs) graph.message(12, (writer) => writeValueInfo(writer, output));
}

function writeNode(writer: ProtoWriter, node: NodeSpec): void {
  for (const input of node.inputs) writer.string(1, input);
  for (const output of node.outputs) writer.string(2, output);
  if (node.name !== undefined) writer.string(3, node.name);
  writer.string(4, node.opType);
  for (const [name, attribute] of Object.entries(node.attributes ?? {})) {
    writer.message(5, (attributeWriter) => writeAttribute(attributeWriter, name, attribute));
  }
  if (node.domain !== undefined) writer.string(7, node.domain);
}

/** `AttributeProto`: name 1, f 2, i 3, s 4, t 5, floats 7, ints 8, strings 9, type 20. */
function writeAttribute(writer: ProtoWriter, name: string, attribute: AttributeSpec): void {
  writer.string(1, name);
  if ('float' in attribute) {
    writer.float(2, attribute.float).int(20, ATTRIBUTE_TYPES.float);
  } else if ('int' in attribute) {
    writer.int(3, attribute.int).int(20, ATTRIBUTE_TYPES.int);
  } else if ('string' in attribute) {
    writer.string(4, attribute.string).int(20, ATTRIBUTE_TYPES.string);
  } else if ('tensor' in attribute) {
    writer.message(5, (tensorWriter) => writeTensor(tensorWriter, attribute.tensor)).int(20, ATTRIBUTE_TYPES.tensor);
  } else if ('floats' in attribute) {
    for (const value of attribute.floats) writer.float(7, value);
    writer.int(20, ATTRIBUTE_TYPES.floats);
  } else if ('ints' in attribute) {
    for (const value of attribute.ints) writer.int(8, value);
    writer.int(20, ATTRIBUTE_TYPES.ints);
  } else {
    for (const value of attribute.strings) writer.string(9, value);
    writer.int(20, ATTRIBUTE_TYPES.strings);
  }
}

/** `TensorProto`: dims 1, data_type 2, name 8, raw_data 9 (little-endian values). */
function writeTensor(writer: ProtoWriter, tensor: TensorSpec): void {
  const count = tensor.dims.reduce((product, dim) => product * dim, 1);
  if (tensor.values.length !== count) {
    throw new Error(`Tensor ${tensor.name ?? '(unnamed)'} has ${tensor.values.length} values for dims [${tensor.dims.join(', ')}]`);
  }
  for (const dim of tensor.dims) writer.int(1, dim);
  writer.int(2, DATA_TYPE_CODES[tensor.type]);
  if (tensor.name !== undefined) writer.string(8, tensor.name);
  writer.bytes(9, rawData(tensor));
}

function rawData(tensor: TensorSpec): Uint8Array {
  const values = Array.from(tensor.values as ArrayLike<number | bigint>);
  switch (tensor.type) {
    case 'float32':
      return new Uint8Array(Float32Array.from(values, Number).buffer);
    case 'float64':
      return new Uint8Array(Float64Array.from(values, Number).buffer);
    case 'int32':
      return new Uint8Array(Int32Array.from(values, Number).buffer);
    case 'int64':
      return new Uint8Array(BigInt64Array.from(values, (value) => BigInt(value)).buffer);
    case 'uint8':
    case 'bool':
      return Uint8Array.from(values, Number);
    case 'int8':
      return new Uint8Array(Int8Array.from(values, Number).buffer);
  }
}

/** `ValueInfoProto` { name 1, type 2: TypeProto { tensor_type 1: { elem_type 1, shape 2: { dim 1: { dim_value 1 | dim_param 2 } } } } }. */
function writeValueInfo(writer: ProtoWriter, value: ValueInfoSpec): void {
  writer.string(1, value.name);
  writer.message(2, (type) =>
    type.message(1, (tensorType) => {
      tensorType.int(1, DATA_TYPE_CODES[value.type]);
      tensorType.message(2, (shape) => {
        for (const dim of value.shape) {
          shape.message(1, (dimension) => (typeof dim === 'number' ? dimension.int(1, dim) : dimension.string(2, dim)));
        }
      });
    }),
  );
}

/** Creates a `Constant` node that outputs `tensor` under the name `output`. */
export function constantNode(output: string, tensor: TensorSpec): NodeSpec {
  return { opType: 'Constant', inputs: [], outputs: [output], attributes: { value: { tensor } } };
}

/**
 * Returns a copy of an ONNX file without its `metadata_props` (top-level field 14), copying every
 * other top-level field byte for byte.
 */
export function stripMetadataProps(bytes: Uint8Array): Uint8Array {
  const kept: Uint8Array[] = [];
  let position = 0;
  const readVarint = (): number => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[position];
      if (byte === undefined) throw new Error('Truncated varint');
      position += 1;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };

  while (position < bytes.length) {
    const start = position;
    const key = readVarint();
    const wireType = key % 8;
    if (wireType === WIRE_VARINT) readVarint();
    else if (wireType === WIRE_FIXED64) position += 8;
    else if (wireType === WIRE_FIXED32) position += 4;
    else if (wireType === WIRE_LENGTH_DELIMITED) {
      // Read the length first: `position += readVarint()` would add it to the position before the varint.
      const length = readVarint();
      position += length;
    } else throw new Error(`Unsupported wire type ${wireType}`);
    if (Math.floor(key / 8) !== 14) kept.push(bytes.subarray(start, position));
  }

  const result = new Uint8Array(kept.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of kept) {
    result.set(part, offset);
    offset += part.length;
  }
  return result;
}
