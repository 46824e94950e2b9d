import { extname } from 'node:path';
import type { Observable } from 'rxjs';
import { annotate } from '../../operators/annotate.js';
import { detect } from '../../operators/detect.js';
import { filterClasses } from '../../operators/filter-classes.js';
import { selectedNames, unknownNamesError, type ClassSelection } from '../analysis/class-selection.js';
import { resample } from '../../operators/resample.js';
import { sampleEvery } from '../../operators/sample-every.js';
import { timeout } from '../../operators/timeout.js';
import { writeVideo } from '../../operators/write-video.js';
import { canonicalClassName } from '../class-names.js';
import { ProgressBar } from '../cli/progress.js';
import { invalidArgument } from '../errors.js';
import { containerForPath } from '../ffmpeg/encoder-args.js';
import { probeVideo } from '../ffmpeg/probe.js';
import { silentLogger, type Logger } from '../logger.js';
import { runPipeline } from '../runner.js';
import { knownFamilies } from '../../models/registry.js';
import { loadDetector } from '../runtime/load-detector.js';
import type { Detector, DetectorInfo, LoadDetectorOptions } from '../runtime/types.js';
import { fromCapture, type CaptureLike } from '../sources/capture.js';
import { fromVideoFile } from '../sources/video-file.js';
import type { DetectedFrame, Frame } from '../types.js';
import { createCallbackStage, invokeCallback } from './analysis-callbacks.js';
import { toImageAIArrays, type ProgressStream, type VideoDetectionOptions } from './imageai-types.js';

/** Model types that `setModelTypeAs…()` selects, with the families recognition may report for them. */
const MODEL_TYPES = {
  retinanet: { label: 'RetinaNet', families: ['retinanet', 'torchvision'] },
  yolov3: { label: 'YOLOv3', families: ['keras-yolo3', 'yolov3'] },
  tinyyolov3: { label: 'TinyYOLOv3', families: ['keras-yolo3', 'yolov3'] },
  yolov8: { label: 'YOLOv8', families: ['yolov8', 'yolov5', 'yolo-end2end', 'rtdetr'] },
} as const;

/** The model type chosen with one of the `setModelTypeAs…()` methods. */
export type ModelType = keyof typeof MODEL_TYPES;

/** Options of the {@link VideoObjectDetection} constructor. */
export interface VideoObjectDetectionOptions {
  /** Receives model-loading events and warnings. Silent by default; `logProgress` output does not go here. */
  readonly logger?: Logger;
}

/** Model-loading options that `loadModel` passes on to `loadDetector`. */
export type LoadModelOptions = Omit<LoadDetectorOptions, 'logger'>;

/** Everything a run needs, validated. */
interface RunSettings {
  readonly inputFilePath: string | undefined;
  readonly cameraInput: CaptureLike | undefined;
  readonly outputPath: string | undefined;
  readonly framesPerSecond: number | undefined;
  readonly frameDetectionInterval: number;
  readonly minScore: number;
  readonly progressStream: ProgressStream | undefined;
  readonly annotation: { readonly showScore: boolean; readonly showName: boolean; readonly showBox: boolean };
  readonly classNames: readonly string[] | undefined;
  readonly options: VideoDetectionOptions;
}

/**
 * ImageAI's `VideoObjectDetection` for Node.js: the same methods and callbacks, built on framewise's
 * operators. Choose a model type, set the path of an ONNX model, load it, then analyse a video file
 * or a camera.
 *
 * It keeps what ImageAI's documentation promises and fixes what its code gets wrong. Frame numbers
 * are 1-based, and a "second" is one second of video. Averages are floats over the frames of the
 * window. Frames between detections reuse the latest detections. The last partial second and
 * minute are reported. Errors reject the promise with a typed `FramewiseError`, after the output
 * is finalised. `docs/migrating-from-imageai.md` lists every difference.
 *
 * @example
 * ```ts
 * import { VideoObjectDetection } from 'framewise';
 *
 * const detector = new VideoObjectDetection();
 * detector.setModelTypeAsYOLOv8();
 * detector.setModelPath('yolov8n.onnx');
 * await detector.loadModel();
 * const videoPath = await detector.detectObjectsFromVideo({
 *   inputFilePath: 'traffic.mp4',
 *   outputFilePath: 'traffic_detected', // written as traffic_detected.avi
 *   framesPerSecond: 20,
 *   logProgress: true,
 * });
 * await detector.dispose();
 * ```
 */
