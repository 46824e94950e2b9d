import { mkdir, writeFile } from 'node:fs/promises';
import { lastValueFrom, take, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detect } from '../operators/detect.js';
import { sampleEvery } from '../operators/sample-every.js';
import { timeout } from '../operators/timeout.js';
import { isFramewiseError, type FramewiseError } from '../src/errors.js';
import { runningChildPids } from '../src/ffmpeg/process.js';
import { loadDetector } from '../src/runtime/load-detector.js';
import type { Detector } from '../src/runtime/types.js';
import { fromVideoFile } from '../src/sources/video-file.js';
import { createTempMediaDir, waitForNoChildren, type TempMediaDir } from './helpers/media.js';
import { osChildPids } from './helpers/reliability.js';
import { buildConstantYolov8Model } from './helpers/synthetic-models.js';

// A YOLOv8-shaped model with three classes whose output is three constant boxes, one per class.
const THREE_BOXES = [
  [16, 16, 8, 8, 0.9, 0, 0],
  [32, 32, 8, 8, 0, 0.8, 0],
  [48, 48, 8, 8, 0, 0, 0.7],
  ...Array.from({ length: 5 }, () => [0, 0, 0, 0, 0, 0, 0]),
];

let media: TempMediaDir;
let modelPath: string;
let modelBytes: Uint8Array;
let detector: Detector;

beforeAll(async () => {
  media = await createTempMediaDir('framewise-models-');
  await media.ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=25:duration=0.2', '-c:v', 'libx264', 'clip.mp4');
  modelPath = media.file('three-classes.onnx');
  modelBytes = buildConstantYolov8Model({ anchors: THREE_BOXES });
  await writeFile(modelPath, modelBytes);
  // Windows line ends, spaces and a tab after the names, as label files edited by hand often have.
  await writeFile(media.file('labels.txt'), 'person \r\nstop sign  \r\ncar\t\r\n');
  detector = await loadDetector(modelPath, { labels: media.file('labels.txt'), workers: 1 });
});

afterAll(async () => {
  await detector?.dispose();
  await media?.remove();
});

/** Returns the error `action` throws; fails when it does not throw a FramewiseError. */
function thrownBy(action: () => unknown): FramewiseError {
  try {
    action();
  } catch (error) {
    if (isFramewiseError(error)) return error;
    throw error;
  }
  throw new Error('Expected a FramewiseError to be thrown');
}

async function rejectionOf(work: Promise<unknown>): Promise<FramewiseError> {
  const error = await work.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!isFramewiseError(error)) throw new Error(`Expected a FramewiseError, got ${String(error)}`);
  return error;
}

describe('class names', () => {
  it('cleans names from a CRLF label file', async () => {
    const frames = await lastValueFrom(fromVideoFile(media.file('clip.mp4')).pipe(take(2), detect(detector), toArray()));

    expect(detector.info.labels).toEqual(['person', 'stop sign', 'car']);
    for (const frame of frames) {
      expect(frame.detections.map((detection) => detection.name).sort()).toEqual(['car', 'person', 'stop sign']);
    }
  });

  it.each(['stop_sign', 'stop sign', 'Stop Sign', 'stop-sign'])('matches %j to "stop sign"', async (name) => {
    const frames = await lastValueFrom(fromVideoFile(media.file('clip.mp4')).pipe(take(2), detect(detector, { classes: [name] }), toArray()));

    expect(frames).toHaveLength(2);
    for (const frame of frames) expect(frame.detections.map((detection) => detection.name)).toEqual(['stop sign']);
  });

  it('rejects an unknown name before starting ffmpeg', async () => {
    // The decoders of the tests above stop in the background after take(2).
    await waitForNoChildren(runningChildPids);
    const source = fromVideoFile(media.file('clip.mp4'));

    const error = thrownBy(() => source.pipe(detect(detector, { classes: ['stop sign', 'stop sgn'] })));

    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toContain('"stop sgn"');
    expect(error.message).toContain('person, stop sign, car');
    expect(error.context.value).toEqual(['stop sgn']);
    expect(runningChildPids()).toEqual([]);
    expect(osChildPids() ?? []).toEqual([]);
  });
});

describe('model and option errors', () => {
  it('rejects a truncated model with MODEL_INVALID', async () => {
    const path = media.file('truncated.onnx');
    await writeFile(path, modelBytes.subarray(0, Math.floor(modelBytes.length / 2)));

    const error = await rejectionOf(loadDetector(path, { workers: 1 }));

    expect(error.code).toBe('MODEL_INVALID');
    expect(error.message).toContain(JSON.stringify(path));
  });

  it('rejects an empty model with MODEL_INVALID', async () => {
    const path = media.file('empty.onnx');
    await writeFile(path, '');

    const error = await rejectionOf(loadDetector(path, { workers: 1 }));

    expect(error.code).toBe('MODEL_INVALID');
    expect(error.message).toContain(JSON.stringify(path));
    expect(error.message).toContain('0 bytes');
  });

  it('rejects a folder with MODEL_INVALID', async () => {
    const path = media.file('model-folder.onnx');
    await mkdir(path);

    const error = await rejectionOf(loadDetector(path, { workers: 1 }));

    expect(error.code).toBe('MODEL_INVALID');
    expect(error.message).toContain(JSON.stringify(path));
  });

  it('rejects a label count that differs from the model', async () => {
    const error = await rejectionOf(loadDetector(modelPath, { labels: ['person', 'car'], workers: 1 }));

    expect(error.code).toBe('MODEL_INVALID');
    expect(error.context).toMatchObject({ modelClasses: 3, labelCount: 2 });
  });

  it.each([-0.1, 1.5, Number.NaN])('rejects minScore %d at call time', (minScore) => {
    const error = thrownBy(() => detect(detector, { minScore }));

    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.context.argument).toBe('minScore');
    expect(error.context.value).toBe(minScore);
  });

  it.each([-1, 2])('rejects iouThreshold %d at call time', (iouThreshold) => {
    const error = thrownBy(() => detect(detector, { iouThreshold }));

    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.context.value).toBe(iouThreshold);
  });

  it.each([-1, Number.NaN])('rejects timeout seconds %d at call time', (seconds) => {
    const error = thrownBy(() => timeout({ seconds }));

    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.context.value).toBe(seconds);
  });

  it.each([-1, 0, 1.5])('rejects detection interval %d at call time', (interval) => {
    const error = thrownBy(() => sampleEvery(interval));

    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.context.value).toBe(interval);
  });

  it('rejects a negative maxQueuedFrames at call time', () => {
    const error = thrownBy(() => fromVideoFile(media.file('clip.mp4'), { maxQueuedFrames: -1 }));

    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.context.value).toBe(-1);
  });

  it('rejects a negative network timeout at call time', () => {
    const error = thrownBy(() => fromVideoFile(media.file('clip.mp4'), { networkTimeoutMs: -5 }));

    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.context.value).toBe(-5);
  });

  it('leaves no process behind', async () => {
    await waitForNoChildren(runningChildPids);
    expect(osChildPids() ?? []).toEqual([]);
  });
});
