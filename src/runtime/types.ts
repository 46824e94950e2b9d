import type { Logger } from '../logger.js';
import type { Detection, RgbImage } from '../types.js';

/** Description of a loaded detector: its model, labels and thread layout. */
export interface DetectorInfo {
  /** Path of the ONNX file. */
  readonly path: string;
  /** Model family that decodes the outputs, such as `yolov8`. */
  readonly family: string;
  /** Width of the model input in pixels; 0 when each image goes in at its own size (torchvision models with free height and width). */
  readonly inputWidth: number;
  /** Height of the model input in pixels; 0 when each image goes in at its own size. */
  readonly inputHeight: number;
  /** Class names, indexed by `classId`. */
  readonly labels: readonly string[];
  /** Images per `session.run`: a fixed number from the model, or `'dynamic'` when the batch dimension is free. */
  readonly batchSize: number | 'dynamic';
  /**
   * Most images combined into one `session.run`: the `maxBatchSize` option when `batchSize` is
   * `'dynamic'`, otherwise 1.
   */
  readonly maxBatchSize?: number;
  /** ONNX Runtime execution providers in the order they were requested and found available. */
  readonly executionProviders: readonly string[];
  /** Number of worker threads, each with its own ONNX Runtime session. */
  readonly workers: number;
  /** ONNX Runtime intra-op threads per session. */
  readonly intraOpThreads: number;
}

/** Post-processing settings of one detection call. */
export interface DetectionSettings {
  /** Detections scoring below this are dropped, 0..1. Default 0.25. */
  readonly minScore: number;
  /** Boxes of the same class overlapping more than this intersection-over-union are merged by NMS, 0..1. Default 0.45. */
  readonly iouThreshold: number;
  /** At most this many detections per image, highest scores first. Default 100. */
  readonly maxDetections: number;
  /** When set, only these class ids are kept. */
  readonly classIds?: readonly number[];
}

export const DEFAULT_DETECTION_SETTINGS: DetectionSettings = Object.freeze({
  minScore: 0.25,
  iouThreshold: 0.45,
  maxDetections: 100,
});

/**
 * A loaded ONNX detector running in worker threads. Create with `loadDetector`, release with
 * `dispose()`; after `dispose()` the workers are gone and do not keep the process alive.
 */
export interface Detector {
  readonly info: DetectorInfo;
  /**
   * Images that can be in flight at once without waiting inside the detector
   * (workers times jobs per worker). `detect` keeps at most this many frames in flight.
   */
  readonly concurrency: number;
  /**
   * Detects objects in one image. The pixels are copied before the promise is created, so the
   * caller may reuse `image.data` at once. Boxes are in the image's own pixel coordinates.
   */
  detect(image: RgbImage, settings?: Partial<DetectionSettings>): Promise<Detection[]>;
  /** Stops the workers and releases the sessions. Pending calls reject with `DETECTOR_DISPOSED`. */
  dispose(): Promise<void>;
}

/** Options of `loadDetector`. */
export interface LoadDetectorOptions {
  /**
   * Worker threads, each with its own session. Default: the number of available cores (at most 4).
   * More workers raise throughput on multi-core machines and cost one model copy in memory each.
   */
  readonly workers?: number;
  /**
   * ONNX Runtime intra-op threads per session. Default 1, because separate single-thread sessions
   * scale better than one wide session, except on the CPU with `workers` unset and more than 4
   * cores, where the cores beyond the 4 workers become intra-op threads.
   */
  readonly intraOpThreads?: number;
  /** Execution providers to try in order, for example `['cuda', 'cpu']`. Default `['cpu']`. */
  readonly executionProviders?: readonly string[];
  /** Class names replacing the model's own: an array, or the path of a file with one name per line. */
  readonly labels?: readonly string[] | string;
  /** Model family, overriding recognition from the model's signature. */
  readonly family?: string;
  /**
   * Most images combined into one `session.run` for models with a free batch dimension. Default 4.
   * Larger batches use an accelerator better. They cost memory, because each worker keeps up to
   * twice this many frames, and add latency, because a batch returns when its last image is done. Models with a
   * fixed batch of one always run one image at a time.
   */
  readonly maxBatchSize?: number;
  /** Receives load events and warnings. Silent by default. */
  readonly logger?: Logger;
}
