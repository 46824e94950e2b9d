import type { ChildProcess } from 'node:child_process';
import { Observable, type Subscriber } from 'rxjs';
import { createFlowCounters, FlowGate, FRAME_LEASE, type FlowCounters } from '../backpressure.js';
import { FramewiseError, invalidArgument, isFramewiseError } from '../errors.js';
import { ensureBinary, resolveFfmpegPaths, type FfmpegPaths } from '../ffmpeg/binaries.js';
import { resolveVideoInput, type ResolvedInput, type VideoInput } from '../ffmpeg/input.js';
import { checkNetworkTimeout, networkInputOptions, probeVideo, type VideoInfo } from '../ffmpeg/probe.js';
import { spawnTracked, terminate } from '../ffmpeg/process.js';
import { silentLogger, type Logger } from '../logger.js';
import type { Frame } from '../types.js';
import { classifyStderrLine, DECODE_ERROR_LINE, FrameClock, NETWORK_ERROR_LINE, LineSplitter, RawFrameSplitter, type ShowinfoFrame } from './frame-reader.js';

/** Options of {@link fromVideoFile}. */
export interface VideoFileOptions extends FfmpegPaths {
  /** `sourceId` of every frame. Default: the path exactly as given, or the URL without credentials and query values. */
  readonly sourceId?: string;
  /**
   * Frames the source lets downstream stages hold at once before it stops decoding (integer, at
   * least 1). Default: as many frames as fit in {@link DEFAULT_MAX_QUEUED_BYTES} (64 MiB), at least
   * 4 and at most 16, so 16 up to 1280x720, 10 at 1920x1080 and 4 at 3840x2160. Raising it smooths
   * throughput when stages take uneven time per frame; each queued frame costs
   * `width * height * 3` bytes (about 6 MB at 1920x1080).
   *
   * With `sampleEvery(n)`, `detect` keeps the skipped frames that follow a frame in inference until
   * its detections arrive. So `W` workers can all be busy only when `(W - 1) * n + 1` frames fit
   * (6 for 2 workers and `n = 5`), and each worker has its next frame waiting only when about
   * `2 * W * n` fit. Below that, workers wait for frames the source has not decoded yet.
   */
  readonly maxQueuedFrames?: number;
  /**
   * Flow-control counters, reset and then updated by each subscription. One object describes one
   * subscription: a second subscription that starts while the first runs keeps its own counters.
   */
  readonly counters?: FlowCounters;
  /** Receives warnings (damaged input, missing timing) and debug events. Silent by default. */
  readonly logger?: Logger;
  /**
   * Frames per second used to compute timestamps when the file stores none (raw MJPEG, multipart
   * JPEG): frame `n` is then at `n * 1000 / frameRate` ms. Default {@link DEFAULT_UNTIMED_FRAME_RATE}
   * (25), with a warning. Ignored, with a debug message, for files with timestamps.
   */
  readonly frameRate?: number;
  /**
   * For URL inputs: how long a network read or connection may stall before ffmpeg gives up, in
   * milliseconds. Default 30 000. Raising it tolerates slower servers; lowering it reports a dead
   * server sooner. Ignored for files.
   */
  readonly networkTimeoutMs?: number;
}

/**
 * Maximum of the default {@link VideoFileOptions.maxQueuedFrames}, reached by frames of up
 * to 4 MiB (1280x720 and smaller). Sixteen frames let a 2-worker detector under `sampleEvery(5)`
 * have a frame running and the next one waiting in each worker. On a 2-core machine, 4 frames left
 * one of the two workers idle and `sampleEvery(5)` ran at about 2.5 to 3 times the every-frame speed;
 * 16 frames gave about 4.1 times (docs/benchmarks.md has the measurements).
 */
export const DEFAULT_MAX_QUEUED_FRAMES = 16;

/** Memory the default queue bound may take: frames of this many bytes in total, at least 4 of them. */
export const DEFAULT_MAX_QUEUED_BYTES = 64 * 2 ** 20;

/** Minimum of the default queue bound, however large the frames. */
const MIN_DEFAULT_QUEUED_FRAMES = 4;

/**
 * Returns the default of {@link VideoFileOptions.maxQueuedFrames} for frames of `frameBytes` bytes:
 * as many as fit in {@link DEFAULT_MAX_QUEUED_BYTES}, from 4 to {@link DEFAULT_MAX_QUEUED_FRAMES}.
 */
