import type { Detector, DetectionSettings } from '../../src/runtime/types.js';
import type { Detection, Frame, RgbImage } from '../../src/types.js';

/** A call the scripted detector received, with the means to finish it. */
export interface ScriptedCall {
  readonly image: RgbImage;
  readonly settings: Partial<DetectionSettings> | undefined;
  resolve(detections: Detection[]): void;
  reject(error: unknown): void;
}

/**
 * A detector for unit tests of stream logic: each `detect` call waits until the test resolves it.
 * It is used beside the real runtime (tested elsewhere) and never replaces it in end-to-end tests.
 */
export function scriptedDetector(options: { concurrency?: number; labels?: string[] } = {}): Detector & {
  calls: ScriptedCall[];
  disposed: boolean;
} {
  const calls: ScriptedCall[] = [];
  const detector = {
    calls,
    disposed: false,
    concurrency: options.concurrency ?? 2,
    info: {
      path: 'scripted.onnx',
      family: 'scripted',
      inputWidth: 64,
      inputHeight: 64,
      labels: options.labels ?? ['person', 'bicycle', 'car', 'stop sign'],
      batchSize: 1,
      executionProviders: ['cpu'],
      workers: 1,
      intraOpThreads: 1,
    },
    detect(image: RgbImage, settings?: Partial<DetectionSettings>) {
      return new Promise<Detection[]>((resolve, reject) => {
        calls.push({ image, settings, resolve, reject });
      });
    },
    async dispose() {
      detector.disposed = true;
    },
  };
  return detector;
}

/** Builds a small frame with a solid colour. */
export function makeFrame(index: number, overrides: Partial<Frame> = {}): Frame {
  const width = overrides.width ?? 4;
  const height = overrides.height ?? 2;
  return {
    sourceId: 'test',
    index,
    timestampMs: index * 40,
    width,
    height,
    data: new Uint8Array(width * height * 3).fill(index % 256),
    live: false,
    ...overrides,
  };
}

/** A detection of class `classId` with a fixed box. */
export function makeDetection(classId: number, name: string, score = 0.9): Detection {
  return { classId, name, score, box: [1, 1, 3, 2] };
}

/** Resolves after pending promise callbacks and one macrotask have run. */
export function flushAsync(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
