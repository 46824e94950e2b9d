import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { formatTensorSignature, type ModelPlan, type ModelSignature } from '../../models/adapter.js';
import { canonicalizeLabels, readLabelsFile } from '../../models/labels.js';
import { readOnnxMetadata, type OnnxMetadata } from '../../models/onnx-metadata.js';
import { findAdapter, knownFamilies, recogniseModel } from '../../models/registry.js';
import { FramewiseError, invalidArgument } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { resolveDetectionSettings, validateRgbImage } from './detection-settings.js';
import type { Detector, DetectorInfo, LoadDetectorOptions } from './types.js';
import { chooseWorkerLayout } from './worker-layout.js';
import { InferenceWorker, WorkerPool, jobsPerWorker, type LoadedReport } from './worker-pool.js';
import type { WorkerConfiguration } from './worker-protocol.js';

/** Load options with every default filled in. */
interface ResolvedLoadOptions {
  readonly modelPath: string;
  readonly workers: number;
  readonly intraOpThreads: number;
  readonly executionProviders: readonly string[];
  readonly labels?: readonly string[] | string;
  readonly family?: string;
  readonly maxBatchSize: number;
  readonly logger: Logger;
}

/** Default of the `maxBatchSize` option. */
const DEFAULT_MAX_BATCH_SIZE = 4;

/** Class names and their origin, for error messages. */
interface LabelChoice {
  readonly labels: readonly string[];
  readonly source: string;
}

const EMPTY_METADATA: OnnxMetadata = Object.freeze({ opsetImports: [], metadataProps: new Map(), hasGraph: false });

/**
 * Loads an ONNX detection model into a pool of worker threads and recognises its family from its
 * inputs, outputs and metadata: keras-yolo3, tf-od-api, retinanet, torchvision, yolov8,
 * yolo-end2end, rtdetr, yolov5 or fastestdet (`docs/models.md` describes each). The `family`
 * option skips recognition. Class names come from the `labels` option, else from the model's
 * metadata (Ultralytics `names`), else from the family's built-in list (COCO-80, or the 91-entry
 * COCO list for torchvision and tf-od-api). A list of COCO names is reported in the canonical
 * spellings, so a darknet `motorbike` becomes `motorcycle`.
 *
 * Each worker loads its own copy of the model: raising `workers` raises throughput on machines with
 * free cores and costs one model's memory per worker. Without `workers` and `intraOpThreads`, the
 * layout follows the available cores: one single-thread worker per core up to 4 workers, and on the
 * CPU the remaining cores become intra-op threads (8 cores: 4 x 2). Setting `workers` alone gives one
 * intra-op thread per worker. Models with a free batch dimension receive
 * up to `maxBatchSize` queued images in one run. Release the detector with `dispose()`.
 * Idle workers do not keep the process alive, even without `dispose()`.
 *
 * If a requested execution provider is not available, the detector falls back to the CPU and logs
 * one warning; `info.executionProviders` lists the providers in use.
 *
 * @param modelPath Path of the `.onnx` file.
 * @throws FramewiseError `INVALID_ARGUMENT` at call time (before the promise exists) for invalid options.
 * @returns A promise that rejects with FramewiseError:
 *   `MODEL_NOT_FOUND` when no file exists at `modelPath`;
 *   `MODEL_INVALID` for a directory, an empty file, a file ONNX Runtime cannot load (its message is the `cause`),
 *   or labels whose count differs from the model's class count;
 *   `MODEL_LAYOUT_UNKNOWN` when no known family (or not the one named by `family`) matches the model;
 *   `INVALID_ARGUMENT` when the labels file cannot be read;
 *   `WORKER_FAILED` when a worker thread stops while loading.
 * @example
 * import { loadDetector } from 'framewise';
 *
 * const detector = await loadDetector('yolov8n.onnx', { workers: 2 });
 * const detections = await detector.detect({ width, height, data: rgbPixels }, { minScore: 0.4 });
 * await detector.dispose();
 */
export function loadDetector(modelPath: string, options: LoadDetectorOptions = {}): Promise<Detector> {
  const resolved = resolveLoadOptions(modelPath, options);
  return load(resolved);
}

