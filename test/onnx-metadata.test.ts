import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COCO80_LABELS } from '../models/labels.js';
import { OnnxFormatError, parseOnnxMetadata, readOnnxMetadata } from '../models/onnx-metadata.js';
import { readUltralyticsMetadata } from '../models/ultralytics-metadata.js';
import { buildOnnxModel, stripMetadataProps, type ModelSpec } from './helpers/onnx-builder.js';
import { sharedPath } from './helpers/media.js';

const YOLOV8N = sharedPath('models', 'yolov8n_int8.onnx');
const hasYolov8n = existsSync(YOLOV8N);

const IDENTITY: ModelSpec = {
  inputs: [{ name: 'x', type: 'float32', shape: [1, 4] }],
  outputs: [{ name: 'y', type: 'float32', shape: [1, 4] }],
  nodes: [{ opType: 'Identity', inputs: ['x'], outputs: ['y'] }],
};

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'framewise-onnx-metadata-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe.skipIf(!hasYolov8n)('readOnnxMetadata on yolov8n_int8.onnx (needs ../shared/models)', () => {
  it('reads the producer and the Ultralytics metadata', async () => {
    const metadata = await readOnnxMetadata(YOLOV8N);
    expect(metadata.hasGraph).toBe(true);
    expect(metadata.producerName).toBe('onnx.quantize');
    expect(metadata.irVersion).toBeGreaterThanOrEqual(7);
    expect(metadata.opsetImports.some((opset) => opset.domain === '' && opset.version > 0)).toBe(true);
    expect(metadata.metadataProps.get('author')).toBe('Ultralytics');
    expect(metadata.metadataProps.get('task')).toBe('detect');

    const ultralytics = readUltralyticsMetadata(metadata.metadataProps);
    expect(ultralytics.names).toEqual(COCO80_LABELS);
    expect(ultralytics.imgsz).toEqual([640, 640]);
    expect(ultralytics.problems).toEqual([]);
  });

  it('finds no metadata in a stripped copy', async () => {
    const stripped = stripMetadataProps(await readFile(YOLOV8N));
    const path = join(directory, 'yolov8n-stripped.onnx');
    await writeFile(path, stripped);

    const metadata = await readOnnxMetadata(path);
    expect(metadata.metadataProps.size).toBe(0);
    expect(metadata.producerName).toBe('onnx.quantize');
    expect(metadata.hasGraph).toBe(true);
  });
});

describe('parseOnnxMetadata on built models', () => {
  it('reads metadata, producer, IR version and opset', async () => {
    const bytes = buildOnnxModel({
      ...IDENTITY,
      irVersion: 7,
      opset: 12,
      producerName: 'builder',
      metadata: { names: "{0: 'a'}", imgsz: '[32, 32]' },
    });
    const metadata = await parseOnnxMetadata(bytes);
    expect(metadata.producerName).toBe('builder');
    expect(metadata.irVersion).toBe(7);
    expect(metadata.opsetImports).toEqual([{ domain: '', version: 12 }]);
    expect([...metadata.metadataProps]).toEqual([
      ['names', "{0: 'a'}"],
      ['imgsz', '[32, 32]'],
    ]);
  });

  it('returns an empty map when the model has no metadata', async () => {
    const metadata = await parseOnnxMetadata(buildOnnxModel(IDENTITY));
    expect(metadata.metadataProps.size).toBe(0);
    expect(metadata.hasGraph).toBe(true);
  });

  it('keeps UTF-8 text intact', async () => {
    const metadata = await parseOnnxMetadata(buildOnnxModel({ ...IDENTITY, metadata: { names: "{0: 'café', 1: '人'}" } }));
    expect(metadata.metadataProps.get('names')).toBe("{0: 'café', 1: '人'}");
  });
});

describe('readOnnxMetadata on files', () => {
  it('skips a graph larger than one read chunk', async () => {
    const values = new Float32Array(100_000).fill(0.5);
    const bytes = buildOnnxModel({
      inputs: [{ name: 'x', type: 'float32', shape: [100_000] }],
      outputs: [{ name: 'y', type: 'float32', shape: [100_000] }],
      nodes: [{ opType: 'Add', inputs: ['x', 'w'], outputs: ['y'] }],
      initializers: [{ name: 'w', type: 'float32', dims: [100_000], values }],
      metadata: { key: 'after the graph' },
    });
    const path = join(directory, 'large.onnx');
    await writeFile(path, bytes);

    const metadata = await readOnnxMetadata(path);
    expect(bytes.length).toBeGreaterThan(400_000);
    expect(metadata.metadataProps.get('key')).toBe('after the graph');
  });

  it('rejects a truncated model', async () => {
    const bytes = buildOnnxModel({ ...IDENTITY, metadata: { key: 'value' } });
    const path = join(directory, 'truncated.onnx');
    await writeFile(path, bytes.subarray(0, bytes.length - 3));
    await expect(readOnnxMetadata(path)).rejects.toBeInstanceOf(OnnxFormatError);
  });

  it('rejects a text file', async () => {
    const path = join(directory, 'notes.onnx');
    await writeFile(path, 'this is not a model\n');
    await expect(readOnnxMetadata(path)).rejects.toBeInstanceOf(OnnxFormatError);
  });

  it('rejects a missing file with the file system error', async () => {
    await expect(readOnnxMetadata(join(directory, 'missing.onnx'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
