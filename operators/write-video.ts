import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Observable, type MonoTypeOperatorFunction, type Subscription } from 'rxjs';
import { FramewiseError, invalidArgument } from '../src/errors.js';
import { resolveFfmpegPaths, type FfmpegPaths } from '../src/ffmpeg/binaries.js';
import { containerForPath, SUPPORTED_EXTENSIONS, X264_PRESETS, type X264Preset } from '../src/ffmpeg/encoder-args.js';
import { pendingWriters, VideoWriter, type VideoWriterSettings } from '../src/ffmpeg/video-writer.js';
import { silentLogger, type Logger } from '../src/logger.js';
import type { Frame } from '../src/types.js';

export { pendingWriters };

/** Options of {@link writeVideo}. */
export interface WriteVideoOptions extends FfmpegPaths {
  /**
   * Constant output rate in frames per second. When set, frame timestamps are ignored: frame `n`
   * is shown at `n / frameRate` seconds, every frame exactly once, so the duration is
   * `frames / frameRate` (like OpenCV's VideoWriter). Default: undefined, which keeps each frame's
   * `timestampMs` (see {@link writeVideo}).
   */
  readonly frameRate?: number;
  /**
   * Constant rate factor for `.mp4`, `.m4v`, `.mov`, `.mkv` (libx264, 0–51, default 23) and `.webm`
   * (libvpx-vp9, 0–63, default 31). Lower values give better quality and larger files.
   */
  readonly crf?: number;
  /** libx264 speed preset for `.mp4`, `.m4v`, `.mov` and `.mkv`. Default `veryfast`. Slower presets give smaller files for the same quality and cost CPU time. */
  readonly preset?: X264Preset;
  /** MJPEG quantizer scale for `.avi`, from 2 (best quality, largest) to 31. Default 3. */
  readonly qscale?: number;
  /**
   * Media file whose first audio stream is added to the output: copied when the container can hold
   * its codec, otherwise encoded (AAC for MP4, MOV and MKV, Opus for WebM, 16-bit PCM for AVI).
   * A file without audio gives a video-only output. The audio is not cut to the video's length.
   * NOTE: the audio starts at the output's start, so it is only in sync when the first frame is the
   * first frame of `audioFrom`.
   */
  readonly audioFrom?: string;
  /**
   * Extra ffmpeg output options, placed after the generated ones and before the output file, for
   * example `['-tune', 'film']`. They are passed as separate arguments, never through a shell.
   */
  readonly extraOutputArgs?: readonly string[];
  /**
   * After unsubscribe, how long ffmpeg may go without progress (accepting a frame or exiting)
   * before it is sent SIGTERM, then SIGKILL 2 s later. Default 10 000 ms. Raising it gives slow
   * encoders more time to finish the file; lowering it frees a stuck process sooner.
   */
  readonly finalizeTimeoutMs?: number;
  /**
   * Number of frames waiting for ffmpeg above which one warning is logged. Default 32. Frames are
   * never dropped: sources with flow control stop decoding while frames wait here, so this is only
   * reached by sources without it.
   */
  readonly queueWarningThreshold?: number;
  /** Receives start, finish and failure events. Silent by default. */
  readonly logger?: Logger;
}