function resolveLoadOptions(modelPath: string, options: LoadDetectorOptions): ResolvedLoadOptions {
  if (typeof modelPath !== 'string' || modelPath.length === 0) {
    throw invalidArgument('modelPath', modelPath, 'the path of an .onnx file');
  }
  if (typeof options !== 'object' || options === null) {
    throw invalidArgument('options', options, 'an object of load options');
  }

  if (options.workers !== undefined && !(Number.isSafeInteger(options.workers) && options.workers >= 1)) {
    throw invalidArgument('workers', options.workers, 'a positive integer');
  }
  if (options.intraOpThreads !== undefined && !(Number.isSafeInteger(options.intraOpThreads) && options.intraOpThreads >= 1)) {
    throw invalidArgument('intraOpThreads', options.intraOpThreads, 'a positive integer');
  }

  const executionProviders = options.executionProviders ?? ['cpu'];
  const validProviders =
    Array.isArray(executionProviders) &&
    executionProviders.length > 0 &&
    executionProviders.every((name) => typeof name === 'string' && name.length > 0);
  if (!validProviders) {
    throw invalidArgument('executionProviders', executionProviders, "a non-empty array of provider names such as ['cuda', 'cpu']");
  }
  const { workers, intraOpThreads } = chooseWorkerLayout(availableParallelism(), executionProviders, options);

  const { labels } = options;
  if (labels !== undefined) {
    const validArray = Array.isArray(labels) && labels.length > 0 && labels.every((name) => typeof name === 'string');
    const validPath = typeof labels === 'string' && labels.length > 0;
    if (!validArray && !validPath) {
      throw invalidArgument('labels', labels, 'a non-empty array of class names or the path of a file with one name per line');
    }
  }

  const { family } = options;
  if (family !== undefined && (typeof family !== 'string' || !findAdapter(family))) {
    throw invalidArgument('family', family, `one of ${knownFamilies().join(', ')}`);
  }

  const maxBatchSize = options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
  if (!Number.isSafeInteger(maxBatchSize) || maxBatchSize < 1) throw invalidArgument('maxBatchSize', maxBatchSize, 'a positive integer');

  const logger = options.logger ?? silentLogger;
  const validLogger = ['debug', 'info', 'warn', 'error'].every(
    (method) => typeof (logger as unknown as Record<string, unknown>)[method] === 'function',
  );
  if (!validLogger) throw invalidArgument('logger', typeof logger, 'an object with debug, info, warn and error methods');

  return {
    modelPath,
    workers,
    intraOpThreads,
    executionProviders: [...executionProviders],
    labels: Array.isArray(labels) ? [...labels] : labels,
    family,
    maxBatchSize,
    logger,
  };
}

async function load(options: ResolvedLoadOptions): Promise<Detector> {
  const { modelPath, logger } = options;
  await checkModelFile(modelPath);
  const labelsFromFile = typeof options.labels === 'string' ? await readLabelsFile(options.labels) : undefined;

  // The metadata is read while the first worker loads the session; either may finish first.
  const metadataRead = readOnnxMetadata(modelPath).then(
    (metadata) => ({ metadata, error: undefined }),
    (error: unknown) => ({ metadata: EMPTY_METADATA, error }),
  );
  const first = await InferenceWorker.start({
    modelPath,
    executionProviders: options.executionProviders,
    allowCpuFallback: true,
    intraOpThreads: options.intraOpThreads,
  });

  try {
    const { report } = first;
    if (report.fallback) {
      logger.warn('Execution providers not available; running on CPU', {
        path: modelPath,
        requested: report.fallback.requested,
        reason: report.fallback.reason,
      });
    }
    const { metadata, error: metadataError } = await metadataRead;
    if (metadataError !== undefined) {
      logger.warn('Cannot read the model metadata; using built-in labels and the model shape', { path: modelPath, error: metadataError });
    }

    const callerLabels = labelsFromFile ?? (Array.isArray(options.labels) ? options.labels : undefined);
    const plan = recognise(modelPath, report.signature, metadata, options.family, callerLabels?.length);
    for (const warning of plan.warnings) logger.warn(`Model problem: ${warning}`, { path: modelPath, family: plan.family });
    const labelChoice = chooseLabels(options, labelsFromFile, plan);
    checkLabelCount(modelPath, plan, labelChoice);

    const configuration: WorkerConfiguration = {
      plan,
      labels: canonicalizeLabels(labelChoice.labels),
      maxBatchSize: plan.batchSize === 'dynamic' ? options.maxBatchSize : 1,
    };
    first.worker.post({ type: 'configure', configuration });
    return await startDetector(options, first.worker, report, configuration);
  } catch (error) {
    await first.worker.close();
    throw error;
  }
}

async function checkModelFile(modelPath: string): Promise<void> {
  let stats;
  try {
    stats = await stat(modelPath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new FramewiseError(
        'MODEL_NOT_FOUND',
        `Model file ${JSON.stringify(modelPath)} not found. Check the path; a relative path is resolved from ${JSON.stringify(process.cwd())}.`,
        { path: modelPath },
        { cause: error },
      );
    }
    throw new FramewiseError('MODEL_INVALID', `Cannot read model file ${JSON.stringify(modelPath)}: ${(error as Error).message}.`, { path: modelPath }, {
      cause: error,
    });
  }

  if (stats.isDirectory()) {
    throw new FramewiseError('MODEL_INVALID', `Model path ${JSON.stringify(modelPath)} is a directory. Pass the path of the .onnx file inside it.`, {
      path: modelPath,
    });
  }
  if (stats.size === 0) {
    throw new FramewiseError('MODEL_INVALID', `Model file ${JSON.stringify(modelPath)} is empty (0 bytes). Download or export the model again.`, {
      path: modelPath,
    });
  }
}