export function defaultMaxQueuedFrames(frameBytes: number): number {
  const fitting = Math.floor(DEFAULT_MAX_QUEUED_BYTES / Math.max(1, frameBytes));
  return Math.min(DEFAULT_MAX_QUEUED_FRAMES, Math.max(MIN_DEFAULT_QUEUED_FRAMES, fitting));
}

/**
 * Frames per second assumed for files without timestamps when the `frameRate` option is not set:
 * 25, the rate ffmpeg and ffprobe 5.1 assume for such files.
 */
export const DEFAULT_UNTIMED_FRAME_RATE = 25;

/** Damaged-input lines logged one by one; later ones are only counted and summed up at the end. */
const MAX_LOGGED_DECODE_ERRORS = 5;

/** Non-showinfo stderr lines kept for the message of a failed decode. */
const STDERR_TAIL_LINES = 8;

/**
 * Time between SIGTERM and SIGKILL when a decoder or ffprobe is stopped. A decoder has no output to
 * save, and ffmpeg 5.1 ignores the first SIGTERM while it waits on a network read, so it is short.
 */
const DECODER_KILL_GRACE_MS = 1000;

/** Counters objects in use by a running subscription; two gates sharing one would count each other's frames. */
const countersInUse = new WeakSet<FlowCounters>();

/**
 * Decodes a video or image file into frames, one per frame stored in the file.
 *
 * Cold: each subscription probes the file and runs its own ffmpeg. Frames keep the file's own
 * timing, so no frame is duplicated or dropped to reach a constant rate. `timestampMs` is each
 * frame's presentation time minus the first frame's, so variable frame rates and gaps survive.
 * A still image (PNG, JPEG) is one frame at 0. Files without timestamps (raw MJPEG, multipart
 * JPEG) get `n * 1000 / frameRate` ms, from the `frameRate` option or 25 fps, with a warning.
 *
 * Rotation: ffmpeg applies the rotation stored in the file (display matrix or `rotate` tag), so
 * frames arrive upright, in display orientation, with the size `probeVideo` reports.
 *
 * Damaged input: ffmpeg skips what it cannot decode and goes on, so frames after the damage are
 * still emitted. Each damaged-input report from ffmpeg is logged as a warning (the first 5, then a
 * count), and a file that yields fewer frames than it declares logs the expected and decoded counts.
 *
 * Input: a string is always a local file, whatever characters it contains. A `URL` object reads a
 * file over HTTP or HTTPS; credentials and query values are masked in the default `sourceId`,
 * messages and logs. Live streams are not supported by this source.
 *
 * Flow control: the source decodes ahead by at most `maxQueuedFrames` frames held downstream (see
 * {@link holdFrame}) and then pauses ffmpeg until a stage releases one. File sources never drop frames.
 *
 * ```
 * file:   [f0 f1 f2 ... fN]
 * output: --f0--f1--f2-- ... --fN--|
 * ```
 *
 * @example
 * ```ts
 * import { fromVideoFile } from 'framewise';
 *
 * fromVideoFile('parking.mp4').subscribe((frame) => {
 *   console.log(frame.index, frame.timestampMs, frame.width, frame.height);
 * });
 * ```
 *
 * @param input Path of the video or image file (names that start with `-` or contain `:` or `%`
 *   are safe), or a `URL` object with protocol `http:`, `https:` or `file:`.
 * @param options Flow control, ffmpeg location, logging and a frame rate for files without timing.
 * @returns A cold observable of frames that completes after the last frame.
 * @throws {FramewiseError} `INVALID_ARGUMENT` at call time for an empty path, an unsupported URL
 *   protocol or invalid options. Errors after subscription: `INPUT_NOT_FOUND`, `INVALID_INPUT`
 *   (also for a file cut before its index), `NO_VIDEO_STREAM` and `FFMPEG_NOT_FOUND` as from
 *   {@link probeVideo}; `DECODE_FAILED` when ffmpeg exits with an error, with its last stderr lines.
 *   Fewer frames than the file declares is a warning, not an error.
 * @see probeVideo
 * @see holdFrame
 */
export function fromVideoFile(input: VideoInput, options: VideoFileOptions = {}): Observable<Frame> {
  const resolved = resolveVideoInput(input, 'input');
  validateOptions(options);
  return new Observable<Frame>((subscriber) => {
    const decoder = new FileDecoder(resolved, input, options, subscriber);
    decoder.start();
    return () => decoder.stop();
  });
}

