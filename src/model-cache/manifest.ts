/**
 * The named models framewise can download, and the sample video of its set-up step. Each entry
 * names a file by URL, size and SHA-256, so a download is only accepted when it is byte for byte
 * the published file. Sizes and checksums of the ONNX Model Zoo files are those of the zoo's Git
 * LFS pointers; the zoo moved the files from GitHub to Hugging Face in July 2025.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { FramewiseError } from '../errors.js';

/** One downloadable file. */
export interface ManifestEntry {
  /** Name used by `framewise models pull NAME` and `--model NAME`. */
  readonly name: string;
  /** `model` for ONNX detectors, `media` for sample inputs. */
  readonly kind: 'model' | 'media';
  /** Base URL of the host that serves the file, without a trailing slash. A base-URL override replaces it. */
  readonly baseUrl: string;
  /** Path of the file under `baseUrl`. */
  readonly path: string;
  /** File size in bytes. */
  readonly sizeBytes: number;
  /** SHA-256 of the file, 64 lowercase hex digits. */
  readonly sha256: string;
  /** Model family that decodes the model, passed to `loadDetector` as `family`. Absent for media. */
  readonly family?: string;
  /** Label set the model scores: `coco80` (0-based) or `coco91` (COCO category ids). */
  readonly labels?: 'coco80' | 'coco91';
  /** One line for `framewise models list`. */
  readonly description: string;
}

/** Base URL of the ONNX Model Zoo's legacy files, served from Hugging Face since July 2025. */
export const MODEL_ZOO_BASE_URL = 'https://huggingface.co/onnxmodelzoo/legacy_models/resolve/main';

/** Environment variable naming a JSON file of extra manifest entries. */
export const MANIFEST_ENV_VARIABLE = 'FRAMEWISE_MODEL_MANIFEST';

/** The built-in entries: six ONNX Model Zoo detectors and the sample video. */
export const BUILTIN_MANIFEST: readonly ManifestEntry[] = Object.freeze([
  {
    name: 'tiny-yolov3',
    kind: 'model',
    baseUrl: MODEL_ZOO_BASE_URL,
    path: 'validated/vision/object_detection_segmentation/tiny-yolov3/model/tiny-yolov3-11.onnx',
    sizeBytes: 35511756,
    sha256: 'f715cc2d99740d22d312777e20d9de2b2ecdc250155be8fd3752ce7e8b823521',
    family: 'keras-yolo3',
    labels: 'coco80',
    description: 'TinyYOLOv3 (keras-yolo3, opset 11), 416x416, NMS in the graph',
  },
  {
    name: 'yolov3',
    kind: 'model',
    baseUrl: MODEL_ZOO_BASE_URL,
    path: 'validated/vision/object_detection_segmentation/yolov3/model/yolov3-12.onnx',
    sizeBytes: 247942267,
    sha256: 'd97d7d5c1bbab2ec1ea197f0b689eb121231d62985ad223fb8aa833f8ef79836',
    family: 'keras-yolo3',
    labels: 'coco80',
    description: 'YOLOv3 (keras-yolo3, opset 12), 416x416, NMS in the graph',
  },
  {
    name: 'yolov3-10',
    kind: 'model',
    baseUrl: MODEL_ZOO_BASE_URL,
    path: 'validated/vision/object_detection_segmentation/yolov3/model/yolov3-10.onnx',
    sizeBytes: 247908721,
    sha256: '1f4613c3d04416dfd2c1960b8737aa5292994238dfecbe9c1ee7147e9a92439f',
    family: 'keras-yolo3',
    labels: 'coco80',
    description: 'YOLOv3 (keras-yolo3, opset 10), 416x416, NMS in the graph',
  },
  {
    name: 'retinanet',
    kind: 'model',
    baseUrl: MODEL_ZOO_BASE_URL,
    path: 'validated/vision/object_detection_segmentation/retinanet/model/retinanet-9.onnx',
    sizeBytes: 228369343,
    sha256: '06742923960ec4d9899e6fe407d4d2df013fe6962504f099463ca1b8cba45e44',
    family: 'retinanet',
    labels: 'coco80',
    description: 'RetinaNet ResNet101-FPN (NVIDIA retinanet-examples), 640x480, raw heads',
  },
  // NOTE: this file's inputs and outputs are assumed, not inspected, because it could not be
  // downloaded. The torchvision family expects boxes [N, 4], scores [N] and int64 labels [N].
  {
    name: 'retinanet-torchvision',
    kind: 'model',
    baseUrl: MODEL_ZOO_BASE_URL,
    path: 'Computer_Vision/retinanet_resnet50_fpn_v2_Opset17_torchvision/retinanet_resnet50_fpn_v2_Opset17.onnx',
    sizeBytes: 153037049,
    sha256: 'c3abb1f44cba2d78b7cb9e83e55c9ab77945492a5903e51435c0d2d6461560a5',
    family: 'torchvision',
    labels: 'coco91',
    description: 'RetinaNet ResNet50-FPN v2 (torchvision, opset 17), COCO category ids',
  },
  {
    name: 'ssd-mobilenet',
    kind: 'model',
    baseUrl: MODEL_ZOO_BASE_URL,
    path: 'validated/vision/object_detection_segmentation/ssd-mobilenetv1/model/ssd_mobilenet_v1_12.onnx',
    sizeBytes: 29461455,
    sha256: 'b8fba5e404077d4048d27fcd1667e85e27e192eb9bf51e696c46a3acd7d21058',
    family: 'tf-od-api',
    labels: 'coco91',
    description: 'SSD-MobileNet v1 (TensorFlow Object Detection API, opset 12), uint8 input',
  },
  {
    name: 'car-detection',
    kind: 'media',
    baseUrl: 'https://github.com',
    path: 'intel-iot-devkit/sample-videos/raw/master/car-detection.mp4',
    sizeBytes: 2811553,
    sha256: 'd31e0ebf194cc16e50eea784e7c3b0b1bb7976a4fb9b3fec26cb92a6704cca34',
    description: 'Sample video: parking lot, 768x432, 30 s (Intel sample videos, CC BY 4.0)',
  },
] satisfies ManifestEntry[]);

