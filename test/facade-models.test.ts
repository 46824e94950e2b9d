import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VideoObjectDetection } from '../src/facade/video-object-detection.js';
import { runningInferenceWorkers } from '../src/runtime/worker-pool.js';
import { createRecordingLogger, createTempMediaDir, type TempMediaDir } from './helpers/media.js';
import { buildOnnxModel, constantNode } from './helpers/onnx-builder.js';
import { buildConstantYolov8Model } from './helpers/synthetic-models.js';

/** Builds a model with decoded `[1, 100, 85]` rows (YOLOv3 or YOLOv5 export): one person row, the rest zeros. */
function buildDecodedRowsModel(): Uint8Array {
  const rows = 100;
  const values = new Float32Array(rows * 85);
  values.set([32, 32, 16, 16, 0.9, 0.9], 0);
  return buildOnnxModel({
    inputs: [{ name: 'images', type: 'float32', shape: [1, 3, 64, 64] }],
    outputs: [{ name: 'output', type: 'float32', shape: [1, rows, 85] }],
    nodes: [constantNode('output', { type: 'float32', dims: [1, rows, 85], values })],
  });
}

describe('VideoObjectDetection model types', () => {
  let dir: TempMediaDir;
  let rowsModel: string;
  let yolov8Model: string;

  beforeAll(async () => {
    dir = await createTempMediaDir('framewise-facade-models-');
    rowsModel = dir.file('rows.onnx');
    yolov8Model = dir.file('yolov8.onnx');
    await writeFile(rowsModel, buildDecodedRowsModel());
    // YOLOv8 recognition needs more anchors than channels: 100 anchors of 84 zeros.
    const anchors = Array.from({ length: 100 }, () => Array<number>(84).fill(0));
    await writeFile(yolov8Model, buildConstantYolov8Model({ anchors }));
  });

  afterAll(async () => {
    await dir?.remove();
  });

  async function loadAs(type: 'YOLOv3' | 'TinyYOLOv3' | 'YOLOv8' | 'RetinaNet', path: string) {
    const logger = createRecordingLogger();
    const facade = new VideoObjectDetection({ logger });
    facade[`setModelTypeAs${type}`]();
    facade.setModelPath(path);
    await facade.loadModel({ workers: 1 });
    const family = facade.modelInfo?.family;
    await facade.dispose();
    return { family, warnings: logger.at('warn').map((entry) => entry.message) };
  }

  it('loads decoded rows as YOLOv3 for the YOLOv3 types', async () => {
    expect(await loadAs('YOLOv3', rowsModel)).toEqual({ family: 'yolov3', warnings: [] });
    expect(await loadAs('TinyYOLOv3', rowsModel)).toEqual({ family: 'yolov3', warnings: [] });
  });

  it('loads decoded rows as YOLOv5 for the YOLOv8 type', async () => {
    expect(await loadAs('YOLOv8', rowsModel)).toEqual({ family: 'yolov5', warnings: [] });
  });

  it('warns when the model does not fit the type', async () => {
    const { family, warnings } = await loadAs('RetinaNet', yolov8Model);
    expect(family).toBe('yolov8');
    expect(warnings).toEqual(['The model was recognised as yolov8, not as a RetinaNet model']);
  });

  it('leaves no worker running after dispose', async () => {
    await loadAs('YOLOv8', yolov8Model);
    expect(runningInferenceWorkers()).toEqual([]);
  });

  it('rejects a missing model file', async () => {
    const facade = new VideoObjectDetection();
    facade.setModelPath(dir.file('missing.onnx'));
    await expect(facade.loadModel()).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
  });
});