/**
 * Encodes every frame into a video file with ffmpeg and passes each frame downstream unchanged and
 * at once. `complete` is forwarded only after ffmpeg has exited with status 0 and the file is at
 * `path`.
 *
 * ```text
 * frames:     --f0--f1--f2--|
 * writeVideo: --f0--f1--f2-----|   (complete waits until the file is final)
 * ```
 *
 * The extension picks the format: `.mp4`, `.m4v`, `.mov` and `.mkv` get H.264 (libx264, yuv420p;
 * MP4 and MOV with the index at the start for streaming), `.webm` gets VP9 (libvpx-vp9, yuv420p),
 * and `.avi` gets MJPEG.
 *
 * Timing: each frame's `timestampMs`, minus the first frame's, becomes its presentation timestamp,
 * so gaps and variable frame rates survive. The last frame lasts as long as the first frame
 * interval (exact for constant-rate sources), or 40 ms when only one frame arrives, because
 * ffmpeg 5.1 takes it from the stream's nominal rate rather than from per-frame durations. AVI has one
 * constant rate: it uses `frameRate`, else the first interval, and ffmpeg repeats or drops frames
 * to keep variable-rate input in time. Frames whose timestamp is not after the previous one are
 * left out of the file (a warning is logged) but still passed downstream. Use `frameRate` to
 * ignore timestamps altogether.
 *
 * Size: H.264 and VP9 in yuv420p need even dimensions, so an odd width or height gets one black
 * column or row at the right or bottom (641x359 is written as 642x360). Every frame must have the
 * first frame's size. A change emits `ENCODE_FAILED` after the file is finished with the earlier
 * frames, because resizing is not supported yet.
 *
 * Files: ffmpeg writes to `<path>.partial-<pid>-<id>`, renamed to `path` once complete and not
 * empty, so a half-written file never appears at `path`. An existing file at `path` is replaced
 * then. With no frames, no file is written and the operator completes normally.
 *
 * Flow control: each frame is held (see `holdFrame`) until ffmpeg has accepted its bytes, and
 * frames are handed to ffmpeg's stdin one at a time, so a slow encoder pauses a source with flow
 * control. Warning: a source without flow control (frames built by hand, a plain `Subject`) is not
 * paused. Its frames wait in an unbounded queue while ffmpeg is slower than the source, and one
 * warning is logged when the queue passes `queueWarningThreshold`.
 *
 * Stopping: on upstream error, the frames received so far are encoded and the file finished before
 * the error is forwarded. On unsubscribe, the frames received so far are encoded in the background;
 * await {@link pendingWriters} (or use `runPipeline`) to know when the file is final. ffmpeg runs in
 * its own process group, so a terminal's Ctrl-C does not reach it. If it still receives SIGINT or
 * SIGTERM from outside (for example from a service manager), it finishes the file with the frames
 * it has read: that file is kept, with a warning while closing, or with `ENCODE_FAILED` while
 * frames were still arriving.
 *
 * @example
 * ```ts
 * import { annotate, writeVideo, pendingWriters } from 'framewise/operators';
 *
 * const subscription = detected$
 *   .pipe(annotate(), writeVideo('out/annotated.mp4', { audioFrom: 'in.mp4' }))
 *   .subscribe({ complete: () => console.log('out/annotated.mp4 is ready') });
 *
 * // Stopping early: the file is finished in the background.
 * subscription.unsubscribe();
 * await pendingWriters();
 * ```
 *
 * @param path output file; relative paths are resolved against the current directory when
 * `writeVideo` is called. Its directory must exist.
 * @param options encoding settings; see {@link WriteVideoOptions}.
 * @throws FramewiseError `INVALID_ARGUMENT` at call time for an unsupported extension or an invalid
 * option. Emits `OUTPUT_FAILED` when the directory does not exist or the file cannot be created or
 * renamed, `FFMPEG_NOT_FOUND` when ffmpeg cannot be run, `INPUT_NOT_FOUND` or `INVALID_INPUT` for a
 * bad `audioFrom`, `INVALID_INPUT` for a frame whose buffer does not match its size, and
 * `ENCODE_FAILED` when ffmpeg fails (with its last stderr lines; no file is left at `path`) or the
 * frame size changes.
 * @see annotate
 */
