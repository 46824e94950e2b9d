/**
 * Reads the header fields of an ONNX `ModelProto` without decoding the graph, because
 * onnxruntime-node 1.30 does not expose `metadata_props`. The reader walks the top-level protobuf
 * fields and skips the graph (field 7) and every other large field by its length prefix, so it
 * reads a few kilobytes even from a model of hundreds of megabytes.
 */
import { open, type FileHandle } from 'node:fs/promises';

/** Header fields and `metadata_props` of an ONNX model. Absent fields are `undefined`. */
export interface OnnxMetadata {
  /** ONNX IR version (`ir_version`, field 1). */
  readonly irVersion?: number;
  /** Tool that wrote the model, such as `pytorch` (`producer_name`, field 2). */
  readonly producerName?: string;
  /** Version of that tool (`producer_version`, field 3). */
  readonly producerVersion?: string;
  /** Operator sets the graph uses (`opset_import`, field 8). The default domain is `''`. */
  readonly opsetImports: readonly { readonly domain: string; readonly version: number }[];
  /** Key-value pairs the exporter stored (`metadata_props`, field 14). A repeated key keeps its last value. */
  readonly metadataProps: ReadonlyMap<string, string>;
  /** True when the file has a graph (field 7). Every loadable model has one. */
  readonly hasGraph: boolean;
}

/** Raised when the bytes are not a well-formed protobuf `ModelProto`; `offset` is where reading failed. */
export class OnnxFormatError extends Error {
  override readonly name = 'OnnxFormatError';
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(`${message} at byte ${offset}`);
    this.offset = offset;
  }
}

/** Protobuf wire types (the low 3 bits of a field key). Types 3 and 4 (groups) never occur in ONNX. */
const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

const FIELD_IR_VERSION = 1;
const FIELD_PRODUCER_NAME = 2;
const FIELD_PRODUCER_VERSION = 3;
const FIELD_GRAPH = 7;
const FIELD_OPSET_IMPORT = 8;
const FIELD_METADATA_PROPS = 14;

/** Length-delimited top-level fields whose bytes the reader loads; all others are skipped unread. */
const LOADED_FIELDS = new Set([FIELD_PRODUCER_NAME, FIELD_PRODUCER_VERSION, FIELD_OPSET_IMPORT, FIELD_METADATA_PROPS]);

/** Bytes read from the file at a time. */
const CHUNK_BYTES = 64 * 1024;

const utf8 = new TextDecoder('utf-8');

/** Random access to the bytes of a model, from a file or from memory. */
interface ByteSource {
  readonly size: number;
  read(position: number, length: number): Promise<Uint8Array>;
}

/**
 * Reads the header fields and `metadata_props` of the ONNX file at `path`.
 *
 * @throws OnnxFormatError when the file is not a well-formed `ModelProto`.
 * @throws the file system error when the file cannot be opened or read.
 * @example
 * const metadata = await readOnnxMetadata('yolov8n.onnx');
 * metadata.metadataProps.get('names'); // "{0: 'person', 1: 'bicycle', ...}"
 */
export async function readOnnxMetadata(path: string): Promise<OnnxMetadata> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    return await walkModel({ size, read: (position, length) => readAt(handle, position, length) });
  } finally {
    await handle.close();
  }
}

/**
 * Reads the header fields and `metadata_props` of an ONNX model held in memory.
 *
 * @throws OnnxFormatError when the bytes are not a well-formed `ModelProto`.
 */