function validateOptions(options: VideoFileOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw invalidArgument('options', options, 'an object or undefined');
  }
  const { maxQueuedFrames, frameRate, sourceId, logger } = options;
  checkNetworkTimeout(options.networkTimeoutMs);
  if (maxQueuedFrames !== undefined && !(Number.isInteger(maxQueuedFrames) && maxQueuedFrames >= 1)) {
    throw invalidArgument('maxQueuedFrames', maxQueuedFrames, 'an integer of at least 1');
  }
  if (frameRate !== undefined && !(typeof frameRate === 'number' && Number.isFinite(frameRate) && frameRate > 0)) {
    throw invalidArgument('frameRate', frameRate, 'a finite number of frames per second above 0');
  }
  if (sourceId !== undefined && typeof sourceId !== 'string') {
    throw invalidArgument('sourceId', sourceId, 'a string');
  }
  if (logger !== undefined && (typeof logger !== 'object' || logger === null || typeof logger.warn !== 'function')) {
    throw invalidArgument('logger', logger, 'an object with debug, info, warn and error methods');
  }
}

/** One subscription of {@link fromVideoFile}: probe, ffmpeg process, frame assembly and flow control. */
class FileDecoder {
  private readonly input: ResolvedInput;
  /** The input as the caller passed it, handed on to probeVideo. */
  private readonly originalInput: VideoInput;
  /** The path as given or the masked URL, for messages. */
  private readonly display: string;
  private readonly options: VideoFileOptions;
  private readonly subscriber: Subscriber<Frame>;
  private readonly sourceId: string;
  private readonly logger: Logger;
  /** Queue bound: the option, or the default for the frame size once the probe has run. */
  private maxQueuedFrames: number;
  private readonly counters: FlowCounters;
  private readonly ownsCounters: boolean;
  /** Aborts the probe when the subscriber leaves before ffmpeg starts. */
  private readonly probeAbort = new AbortController();

  /** Set once the subscription ended: by unsubscribing, completion or an error. */
  private stopped = false;
  private child: ChildProcess | undefined;
  private gate: FlowGate | undefined;
  private info: VideoInfo | undefined;
  private splitter: RawFrameSplitter | undefined;
  private readonly lines = new LineSplitter();
  private clock: FrameClock | undefined;
  /** Frame interval in milliseconds when timestamps come from the `frameRate` option. */
  private syntheticIntervalMs: number | undefined;

  /** Complete frames read from stdout and not emitted yet, oldest first. */
  private readonly pendingPixels: Buffer[] = [];
  /** Showinfo lines of frames not emitted yet, oldest first. */
  private readonly pendingShowinfo: ShowinfoFrame[] = [];
  /** Index of the next frame to emit. */
  private nextIndex = 0;
  /** True while `drain` runs, so a resume from inside `next()` does not start a second drain. */
  private draining = false;
  private stderrEnded = false;
  /** Exit status once ffmpeg has exited and its pipes are closed. */
  private exitStatus: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** Last stderr lines that are not showinfo output, for error messages. */
  private readonly stderrTail: string[] = [];
  private decodeErrorLines = 0;
  /** First stderr line of a URL input that reports a failed network read. */
  private networkError: string | undefined;

  constructor(input: ResolvedInput, originalInput: VideoInput, options: VideoFileOptions, subscriber: Subscriber<Frame>) {
    this.input = input;
    this.originalInput = originalInput;
    this.display = input.display;
    this.options = options;
    this.subscriber = subscriber;
    this.sourceId = options.sourceId ?? input.display;
    this.logger = options.logger ?? silentLogger;
    this.maxQueuedFrames = options.maxQueuedFrames ?? MIN_DEFAULT_QUEUED_FRAMES;

    const userCounters = options.counters;
    this.ownsCounters = userCounters !== undefined && !countersInUse.has(userCounters);
    if (userCounters && !this.ownsCounters) {
      this.logger.warn('The counters object is in use by another subscription; this subscription counts separately', {
        sourceId: this.sourceId,
      });
    }
    this.counters = this.ownsCounters && userCounters ? userCounters : createFlowCounters();
    if (this.ownsCounters) {
      Object.assign(this.counters, createFlowCounters());
      countersInUse.add(this.counters);
    }
  }

