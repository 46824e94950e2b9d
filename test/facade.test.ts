import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { VideoObjectDetection, outputPathFor } from '../src/facade/video-object-detection.js';
import type { ImageAICounts, ImageAIDetection } from '../src/facade/imageai-types.js';
import { isFramewiseError } from '../src/errors.js';
import { runningChildPids } from '../src/ffmpeg/process.js';
import type { DetectionSettings, Detector } from '../src/runtime/types.js';
import type { DetectedFrame, Detection, RgbImage } from '../src/types.js';
import { createTempMediaDir, waitForNoChildren, type TempMediaDir } from './helpers/media.js';

const run = promisify(execFile);

/** Frame count, duration, frame rate and codec of a video file's first video stream, as ffprobe reads them. */
async function probeOutput(path: string): Promise<{ frames: number; seconds: number; rate: string; codec: string }> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries',
    'stream=nb_read_frames,r_frame_rate,codec_name:format=duration', '-of', 'json', path]);
  const parsed = JSON.parse(stdout) as { streams: { nb_read_frames: string; r_frame_rate: string; codec_name: string }[]; format: { duration: string } };
  const stream = parsed.streams[0]!;
  return { frames: Number(stream.nb_read_frames), seconds: Number(parsed.format.duration), rate: stream.r_frame_rate, codec: stream.codec_name };
}

/** Creates a detector that resolves each call at once with `script(callNumber)` and records the calls. */
function autoDetector(script: (call: number, image: RgbImage) => Detection[]): Detector & { calls: { settings?: Partial<DetectionSettings> }[] } {
  const calls: { settings?: Partial<DetectionSettings> }[] = [];
  return {
    calls,
    concurrency: 2,
    info: {
      path: 'scripted.onnx', family: 'scripted', inputWidth: 64, inputHeight: 64,
      labels: ['person', 'bicycle', 'car'], batchSize: 1, executionProviders: ['cpu'], workers: 1, intraOpThreads: 1,
    },
    detect(image, settings) {
      calls.push({ settings });
      return Promise.resolve(script(calls.length - 1, image));
    },
    dispose: () => Promise.resolve(),
  };
}

const person = (x = 10.9): Detection => ({ classId: 0, name: 'person', score: 0.8125, box: [x, 5.5, 30.2, 40.99] });
const car = (): Detection => ({ classId: 2, name: 'car', score: 0.5, box: [1, 1, 20, 10] });

/** Calls received by the analysis callbacks of one run. */
interface Recorded {
  frames: { number: number; detections: ImageAIDetection[]; counts: ImageAICounts; frame?: DetectedFrame }[];
  seconds: { number: number; arrays: ImageAIDetection[][]; counts: ImageAICounts[]; averages: ImageAICounts; frame?: DetectedFrame }[];
  minutes: { number: number; frames: number; averages: ImageAICounts }[];
  complete: { arrays: ImageAIDetection[][]; counts: ImageAICounts[]; averages: ImageAICounts }[];
  order: string[];
}

function recorder() {
  const recorded: Recorded = { frames: [], seconds: [], minutes: [], complete: [], order: [] };
  return {
    recorded,
    callbacks: {
      perFrameFunction: (number: number, detections: ImageAIDetection[], counts: ImageAICounts, frame?: DetectedFrame) => {
        recorded.frames.push({ number, detections, counts, frame });
        recorded.order.push(`f${number}`);
      },
      perSecondFunction: (number: number, arrays: ImageAIDetection[][], counts: ImageAICounts[], averages: ImageAICounts, frame?: DetectedFrame) => {
        recorded.seconds.push({ number, arrays, counts, averages, frame });
        recorded.order.push(`s${number}`);
      },
      perMinuteFunction: (number: number, arrays: ImageAIDetection[][], _counts: ImageAICounts[], averages: ImageAICounts) => {
        recorded.minutes.push({ number, frames: arrays.length, averages });
        recorded.order.push(`m${number}`);
      },
      videoCompleteFunction: (arrays: ImageAIDetection[][], counts: ImageAICounts[], averages: ImageAICounts) => {
        recorded.complete.push({ arrays, counts, averages });
        recorded.order.push('complete');
      },
    },
  };
}

function facadeWith(detector: Detector): VideoObjectDetection {
  const facade = new VideoObjectDetection();
  facade.setDetector(detector);
  return facade;
}