export function writeVideo<T extends Frame>(path: string, options: WriteVideoOptions = {}): MonoTypeOperatorFunction<T> {
  const settings = resolveSettings(path, options);

  return (source) =>
    new Observable<T>((subscriber) => {
      const locationError = checkOutputLocation(settings.path, settings.displayPath);
      if (locationError) {
        subscriber.error(locationError);
        return undefined;
      }

      const writer = new VideoWriter(settings);
      const { logger } = settings;
      /** True once complete, error or a failure started closing the writer; later frames are ignored. */
      let closing = false;
      // Stays undefined while `source.subscribe` runs, because a synchronous source can call back before it returns.
      let upstream: Subscription | undefined = undefined;

      const stopUpstream = (): void => {
        closing = true;
        upstream?.unsubscribe();
      };
      /** Finishes the file, then forwards `error` downstream whatever the outcome of finishing. */
      const finishThenError = (error: unknown): void => {
        stopUpstream();
        writer.close('finish').then(
          () => subscriber.error(error),
          (closeError: unknown) => {
            logger.error('writeVideo: finishing the file after an error failed', { path: settings.path, error: closeError });
            subscriber.error(error);
          },
        );
      };

      writer.onFailure = (error) => {
        stopUpstream();
        subscriber.error(error);
      };
      writer.prepare();

      upstream = source.subscribe({
        next: (frame) => {
          if (closing) return;
          try {
            writer.write(frame);
          } catch (error) {
            finishThenError(error);
            return;
          }
          subscriber.next(frame);
        },
        error: (error: unknown) => {
          if (!closing) finishThenError(error);
        },
        complete: () => {
          if (closing) return;
          closing = true;
          writer.close('finish').then(
            () => subscriber.complete(),
            (error: unknown) => {
              if (subscriber.closed) logger.error('writeVideo: finishing the file failed', { path: settings.path, error });
              subscriber.error(error);
            },
          );
        },
      });
      // A synchronous source may have ended or failed inside subscribe, before `upstream` was set.
      if (closing) upstream.unsubscribe();

      return () => {
        upstream?.unsubscribe();
        if (closing || writer.failed) return;
        closing = true;
        writer.close('abort').catch((error: unknown) => {
          logger.error('writeVideo: finishing the file after unsubscribe failed', { path: settings.path, error });
        });
      };
    });
}

