import { tap } from 'rxjs';
import { annotate } from '../../operators/annotate.js';
import { detect } from '../../operators/detect.js';
import { writeJsonLines } from '../../operators/write-json-lines.js';
import { writeVideo } from '../../operators/write-video.js';
import { probeVideo } from '../ffmpeg/probe.js';
import { runPipeline } from '../runner.js';
import { resolveModel } from '../model-cache/named-models.js';
import { loadDetector } from '../runtime/load-detector.js';
import { fromVideoFile } from '../sources/video-file.js';
import type { DetectedFrame } from '../types.js';
import { ProgressBar, formatDuration } from './progress.js';
import { UsageError } from './usage-error.js';

/** Parsed options of `framewise detect`. */
export interface DetectCommandOptions {
  readonly input: string;
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
  if (options.input.includes('://')) {
    throw new UsageError(
      `Stream input ${JSON.stringify(maskUrl(options.input))} is not supported by this version; pass a video or image file path.`,
    );
  }

  const model = await resolveModel(options.model, { cacheDir: options.cacheDir });
  const detector = await loadDetector(model.path, { family: options.family ?? model.entry?.family, labels: options.labels });
  try {
    // Built before probing, so an unknown class name or a bad score fails before ffprobe starts.
    const detectStage = detect(detector, { minScore: options.minScore, iouThreshold: options.iouThreshold, classes: options.classes });
    const info = await probeVideo(options.input, { signal: options.signal });
    const detectionsByClass = new Map<string, number>();
    const progress = options.progress ? new ProgressBar({ total: info.frameCount }) : undefined;

    let pipeline = fromVideoFile(options.input).pipe(
      detectStage,
      tap((frame: DetectedFrame) => {
        for (const detection of frame.detections) {
          detectionsByClass.set(detection.name, (detectionsByClass.get(detection.name) ?? 0) + 1);
        }
      }),
    );
    if (options.json !== undefined) pipeline = pipeline.pipe(writeJsonLines(options.json));
    if (options.output !== undefined) {
      pipeline = pipeline.pipe(annotate(), writeVideo(options.output, { audioFrom: info.hasAudio ? options.input : undefined }));
    }

    try {
      const result = await runPipeline(pipeline, { signal: options.signal, onValue: () => progress?.tick() });
      return { frames: result.values, detectionsByClass, elapsedMs: result.elapsedMs };
    } finally {
      progress?.finish();
    }
  } finally {
    await detector.dispose();
  }
}

/** Builds the closing paragraph: frames, detections per class, time and outputs. */
export function formatSummary(summary: DetectSummary, options: Pick<DetectCommandOptions, 'input' | 'output' | 'json'>): string {
  const seconds = summary.elapsedMs / 1000;
  const fps = seconds > 0 ? summary.frames / seconds : 0;
  const classes = [...summary.detectionsByClass.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const total = classes.reduce((sum, [, count]) => sum + count, 0);
  const perClass = classes.length > 0 ? classes.map(([name, count]) => `${name} ${count}`).join(', ') : 'none';
  const outputs = [options.output, options.json].filter((path): path is string => path !== undefined);
  return (
    `Processed ${summary.frames} frames of ${options.input} in ${formatDuration(seconds)} (${fps.toFixed(1)} fps). ` +
    `Detections: ${total} (${perClass}).` +
    (outputs.length > 0 ? ` Wrote ${outputs.join(' and ')}.` : '')
  );
}

/**
 * Replaces user name and password in a URL with `***`. The user info ends at the last `@` before the
 * path, query or fragment, as Node's `URL` parses it, so a password with a raw `@` is masked whole.
 */
function maskUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1***:***@');
}