describe('VideoObjectDetection with a scripted detector', () => {
  let dir: TempMediaDir;
  let clip25: string; // 2.6 s at 25 fps: 65 frames
  let clip48: string; // 48 frames at 25 fps

  beforeAll(async () => {
    dir = await createTempMediaDir('framewise-facade-');
    clip25 = dir.file('clip25.mp4');
    clip48 = dir.file('clip48.mp4');
    await dir.ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=25:duration=2.6', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', clip25);
    await dir.ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=25', '-frames:v', '48', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', clip48);
  });

  afterAll(async () => {
    await waitForNoChildren(runningChildPids);
    await dir?.remove();
  });

  it('reports 25, 25 and 15 frames for 2.6 s at 25 fps', async () => {
    // Call n finds one person, plus a car on even calls.
    const detector = autoDetector((n) => (n % 2 === 0 ? [person(), car()] : [person()]));
    const { recorded, callbacks } = recorder();
    const output = dir.file('seconds.mp4');

    const result = await facadeWith(detector).detectObjectsFromVideo({ inputFilePath: clip25, outputFilePath: output, ...callbacks });

    expect(result).toBe(output);
    expect(detector.calls).toHaveLength(65);
    expect(recorded.frames.map((f) => f.number)).toEqual(Array.from({ length: 65 }, (_, i) => i + 1));
    expect(recorded.seconds.map((s) => s.number)).toEqual([1, 2, 3]);
    expect(recorded.seconds.map((s) => s.arrays.length)).toEqual([25, 25, 15]);
    expect(recorded.seconds.map((s) => s.counts.length)).toEqual([25, 25, 15]);
    // Frames 1..25 hold 13 cars (odd frame numbers), 26..50 hold 12, 51..65 hold 8.
    expect(recorded.seconds.map((s) => s.averages)).toEqual([
      { person: 1, car: 13 / 25 },
      { person: 1, car: 12 / 25 },
      { person: 1, car: 8 / 15 },
    ]);
    expect(recorded.minutes).toEqual([{ number: 1, frames: 65, averages: { person: 1, car: 33 / 65 } }]);
    expect(recorded.complete).toHaveLength(1);
    expect(recorded.complete[0]!.arrays).toHaveLength(65);
    expect(recorded.complete[0]!.averages).toEqual({ person: 1, car: 33 / 65 });
    // ImageAI's order: a second's callback follows the last frame of that second.
    expect(recorded.order.slice(24, 28)).toEqual(['f25', 's1', 'f26', 'f27']);
    expect(recorded.order.slice(-4)).toEqual(['f65', 's3', 'm1', 'complete']);

    expect(recorded.frames[0]!.detections).toEqual([
      { name: 'person', percentage_probability: 81.25, box_points: [10, 5, 30, 40] },
      { name: 'car', percentage_probability: 50, box_points: [1, 1, 20, 10] },
    ]);
    expect(recorded.frames[0]!.counts).toEqual({ person: 1, car: 1 });
    expect(recorded.frames[1]!.counts).toEqual({ person: 1 });
    expect(detector.calls[0]!.settings).toMatchObject({ minScore: 0.5 });

    const video = await probeOutput(output);
    expect(video.frames).toBe(65);
    expect(video.seconds).toBeCloseTo(2.6, 1);
  });

  it('detects on frames 1, 13, 25 and 37 with an interval of 12', async () => {
    // Call k (0-based) finds one person and k + 1 cars, so each frame shows which call it came from.
    const detector = autoDetector((k) => [person(), ...Array.from({ length: k + 1 }, car)]);
    const { recorded, callbacks } = recorder();

    const result = await facadeWith(detector).detectObjectsFromVideo({
      inputFilePath: clip48,
      saveDetectedVideo: false,
      frameDetectionInterval: 12,
      returnDetectedFrame: true,
      ...callbacks,
    });

    expect(result).toBeUndefined();
    expect(detector.calls).toHaveLength(4);
    expect(recorded.frames).toHaveLength(48);
    const carsPerFrame = recorded.frames.map((f) => f.counts.car);
    const detectedOn = recorded.frames.filter((f) => f.frame?.carried === false).map((f) => f.number);
    expect(detectedOn).toEqual([1, 13, 25, 37]);
    expect(carsPerFrame).toEqual(Array.from({ length: 48 }, (_, i) => Math.floor(i / 12) + 1));
    // Every frame has its person: the averages are not diluted by the frames between detections.
    expect(recorded.seconds.map((s) => s.arrays.length)).toEqual([25, 23]);
    expect(recorded.seconds.map((s) => s.averages)).toEqual([
      { person: 1, car: (12 * 1 + 12 * 2 + 1 * 3) / 25 },
      { person: 1, car: (11 * 3 + 12 * 4) / 23 },
    ]);
    expect(recorded.seconds[0]!.frame?.index).toBe(24);
    expect(recorded.complete[0]!.averages.person).toBe(1);
  });

  it('stops after a 2 s timeout and finalises the video', async () => {
    const detector = autoDetector(() => [person()]);
    const { recorded, callbacks } = recorder();
    const output = dir.file('timeout');

    const result = await facadeWith(detector).detectObjectsFromVideo({
      inputFilePath: clip25,
      outputFilePath: output,
      detectionTimeout: 2,
      ...callbacks,
    });

    expect(result).toBe(`${output}.avi`);
    expect(recorded.frames).toHaveLength(50);
    expect(recorded.seconds.map((s) => [s.number, s.arrays.length])).toEqual([[1, 25], [2, 25]]);
    expect(recorded.complete[0]!.arrays).toHaveLength(50);
    expect(recorded.order.at(-1)).toBe('complete');
    const video = await probeOutput(`${output}.avi`);
    expect(video.codec).toBe('mjpeg');
    expect(video.frames).toBe(50);
    expect(video.seconds).toBeCloseTo(2, 1);
  });

  it('resamples to framesPerSecond and keeps the duration', async () => {
    const detector = autoDetector(() => [person()]);
    const { recorded, callbacks } = recorder();
    const output = dir.file('resampled.mp4');

    await facadeWith(detector).detectObjectsFromVideo({ inputFilePath: clip25, outputFilePath: output, framesPerSecond: 10, ...callbacks });

    expect(recorded.frames).toHaveLength(26);
    expect(recorded.seconds.map((s) => s.arrays.length)).toEqual([10, 10, 6]);
    const video = await probeOutput(output);
    expect(video.frames).toBe(26);
    expect(video.rate).toBe('10/1');
    expect(video.seconds).toBeCloseTo(2.6, 1);
  });

  it('detects once per source frame when raising the rate', async () => {
    const detector = autoDetector((n) => Array.from({ length: n + 1 }, () => person()));
    const { recorded, callbacks } = recorder();

    await facadeWith(detector).detectObjectsFromVideo({ inputFilePath: clip48, saveDetectedVideo: false, framesPerSecond: 50, ...callbacks });

    expect(recorded.frames).toHaveLength(96);
    expect(detector.calls).toHaveLength(48);
    // Each source frame appears twice with the same detections.
    expect(recorded.frames.slice(0, 6).map((f) => f.counts.person)).toEqual([1, 1, 2, 2, 3, 3]);
    expect(recorded.seconds.map((s) => s.arrays.length)).toEqual([50, 46]);
  });

  it('passes custom objects to the detector', async () => {
    const detector = autoDetector(() => [person()]);
    const facade = facadeWith(detector);
    const custom = facade.CustomObjects({ person: true, motorbike: false, car: true });

    await facade.detectCustomObjectsFromVideo({ inputFilePath: clip48, saveDetectedVideo: false, customObjects: custom, detectionTimeout: 0.2 });

    expect(detector.calls[0]!.settings?.classIds).toEqual([0, 2]);
    expect(() => facade.CustomObjects({ persn: true })).toThrow(/did you mean "person"/);
    await expect(
      facade.detectCustomObjectsFromVideo({ inputFilePath: clip48, saveDetectedVideo: false, customObjects: { bus: true } }),
    ).rejects.toThrow(/"bus" is not among the model's labels/);
  });

  it('rejects a missing input with INPUT_NOT_FOUND', async () => {
    const videoComplete = vi.fn();
    const error = await facadeWith(autoDetector(() => []))
      .detectObjectsFromVideo({ inputFilePath: dir.file('missing.mp4'), outputFilePath: dir.file('never.mp4'), videoCompleteFunction: videoComplete })
      .catch((e: unknown) => e);
    expect(isFramewiseError(error, 'INPUT_NOT_FOUND')).toBe(true);
    expect(videoComplete).not.toHaveBeenCalled();
    expect(existsSync(dir.file('never.mp4'))).toBe(false);
  });

  it('rejects a throwing callback and finalises the video', async () => {
    const cause = new Error('database is down');
    const output = dir.file('failed.mp4');
    const error = await facadeWith(autoDetector(() => [person()]))
      .detectObjectsFromVideo({
        inputFilePath: clip25,
        outputFilePath: output,
        perSecondFunction: (second) => {
          if (second === 2) throw cause;
        },
      })
      .catch((e: unknown) => e);

    expect((error as { code: string }).code).toBe('CALLBACK_FAILED');
    expect((error as Error).cause).toBe(cause);
    expect((error as Error).message).toMatch(/perSecondFunction failed \(second 2\)/);
    const video = await probeOutput(output);
    expect(video.frames).toBeGreaterThanOrEqual(50);
  });

  it('rejects a callback promise that rejects', async () => {
    const error = await facadeWith(autoDetector(() => []))
      .detectObjectsFromVideo({
        inputFilePath: clip48,
        saveDetectedVideo: false,
        perFrameFunction: async (frame) => {
          if (frame === 3) throw new Error('async failure');
        },
      })
      .catch((e: unknown) => e);
    expect((error as { code: string }).code).toBe('CALLBACK_FAILED');
    expect((error as Error).message).toMatch(/perFrameFunction failed \(frame 3\): async failure/);
  });

  it('prints progress only when asked', async () => {
    const stderr = vi.spyOn(process.stderr, 'write');
    const stdout = vi.spyOn(process.stdout, 'write');
    try {
      await facadeWith(autoDetector(() => [])).detectObjectsFromVideo({ inputFilePath: clip48, saveDetectedVideo: false });
      expect(stderr).not.toHaveBeenCalled();
      expect(stdout).not.toHaveBeenCalled();
    } finally {
      stderr.mockRestore();
      stdout.mockRestore();
    }

    const lines: string[] = [];
    await facadeWith(autoDetector(() => [])).detectObjectsFromVideo({
      inputFilePath: clip48,
      saveDetectedVideo: false,
      logProgress: { write: (text: string) => lines.push(text) },
    });
    expect(lines.at(-1)).toMatch(/48\/48 100%/);
  });

  it('stops on abort and finalises the video', async () => {
    const controller = new AbortController();
    const output = dir.file('aborted.mp4');
    const error = await facadeWith(autoDetector(() => []))
      .detectObjectsFromVideo({
        inputFilePath: clip25,
        outputFilePath: output,
        signal: controller.signal,
        perFrameFunction: (frame) => {
          if (frame === 10) controller.abort();
        },
      })
      .catch((e: unknown) => e);
    expect(isFramewiseError(error, 'ABORTED')).toBe(true);
    // Frame 10 aborted the run inside its callback, before the writer received it.
    expect((await probeOutput(output)).frames).toBe(9);
  });

  it('analyses a camera capture with a timeout', async () => {
    let reads = 0;
    let releases = 0;
    const camera = {
      read: async () => {
        reads += 1;
        await new Promise((resolve) => setTimeout(resolve, 10));
        return { width: 4, height: 2, data: new Uint8Array(24).fill(reads % 256) };
      },
      release: () => (releases += 1),
    };
    const { recorded, callbacks } = recorder();
    const result = await facadeWith(autoDetector(() => [person()])).detectObjectsFromVideo({
      cameraInput: camera,
      saveDetectedVideo: false,
      detectionTimeout: 0.3,
      ...callbacks,
    });
    expect(result).toBeUndefined();
    expect(recorded.frames.length).toBeGreaterThan(3);
    expect(recorded.complete).toHaveLength(1);
    expect(recorded.complete[0]!.arrays).toHaveLength(recorded.frames.length);
    expect(releases).toBe(1);
  });

  it('validates options at call time', () => {
    const facade = facadeWith(autoDetector(() => []));
    expect(() => facade.detectObjectsFromVideo({ outputFilePath: 'x.mp4' })).toThrow(/inputFilePath/);
    expect(() => facade.detectObjectsFromVideo({ inputFilePath: 'in.mp4' })).toThrow(/outputFilePath/);
    expect(() => facade.detectObjectsFromVideo({ inputFilePath: 'in.mp4', saveDetectedVideo: false, frameDetectionInterval: 0 })).toThrow(
      /frameDetectionInterval/,
    );
    expect(() => facade.detectObjectsFromVideo({ inputFilePath: 'in.mp4', saveDetectedVideo: false, minimumPercentageProbability: 101 })).toThrow(
      /minimumPercentageProbability/,
    );
    expect(() => facade.detectObjectsFromVideo({ inputFilePath: 'in.mp4', saveDetectedVideo: false, framesPerSecond: 0 })).toThrow(/framesPerSecond/);
    expect(() => new VideoObjectDetection().detectObjectsFromVideo({ inputFilePath: 'in.mp4', saveDetectedVideo: false })).toThrow(/setModelPath/);
    expect(() => new VideoObjectDetection().loadModel()).toThrow(/setModelPath/);
    expect(() => facade.detectCustomObjectsFromVideo({ inputFilePath: 'in.mp4', saveDetectedVideo: false } as never)).toThrow(/customObjects/);
  });

  it('appends .avi to a path without a video extension', () => {
    expect(outputPathFor('traffic_detected')).toBe('traffic_detected.avi');
    expect(outputPathFor('out/traffic.detected')).toBe('out/traffic.detected.avi');
    expect(outputPathFor('traffic.mp4')).toBe('traffic.mp4');
    expect(outputPathFor('traffic.MKV')).toBe('traffic.MKV');
  });
});