  start(): void {
    const paths = resolveFfmpegPaths(this.options);
    const probing = probeVideo(this.originalInput, { ...this.options, signal: this.probeAbort.signal });
    // Both checks run at once; the probe's error wins because it names the more likely fix.
    Promise.all([probing, ensureBinary(paths.ffmpeg)]).then(
      ([info]) => {
        if (!this.stopped) this.spawnDecoder(paths.ffmpeg, info);
      },
      async (error: unknown) => {
        const probeError = await probing.then(
          () => undefined,
          (reason: unknown) => reason,
        );
        this.fail(probeError ?? error);
      },
    )
      // A synchronous throw while spawning ffmpeg still reaches the subscriber.
      .catch((error: unknown) => this.fail(error));
  }

  /** Ends the subscription from the consumer's side: kills ffmpeg and detaches every listener. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.cleanUp();
  }

  private spawnDecoder(ffmpeg: string, info: VideoInfo): void {
    this.info = info;
    const frameBytes = info.width * info.height * 3;
    this.splitter = new RawFrameSplitter(frameBytes);
    this.maxQueuedFrames = this.options.maxQueuedFrames ?? defaultMaxQueuedFrames(frameBytes);
    this.configureTiming(info);
    this.gate = new FlowGate(this.maxQueuedFrames, () => this.onResume(), this.counters);

    // The image2 demuxer would read `%d` in a file name as an image sequence; ffmpeg rejects the
    // option for any other demuxer.
    const inputOptions = info.formatName === 'image2' ? ['-pattern_type', 'none'] : [];
    const args = [
      '-nostdin', '-hide_banner', '-nostats', '-loglevel', 'info',
      ...inputOptions,
      ...networkInputOptions(this.input, checkNetworkTimeout(this.options.networkTimeoutMs)),
      '-i', this.input.argument,
      '-map', `0:${info.videoStreamIndex}`,
      '-an', '-sn', '-dn',
      '-vf', 'showinfo=checksum=0',
      '-fps_mode', 'passthrough',
      '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
    ];
    this.logger.debug('Starting ffmpeg', { sourceId: this.sourceId, ffmpeg, args: args.map((arg) => this.input.redact(arg)) });
    const child = spawnTracked(ffmpeg, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;

    child.on('error', this.onSpawnError);
    child.on('close', this.onClose);
    child.stdout?.on('data', this.onStdout);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', this.onStderr);
    child.stderr?.on('end', this.onStderrEnd);
  }

  private configureTiming(info: VideoInfo): void {
    const { frameRate } = this.options;
    if (!info.hasTimestamps && !info.isStillImage) {
      // ffmpeg would invent timestamps at a rate it guessed; framewise states the rate it uses instead.
      const rate = frameRate ?? DEFAULT_UNTIMED_FRAME_RATE;
      this.syntheticIntervalMs = 1000 / rate;
      if (frameRate !== undefined) {
        this.logger.warn('The file has no timing; timestamps follow the frameRate option', {
          sourceId: this.sourceId,
          frameRate,
        });
      } else {
        this.logger.warn(`The file has no timing; timestamps assume ${DEFAULT_UNTIMED_FRAME_RATE} fps. Set the frameRate option to fix them`, {
          sourceId: this.sourceId,
          frameRate: DEFAULT_UNTIMED_FRAME_RATE,
        });
      }
    } else if (frameRate !== undefined) {
      this.logger.debug('The frameRate option is ignored because the file has timestamps', {
        sourceId: this.sourceId,
        frameRate,
        fileFps: info.fps,
      });
    }
    // Frames without a timestamp inside a timed file get the previous one's time plus this interval.
    this.clock = new FrameClock(1000 / (info.fps ?? frameRate ?? DEFAULT_UNTIMED_FRAME_RATE));
  }

  private readonly onStdout = (chunk: Buffer): void => {
    if (this.stopped || !this.splitter) return;
    this.pendingPixels.push(...this.splitter.push(chunk));
    this.drain();
  };

  private readonly onStderr = (chunk: string): void => {
    if (this.stopped) return;
    for (const line of this.lines.push(chunk)) this.readStderrLine(line);
    this.drain();
  };

  private readonly onStderrEnd = (): void => {
    if (this.stopped) return;
    for (const line of this.lines.flush()) this.readStderrLine(line);
    this.stderrEnded = true;
    this.drain();
  };

  private readStderrLine(line: string): void {
    const entry = classifyStderrLine(line);
    switch (entry.kind) {
      case 'frame':
        this.pendingShowinfo.push(entry.frame);
        return;
      case 'timeBase':
        this.clock?.setTimeBase(entry.num, entry.den);
        return;
      case 'showinfo':
        return;
      case 'other':
        this.stderrTail.push(this.input.redact(entry.text));
        if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
        if (DECODE_ERROR_LINE.test(entry.text) && !this.isMultipartJpegEnd(entry.text)) this.reportDecodeError(this.input.redact(entry.text));
        if (this.input.kind === 'url' && NETWORK_ERROR_LINE.test(entry.text)) this.networkError ??= this.input.redact(entry.text);
    }
  }

  /**
   * True for the read error that ffmpeg 5.1's multipart JPEG demuxer reports at the closing
   * boundary of every stream, after the last frame. It marks the end of the input, not damage.
   */
  private isMultipartJpegEnd(text: string): boolean {
    return this.info?.formatName === 'mpjpeg' && text === `${this.input.argument}: Invalid data found when processing input`;
  }

