import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageAICounts, ImageAIDetection } from '../src/facade/imageai-types.js';
import { VideoObjectDetection } from '../src/facade/video-object-detection.js';
import { runningChildPids } from '../src/ffmpeg/process.js';
import { runningInferenceWorkers } from '../src/runtime/worker-pool.js';
import { createTempMediaDir, sharedMedia, sharedPath, type TempMediaDir, waitForNoChildren } from './helpers/media.js';

const run = promisify(execFile);
const modelPath = sharedPath('models', 'yolov8n_int8.onnx');
const bottleVideo = sharedMedia('bottle-detection.mp4');
const assetsPresent = existsSync(modelPath) && bottleVideo !== undefined;

describe.skipIf(!assetsPresent)('VideoObjectDetection with the real model', () => {
  let dir: TempMediaDir;
  const facade = new VideoObjectDetection();

  beforeAll(async () => {
    dir = await createTempMediaDir('framewise-facade-model-');
    facade.setModelTypeAsYOLOv8();
    facade.setModelPath(modelPath);
    await facade.loadModel({ workers: 2 });
  });

  afterAll(async () => {
    await facade.dispose();
    expect(runningInferenceWorkers()).toEqual([]);
    await waitForNoChildren(runningChildPids);
    await dir?.remove();
  });

  // Generous limit: inference shares two cores with the other test file that vitest runs alongside.
  it('analyses bottle-detection.mp4 at 10 frames per second', { timeout: 180_000 }, async () => {
    const seconds: { number: number; frames: number; averages: ImageAICounts }[] = [];
    const bottles: ImageAIDetection[] = [];
    const output = dir.file('bottles.mp4');

    const result = await facade.detectObjectsFromVideo({
      inputFilePath: bottleVideo!,
      outputFilePath: output,
      framesPerSecond: 10,
      // The model runs on one frame in three (133 of 399) to keep the test short on two cores.
      frameDetectionInterval: 3,
      minimumPercentageProbability: 30,
      perFrameFunction: (_frame, detections) => bottles.push(...detections.filter((d) => d.name === 'bottle')),
      perSecondFunction: (number, arrays, _counts, averages) => seconds.push({ number, frames: arrays.length, averages }),
    });

    expect(result).toBe(output);
    // 1189 frames at 179/6 fps last 39.855 s: 39 full seconds of 10 frames and a last one of 9.
    expect(seconds).toHaveLength(40);
    expect(seconds.map((s) => s.number)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(seconds.slice(0, 39).every((s) => s.frames === 10)).toBe(true);
    expect(seconds[39]!.frames).toBe(9);
    expect(bottles.length).toBeGreaterThan(0);
    for (const bottle of bottles) {
      expect(bottle.percentage_probability).toBeGreaterThanOrEqual(30);
      expect(bottle.box_points.every((value) => Number.isInteger(value))).toBe(true);
    }

    const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=r_frame_rate:format=duration', '-of', 'json', output]);
    const probed = JSON.parse(stdout) as { streams: { r_frame_rate: string }[]; format: { duration: string } };
    expect(probed.streams[0]!.r_frame_rate).toBe('10/1');
    expect(Math.abs(Number(probed.format.duration) - 39.9)).toBeLessThanOrEqual(0.2);
  });
});