function resolveSettings(path: string, options: WriteVideoOptions): VideoWriterSettings {
  if (typeof path !== 'string' || path.trim() === '') {
    throw invalidArgument('writeVideo path', path, 'a non-empty file path');
  }
  if (typeof options !== 'object' || options === null) {
    throw invalidArgument('writeVideo options', options, 'an object or undefined');
  }
  const container = containerForPath(path);
  if (!container) {
    throw invalidArgument('writeVideo path', path, `a file name ending in one of ${SUPPORTED_EXTENSIONS.join(', ')}`);
  }

  const { frameRate, crf, preset, qscale, audioFrom, extraOutputArgs, finalizeTimeoutMs, queueWarningThreshold, logger } = options;
  if (frameRate !== undefined && !(typeof frameRate === 'number' && Number.isFinite(frameRate) && frameRate > 0 && frameRate <= 1000)) {
    throw invalidArgument('writeVideo option frameRate', frameRate, 'frames per second, a number above 0 and at most 1000');
  }
  const isX264 = container.videoCodec === 'libx264';
  const isVp9 = container.videoCodec === 'libvpx-vp9';
  if (crf !== undefined) {
    if (!isX264 && !isVp9) {
      throw invalidArgument('writeVideo option crf', crf, 'no crf for .avi (MJPEG); use qscale instead');
    }
    const maxCrf = isX264 ? 51 : 63;
    if (!(Number.isInteger(crf) && crf >= 0 && crf <= maxCrf)) {
      throw invalidArgument('writeVideo option crf', crf, `an integer from 0 to ${maxCrf} for ${container.videoCodec}`);
    }
  }
  if (preset !== undefined) {
    if (!isX264) throw invalidArgument('writeVideo option preset', preset, 'no preset except for libx264 outputs (.mp4, .m4v, .mov, .mkv)');
    if (!X264_PRESETS.includes(preset)) throw invalidArgument('writeVideo option preset', preset, `one of ${X264_PRESETS.join(', ')}`);
  }
  if (qscale !== undefined) {
    if (container.videoCodec !== 'mjpeg') {
      throw invalidArgument('writeVideo option qscale', qscale, 'no qscale except for .avi (MJPEG); use crf instead');
    }
    if (!(Number.isInteger(qscale) && qscale >= 2 && qscale <= 31)) {
      throw invalidArgument('writeVideo option qscale', qscale, 'an integer from 2 (best) to 31');
    }
  }
  if (audioFrom !== undefined && (typeof audioFrom !== 'string' || audioFrom.trim() === '')) {
    throw invalidArgument('writeVideo option audioFrom', audioFrom, 'the path of a media file');
  }
  if (extraOutputArgs !== undefined && !(Array.isArray(extraOutputArgs) && extraOutputArgs.every((arg) => typeof arg === 'string'))) {
    throw invalidArgument('writeVideo option extraOutputArgs', extraOutputArgs, 'an array of strings');
  }
  if (finalizeTimeoutMs !== undefined && !(Number.isInteger(finalizeTimeoutMs) && finalizeTimeoutMs >= 0)) {
    throw invalidArgument('writeVideo option finalizeTimeoutMs', finalizeTimeoutMs, 'an integer number of milliseconds, 0 or more');
  }
  if (queueWarningThreshold !== undefined && !(Number.isInteger(queueWarningThreshold) && queueWarningThreshold >= 1)) {
    throw invalidArgument('writeVideo option queueWarningThreshold', queueWarningThreshold, 'an integer number of frames, 1 or more');
  }

  const binaries = resolveFfmpegPaths(options);
  return {
    path: resolve(path),
    displayPath: path,
    container,
    frameRate,
    crf: crf ?? (isVp9 ? 31 : 23),
    preset: preset ?? 'veryfast',
    qscale: qscale ?? 3,
    audioFrom: audioFrom === undefined ? undefined : resolve(audioFrom),
    displayAudioFrom: audioFrom,
    extraOutputArgs: [...(extraOutputArgs ?? [])],
    ffmpeg: binaries.ffmpeg,
    ffprobe: binaries.ffprobe,
    finalizeTimeoutMs: finalizeTimeoutMs ?? 10_000,
    queueWarningThreshold: queueWarningThreshold ?? 32,
    logger: logger ?? silentLogger,
  };
}

/**
 * Returns an `OUTPUT_FAILED` error when the output directory is missing or the path is a directory.
 * Messages quote `displayPath`, the path as the caller gave it; the context also contains the absolute path.
 */
function checkOutputLocation(path: string, displayPath: string): FramewiseError | undefined {
  const directory = dirname(path);
  const quoted = JSON.stringify(displayPath);
  try {
    if (!statSync(directory).isDirectory()) {
      return new FramewiseError('OUTPUT_FAILED', `Cannot write ${quoted}: ${JSON.stringify(directory)} is not a directory.`, {
        path: displayPath,
        absolutePath: path,
        directory,
      });
    }
  } catch (error) {
    return new FramewiseError(
      'OUTPUT_FAILED',
      `Cannot write ${quoted}: the directory ${JSON.stringify(directory)} does not exist or cannot be read ` +
        `(${(error as Error).message}). Create it before writing.`,
      { path: displayPath, absolutePath: path, directory },
      { cause: error },
    );
  }
  try {
    if (statSync(path).isDirectory()) {
      return new FramewiseError('OUTPUT_FAILED', `Cannot write ${quoted}: it is a directory. Pass a file path.`, {
        path: displayPath,
        absolutePath: path,
      });
    }
  } catch (error) {
    // A missing output file is the usual case: it is created when the first frames are encoded.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      return new FramewiseError('OUTPUT_FAILED', `Cannot write ${quoted}: ${(error as Error).message}.`, { path: displayPath, absolutePath: path }, {
        cause: error,
      });
    }
  }
  return undefined;
}