  private reportDecodeError(text: string): void {
    this.decodeErrorLines += 1;
    if (this.decodeErrorLines <= MAX_LOGGED_DECODE_ERRORS) {
      this.logger.warn('ffmpeg reported damaged input', { sourceId: this.sourceId, message: text, framesEmitted: this.nextIndex });
    }
  }

  private readonly onClose = (code: number | null, signal: NodeJS.Signals | null): void => {
    if (this.stopped) return;
    this.exitStatus = { code, signal };
    // 'close' comes after both pipes ended, so every showinfo line has been read.
    this.stderrEnded = true;
    this.drain();
  };

  private readonly onSpawnError = (error: NodeJS.ErrnoException): void => {
    if (this.stopped) return;
    const missing = error.code === 'ENOENT' || error.code === 'EACCES';
    this.fail(
      new FramewiseError(
        missing ? 'FFMPEG_NOT_FOUND' : 'DECODE_FAILED',
        `Cannot run ffmpeg to decode ${JSON.stringify(this.display)}: ${error.message}.`,
        { path: this.display, sourceId: this.sourceId, errno: error.code },
        { cause: error },
      ),
    );
  };

  private readonly onResume = (): void => {
    // A release inside next() lands here while drain() is still looping; that loop goes on by itself.
    if (this.draining || this.stopped) return;
    this.drain();
  };

  /**
   * Emits every frame whose pixels and showinfo line have both arrived, while the gate is open.
   * Then starts or stops reading ffmpeg's stdout, and finishes once ffmpeg has exited and nothing
   * is left to emit.
   */
  private drain(): void {
    const gate = this.gate;
    if (this.draining || this.stopped || !gate) return;
    this.draining = true;
    try {
      while (!gate.paused && this.pendingPixels.length > 0) {
        if (this.pendingShowinfo.length === 0 && !this.stderrEnded) break;
        this.emit(gate, this.pendingPixels.shift() as Buffer, this.pendingShowinfo.shift());
        if (this.stopped) return;
      }
    } finally {
      this.draining = false;
    }

    this.updateReading(gate);
    if (this.exitStatus && this.pendingPixels.length === 0) this.finish(this.exitStatus);
  }

  private emit(gate: FlowGate, data: Buffer, showinfo: ShowinfoFrame | undefined): void {
    const info = this.info as VideoInfo;
    const index = this.nextIndex;
    this.nextIndex += 1;
    if (showinfo && (showinfo.width !== info.width || showinfo.height !== info.height)) {
      // The pixel stream is now cut at the wrong byte offsets; nothing after this point is valid.
      this.fail(
        new FramewiseError(
          'DECODE_FAILED',
          `Frame ${index} of ${JSON.stringify(this.display)} is ${showinfo.width}x${showinfo.height}, but the video started at ${info.width}x${info.height}. Size changes within a file are not supported; re-encode it at one size.`,
          { path: this.display, sourceId: this.sourceId, frameIndex: index, expected: [info.width, info.height], actual: [showinfo.width, showinfo.height] },
        ),
      );
      return;
    }

    const timestampMs =
      this.syntheticIntervalMs === undefined
        ? (this.clock as FrameClock).next(showinfo)
        : Math.round(index * this.syntheticIntervalMs * 1e3) / 1e3;
    const { lease, releaseEmission } = gate.issue();
    const frame: Frame = {
      sourceId: this.sourceId,
      index,
      timestampMs,
      width: info.width,
      height: info.height,
      data,
      live: false,
      [FRAME_LEASE]: lease,
    };
    this.subscriber.next(frame);
    releaseEmission();
  }