function recognise(
  modelPath: string,
  signature: ModelSignature,
  metadata: OnnxMetadata,
  family: string | undefined,
  labelCount: number | undefined,
): ModelPlan {
  const recognition = recogniseModel(signature, metadata, family, labelCount);
  if (recognition.plan) return recognition.plan;

  const inputs = signature.inputs.map(formatTensorSignature);
  const outputs = signature.outputs.map(formatTensorSignature);
  const tried = recognition.tried.map((adapter) => adapter.expectedLayout);
  const mismatch = family === undefined ? 'match no known model family' : `do not match the family ${JSON.stringify(family)} named by the family option`;
  throw new FramewiseError(
    'MODEL_LAYOUT_UNKNOWN',
    `The inputs and outputs of model ${JSON.stringify(modelPath)} ${mismatch}. ` +
      `Inputs: ${inputs.join('; ')}. Outputs: ${outputs.join('; ')}. ` +
      `Families tried: ${tried.join('; ')}. ` +
      'Export the model in one of these layouts, or pass the family option if the model belongs to one of them.',
    { path: modelPath, inputs, outputs, familiesTried: recognition.tried.map((adapter) => adapter.family) },
  );
}

function chooseLabels(options: ResolvedLoadOptions, labelsFromFile: readonly string[] | undefined, plan: ModelPlan): LabelChoice {
  if (labelsFromFile) return { labels: labelsFromFile, source: `labels file ${JSON.stringify(options.labels)}` };
  if (Array.isArray(options.labels)) return { labels: options.labels, source: 'the labels option' };
  if (plan.modelLabels) return { labels: plan.modelLabels, source: 'the model metadata (names)' };
  return { labels: plan.defaultLabels, source: `the built-in ${plan.family} label list` };
}

function checkLabelCount(modelPath: string, plan: ModelPlan, choice: LabelChoice): void {
  if (choice.labels.length === plan.numClasses) return;
  throw new FramewiseError(
    'MODEL_INVALID',
    `Model ${JSON.stringify(modelPath)} scores ${plan.numClasses} classes, but ${choice.source} has ${choice.labels.length} names. ` +
      `Pass a labels array or file with exactly ${plan.numClasses} names, in class-id order.`,
    { path: modelPath, modelClasses: plan.numClasses, labelCount: choice.labels.length, labelSource: choice.source },
  );
}

async function startDetector(
  options: ResolvedLoadOptions,
  firstWorker: InferenceWorker,
  report: LoadedReport,
  configuration: WorkerConfiguration,
): Promise<Detector> {
  const init = {
    modelPath: options.modelPath,
    executionProviders: report.executionProviders,
    allowCpuFallback: false,
    intraOpThreads: options.intraOpThreads,
    configuration,
  };

  const started = await Promise.allSettled(Array.from({ length: options.workers - 1 }, () => InferenceWorker.start(init)));
  const others = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value.worker] : []));
  const failure = started.find((result) => result.status === 'rejected');
  if (failure) {
    await Promise.all(others.map((worker) => worker.close()));
    throw failure.reason;
  }

  const pool = new WorkerPool([firstWorker, ...others], { init, logger: options.logger });
  const { plan, labels } = configuration;
  const info: DetectorInfo = Object.freeze({
    path: options.modelPath,
    family: plan.family,
    inputWidth: plan.inputWidth,
    inputHeight: plan.inputHeight,
    labels: Object.freeze([...labels]),
    batchSize: plan.batchSize,
    maxBatchSize: configuration.maxBatchSize,
    executionProviders: Object.freeze([...report.executionProviders]),
    workers: options.workers,
    intraOpThreads: options.intraOpThreads,
  });
  options.logger.info('Detector loaded', {
    path: info.path,
    family: info.family,
    inputWidth: info.inputWidth,
    inputHeight: info.inputHeight,
    classes: labels.length,
    workers: info.workers,
    executionProviders: info.executionProviders,
  });

  return {
    info,
    concurrency: options.workers * jobsPerWorker(configuration.maxBatchSize),
    detect(image, settings) {
      validateRgbImage(image);
      return pool.run(image, resolveDetectionSettings(settings));
    },
    dispose: () => pool.dispose(),
  };
}