export function parseOnnxMetadata(bytes: Uint8Array): Promise<OnnxMetadata> {
  return walkModel({ size: bytes.length, read: async (position, length) => bytes.subarray(position, position + length) });
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Uint8Array> {
  const buffer = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

/** Sequential reader over a {@link ByteSource} that keeps one chunk in memory. */
class ChunkedReader {
  position = 0;
  private chunk: Uint8Array = new Uint8Array(0);
  private chunkStart = 0;
  private readonly source: ByteSource;

  constructor(source: ByteSource) {
    this.source = source;
  }

  get size(): number {
    return this.source.size;
  }

  async readByte(): Promise<number> {
    const offset = this.position - this.chunkStart;
    if (offset < 0 || offset >= this.chunk.length) {
      this.chunkStart = this.position;
      this.chunk = await this.source.read(this.position, CHUNK_BYTES);
      if (this.chunk.length === 0) throw new OnnxFormatError('Unexpected end of file', this.position);
    }
    const byte = this.chunk[this.position - this.chunkStart] as number;
    this.position += 1;
    return byte;
  }

  async readVarint(): Promise<number> {
    const start = this.position;
    let value = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      const byte = await this.readByte();
      // Multiplication instead of `<<` keeps values above 2^31 exact up to 2^53.
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    throw new OnnxFormatError('Varint longer than 10 bytes', start);
  }

  async readBytes(length: number): Promise<Uint8Array> {
    this.requireAvailable(length);
    const bytes = await this.source.read(this.position, length);
    this.position += length;
    return bytes;
  }

  skip(length: number): void {
    this.requireAvailable(length);
    this.position += length;
  }

  private requireAvailable(length: number): void {
    if (this.position + length > this.source.size) {
      throw new OnnxFormatError(`Field of ${length} bytes runs past the end of the ${this.source.size}-byte file`, this.position);
    }
  }
}

async function walkModel(source: ByteSource): Promise<OnnxMetadata> {
  const reader = new ChunkedReader(source);
  const metadataProps = new Map<string, string>();
  const opsetImports: { domain: string; version: number }[] = [];
  let irVersion: number | undefined;
  let producerName: string | undefined;
  let producerVersion: string | undefined;
  let hasGraph = false;

  while (reader.position < reader.size) {
    const keyOffset = reader.position;
    const key = await reader.readVarint();
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    if (field === 0) throw new OnnxFormatError('Field number 0 is not valid protobuf', keyOffset);

    if (wireType === WIRE_VARINT) {
      const value = await reader.readVarint();
      if (field === FIELD_IR_VERSION) irVersion = value;
    } else if (wireType === WIRE_FIXED64) {
      reader.skip(8);
    } else if (wireType === WIRE_FIXED32) {
      reader.skip(4);
    } else if (wireType === WIRE_LENGTH_DELIMITED) {
      const length = await reader.readVarint();
      if (field === FIELD_GRAPH) hasGraph = true;
      if (!LOADED_FIELDS.has(field)) {
        reader.skip(length);
        continue;
      }
      const bytesOffset = reader.position;
      const bytes = await reader.readBytes(length);
      if (field === FIELD_PRODUCER_NAME) producerName = utf8.decode(bytes);
      if (field === FIELD_PRODUCER_VERSION) producerVersion = utf8.decode(bytes);
      if (field === FIELD_OPSET_IMPORT) opsetImports.push(parseOpsetImport(bytes, bytesOffset));
      if (field === FIELD_METADATA_PROPS) {
        const entry = parseStringEntry(bytes, bytesOffset);
        metadataProps.set(entry.key, entry.value);
      }
    } else {
      throw new OnnxFormatError(`Unsupported protobuf wire type ${wireType} in field ${field}`, keyOffset);
    }
  }

  return { irVersion, producerName, producerVersion, opsetImports, metadataProps, hasGraph };
}

/** Visits the fields of a small nested message held in memory. */
function forEachField(
  bytes: Uint8Array,
  baseOffset: number,
  visit: (field: number, value: number | Uint8Array) => void,
): void {
  let position = 0;
  const readVarint = (): number => {
    let value = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      const byte = bytes[position];
      if (byte === undefined) throw new OnnxFormatError('Truncated varint', baseOffset + position);
      position += 1;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    throw new OnnxFormatError('Varint longer than 10 bytes', baseOffset + position);
  };

  while (position < bytes.length) {
    const keyOffset = position;
    const key = readVarint();
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    if (wireType === WIRE_VARINT) {
      visit(field, readVarint());
    } else if (wireType === WIRE_LENGTH_DELIMITED) {
      const length = readVarint();
      if (position + length > bytes.length) throw new OnnxFormatError('Truncated nested field', baseOffset + position);
      visit(field, bytes.subarray(position, position + length));
      position += length;
    } else if (wireType === WIRE_FIXED64 || wireType === WIRE_FIXED32) {
      position += wireType === WIRE_FIXED64 ? 8 : 4;
    } else {
      throw new OnnxFormatError(`Unsupported protobuf wire type ${wireType}`, baseOffset + keyOffset);
    }
  }
  if (position > bytes.length) throw new OnnxFormatError('Truncated nested field', baseOffset + bytes.length);
}

/** `OperatorSetIdProto`: field 1 domain, field 2 version. */
function parseOpsetImport(bytes: Uint8Array, offset: number): { domain: string; version: number } {
  let domain = '';
  let version = 0;
  forEachField(bytes, offset, (field, value) => {
    if (field === 1 && value instanceof Uint8Array) domain = utf8.decode(value);
    if (field === 2 && typeof value === 'number') version = value;
  });
  return { domain, version };
}

/** `StringStringEntryProto`: field 1 key, field 2 value. */
function parseStringEntry(bytes: Uint8Array, offset: number): { key: string; value: string } {
  let key = '';
  let value = '';
  forEachField(bytes, offset, (field, fieldValue) => {
    if (!(fieldValue instanceof Uint8Array)) return;
    if (field === 1) key = utf8.decode(fieldValue);
    if (field === 2) value = utf8.decode(fieldValue);
  });
  return { key, value };
}