  /** Reads stdout only while the gate is open and few frames wait for their showinfo line. */
  private updateReading(gate: FlowGate): void {
    const stdout = this.child?.stdout;
    if (!stdout) return;
    const shouldRead = !gate.paused && this.pendingPixels.length < this.maxQueuedFrames;
    if (shouldRead && stdout.isPaused()) {
      stdout.resume();
    } else if (!shouldRead && !stdout.isPaused()) {
      // ffmpeg then blocks on the full pipe, so decoding stops until the stream is resumed.
      stdout.pause();
    }
  }

  private finish(status: { code: number | null; signal: NodeJS.Signals | null }): void {
    const info = this.info as VideoInfo;
    const emitted = this.nextIndex;
    if (this.decodeErrorLines > MAX_LOGGED_DECODE_ERRORS) {
      this.logger.warn('ffmpeg reported more damaged input than was logged', {
        sourceId: this.sourceId,
        decodeErrorLines: this.decodeErrorLines,
        logged: MAX_LOGGED_DECODE_ERRORS,
      });
    }

    if (status.code !== 0) {
      const exitDescription = status.signal ? `was killed by ${status.signal}` : `exited with code ${status.code}`;
      const tail = this.stderrTail.join('\n');
      this.fail(
        new FramewiseError(
          'DECODE_FAILED',
          `ffmpeg ${exitDescription} while decoding ${JSON.stringify(this.display)} after ${emitted} frames: ${tail || '(no message)'}`,
          { path: this.display, sourceId: this.sourceId, exitCode: status.code, signal: status.signal, framesEmitted: emitted, stderr: tail },
        ),
      );
      return;
    }

    if (this.networkError !== undefined) {
      // ffmpeg exits with 0 after a network failure; the input did not end, so this is no completion.
      this.fail(
        new FramewiseError(
          'DECODE_FAILED',
          `Reading ${JSON.stringify(this.display)} failed after ${emitted} frames: ${this.networkError}. ` +
            'Check that the server is reachable and sends the whole file, or raise networkTimeoutMs.',
          { path: this.display, sourceId: this.sourceId, framesEmitted: emitted, stderr: this.networkError, network: true },
        ),
      );
      return;
    }

    const partialBytes = this.splitter?.partialBytes ?? 0;
    if (partialBytes > 0) {
      this.logger.warn('ffmpeg output ended inside a frame; the incomplete frame was dropped', {
        sourceId: this.sourceId,
        partialBytes,
        frameBytes: this.splitter?.frameBytes,
      });
    }
    if (info.frameCount !== undefined && emitted < info.frameCount) {
      this.logger.warn('The file yielded fewer frames than it declares', {
        sourceId: this.sourceId,
        expectedFrames: info.frameCount,
        decodedFrames: emitted,
      });
    }
    this.logger.debug('Decoding finished', { sourceId: this.sourceId, frames: emitted, pauses: this.counters.pauses });
    this.stopped = true;
    this.cleanUp();
    this.subscriber.complete();
  }

  private fail(error: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    this.cleanUp();
    this.subscriber.error(
      isFramewiseError(error)
        ? error
        : new FramewiseError('DECODE_FAILED', `Decoding ${JSON.stringify(this.display)} failed: ${String(error)}`, { path: this.display }, { cause: error }),
    );
  }

  /** Releases the probe, the ffmpeg process, its listeners and the counters. Runs once. */
  private cleanUp(): void {
    this.probeAbort.abort();
    if (this.ownsCounters) countersInUse.delete(this.counters);
    this.pendingPixels.length = 0;
    this.pendingShowinfo.length = 0;

    const child = this.child;
    if (!child) return;
    this.child = undefined;
    child.off('close', this.onClose);
    child.stdout?.off('data', this.onStdout);
    child.stderr?.off('data', this.onStderr);
    child.stderr?.off('end', this.onStderrEnd);
    child.stdout?.destroy();
    child.stderr?.destroy();
    // onSpawnError stays attached: an 'error' event without a listener would crash the process,
    // and the handler returns at once now that `stopped` is set.
    void terminate(child, DECODER_KILL_GRACE_MS);
  }
}
