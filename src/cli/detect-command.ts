import { takeUntil, tap, timer, type Observable } from 'rxjs';
import { annotate } from '../../operators/annotate.js';
import { detect } from '../../operators/detect.js';
import { writeJsonLines } from '../../operators/write-json-lines.js';
import { writeVideo } from '../../operators/write-video.js';
import { FramewiseError, isFramewiseError } from '../errors.js';
import { probeVideo } from '../ffmpeg/probe.js';
import { runPipeline } from '../runner.js';
import { resolveModel } from '../model-cache/named-models.js';
import { loadDetector } from '../runtime/load-detector.js';
import type { Logger } from '../logger.js';
import { maskUrlCredentials } from '../secrets.js';
import { fromCamera } from '../sources/camera.js';
import { fromStream, STREAM_PROTOCOLS, type RtspTransport } from '../sources/stream.js';
import { fromVideoFile } from '../sources/video-file.js';
import type { DetectedFrame, Frame } from '../types.js';
import { ProgressBar, formatDuration } from './progress.js';
import { UsageError } from './usage-error.js';

/** Parsed options of `framewise detect`. */
export interface DetectCommandOptions {
  /** File path or stream URL; ignored when `camera` is set. */
  readonly input: string;
  /** Camera device (an index such as `0`, or a device name or path) to read instead of `input`. */
  readonly camera?: string;
  /** ffmpeg input format of the camera, replacing the platform's default. */
  readonly cameraFormat?: string;
  /** Wall-clock seconds after which the run stops, finalises its outputs and succeeds. */
  readonly timeoutSeconds?: number;
  /** RTSP transport of stream URLs. */
  readonly rtspTransport?: RtspTransport;
  /** Seconds without a frame before a live input reconnects. */
  readonly stallTimeoutSeconds?: number;
  /** Read an `http(s)://` input as a live stream even when the server reports a duration. */
  readonly live?: boolean;
  /** Receives the warnings of live inputs (reconnections, stalls). */
  readonly logger?: Logger;
  /** Path of an ONNX file, or the name of a pulled model. */
  readonly model: string;
  /** Model family overriding recognition; a named model's manifest family by default. */
  readonly family?: string;
  /** Path of a label file. */
  readonly labels?: string;
  /** Cache folder where named models are looked up. */
  readonly cacheDir?: string;
  readonly output?: string;
  readonly json?: string;
  readonly classes?: readonly string[];
  readonly minScore?: number;
  readonly iouThreshold?: number;
  readonly progress: boolean;
  readonly signal: AbortSignal;
}

/** Totals printed in the closing summary. */
export interface DetectSummary {
  readonly frames: number;
  readonly detectionsByClass: ReadonlyMap<string, number>;
  readonly elapsedMs: number;
}

/** Runs `framewise detect`: decode, detect, then optionally annotate and write video and JSON Lines. */
export async function runDetectCommand(options: DetectCommandOptions): Promise<DetectSummary> {
  checkStreamInput(options);
  const model = await resolveModel(options.model, { cacheDir: options.cacheDir });
  const detector = await loadDetector(model.path, { family: options.family ?? model.entry?.family, labels: options.labels });
  try {
    // Built before probing, so an unknown class name or a bad score fails before ffprobe starts.
    const detectStage = detect(detector, { minScore: options.minScore, iouThreshold: options.iouThreshold, classes: options.classes });
    const input = await openInput(options);
    const detectionsByClass = new Map<string, number>();
    const progress = options.progress ? new ProgressBar({ total: input.frameCount }) : undefined;

    // The time limit ends the source, so detect and the writers finish the frames already read.
    const frames = options.timeoutSeconds === undefined ? input.frames : input.frames.pipe(takeUntil(timer(options.timeoutSeconds * 1000)));
    let pipeline = frames.pipe(
      detectStage,
      tap((frame: DetectedFrame) => {
        for (const detection of frame.detections) {
          detectionsByClass.set(detection.name, (detectionsByClass.get(detection.name) ?? 0) + 1);
        }
      }),
    );
    if (options.json !== undefined) pipeline = pipeline.pipe(writeJsonLines(options.json));
    if (options.output !== undefined) {
      pipeline = pipeline.pipe(annotate(), writeVideo(options.output, { audioFrom: input.audioFrom }));
    }

    try {
      const result = await runPipeline(pipeline, { signal: options.signal, onValue: () => progress?.tick() });
      progress?.finish(true);
      return { frames: result.values, detectionsByClass, elapsedMs: result.elapsedMs };
    } catch (error) {
      progress?.finish();
      throw error;
    }
  } finally {
    await detector.dispose();
  }
}

