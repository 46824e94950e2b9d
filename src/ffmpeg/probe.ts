import { stat } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { FramewiseError, invalidArgument } from '../errors.js';
import { ensureBinary, resolveFfmpegPaths, type FfmpegPaths } from './binaries.js';
import { resolveVideoInput, type ResolvedInput, type VideoInput } from './input.js';
import { spawnTracked, terminate } from './process.js';

/** A frame rate as the exact fraction `num / den` frames per second, for example `{ num: 30000, den: 1001 }`. */
export interface FrameRate {
  readonly num: number;
  readonly den: number;
}

/** Facts about a video or image file, as {@link probeVideo} returns them. */
export interface VideoInfo {
  /** Width in pixels of the decoded frames, after the rotation stored in the file is applied. */
  readonly width: number;
  /** Height in pixels of the decoded frames, after the rotation stored in the file is applied. */
  readonly height: number;
  /**
   * Clockwise rotation in degrees (0 to 359) that a player applies to show the picture upright, from
   * the stream's display matrix or its legacy `rotate` tag. ffmpeg applies it while decoding, so
   * `width` and `height` are already swapped for 90 and 270.
   */
  readonly rotation: number;
  /**
   * Average frame rate as an exact fraction. Undefined when the file does not state one
   * (`avg_frame_rate` 0/0), for still images, and for raw MJPEG streams, whose 25 fps is a guess.
   */
  readonly frameRate: FrameRate | undefined;
  /** `frameRate` as frames per second. Undefined exactly when `frameRate` is, never 0, NaN or Infinity. */
  readonly fps: number | undefined;
  /** Duration in milliseconds, from the video stream or else the container. Undefined when unknown. */
  readonly durationMs: number | undefined;
  /**
   * False when the container stores no timestamps (raw MJPEG, multipart JPEG): ffmpeg then invents
   * 25 fps timestamps, which `fromVideoFile` replaces by its `frameRate` option or its default.
   * True for every other video and for still images.
   */
  readonly hasTimestamps: boolean;
  /** Number of frames the container declares (`nb_frames`), 1 for still images, else undefined. */
  readonly frameCount: number | undefined;
  /** True when the file also has an audio stream. */
  readonly hasAudio: boolean;
  /** Index of the decoded video stream among all streams of the file, as ffprobe numbers them. */
  readonly videoStreamIndex: number;
  /** Codec name as ffprobe reports it, for example `h264`, `mjpeg` or `png`. */
  readonly codec: string;
  /** Pixel format of the coded stream as ffprobe reports it, for example `yuv420p`. Undefined when unknown. */
  readonly pixelFormat: string | undefined;
  /** True for single images (PNG, JPEG, BMP and other image files), which decode to one frame. */
  readonly isStillImage: boolean;
  /** Container format as ffprobe names it, for example `mov,mp4,m4a,3gp,3g2,mj2` or `png_pipe`. */
  readonly formatName: string;
}

/** Options of {@link probeVideo}. */
export interface ProbeVideoOptions extends FfmpegPaths {
  /**
   * Aborting stops ffprobe (SIGTERM, then SIGKILL after 2 s) and rejects the promise with
   * `ABORTED` once ffprobe has exited.
   */
  readonly signal?: AbortSignal;
  /**
   * For URL inputs: how long a network read or connection may stall before ffmpeg gives up, in
   * milliseconds (ffmpeg's `rw_timeout`). Default 30 000. Raising it tolerates slower servers;
   * lowering it reports a dead server sooner. Ignored for files.
   */
  readonly networkTimeoutMs?: number;
}

/** Default of {@link ProbeVideoOptions.networkTimeoutMs}. */
export const DEFAULT_NETWORK_TIMEOUT_MS = 30_000;

/** Container formats (ffprobe's `format_name`) that hold a single image. */
const IMAGE_PIPE_FORMAT = /^(?:image2|(?!gif_)[a-z0-9]+_pipe)$/;

/** Container formats whose frames carry no timestamps: ffmpeg invents 25 fps for them. */
const UNTIMED_FORMATS = new Set(['mjpeg', 'mpjpeg']);

/** Codecs that store one picture per frame; a single frame of them without a duration is an image. */
const IMAGE_CODECS = new Set(['mjpeg', 'png', 'bmp', 'webp', 'tiff']);

/**
 * Time between SIGTERM and SIGKILL when an aborted ffprobe is stopped. ffprobe has nothing to save,
 * and a blocking network read can delay its reaction to SIGTERM.
 */
