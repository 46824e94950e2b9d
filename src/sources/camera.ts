import type { Subscription } from 'rxjs';
import { holdFrame } from '../backpressure.js';
import { FramewiseError, invalidArgument, isFramewiseError } from '../errors.js';
import { resolveFfmpegPaths, type FfmpegPaths } from '../ffmpeg/binaries.js';
import { silentLogger, type Logger } from '../logger.js';
import { fromCapture, type CaptureLike } from './capture.js';
import { createFfmpegLiveSource } from './live-ffmpeg.js';
import { resolveLiveQueueOptions, type LiveQueueOptions } from './live-queue.js';
import {
  checkTimeoutMs,
  createLiveSource,
  resolveReconnectOptions,
  type LiveInput,
  type LiveInputHandlers,
  type LiveSource,
  type ReconnectOptions,
} from './live-source.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_STALL_TIMEOUT_MS } from './stream.js';

/**
 * A camera device: an index (`0` for the first camera) or a platform-specific name: a path such
 * as `/dev/video2` on Linux, a device name or index on macOS, the device name on Windows.
 */
export type CameraDevice = number | string;

/** Options of {@link fromCamera}. */
export interface CameraOptions extends FfmpegPaths, LiveQueueOptions {
  /** `sourceId` of every frame. Default `camera:DEVICE` for devices (`camera:0`), `camera` for capture objects. */
  readonly sourceId?: string;
  /** Requested frame width in pixels; set together with `height`. Default: the device's own. Devices only. */
  readonly width?: number;
  /** Requested frame height in pixels; set together with `width`. Default: the device's own. Devices only. */
  readonly height?: number;
  /** Requested frames per second. Default: the device's own. Devices only. */
  readonly frameRate?: number;
  /**
   * ffmpeg input format. Default by platform: `v4l2` on Linux, `avfoundation` on macOS, `dshow`
   * on Windows. Another format reads `device` as that format's input, for example `lavfi` with
   * `testsrc2=size=640x480:rate=25` as a synthetic camera, or `x11grab` for the screen.
   */
  readonly inputFormat?: string;
  /**
   * Read the input at its own frame rate, as ffmpeg's `-re`. Needed for synthetic or file inputs
   * standing in for a camera, which ffmpeg would otherwise read as fast as it can. Default false.
   */
  readonly nativeRate?: boolean;
  /** Extra ffmpeg input options placed before `-i`, for example `['-input_format', 'mjpeg']`. Not checked. */
  readonly inputOptions?: readonly string[];
  /** Devices only: milliseconds without a frame, while live, before `stalled` and a reconnection. Default 10 000. */
  readonly stallTimeoutMs?: number;
  /** Devices only: milliseconds an opening attempt may take until its first frame. Default 20 000. */
  readonly connectTimeoutMs?: number;
  /** Devices only: reconnection after the device was lost (unplugged, busy), or `false`. Default: retry forever. */
  readonly reconnect?: ReconnectOptions | false;
  /** Capture objects only: call `capture.release()` when the source ends, fails or is unsubscribed. Default true. */
  readonly releaseOnEnd?: boolean;
  /** Receives connection events, drops and ffmpeg's output at debug level. Silent by default. */
  readonly logger?: Logger;
}

/**
 * Reads a camera as a live source: a device opened through ffmpeg's platform input (`v4l2` on
 * Linux, `avfoundation` on macOS, `dshow` on Windows), or a capture object such as OpenCV's
 * `VideoCapture` (what ImageAI calls `camera_input`): anything with a `read()` that returns a BGR
 * image, or `null` or an empty image at the end, and optionally `release()`.
 *
 * Frames are live: `timestampMs` is the arrival time since the first frame. Frames that arrive
 * while `maxQueuedFrames` frames are queued are dropped by the `overflow` policy and counted in
 * `state`. A device that disappears is reopened with backoff, like a lost stream. A capture
 * object cannot be reopened, so its errors fail the source, and its end of stream ends it.
 * Subscribers share one device (see {@link LiveSource}).
 *
 * Capture objects: `read()` is called again as soon as the previous frame is queued, so a
 * blocking `read()` (OpenCV waits for the camera's next frame) blocks the event loop while it
 * waits, as in ImageAI; prefer devices through ffmpeg for services. Under `overflow: 'block'`,
 * `read()` is not called while the queue is full.
 *
 * ```text
 * camera:   c0 c1 c2 c3 c4 c5 ...      (consumer busy from c1 to c4)
 * source:   c0 c1 ........ c4 c5 ...   (drop-oldest: c2 and c3 dropped, 2 drops counted)
 * ```
 *
 * @example
 * ```ts
 * import { fromCamera } from 'framewise';
 *
 * const camera = fromCamera(0, { width: 1280, height: 720, frameRate: 30 });
 * camera.subscribe((frame) => console.log(frame.index, frame.width, frame.height));
 * ```
 *
 * @param device A device index or name, or a capture object with `read()`.
 * @param options Size, frame rate, input format, overflow policy, reconnection and logging.
 * @returns A {@link LiveSource}. For devices it completes only when unsubscribed; for capture
 *   objects also when `read()` signals the end.
 * @throws {FramewiseError} `INVALID_ARGUMENT` at call time for an invalid device or option, or a
 *   device index on Windows, where DirectShow needs the device name. Errors after subscription:
 *   `FFMPEG_NOT_FOUND`; `SOURCE_FAILED` when reopening gave up or `read()` failed; `INVALID_INPUT`
 *   for an image `read()` returned that cannot be converted.
 * @see fromStream
 * @see fromCapture
 */