/**
 * Returns the entry called `name`, or `undefined`.
 */
export function findManifestEntry(manifest: readonly ManifestEntry[], name: string): ManifestEntry | undefined {
  return manifest.find((entry) => entry.name === name);
}

/**
 * Returns the download URL of an entry: `baseUrl` (or the override) joined to its path.
 *
 * @example
 * entryUrl(entry, 'http://127.0.0.1:8080/mirror'); // 'http://127.0.0.1:8080/mirror/validated/.../tiny-yolov3-11.onnx'
 */
export function entryUrl(entry: ManifestEntry, baseUrlOverride?: string): string {
  const base = (baseUrlOverride ?? entry.baseUrl).replace(/\/+$/, '');
  return `${base}/${entry.path.replace(/^\/+/, '')}`;
}

/** File name of an entry in the cache: its name with the extension of its path, such as `tiny-yolov3.onnx`. */
export function cacheFileName(entry: ManifestEntry): string {
  return `${entry.name}${extname(entry.path)}`;
}

/**
 * Builds the manifest in use: the built-in entries, plus the entries of the JSON file at
 * `manifestPath`, which replace built-in entries of the same name. The file contains an array of
 * objects with `name`, `path`, `sizeBytes` and `sha256`, and optionally `baseUrl` (default the
 * ONNX Model Zoo's), `kind` (default `model`), `family`, `labels` and `description`.
 *
 * @throws FramewiseError `INVALID_ARGUMENT` when the file cannot be read, is not JSON, or an entry is invalid.
 */
export async function loadManifest(manifestPath?: string): Promise<ManifestEntry[]> {
  if (manifestPath === undefined || manifestPath === '') return [...BUILTIN_MANIFEST];

  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch (error) {
    throw manifestError(manifestPath, `cannot be read: ${(error as Error).message}`, error);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw manifestError(manifestPath, `is not valid JSON: ${(error as Error).message}`, error);
  }
  if (!Array.isArray(parsed)) throw manifestError(manifestPath, 'must contain a JSON array of entries');

  const extra = parsed.map((value: unknown, index) => validateEntry(manifestPath, value, index));
  const names = new Set(extra.map((entry) => entry.name));
  return [...BUILTIN_MANIFEST.filter((entry) => !names.has(entry.name)), ...extra];
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const SHA256_PATTERN = /^[0-9a-f]{64}$/;

function validateEntry(manifestPath: string, value: unknown, index: number): ManifestEntry {
  const fail = (problem: string): never => {
    throw manifestError(manifestPath, `entry ${index}: ${problem}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('expected an object');
  const record = value as Record<string, unknown>;
  const text = (key: string): string | undefined => {
    const field = record[key];
    if (field === undefined) return undefined;
    if (typeof field !== 'string' || field === '') return fail(`"${key}" must be a non-empty string`);
    return field;
  };

  const name = text('name') ?? fail('"name" is missing');
  if (!NAME_PATTERN.test(name)) fail(`"name" ${JSON.stringify(name)} may contain only letters, digits, ".", "_" and "-"`);
  const path = text('path') ?? fail('"path" is missing');
  const sha256 = (text('sha256') ?? fail('"sha256" is missing')).toLowerCase();
  if (!SHA256_PATTERN.test(sha256)) fail('"sha256" must be 64 hex digits');
  const { sizeBytes } = record;
  if (typeof sizeBytes !== 'number' || !Number.isSafeInteger(sizeBytes) || sizeBytes < 1) fail('"sizeBytes" must be a positive integer');
  const kind = text('kind') ?? 'model';
  if (kind !== 'model' && kind !== 'media') fail('"kind" must be "model" or "media"');
  const labels = text('labels');
  if (labels !== undefined && labels !== 'coco80' && labels !== 'coco91') fail('"labels" must be "coco80" or "coco91"');

  return {
    name,
    kind: kind as ManifestEntry['kind'],
    baseUrl: text('baseUrl') ?? MODEL_ZOO_BASE_URL,
    path,
    sizeBytes: sizeBytes as number,
    sha256,
    family: text('family'),
    labels: labels as ManifestEntry['labels'],
    description: text('description') ?? '',
  };
}

function manifestError(manifestPath: string, problem: string, cause?: unknown): FramewiseError {
  return new FramewiseError(
    'INVALID_ARGUMENT',
    `Model manifest ${JSON.stringify(manifestPath)} ${problem}. ` +
      'Write a JSON array of {"name", "path", "sizeBytes", "sha256"} objects, or unset the manifest path.',
    { argument: 'manifest', path: manifestPath },
    cause === undefined ? undefined : { cause },
  );
}