const PROBE_KILL_GRACE_MS = 1000;

/** How much of ffprobe's stderr an error message quotes. */
const MAX_ERROR_CHARS = 2000;

/**
 * Reads the size, frame rate, duration and other facts of a video or image with ffprobe.
 *
 * A string is always a local file: it is handed to ffprobe as `file:` plus the absolute path, so
 * names that start with `-` or contain `:` or `%` are read as files, never as options, protocols or
 * patterns. Pass a `URL` object to read over HTTP or HTTPS; its credentials and query values never
 * appear in messages.
 *
 * @example
 * ```ts
 * import { probeVideo } from 'framewise';
 *
 * const info = await probeVideo('parking.mp4');
 * console.log(`${info.width}x${info.height} at ${info.fps ?? 'unknown'} fps`);
 * ```
 *
 * @param input Path of the file (relative to the working directory or absolute), or a URL object.
 * @param options ffprobe location, an abort signal and the network timeout.
 * @returns The facts about the first video stream that is not a cover image.
 * @throws {FramewiseError} (as a rejection) `INVALID_ARGUMENT` for an empty path, an unsupported
 *   URL protocol or an invalid option; `INPUT_NOT_FOUND` when the file does not exist;
 *   `FFMPEG_NOT_FOUND` when ffprobe cannot be run; `INVALID_INPUT` when the path is not a readable
 *   file or ffprobe cannot read it, for example a damaged or truncated file (the message quotes
 *   ffprobe), or a URL whose server cannot be reached or responds with an HTTP error
 *   (`context.network: true`); `NO_VIDEO_STREAM` when the input has no video stream; `ABORTED`
 *   when `signal` aborts.
 * @see fromVideoFile
 */
export async function probeVideo(input: VideoInput, options: ProbeVideoOptions = {}): Promise<VideoInfo> {
  const resolved = resolveVideoInput(input, 'input');
  const networkTimeoutMs = checkNetworkTimeout(options.networkTimeoutMs);
  const { signal } = options;
  throwIfAborted(signal, resolved.display);

  if (resolved.path !== undefined) await checkInputFile(resolved.path);
  const { ffprobe } = resolveFfmpegPaths(options);
  await ensureBinary(ffprobe);
  throwIfAborted(signal, resolved.display);

  const output = await runFfprobe(ffprobe, resolved, networkTimeoutMs, signal);
  return videoInfoFromProbe(output, resolved.display);
}

/**
 * Returns the network timeout in milliseconds, the default when undefined.
 * @throws FramewiseError `INVALID_ARGUMENT` unless it is a positive integer.
 */
export function checkNetworkTimeout(value: number | undefined): number {
  if (value === undefined) return DEFAULT_NETWORK_TIMEOUT_MS;
  if (!(Number.isSafeInteger(value) && value > 0)) {
    throw invalidArgument('networkTimeoutMs', value, 'a positive integer number of milliseconds');
  }
  return value;
}

/** Input options that make ffmpeg and ffprobe give up on a stalled network read. Empty for files. */
export function networkInputOptions(input: ResolvedInput, networkTimeoutMs: number): string[] {
  return input.kind === 'url' ? ['-rw_timeout', String(networkTimeoutMs * 1000)] : [];
}

/**
 * Rejects unless `path` names an existing regular file (or a link to one).
 * @throws {FramewiseError} `INPUT_NOT_FOUND` or `INVALID_INPUT`.
 */
export async function checkInputFile(path: string): Promise<void> {
  try {
    const stats = await stat(path);
    if (!stats.isFile()) {
      throw new FramewiseError(
        'INVALID_INPUT',
        `Input ${JSON.stringify(path)} is not a regular file. Pass the path of a video or image file.`,
        { path },
      );
    }
  } catch (error) {
    if (error instanceof FramewiseError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      const urlHint = /^[a-z][a-z0-9+.-]*:\/\//i.test(path)
        ? ' A string is always a file name: pass a URL object (new URL(...)) to read over HTTP, or use fromStream for a live stream.'
        : '';
      throw new FramewiseError(
        'INPUT_NOT_FOUND',
        `Input file ${JSON.stringify(path)} not found (resolved to ${JSON.stringify(resolvePath(path))}). Check the path and the working directory.${urlHint}`,
        { path, errno: code },
        { cause: error },
      );
    }
    throw new FramewiseError(
      'INVALID_INPUT',
      `Cannot access input file ${JSON.stringify(path)}: ${(error as Error).message}. Check its permissions.`,
      { path, errno: code },
      { cause: error },
    );
  }
}