export function fromCamera(device: CameraDevice | CaptureLike, options: CameraOptions = {}): LiveSource {
  if (typeof options !== 'object' || options === null) throw invalidArgument('options', options, 'an object or undefined');
  const queue = resolveLiveQueueOptions(options);
  const logger = options.logger ?? silentLogger;
  if (typeof device === 'object' && device !== null) return fromCaptureObject(device, options, queue, logger);
  return fromCameraDevice(device, options, queue, logger);
}

function fromCameraDevice(
  device: CameraDevice,
  options: CameraOptions,
  queue: ReturnType<typeof resolveLiveQueueOptions>,
  logger: Logger,
): LiveSource {
  const inputFormat = options.inputFormat ?? platformInputFormat();
  const input = deviceInput(device, inputFormat);
  const sourceId = options.sourceId ?? `camera:${device}`;
  if (typeof sourceId !== 'string' || sourceId.length === 0) throw invalidArgument('sourceId', sourceId, 'a non-empty string');
  const sizeOptions = resolveSizeOptions(options);
  const { inputOptions = [] } = options;
  if (!Array.isArray(inputOptions) || !inputOptions.every((option) => typeof option === 'string')) {
    throw invalidArgument('inputOptions', inputOptions, 'an array of strings');
  }
  const reconnect = resolveReconnectOptions(options.reconnect);
  const stallTimeoutMs = checkTimeoutMs('stallTimeoutMs', options.stallTimeoutMs) ?? DEFAULT_STALL_TIMEOUT_MS;
  const connectTimeoutMs = checkTimeoutMs('connectTimeoutMs', options.connectTimeoutMs) ?? DEFAULT_CONNECT_TIMEOUT_MS;

  const { ffmpeg } = resolveFfmpegPaths(options);
  const description = `camera ${JSON.stringify(String(device))} (${inputFormat})`;
  const inputArgs = [
    ...(options.nativeRate ? ['-re'] : []),
    '-f', inputFormat,
    ...sizeOptions,
    ...inputOptions,
    '-i', input,
  ];
  return createFfmpegLiveSource(
    { ffmpegPath: ffmpeg, inputArgs, sourceId, description, redact: (text) => text, logger },
    { queue, reconnect, stallTimeoutMs, connectTimeoutMs },
  );
}

/** ffmpeg's camera input on this platform. */
function platformInputFormat(): string {
  if (process.platform === 'darwin') return 'avfoundation';
  if (process.platform === 'win32') return 'dshow';
  return 'v4l2';
}

/** Returns the argument after `-i` for a device in the given input format. */
function deviceInput(device: CameraDevice, inputFormat: string): string {
  if (typeof device === 'number') {
    if (!(Number.isSafeInteger(device) && device >= 0)) throw invalidArgument('device', device, 'a camera index of 0 or more, or a device name');
    if (inputFormat === 'v4l2') return `/dev/video${device}`;
    // avfoundation takes "VIDEO:AUDIO"; no audio is read.
    if (inputFormat === 'avfoundation') return `${device}:none`;
    if (inputFormat === 'dshow') {
      throw invalidArgument('device', device, 'the camera name on Windows, for example "Integrated Camera" (list them with `ffmpeg -list_devices true -f dshow -i dummy`)');
    }
    return String(device);
  }
  if (typeof device !== 'string' || device.length === 0) {
    throw invalidArgument('device', device, 'a camera index, a device name or path, or a capture object with read()');
  }
  if (inputFormat === 'avfoundation' && !device.includes(':')) return `${device}:none`;
  if (inputFormat === 'dshow' && !device.startsWith('video=')) return `video=${device}`;
  return device;
}

