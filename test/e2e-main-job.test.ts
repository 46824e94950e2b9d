import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { take } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { annotate } from '../operators/annotate.js';
import { detect } from '../operators/detect.js';
import { writeJsonLines } from '../operators/write-json-lines.js';
import { writeVideo } from '../operators/write-video.js';
import { isFramewiseError } from '../src/errors.js';
import { runningChildPids } from '../src/ffmpeg/process.js';
import { runPipeline } from '../src/runner.js';
import { loadDetector } from '../src/runtime/load-detector.js';
import type { Detector } from '../src/runtime/types.js';
import { runningInferenceWorkers } from '../src/runtime/worker-pool.js';
import { fromVideoFile } from '../src/sources/video-file.js';
import type { DetectedFrame } from '../src/types.js';
import { createTempMediaDir, sharedMedia, sharedPath, type TempMediaDir, waitForNoChildren } from './helpers/media.js';

const run = promisify(execFile);
const modelPath = sharedPath('models', 'yolov8n_int8.onnx');
const peopleVideo = sharedMedia('one-by-one-person-detection.mp4');
const carVideo = sharedMedia('car-detection.mp4');
const assetsPresent = existsSync(modelPath) && peopleVideo !== undefined && carVideo !== undefined;

/** Frame count, duration in seconds and codec of the first video stream, as ffprobe reads them. */
async function probeOutput(
  path: string,
): Promise<{ frames: number; seconds: number; codec: string; streams: string[]; streamSeconds: Record<string, number> }> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-count_frames', '-show_streams', '-show_format', '-of', 'json', path]);
  const parsed = JSON.parse(stdout) as {
    streams: { codec_type: string; codec_name: string; nb_read_frames?: string; duration?: string }[];
    format: { duration: string };
  };
  const video = parsed.streams.find((stream) => stream.codec_type === 'video');
  return {
    frames: Number(video?.nb_read_frames),
    seconds: Number(parsed.format.duration),
    codec: video?.codec_name ?? '',
    streams: parsed.streams.map((stream) => stream.codec_type),
    streamSeconds: Object.fromEntries(parsed.streams.map((stream) => [stream.codec_type, Number(stream.duration)])),
  };
}

describe.skipIf(!assetsPresent)('main job end to end (real model, real video)', () => {
  let detector: Detector;
  let dir: TempMediaDir;

  beforeAll(async () => {
    detector = await loadDetector(modelPath);
    dir = await createTempMediaDir('framewise-e2e-');
  });

  afterAll(async () => {
    await detector?.dispose();
    await dir?.remove();
  });

  it('detects people and writes a playable annotated video', async () => {
    const output = dir.file('people.mp4');
    const jsonl = dir.file('people.jsonl');
    const frames: DetectedFrame[] = [];

    const result = await runPipeline(
      fromVideoFile(peopleVideo!).pipe(
        take(100),
        detect(detector, { minScore: 0.4 }),
        writeJsonLines(jsonl),
        annotate(),
        writeVideo(output),
      ),
      { onValue: (frame) => frames.push(frame) },
    );

    expect(result.values).toBe(100);
    expect(frames.map((frame) => frame.index)).toEqual([...Array(100).keys()]);
    expect(frames.map((frame) => frame.timestampMs).slice(0, 3)).toEqual([0, 100, 200]);
    const framesWithPeople = frames.filter((frame) => frame.detections.some((d) => d.name === 'person'));
    expect(framesWithPeople.length).toBeGreaterThan(10);
    for (const detection of frames.flatMap((frame) => frame.detections)) {
      expect(detection.score).toBeGreaterThanOrEqual(0.4);
      expect(detection.box[0]).toBeGreaterThanOrEqual(0);
      expect(detection.box[2]).toBeLessThanOrEqual(768);
      expect(detection.box[3]).toBeLessThanOrEqual(432);
    }

    const probed = await probeOutput(output);
    expect(probed.codec).toBe('h264');
    expect(probed.frames).toBe(100);
    expect(probed.seconds).toBeGreaterThan(9.9);
    expect(probed.seconds).toBeLessThan(10.1);
    expect(runningChildPids()).toEqual([]);
  });

  it('aborting through the runner settles once and leaves a playable file', async () => {
    const output = dir.file('aborted.mp4');
    const controller = new AbortController();
    let settledCount = 0;
    let seen = 0;

    const promise = runPipeline(
      fromVideoFile(carVideo!).pipe(detect(detector), annotate(), writeVideo(output, { audioFrom: carVideo })),
      {
        signal: controller.signal,
        onValue: () => {
          seen += 1;
          if (seen === 20) controller.abort();
        },
      },
    );
    promise.then(
      () => (settledCount += 1),
      () => (settledCount += 1),
    );

    const error = await promise.catch((reason: unknown) => reason);
    expect(isFramewiseError(error, 'ABORTED')).toBe(true);
    // The file is complete when the promise settles: no waiting for the writer here.
    const probed = await probeOutput(output);
    expect(probed.frames).toBeGreaterThanOrEqual(20);
    expect(probed.frames).toBeLessThan(377);
    expect(probed.streams).toEqual(['video', 'audio']);
    // The audio track ends with the video instead of running on for the whole source.
    expect(probed.streamSeconds.audio).toBeLessThanOrEqual(probed.streamSeconds.video! + 0.2);
    expect(probed.seconds).toBeLessThan(probed.streamSeconds.video! + 0.2);
    await waitForNoChildren(runningChildPids);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(settledCount).toBe(1);
  });

  it('dispose stops every inference worker', async () => {
    const local = await loadDetector(modelPath, { workers: 2 });
    expect(runningInferenceWorkers().length).toBeGreaterThanOrEqual(2);
    await local.dispose();
    const ownWorkersLeft = runningInferenceWorkers().length;
    // The shared detector of this file still has its own workers.
    expect(ownWorkersLeft).toBe(detector.info.workers);
  });
});