/** Returns the argument that makes ffmpeg and ffprobe read `path` as a local file, whatever its name. */
export function fileInputArgument(path: string): string {
  return `file:${resolvePath(path)}`;
}

function throwIfAborted(signal: AbortSignal | undefined, display: string): void {
  if (signal?.aborted) throw abortedError(display, signal.reason);
}

function abortedError(display: string, reason: unknown): FramewiseError {
  return new FramewiseError('ABORTED', `Probing ${JSON.stringify(display)} was aborted.`, { path: display }, { cause: reason });
}

/** ffmpeg messages of a URL input that failed to connect or got an HTTP error, rather than bad media. */
const NETWORK_FAILURE = /Connection refused|Connection timed out|No route to host|Network is unreachable|Failed to resolve hostname|Server returned [45]\d\d|HTTP error [45]\d\d/i;

function runFfprobe(ffprobe: string, input: ResolvedInput, networkTimeoutMs: number, signal: AbortSignal | undefined): Promise<unknown> {
  const display = input.display;
  // `-pattern_type none` stops the image2 demuxer from reading `%d` in a file name as a sequence.
  // ffprobe 5.1 accepts it for every input; ffmpeg rejects it unless the input is image2.
  const args = [
    '-v', 'error', '-pattern_type', 'none',
    ...networkInputOptions(input, networkTimeoutMs),
    '-print_format', 'json', '-show_streams', '-show_format',
    input.argument,
  ];
  return new Promise((resolve, reject) => {
    const child = spawnTracked(ffprobe, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    // The promise settles on 'close', after ffprobe has exited, so an aborted probe leaves no process.
    const onAbort = (): void => void terminate(child, PROBE_KILL_GRACE_MS);
    signal?.addEventListener('abort', onAbort, { once: true });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.on('data', (chunk: string) => (stderr += chunk));

    child.once('error', (error: NodeJS.ErrnoException) => {
      signal?.removeEventListener('abort', onAbort);
      reject(
        new FramewiseError('FFMPEG_NOT_FOUND', `Cannot run ffprobe ${JSON.stringify(ffprobe)}: ${error.message}.`, {
          path: ffprobe,
          errno: error.code,
        }, { cause: error }),
      );
    });

    child.once('close', (code, exitSignal) => {
      signal?.removeEventListener('abort', onAbort);
      // An abort that came after ffprobe exited still wins: the caller no longer wants the result.
      if (signal?.aborted) {
        reject(abortedError(display, signal.reason));
        return;
      }
      const message = input.redact(stderr.trim());
      if (code !== 0) {
        const reason = message.slice(-MAX_ERROR_CHARS) || (exitSignal ? `killed by ${exitSignal}` : `exit code ${code}`);
        const network = input.kind === 'url' && NETWORK_FAILURE.test(message);
        const advice = network
          ? 'Check that the server is running and the URL is right.'
          : 'Check that it is a video or image ffmpeg can decode and that it is complete.';
        reject(
          new FramewiseError(
            'INVALID_INPUT',
            `ffprobe cannot read ${JSON.stringify(display)}: ${reason}. ${advice}`,
            { path: display, exitCode: code, signal: exitSignal, stderr: message, ...(network ? { network: true } : {}) },
          ),
        );
        return;
      }
      try {
        resolve(JSON.parse(stdout) as unknown);
      } catch (error) {
        reject(
          new FramewiseError('INVALID_INPUT', `ffprobe printed invalid JSON for ${JSON.stringify(display)}: ${(error as Error).message}.`, {
            path: display,
          }, { cause: error }),
        );
      }
    });
  });
}

/** The parts of ffprobe's JSON output that {@link videoInfoFromProbe} reads. */
interface ProbeStream {
  index?: number;
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  pix_fmt?: string;
  avg_frame_rate?: string;
  duration?: string;
  nb_frames?: string;
  disposition?: { attached_pic?: number };
  tags?: { rotate?: string };
  side_data_list?: Array<{ side_data_type?: string; rotation?: number | string }>;
}

interface ProbeOutput {
  streams?: ProbeStream[];
  format?: { format_name?: string; duration?: string };
}

/**
 * Builds a {@link VideoInfo} from the JSON that `ffprobe -show_streams -show_format` prints.
 * Exported for tests; `path` only appears in error messages.
 * @throws {FramewiseError} `NO_VIDEO_STREAM`, or `INVALID_INPUT` when the stream has no frame size.
 */
export function videoInfoFromProbe(output: unknown, path: string): VideoInfo {
  const probe = (output ?? {}) as ProbeOutput;
  const streams = probe.streams ?? [];
  // Cover art in audio files and MP4s is a video stream flagged attached_pic: it is not the video.
  const video = streams.find((stream) => stream.codec_type === 'video' && stream.disposition?.attached_pic !== 1);
  if (!video) {
    const hasCoverImage = streams.some((stream) => stream.codec_type === 'video');
    throw new FramewiseError(
      'NO_VIDEO_STREAM',
      `${JSON.stringify(path)} has no video stream${hasCoverImage ? ' (only a cover image)' : ''}. Pass a video or image file.`,
      { path, streamTypes: streams.map((stream) => stream.codec_type) },
    );
  }

  const codedWidth = video.width ?? 0;
  const codedHeight = video.height ?? 0;
  if (!(codedWidth > 0 && codedHeight > 0)) {
    throw new FramewiseError('INVALID_INPUT', `The video stream of ${JSON.stringify(path)} has no frame size (ffprobe reports ${codedWidth}x${codedHeight}).`, {
      path,
      width: codedWidth,
      height: codedHeight,
    });
  }

  const formatName = probe.format?.format_name ?? '';
  const codec = video.codec_name ?? 'unknown';
  const rotation = readRotation(video);
  const swapsSides = rotation === 90 || rotation === 270;
  const durationMs = parseDurationMs(video.duration) ?? parseDurationMs(probe.format?.duration);
  const declaredFrames = parsePositiveInteger(video.nb_frames);
  const isStillImage =
    IMAGE_PIPE_FORMAT.test(formatName) || (IMAGE_CODECS.has(codec) && declaredFrames === 1 && durationMs === undefined);
  const hasTimestamps = !UNTIMED_FORMATS.has(formatName);
  const frameRate = isStillImage || !hasTimestamps ? undefined : parseRational(video.avg_frame_rate);

  return {
    width: swapsSides ? codedHeight : codedWidth,
    height: swapsSides ? codedWidth : codedHeight,
    rotation,
    frameRate,
    fps: frameRate ? frameRate.num / frameRate.den : undefined,
    // A duration of an untimed stream would be ffmpeg's estimate from the bit rate.
    durationMs: isStillImage || !hasTimestamps ? undefined : durationMs,
    hasTimestamps,
    frameCount: declaredFrames ?? (isStillImage ? 1 : undefined),
    hasAudio: streams.some((stream) => stream.codec_type === 'audio'),
    videoStreamIndex: video.index ?? streams.indexOf(video),
    codec,
    pixelFormat: video.pix_fmt || undefined,
    isStillImage,
    formatName,
  };
}

/**
 * Returns the clockwise rotation in whole degrees, 0 to 359, the way ffmpeg 5.1 computes it for
 * autorotation: the display matrix's angle is counterclockwise, so it is negated; the legacy
 * `rotate` tag is already clockwise.
 */
function readRotation(stream: ProbeStream): number {
  const matrix = stream.side_data_list?.find((entry) => entry.rotation !== undefined);
  let clockwise = 0;
  if (matrix) {
    clockwise = -Number(matrix.rotation);
  } else if (stream.tags?.rotate !== undefined) {
    clockwise = Number(stream.tags.rotate);
  }
  if (!Number.isFinite(clockwise)) return 0;
  const degrees = Math.round(clockwise) % 360;
  // `+ 0` turns the -0 of `-0 % 360` into 0.
  return (degrees < 0 ? degrees + 360 : degrees) + 0;
}

/** Parses `"25/2"` into `{ num: 25, den: 2 }`; undefined for `0/0`, `N/A` and any non-positive value. */
function parseRational(text: string | undefined): FrameRate | undefined {
  const match = /^(\d+)\/(\d+)$/.exec(text ?? '');
  if (!match) return undefined;
  const num = Number(match[1]);
  const den = Number(match[2]);
  if (!(num > 0 && den > 0) || !Number.isFinite(num / den)) return undefined;
  return { num, den };
}

function parseDurationMs(text: string | undefined): number | undefined {
  const seconds = Number(text);
  // Number(undefined) and Number('N/A') are NaN.
  if (text === undefined || !Number.isFinite(seconds) || seconds <= 0) return undefined;
  return Math.round(seconds * 1e6) / 1e3;
}

function parsePositiveInteger(text: string | undefined): number | undefined {
  const value = Number(text);
  return text !== undefined && Number.isInteger(value) && value > 0 ? value : undefined;
}