/** `-video_size` and `-framerate` from the options, validated. */
function resolveSizeOptions(options: CameraOptions): string[] {
  const { width, height, frameRate } = options;
  const args: string[] = [];
  if ((width === undefined) !== (height === undefined)) {
    throw invalidArgument(width === undefined ? 'width' : 'height', undefined, 'to be set together with the other of width and height');
  }
  if (width !== undefined && height !== undefined) {
    for (const [name, value] of [['width', width], ['height', height]] as const) {
      if (!(Number.isSafeInteger(value) && value > 0)) throw invalidArgument(name, value, 'a positive integer number of pixels');
    }
    args.push('-video_size', `${width}x${height}`);
  }
  if (frameRate !== undefined) {
    if (!(typeof frameRate === 'number' && Number.isFinite(frameRate) && frameRate > 0)) {
      throw invalidArgument('frameRate', frameRate, 'a positive number of frames per second');
    }
    args.push('-framerate', String(frameRate));
  }
  return args;
}

function fromCaptureObject(
  capture: CaptureLike,
  options: CameraOptions,
  queue: ReturnType<typeof resolveLiveQueueOptions>,
  logger: Logger,
): LiveSource {
  if (typeof capture.read !== 'function') {
    throw invalidArgument('device', capture, "a camera index or name, or a capture object with a read() method, such as OpenCV's VideoCapture");
  }
  const sourceId = options.sourceId ?? 'camera';
  // fromCapture validates releaseOnEnd and the source id now, at call time.
  fromCapture(capture, { sourceId, releaseOnEnd: options.releaseOnEnd, logger });
  return createLiveSource({
    sourceId,
    description: `capture ${JSON.stringify(sourceId)}`,
    queue,
    // A capture object cannot be reopened, and read() blocks while a camera waits, so neither a
    // watchdog nor reconnection applies.
    reconnect: undefined,
    stallTimeoutMs: undefined,
    connectTimeoutMs: undefined,
    logger,
    open: (handlers) => new CaptureInput(capture, sourceId, options.releaseOnEnd, logger, handlers),
  });
}

/**
 * Reads a capture object through `fromCapture`, which converts its images. That source reads one
 * frame ahead; under `block` this input keeps a hold on the latest frame while reading is paused,
 * which stops `read()` calls.
 */
class CaptureInput implements LiveInput {
  private readonly subscription: Subscription;
  /** The frame being handed over, while inside `next()`. */
  private current: Parameters<typeof holdFrame>[0] | undefined;
  /** Release of the hold that pauses reading, while paused. */
  private pauseHold: (() => void) | undefined;
  private reading = true;

  constructor(capture: CaptureLike, sourceId: string, releaseOnEnd: boolean | undefined, logger: Logger, handlers: LiveInputHandlers) {
    this.subscription = fromCapture(capture, { sourceId, releaseOnEnd, logger, maxQueuedFrames: 1 }).subscribe({
      next: (frame) => {
        this.current = frame;
        handlers.frame({ width: frame.width, height: frame.height, data: frame.data });
        if (!this.reading && !this.pauseHold) this.pauseHold = holdFrame(frame);
        this.current = undefined;
      },
      error: (error: unknown) => {
        handlers.ended({
          kind: 'fatal',
          error: isFramewiseError(error)
            ? error
            : new FramewiseError('SOURCE_FAILED', `Reading the capture ${JSON.stringify(sourceId)} failed: ${String(error)}`, { sourceId }, { cause: error }),
        });
      },
      complete: () => handlers.ended({ kind: 'ended' }),
    });
  }

  close(): void {
    this.subscription.unsubscribe();
    this.pauseHold?.();
    this.pauseHold = undefined;
  }

  setReading(allowed: boolean): void {
    this.reading = allowed;
    if (!allowed) {
      // Inside next() the current frame can still be held; fromCapture then waits for its release.
      if (this.current && !this.pauseHold) this.pauseHold = holdFrame(this.current);
      return;
    }
    const release = this.pauseHold;
    this.pauseHold = undefined;
    release?.();
  }
}