export class VideoObjectDetection {
  private readonly logger: Logger;
  private modelType: ModelType | undefined;
  private modelPath: string | undefined;
  private executionProviders: readonly string[] | undefined;
  private detector: Detector | undefined;
  /** True when the detector was loaded here, so `dispose()` releases it. */
  private ownsDetector = false;
  /** Pending `loadModel()`, so concurrent calls load once. */
  private loading: Promise<void> | undefined;

  constructor(options: VideoObjectDetectionOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw invalidArgument('VideoObjectDetection options', options, 'an object or undefined');
    }
    this.logger = options.logger ?? silentLogger;
  }

  /** Expects a RetinaNet model: the ONNX model zoo's `retinanet-9` or a torchvision RetinaNet export. */
  setModelTypeAsRetinaNet(): void {
    this.modelType = 'retinanet';
  }

  /**
   * Expects a YOLOv3 model: the ONNX model zoo's `yolov3-10`/`yolov3-12`, or an export with decoded
   * `[1, N, 85]` rows, which is then letterboxed with grey 128 as YOLOv3 was trained.
   */
  setModelTypeAsYOLOv3(): void {
    this.modelType = 'yolov3';
  }

  /** Expects a TinyYOLOv3 model: the ONNX model zoo's `tiny-yolov3-11`, or an export with decoded rows. */
  setModelTypeAsTinyYOLOv3(): void {
    this.modelType = 'tinyyolov3';
  }

  /** Expects an Ultralytics model exported to ONNX (YOLOv5, YOLOv8, YOLO11 and later layouts). */
  setModelTypeAsYOLOv8(): void {
    this.modelType = 'yolov8';
  }

  /**
   * Sets the path of the ONNX model file. The file is read by `loadModel()`, which rejects with
   * `MODEL_NOT_FOUND` when it does not exist.
   *
   * @throws FramewiseError `INVALID_ARGUMENT` when `modelPath` is not a non-empty string.
   */
  setModelPath(modelPath: string): void {
    if (typeof modelPath !== 'string' || modelPath.trim() === '') {
      throw invalidArgument('modelPath', modelPath, 'the path of an .onnx model file');
    }
    this.modelPath = modelPath;
  }

  /** Description of the loaded model (family, labels, input size, workers), or undefined before loading. */
  get modelInfo(): DetectorInfo | undefined {
    return this.detector?.info;
  }

  /** Runs the model on the CPU (the default), as ImageAI's `useCPU()` does. */
  useCPU(): void {
    this.executionProviders = ['cpu'];
  }

  /**
   * Uses a detector that is already loaded instead of `setModelPath` and `loadModel`, for example
   * to share one detector between several facades. `dispose()` does not release it.
   *
   * @throws FramewiseError `INVALID_ARGUMENT` when `detector` has no `detect` method or `info.labels`.
   */
  setDetector(detector: Detector): void {
    if (typeof detector !== 'object' || detector === null || typeof detector.detect !== 'function' || !Array.isArray(detector.info?.labels)) {
      throw invalidArgument('detector', detector, 'a detector from loadDetector()');
    }
    this.detector = detector;
    this.ownsDetector = false;
  }

  /**
   * Loads the model set with `setModelPath` into worker threads. The family is recognised from the
   * file; pass `family` to force one when recognition picks the wrong one. A model whose recognised
   * family does not fit the type chosen with `setModelTypeAs…()` is loaded anyway, with a warning
   * to the logger.
   *
   * @param options Passed to `loadDetector` (workers, execution providers, labels, family).
   * @returns A promise that rejects as `loadDetector` does (`MODEL_NOT_FOUND`, `MODEL_INVALID`,
   * `MODEL_LAYOUT_UNKNOWN`, …).
   * @throws FramewiseError `INVALID_ARGUMENT` when no model path was set.
   */
  loadModel(options: LoadModelOptions = {}): Promise<void> {
    const modelPath = this.modelPath;
    if (modelPath === undefined) {
      throw invalidArgument('model path', modelPath, 'a path set with setModelPath() before loadModel()');
    }
    this.loading ??= this.load(modelPath, options).finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  /**
   * Builds a class selection for `detectCustomObjectsFromVideo`, as ImageAI's `CustomObjects`:
   * `CustomObjects({ person: true, bicycle: true })`. Keys use ImageAI's spellings or COCO's
   * (`motorbike` or `motorcycle`, `traffic_light` or `traffic light`). It can be called before or
   * after `loadModel`.
   *
   * @returns A frozen copy of the selection: only the keys given, not every class of the model.
   * @throws FramewiseError `INVALID_ARGUMENT` when a value is not a boolean, or when a key is
   * neither a known COCO name nor, once a model is loaded, one of its labels. The message lists
   * close names.
   */
  CustomObjects(selection: Readonly<Record<string, boolean>>): Readonly<Record<string, boolean>> {
    const labels = this.detector?.info.labels;
    // filterClasses checks the shape and the names at call time, with the same messages.
    filterClasses(selection, labels ? { labels: [...labels] } : {});
    return Object.freeze({ ...selection });
  }

  /**
   * Detects objects in a video file or a camera stream, calls the analysis callbacks, and writes
   * the annotated video. See {@link VideoDetectionOptions} for each option and its default.
   *
   * The callbacks run in this order, for each frame: the per-second and per-minute callbacks of
   * the windows that end before it, then `perFrameFunction`. After the last frame: the last
   * (possibly partial) second and minute, then, once the video is final, `videoCompleteFunction`.
   *
   * @returns A promise of the output path (`.avi` appended when it had no video extension), or
   * `undefined` when `saveDetectedVideo` is false. It rejects with a `FramewiseError`:
   * `INPUT_NOT_FOUND`, `INVALID_INPUT` or `DECODE_FAILED` for a bad input, `CALLBACK_FAILED` when a
   * callback throws or rejects (its error is the `cause`), `ABORTED` when `signal` aborts, or the
   * model's and encoder's codes. The output video is finalised before the promise settles.
   * @throws FramewiseError `INVALID_ARGUMENT` at call time for an invalid option, when neither or
   * both of `inputFilePath` and `cameraInput` are set, when `outputFilePath` is missing while
   * `saveDetectedVideo` is true, or when no model was set.
   */
  detectObjectsFromVideo(options: VideoDetectionOptions): Promise<string | undefined> {
    const settings = resolveRunSettings(options);
    this.requireModel();
    return this.run(settings);
  }

  /**
   * `detectObjectsFromVideo` restricted to the classes of `customObjects`, as ImageAI's
   * documentation shows it. An empty selection keeps every class.
   *
   * @throws FramewiseError `INVALID_ARGUMENT` at call time when `customObjects` is missing, and as
   * `detectObjectsFromVideo`. The promise rejects with `INVALID_ARGUMENT` when a selected class is
   * not among the model's labels.
   */
  detectCustomObjectsFromVideo(options: VideoDetectionOptions & { readonly customObjects: ClassSelection }): Promise<string | undefined> {
    if (typeof options !== 'object' || options === null || options.customObjects === undefined) {
      throw invalidArgument('customObjects', options?.customObjects, 'the result of CustomObjects({ name: true, … })');
    }
    return this.detectObjectsFromVideo(options);
  }

  /** Releases the model's worker threads, when it was loaded by `loadModel`. Safe to call twice. */
  async dispose(): Promise<void> {
    const detector = this.detector;
    this.detector = undefined;
    if (detector && this.ownsDetector) await detector.dispose();
  }

  private async load(modelPath: string, options: LoadModelOptions): Promise<void> {
    const providers = options.executionProviders ?? this.executionProviders;
    const loadOptions: LoadDetectorOptions = { ...options, ...(providers ? { executionProviders: providers } : {}), logger: this.logger };
    let detector = await loadDetector(modelPath, loadOptions);

    const type = this.modelType;
    const isYolov3Type = type === 'yolov3' || type === 'tinyyolov3';
    if (isYolov3Type && options.family === undefined && detector.info.family === 'yolov5' && knownFamilies().includes('yolov3')) {
      // Decoded [1, N, 85] rows look the same from YOLOv3 and YOLOv5; only the family option makes
      // the runtime letterbox with grey 128, as YOLOv3 was trained, instead of YOLOv5's 114.
      await detector.dispose();
      detector = await loadDetector(modelPath, { ...loadOptions, family: 'yolov3' });
    }

    const previous = this.ownsDetector ? this.detector : undefined;
    this.detector = detector;
    this.ownsDetector = true;
    await previous?.dispose();

    if (type !== undefined && !(MODEL_TYPES[type].families as readonly string[]).includes(detector.info.family)) {
      this.logger.warn(`The model was recognised as ${detector.info.family}, not as a ${MODEL_TYPES[type].label} model`, {
        path: modelPath,
        family: detector.info.family,
        expectedFamilies: MODEL_TYPES[type].families,
      });
    }
  }

  private requireModel(): void {
    if (this.detector === undefined && this.modelPath === undefined) {
      throw invalidArgument('model', undefined, 'a model: call setModelPath() and loadModel(), or setDetector(), first');
    }
  }

  private async run(settings: RunSettings): Promise<string | undefined> {
    if (this.detector === undefined) await this.loadModel();
    const detector = this.detector as Detector;
    const { options } = settings;

    const classNames = settings.classNames;
    if (classNames !== undefined) {
      const modelNames = new Set(detector.info.labels.map(canonicalClassName));
      const missing = classNames.filter((name) => !modelNames.has(canonicalClassName(name)));
      if (missing.length > 0) throw unknownNamesError(missing, detector.info.labels, "among the model's labels");
    }

    const progress = settings.progressStream
      ? new ProgressBar({ total: await this.expectedFrames(settings), stream: settings.progressStream as NodeJS.WriteStream })
      : undefined;
    const stage = createCallbackStage({
      perFrameFunction: options.perFrameFunction,
      perSecondFunction: options.perSecondFunction,
      perMinuteFunction: options.perMinuteFunction,
      summarize: options.videoCompleteFunction !== undefined,
      returnDetectedFrame: options.returnDetectedFrame ?? false,
      onFrame: progress ? () => progress.tick() : undefined,
    });

    let frames$: Observable<Frame> = settings.cameraInput
      ? fromCapture(settings.cameraInput, { logger: this.logger })
      : fromVideoFile(settings.inputFilePath as string, { logger: this.logger });
    if (options.detectionTimeout !== undefined) frames$ = frames$.pipe(timeout({ seconds: options.detectionTimeout }));
    if (settings.framesPerSecond !== undefined) frames$ = frames$.pipe(resample({ frameRate: settings.framesPerSecond }));
    if (settings.frameDetectionInterval > 1) frames$ = frames$.pipe(sampleEvery(settings.frameDetectionInterval));

    let detected$: Observable<DetectedFrame> = frames$.pipe(
      detect(detector, { minScore: settings.minScore, ...(classNames ? { classes: classNames } : {}) }),
    );
    const { showScore, showName, showBox } = settings.annotation;
    const needsPixels = settings.outputPath !== undefined || options.returnDetectedFrame === true;
    if (needsPixels && (showScore || showName || showBox)) detected$ = detected$.pipe(annotate({ showScore, showName, showBox }));
    detected$ = detected$.pipe(stage.operator);
    if (settings.outputPath !== undefined) {
      detected$ = detected$.pipe(
        writeVideo(settings.outputPath, { logger: this.logger, ...(settings.framesPerSecond ? { frameRate: settings.framesPerSecond } : {}) }),
      );
    }

    try {
      await runPipeline(detected$, { signal: options.signal });
    } finally {
      progress?.finish();
    }
    await stage.settled();

    const onComplete = options.videoCompleteFunction;
    const summary = stage.summary();
    if (onComplete && summary) {
      const pending = new Set<Promise<unknown>>();
      const outputArrays = toImageAIArrays(summary.detections);
      invokeCallback(
        'videoCompleteFunction',
        () => onComplete(outputArrays, [...summary.counts], summary.averages),
        { frames: summary.frameCount },
        pending,
        () => undefined,
      );
      // A returned promise is awaited here; its rejection arrives wrapped as CALLBACK_FAILED.
      await Promise.all(pending);
    }
    return settings.outputPath;
  }

  /** Frames the run is expected to process, for the progress bar; undefined when unknown (cameras, unprobed files). */
  private async expectedFrames(settings: RunSettings): Promise<number | undefined> {
    if (settings.inputFilePath === undefined) return undefined;
    let info;
    try {
      info = await probeVideo(settings.inputFilePath);
    } catch (error) {
      // The source probes the file again when the run starts and rejects with this error there.
      this.logger.debug('Probing for the progress total failed', { path: settings.inputFilePath, error });
      return undefined;
    }
    const timeoutMs = settings.options.detectionTimeout !== undefined ? settings.options.detectionTimeout * 1000 : Infinity;
    const durationMs = info.durationMs !== undefined ? Math.min(info.durationMs, timeoutMs) : undefined;
    if (settings.framesPerSecond !== undefined) {
      return durationMs !== undefined ? Math.ceil((durationMs * settings.framesPerSecond) / 1000) : undefined;
    }
    if (timeoutMs !== Infinity && info.fps !== undefined && durationMs !== undefined) return Math.ceil((durationMs * info.fps) / 1000);
    return info.frameCount;
  }
}

