import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FramewiseError } from '../src/errors.js';
import { runningChildPids, spawnTracked, terminate } from '../src/ffmpeg/process.js';
import type { LogFields } from '../src/logger.js';
import { loadDetector } from '../src/runtime/load-detector.js';
import { DEFAULT_DETECTION_SETTINGS } from '../src/runtime/types.js';
import { InferenceWorker, runningInferenceWorkers, WorkerPool } from '../src/runtime/worker-pool.js';
import type { WorkerConfiguration } from '../src/runtime/worker-protocol.js';
import { buildConstantYolov8Model } from './helpers/synthetic-models.js';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const LOAD_DETECTOR_URL = pathToFileURL(join(REPO_ROOT, 'src/runtime/load-detector.ts')).href;
const CRASHING_WORKER = new URL('./helpers/crashing-inference-worker.ts', import.meta.url);
/** Image width on which the crashing worker throws. */
const CRASH_WIDTH = 13;

const IMAGE = { width: 200, height: 100, data: new Uint8Array(200 * 100 * 3) };

let directory: string;
let modelPath: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'framewise-runtime-lifecycle-'));
  modelPath = join(directory, 'constant.onnx');
  const anchors = [[32, 32, 32, 16, 0.9, 0.1], ...Array.from({ length: 7 }, () => [0, 0, 0, 0, 0, 0])];
  await writeFile(modelPath, buildConstantYolov8Model({ anchors, metadata: { names: "['a', 'b']" } }));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
  expect(runningChildPids()).toEqual([]);
});

describe('Detector.dispose', () => {
  it('rejects pending detections and stops the workers', async () => {
    const before = runningInferenceWorkers();
    const detector = await loadDetector(modelPath, { workers: 2 });
    const started = runningInferenceWorkers().filter((id) => !before.includes(id));
    expect(started).toHaveLength(2);

    const pending = Array.from({ length: 6 }, () => detector.detect(IMAGE).catch((error: unknown) => error));
    await detector.dispose();
    for (const error of await Promise.all(pending)) {
      expect(error).toBeInstanceOf(FramewiseError);
      expect((error as FramewiseError).code).toBe('DETECTOR_DISPOSED');
    }
    expect(runningInferenceWorkers().filter((id) => started.includes(id))).toEqual([]);
  });

  it('rejects detections after dispose and can be called twice', async () => {
    const detector = await loadDetector(modelPath, { workers: 1 });
    await detector.dispose();
    await detector.dispose();
    await expect(detector.detect(IMAGE)).rejects.toMatchObject({ code: 'DETECTOR_DISPOSED' });
  });
});

/** Runs a Node script that loads the detector, optionally detects once and disposes; resolves with its exit. */
async function runChildScript(detect: boolean, dispose: boolean): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = [
    `const { loadDetector } = await import(${JSON.stringify(LOAD_DETECTOR_URL)});`,
    `const detector = await loadDetector(${JSON.stringify(modelPath)}, { workers: 2 });`,
    detect ? `const detections = await detector.detect({ width: 200, height: 100, data: new Uint8Array(60000) });` : 'const detections = [];',
    `process.stdout.write(JSON.stringify(detections.map((d) => d.name)));`,
    dispose ? 'await detector.dispose();' : '',
  ].join('\n');
  const child = spawnTracked(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));

  // A generous deadline: the script needs about a second, and a worker keeping it alive would hang forever.
  const deadline = setTimeout(() => void terminate(child, 1000), 30_000);
  const code = await new Promise<number | null>((resolve) => child.once('close', (exitCode) => resolve(exitCode)));
  clearTimeout(deadline);
  return { code, stdout, stderr };
}

describe('process exit', () => {
  it.each([
    ['after a detection and dispose', true, true, ['a']],
    ['after a detection without dispose', true, false, ['a']],
    ['after loading only', false, false, []],
  ])('a script exits by itself %s', async (_case, detect, dispose, names) => {
    const result = await runChildScript(detect, dispose);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(names);
  });
});

describe('WorkerPool with a crashing worker', () => {
  const configuration = { plan: {}, labels: [], maxBatchSize: 1 } as unknown as WorkerConfiguration;
  const init = { modelPath: 'crash.onnx', executionProviders: ['cpu'], allowCpuFallback: false, intraOpThreads: 1, configuration };

  it('rejects the lost jobs with WORKER_FAILED, logs the crash and replaces the worker', async () => {
    const errors: [string, LogFields | undefined][] = [];
    const logger = { debug() {}, info() {}, warn() {}, error: (message: string, fields?: LogFields) => errors.push([message, fields]) };
    const { worker } = await InferenceWorker.start(init, CRASHING_WORKER);
    const pool = new WorkerPool([worker], { init, logger, scriptUrl: CRASHING_WORKER });

    try {
      const settings = DEFAULT_DETECTION_SETTINGS;
      const crashing = pool.run({ width: CRASH_WIDTH, height: 1, data: new Uint8Array(CRASH_WIDTH * 3) }, settings);
      const queuedBehind = pool.run({ width: 1, height: 1, data: new Uint8Array(3) }, settings);
      const [crashError, queuedError] = await Promise.all([crashing.catch((e: unknown) => e), queuedBehind.catch((e: unknown) => e)]);

      expect((crashError as FramewiseError).code).toBe('WORKER_FAILED');
      expect(((crashError as FramewiseError).cause as Error).message).toContain('simulated crash on job 1');
      expect((queuedError as FramewiseError).code).toBe('WORKER_FAILED');
      expect(errors).toHaveLength(1);
      expect(errors[0]?.[0]).toBe('Inference worker crashed; starting a replacement');
      expect(errors[0]?.[1]).toMatchObject({ path: 'crash.onnx', lostJobs: 2 });

      // This job waits for the replacement worker.
      await expect(pool.run({ width: 1, height: 1, data: new Uint8Array(3) }, settings)).resolves.toEqual([]);
      expect(pool.size).toBe(1);
    } finally {
      await pool.dispose();
    }
  });
});
