// Core types, errors and logging.
export * from './types.js';
export * from './errors.js';
export * from './logger.js';
export { FRAME_LEASE, holdFrame, createFlowCounters, type FrameLease, type FlowCounters } from './backpressure.js';

// Sources and ffmpeg.
export type { FfmpegPaths } from './ffmpeg/binaries.js';
export { runningChildPids } from './ffmpeg/process.js';
export { probeVideo, type ProbeVideoOptions, type VideoInfo, type FrameRate } from './ffmpeg/probe.js';
export {
  fromVideoFile,
  DEFAULT_MAX_QUEUED_FRAMES,
  DEFAULT_MAX_QUEUED_BYTES,
  DEFAULT_UNTIMED_FRAME_RATE,
  defaultMaxQueuedFrames,
  type VideoFileOptions,
} from './sources/video-file.js';
export { maskUrl, type VideoInput } from './ffmpeg/input.js';

// Inference.
export * from './runtime/types.js';
export { loadDetector } from './runtime/load-detector.js';
export { detectImage, type DetectImageOptions } from './runtime/detect-image.js';
export { resolveDetectionSettings } from './runtime/detection-settings.js';
export { runningInferenceWorkers } from './runtime/worker-pool.js';
export { COCO80_LABELS, COCO91_LABELS, DARKNET_COCO80_LABELS, canonicalizeLabels } from '../models/labels.js';
export { knownFamilies } from '../models/registry.js';

// Named models and the download cache.
export {
  listModels,
  pullModel,
  resolveModel,
  type ModelCacheOptions,
  type PullOptions,
  type PullResult,
  type CachedEntry,
  type ResolvedModel,
} from './model-cache/named-models.js';
export { BUILTIN_MANIFEST, loadManifest, type ManifestEntry } from './model-cache/manifest.js';
export { resolveCacheDir } from './model-cache/cache-dir.js';
export { downloadVerified, type DownloadProgress } from './model-cache/download.js';
export type { ModelAdapter, ModelPlan, ModelSignature } from '../models/adapter.js';
export type { InputPreprocessing } from '../models/preprocess.js';

// Drawing.
export { bitmapRenderer, type Renderer, type Annotation, type AnnotationStyle } from './render/renderer.js';
export { CLASS_PALETTE, colorForClass, contrastRatio, textColorFor, type Rgb } from './render/palette.js';

// Live sources.
export { fromStream, DEFAULT_STALL_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT_MS, STREAM_PROTOCOLS, type StreamOptions, type RtspTransport } from './sources/stream.js';
export { fromCamera, type CameraOptions, type CameraDevice } from './sources/camera.js';
export { mergeSources, type MergeSourcesOptions, type MergedSources } from './sources/merge-sources.js';
export type { LiveSource, ReconnectOptions } from './sources/live-source.js';
export { DEFAULT_LIVE_MAX_QUEUED_FRAMES, type OverflowPolicy, type LiveQueueOptions } from './sources/live-queue.js';
export type { SourceState, SourceStatus, SourceCounters, DropCounts } from './sources/source-state.js';
export { maskUrlCredentials, createUrlRedactor, redactSecrets, type UrlRedactor } from './secrets.js';

// Other sources.
export { fromCapture, type CaptureLike, type CaptureImage, type CaptureOptions, type MatLike, type BgrImage } from './sources/capture.js';

// Analysis and the ImageAI-style facade.
export { countByClass, type ClassCounts, type DetectionSummary } from './analysis/summary.js';
export { VideoObjectDetection, type ModelType, type VideoObjectDetectionOptions, type LoadModelOptions } from './facade/video-object-detection.js';
export type {
  ImageAIDetection,
  ImageAICounts,
  PerFrameFunction,
  PerWindowFunction,
  VideoCompleteFunction,
  ProgressStream,
  VideoDetectionOptions,
} from './facade/imageai-types.js';

// Running pipelines.
export { runPipeline, type RunOptions, type RunResult } from './runner.js';
export { whenFinalized } from './finalizers.js';
export { resolveClassIds, normalizeClassName } from './class-names.js';

// The operators are also available from 'framewise/operators'.
export * from '../operators/index.js';