/** Validates the options of a run. Throws `INVALID_ARGUMENT`. */
function resolveRunSettings(options: VideoDetectionOptions): RunSettings {
  if (typeof options !== 'object' || options === null) {
    throw invalidArgument('detectObjectsFromVideo options', options, 'an object of options such as { inputFilePath, outputFilePath }');
  }
  const inputFilePath = options.inputFilePath === '' ? undefined : options.inputFilePath;
  const cameraInput = options.cameraInput ?? undefined;
  if (inputFilePath === undefined && cameraInput === undefined) {
    throw invalidArgument('inputFilePath', options.inputFilePath, 'the path of a video file, or a cameraInput');
  }
  if (inputFilePath !== undefined && cameraInput !== undefined) {
    throw invalidArgument('cameraInput', 'a capture object', 'either inputFilePath or cameraInput, not both');
  }
  if (inputFilePath !== undefined && typeof inputFilePath !== 'string') {
    throw invalidArgument('inputFilePath', inputFilePath, 'the path of a video file');
  }
  if (cameraInput !== undefined && (typeof cameraInput !== 'object' || typeof cameraInput.read !== 'function')) {
    throw invalidArgument('cameraInput', cameraInput, "an object with a read() method, such as OpenCV's VideoCapture");
  }

  const booleans = [
    'logProgress', 'displayPercentageProbability', 'displayObjectName', 'displayBox', 'saveDetectedVideo', 'returnDetectedFrame',
  ] as const;
  for (const name of booleans) {
    const value = options[name];
    const progressStream = name === 'logProgress' && typeof value === 'object' && value !== null && typeof value.write === 'function';
    if (value !== undefined && typeof value !== 'boolean' && !progressStream) {
      throw invalidArgument(name, value, name === 'logProgress' ? 'true, false, or a stream with a write() method' : 'true or false');
    }
  }
  for (const name of ['perFrameFunction', 'perSecondFunction', 'perMinuteFunction', 'videoCompleteFunction'] as const) {
    const value = options[name];
    if (value !== undefined && typeof value !== 'function') throw invalidArgument(name, value, 'a function');
  }

  const saveDetectedVideo = options.saveDetectedVideo ?? true;
  let outputPath: string | undefined;
  if (saveDetectedVideo) {
    const output = options.outputFilePath;
    if (typeof output !== 'string' || output.trim() === '') {
      throw invalidArgument('outputFilePath', output, 'the path of the output video (or saveDetectedVideo: false)');
    }
    outputPath = outputPathFor(output);
  }

  const { framesPerSecond, detectionTimeout } = options;
  if (framesPerSecond !== undefined && !(typeof framesPerSecond === 'number' && Number.isFinite(framesPerSecond) && framesPerSecond > 0 && framesPerSecond <= 1000)) {
    throw invalidArgument('framesPerSecond', framesPerSecond, 'frames per second, a number above 0 and at most 1000');
  }
  const frameDetectionInterval = options.frameDetectionInterval ?? 1;
  if (!(Number.isSafeInteger(frameDetectionInterval) && frameDetectionInterval >= 1)) {
    throw invalidArgument('frameDetectionInterval', frameDetectionInterval, 'an integer of at least 1');
  }
  const minimumPercentage = options.minimumPercentageProbability ?? 50;
  if (!(typeof minimumPercentage === 'number' && minimumPercentage >= 0 && minimumPercentage <= 100)) {
    throw invalidArgument('minimumPercentageProbability', minimumPercentage, 'a number from 0 to 100');
  }
  if (detectionTimeout !== undefined && !(typeof detectionTimeout === 'number' && Number.isFinite(detectionTimeout) && detectionTimeout >= 0)) {
    throw invalidArgument('detectionTimeout', detectionTimeout, 'a number of seconds, 0 or more');
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw invalidArgument('signal', options.signal, 'an AbortSignal');
  }

  let classNames: string[] | undefined;
  if (options.customObjects !== undefined) {
    const selection = options.customObjects;
    const isEmptyObject = !Array.isArray(selection) && typeof selection === 'object' && selection !== null && Object.keys(selection).length === 0;
    // ImageAI treats an empty selection as no selection: every class is kept.
    if (!isEmptyObject) classNames = selectedNames(selection);
  }

  const logProgress = options.logProgress ?? false;
  let progressStream: ProgressStream | undefined;
  if (logProgress === true) progressStream = process.stderr;
  else if (logProgress !== false) progressStream = logProgress;
  return {
    inputFilePath,
    cameraInput,
    outputPath,
    framesPerSecond,
    frameDetectionInterval,
    minScore: minimumPercentage / 100,
    progressStream,
    annotation: {
      showScore: options.displayPercentageProbability ?? true,
      showName: options.displayObjectName ?? true,
      showBox: options.displayBox ?? true,
    },
    classNames,
    options,
  };
}

/** Appends `.avi` to an output path without a video extension that `writeVideo` supports, as ImageAI's documentation describes. */
export function outputPathFor(outputFilePath: string): string {
  return extname(outputFilePath) !== '' && containerForPath(outputFilePath) !== undefined ? outputFilePath : `${outputFilePath}.avi`;
}