/** Builds the closing paragraph: frames, detections per class, time and outputs. */
export function formatSummary(summary: DetectSummary, options: Pick<DetectCommandOptions, 'input' | 'camera' | 'output' | 'json'>): string {
  const seconds = summary.elapsedMs / 1000;
  const fps = seconds > 0 ? summary.frames / seconds : 0;
  const classes = [...summary.detectionsByClass.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const total = classes.reduce((sum, [, count]) => sum + count, 0);
  const perClass = classes.length > 0 ? classes.map(([name, count]) => `${name} ${count}`).join(', ') : 'none';
  const outputs = [options.output, options.json].filter((path): path is string => path !== undefined);
  return (
    `Processed ${summary.frames} ${summary.frames === 1 ? 'frame' : 'frames'} of ${describeInput(options)} in ${formatDuration(seconds)} (${fps.toFixed(1)} fps). ` +
    `Detections: ${total} (${perClass}).` +
    (outputs.length > 0 ? ` Wrote ${outputs.join(' and ')}.` : '')
  );
}

/** Returns the input's name for the summary: the camera, or the path or URL with its credentials masked. */
function describeInput(options: Pick<DetectCommandOptions, 'input' | 'camera'>): string {
  if (options.camera !== undefined) return `camera ${options.camera}`;
  return options.input.includes('://') ? maskUrlCredentials(options.input) : options.input;
}

/** The frames of the run, with what the progress bar and the video writer need to know. */
interface CommandInput {
  readonly frames: Observable<Frame>;
  /** Frames the input declares; undefined for live inputs. */
  readonly frameCount: number | undefined;
  /** File whose audio the output video copies; undefined for live inputs and files without audio. */
  readonly audioFrom: string | undefined;
}

/** Rejects a URL whose scheme no source reads, before the model is loaded. */
function checkStreamInput(options: DetectCommandOptions): void {
  if (options.camera !== undefined || !options.input.includes('://')) return;
  const scheme = /^([a-z][a-z0-9+.-]*:)\/\//i.exec(options.input)?.[1]?.toLowerCase();
  if (scheme === undefined || !STREAM_PROTOCOLS.includes(scheme)) {
    throw new UsageError(
      `Unsupported input URL ${JSON.stringify(maskUrlCredentials(options.input))}. ` +
        `Expected one of the schemes ${STREAM_PROTOCOLS.map((protocol) => `${protocol}//`).join(', ')}, or a file path.`,
    );
  }
}

/**
 * Opens the input: a camera, a live stream (RTSP, RTMP, and HTTP without a duration such as MJPEG
 * or live HLS), or a file, local or over HTTP.
 */
async function openInput(options: DetectCommandOptions): Promise<CommandInput> {
  const liveOptions = {
    logger: options.logger,
    stallTimeoutMs: options.stallTimeoutSeconds === undefined ? undefined : options.stallTimeoutSeconds * 1000,
  };
  if (options.camera !== undefined) {
    const device = /^\d+$/.test(options.camera) ? Number(options.camera) : options.camera;
    return { frames: fromCamera(device, { ...liveOptions, inputFormat: options.cameraFormat }), frameCount: undefined, audioFrom: undefined };
  }

  if (!options.input.includes('://')) {
    const info = await probeVideo(options.input, { signal: options.signal });
    return { frames: fromVideoFile(options.input), frameCount: info.frameCount, audioFrom: info.hasAudio ? options.input : undefined };
  }

  const url = new URL(options.input);
  const streamOptions = { ...liveOptions, transport: options.rtspTransport };
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { frames: fromStream(url, streamOptions), frameCount: undefined, audioFrom: undefined };
  }
  if (options.live) return { frames: fromStream(url, streamOptions), frameCount: undefined, audioFrom: undefined };

  // A server that states a duration serves a file; one that does not (MJPEG, live HLS) a live stream.
  const info = await probeVideo(url, { signal: options.signal }).catch((error: unknown) => {
    throw isFramewiseError(error) && error.context.network === true
      ? new FramewiseError(error.code, `${error.message} To keep retrying a live stream until it is up, pass --live.`, error.context, { cause: error })
      : error;
  });
  if (info.durationMs === undefined) return { frames: fromStream(url, streamOptions), frameCount: undefined, audioFrom: undefined };
  return { frames: fromVideoFile(url), frameCount: info.frameCount, audioFrom: undefined };
}
