/**
 * The encoder process behind `writeVideo`: one ffmpeg child per output file, fed Matroska-wrapped
 * RGB24 frames on stdin, writing to a temporary name that is renamed to the requested path only
 * after ffmpeg exits with status 0.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rename, rm, stat, writeFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { holdFrame } from '../backpressure.js';
import { FramewiseError, type ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Frame } from '../types.js';
import { ensureBinary } from './binaries.js';
import { buildEncoderArgs, type ContainerSpec, type RateMode, type X264Preset } from './encoder-args.js';
import { rawVideoBlockHeader, rawVideoStreamHeader } from './frame-muxer.js';
import { hasExited, spawnTracked, terminate } from './process.js';
import { trackFinalization, whenFinalized } from '../finalizers.js';

/** Settings of one {@link VideoWriter}, already validated and resolved. */
export interface VideoWriterSettings {
  /** Absolute path of the finished file. */
  readonly path: string;
  /** The output path as the caller gave it, quoted in messages. */
  readonly displayPath: string;
  readonly container: ContainerSpec;
  /** Constant output rate in frames per second; undefined keeps the frames' own timestamps. */
  readonly frameRate?: number;
  readonly crf: number;
  readonly preset: X264Preset;
  readonly qscale: number;
  /** Absolute path of the file whose first audio stream is added. */
  readonly audioFrom?: string;
  /** `audioFrom` as the caller gave it, quoted in messages. */
  readonly displayAudioFrom?: string;
  readonly extraOutputArgs: readonly string[];
  /** ffmpeg binary. */
  readonly ffmpeg: string;
  /** ffprobe binary, used to inspect `audioFrom`. */
  readonly ffprobe: string;
  /** After an abort, how long ffmpeg may go without progress before it is sent SIGTERM. */
  readonly finalizeTimeoutMs: number;
  /** Queue length above which a warning is logged once. */
  readonly queueWarningThreshold: number;
  readonly logger: Logger;
}

/** Result of a finished writer. */
export interface VideoWriterOutcome {
  /** Path of the finished file; undefined when no frame arrived and no file was written. */
  readonly path: string | undefined;
  /** Frames written to the file. */
  readonly framesWritten: number;
  /** Frames left out because their timestamp was not after the previous frame's. */
  readonly framesSkipped: number;
}

/** A frame waiting for ffmpeg's stdin, with the hold that keeps its source paused. */
interface QueuedFrame {
  readonly frame: Frame;
  /** Presentation timestamp in the output, microseconds from the first frame. */
  readonly ptsUs: number;
  readonly release: () => void;
}

/** Results of the checks made before ffmpeg starts: the audio input, when `audioFrom` has audio. */
interface Prerequisites {
  readonly audio?: { readonly path: string; readonly codec: string };
}

/** Duration given to a lone frame when no frame rate is set: 40 ms, one frame at 25 fps. */
const LONE_FRAME_DURATION_US = 40_000;

/** How much of ffmpeg's stderr is kept for error messages. */
const STDERR_TAIL_CHARS = 4000;

/** Time between SIGTERM and SIGKILL when an aborted ffmpeg makes no progress. */
const KILL_GRACE_MS = 2000;

/**
 * Exit status of ffmpeg 5.1 after SIGINT or SIGTERM: it stops reading, flushes the encoder and
 * writes the file's index before exiting with 255, so the file plays with the frames it received.
 */
const SIGNALLED_EXIT_CODE = 255;

/** Error codes of stdin writes after ffmpeg has closed its end; the exit status reports the cause. */
const CLOSED_PIPE_CODES = new Set(['EPIPE', 'ERR_STREAM_DESTROYED', 'ECONNRESET']);

/**
 * Resolves once every writer has finished closing: ffmpeg has exited and the file is renamed or
 * removed. Writers that start closing while this waits are waited for too. Never rejects; failures
 * of writers closed by unsubscribing are reported through their logger. `runPipeline` waits for
 * the same registry, which JSON Lines writers also use.
 */
export function pendingWriters(): Promise<void> {
  return whenFinalized();
}

/**
 * Streams frames into one ffmpeg process. Call {@link prepare} when the subscription starts,
 * {@link write} for each frame and {@link close} once. Failures before `close` are reported
 * through {@link onFailure}; after it, through the promise `close` returns.
 */
export class VideoWriter {
  /** Called once when encoding fails before `close` was called. */
  onFailure: ((error: FramewiseError) => void) | undefined;

  private readonly settings: VideoWriterSettings;
  /** Name ffmpeg writes to; renamed to `settings.path` on success. */
  private readonly tempPath: string;
  /** Frames accepted by `write` and not yet handed to stdin. */
  private queue: QueuedFrame[] = [];
  /** waiting: no ffmpeg yet; starting: checks and spawn in progress; running: ffmpeg alive; closed: done. */
  private phase: 'waiting' | 'starting' | 'running' | 'closed' = 'waiting';
  /** Checks of ffmpeg and of the audio source, started by `prepare`. */
  private ready: Promise<Prerequisites> | undefined;
  private child: ChildProcess | undefined;
  private stdin: Writable | undefined;
  /** Last characters ffmpeg wrote to stderr. */
  private stderrTail = '';
  /** True while one frame's bytes are being handed to stdin. */
  private writing = false;
  /** True once stdin was ended, or ffmpeg stopped reading it with status 0, so an exit is expected. */
  private inputEnded = false;
  /** Close mode requested by `close`; undefined until then. */
  private closeMode: 'finish' | 'abort' | undefined;
  private closing: Promise<VideoWriterOutcome> | undefined;
  /** The first failure; later ones are logged only. */
  private failure: FramewiseError | undefined;
  /** Resolves when ffmpeg has closed (or never started and the writer failed), with its exit status. */
  private readonly finished: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private resolveFinished!: (status: { code: number | null; signal: NodeJS.Signals | null }) => void;
  /** Removal of the temporary file after a failure; awaited before the failure is reported by `close`. */
  private cleanup: Promise<void> = Promise.resolve();
  /** Size of the first frame; every later frame must match it. */
  private frameSize: { width: number; height: number } | undefined;
  /** Media time of the first frame, subtracted from every timestamp. */
  private firstTimestampMs: number | undefined;
  private lastQueuedPtsUs = -1;
  private framesQueued = 0;
  private framesWritten = 0;
  private framesSkipped = 0;
  private queueWarningLogged = false;
  /** After an abort, fires when ffmpeg makes no progress for `finalizeTimeoutMs`. */
  private watchdog: NodeJS.Timeout | undefined;

  constructor(settings: VideoWriterSettings) {
    this.settings = settings;
    this.tempPath = `${settings.path}.partial-${process.pid}-${randomUUID().slice(0, 8)}`;
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
  }

  /** True once the writer has failed; `close` then only reports the failure. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Starts checking that ffmpeg runs and inspecting `audioFrom`, so problems surface before the first frame. */
  prepare(): void {
    if (this.ready) return;
    this.ready = this.checkPrerequisites();
    this.ready.catch((error: unknown) => this.fail(asFramewiseError(error, 'ENCODE_FAILED', this.settings.displayPath)));
  }

  /**
   * Queues a frame for encoding and takes a hold on it until ffmpeg has accepted its bytes.
   * Frames arriving after `close` or a failure are ignored.
   *
   * @throws FramewiseError `INVALID_INPUT` when the pixel buffer does not match the frame size, and
   * `ENCODE_FAILED` when the size differs from the first frame's. The frame is not queued then.
   */
  write(frame: Frame): void {
    if (this.closeMode || this.failure || this.phase === 'closed' || this.inputEnded) return;
    this.checkFrame(frame);

    const ptsUs = this.timestampOf(frame);
    if (ptsUs === undefined) {
      this.framesSkipped += 1;
      if (this.framesSkipped === 1) {
        this.settings.logger.warn('writeVideo: frame left out because its timestamp is not after the previous frame', {
          path: this.settings.path,
          frameIndex: frame.index,
          timestampMs: frame.timestampMs,
        });
      }
      return;
    }

    this.queue.push({ frame, ptsUs, release: holdFrame(frame) });
    this.framesQueued += 1;
    if (this.queue.length > this.settings.queueWarningThreshold && !this.queueWarningLogged) {
      this.queueWarningLogged = true;
      this.settings.logger.warn('writeVideo: frames are arriving faster than ffmpeg encodes them', {
        path: this.settings.path,
        queuedFrames: this.queue.length,
      });
    }
    // The second frame gives the frame interval that the stream header declares.
    if (this.phase === 'waiting' && this.framesQueued >= 2) void this.start();
    this.pump();
  }

  /**
   * Ends the input and waits for ffmpeg: the frames already queued are written first. `finish`
   * waits as long as ffmpeg needs; `abort` sends SIGTERM (then SIGKILL) when ffmpeg makes no
   * progress for `finalizeTimeoutMs`. Calling it again returns the first call's promise.
   * With no frame written, resolves with an undefined path and leaves no file.
   *
   * @throws FramewiseError (as a rejection) `ENCODE_FAILED` when ffmpeg fails, `OUTPUT_FAILED` when
   * the file cannot be created or renamed, or the error that stopped the writer earlier.
   */
  close(mode: 'finish' | 'abort'): Promise<VideoWriterOutcome> {
    if (this.closing) return this.closing;
    this.closeMode = mode;
    this.closing = this.runClose();
    trackFinalization(this.closing);
    return this.closing;
  }

  private async runClose(): Promise<VideoWriterOutcome> {
    if (this.phase === 'waiting') {
      if (this.queue.length === 0) {
        this.phase = 'closed';
        // Let the prerequisite checks end, so no ffprobe child outlives the writer.
        await this.ready?.catch(() => undefined);
        if (this.failure) throw this.failure;
        return { path: undefined, framesWritten: 0, framesSkipped: this.framesSkipped };
      }
      void this.start();
    }
    if (this.closeMode === 'abort' && this.child) this.armWatchdog();
    this.pump();

    const status = await this.finished;
    this.clearWatchdog();
    await this.cleanup;
    if (this.failure) throw this.failure;
    this.phase = 'closed';

    // 255 after closing began: ffmpeg was stopped by a signal and finished the file (see onClose).
    if (status.code !== 0 && status.code !== SIGNALLED_EXIT_CODE) {
      const error = this.encodeFailed(
        `ffmpeg exited with ${status.signal ? `signal ${status.signal}` : `code ${status.code}`} while writing`,
      );
      await rm(this.tempPath, { force: true });
      throw error;
    }
    return this.publish();
  }

  /** Renames the temporary file to the requested path after checking that it is not empty. */
  private async publish(): Promise<VideoWriterOutcome> {
    const { path, logger } = this.settings;
    const size = (await stat(this.tempPath)).size;
    if (size === 0) {
      await rm(this.tempPath, { force: true });
      throw this.encodeFailed('ffmpeg exited with code 0 but wrote an empty file');
    }
    try {
      await rename(this.tempPath, path);
    } catch (error) {
      await rm(this.tempPath, { force: true });
      throw new FramewiseError(
        'OUTPUT_FAILED',
        `Cannot move the finished video to ${JSON.stringify(this.settings.displayPath)}: ${(error as Error).message}. ` +
          'Check that the path is not a directory and that the directory is writable.',
        { path, tempPath: this.tempPath },
        { cause: error },
      );
    }
    const outcome = { path, framesWritten: this.framesWritten, framesSkipped: this.framesSkipped };
    logger.info('writeVideo: file written', { ...outcome, bytes: size });
    return outcome;
  }

  private checkFrame(frame: Frame): void {
    const expectedBytes = frame.width * frame.height * 3;
    if (!Number.isInteger(frame.width) || !Number.isInteger(frame.height) || frame.width < 1 || frame.height < 1 ||
      frame.data.length !== expectedBytes) {
      throw new FramewiseError(
        'INVALID_INPUT',
        `Frame ${frame.index} of ${JSON.stringify(frame.sourceId)} has ${frame.data.length} bytes of pixels for ` +
          `${frame.width}x${frame.height}, expected width * height * 3 = ${expectedBytes}. Check the source that built the frame.`,
        { sourceId: frame.sourceId, frameIndex: frame.index, expected: expectedBytes, actual: frame.data.length },
      );
    }
    if (!this.frameSize) {
      this.frameSize = { width: frame.width, height: frame.height };
      return;
    }
    const { width, height } = this.frameSize;
    if (frame.width !== width || frame.height !== height) {
      throw new FramewiseError(
        'ENCODE_FAILED',
        `Frame ${frame.index} is ${frame.width}x${frame.height} but ${JSON.stringify(this.settings.displayPath)} was started at ` +
          `${width}x${height}; writeVideo cannot resize yet. Scale frames to one size before writeVideo. ` +
          'The frames before this one are kept in the file.',
        {
          path: this.settings.path,
          frameIndex: frame.index,
          expected: { width, height },
          actual: { width: frame.width, height: frame.height },
        },
      );
    }
  }

  /** Output timestamp of a frame in microseconds, or undefined when it does not come after the previous one. */
  private timestampOf(frame: Frame): number | undefined {
    const { frameRate } = this.settings;
    if (frameRate !== undefined) return Math.round((this.framesQueued * 1_000_000) / frameRate);
    if (!Number.isFinite(frame.timestampMs)) return undefined;

    this.firstTimestampMs ??= frame.timestampMs;
    const ptsUs = Math.round((frame.timestampMs - this.firstTimestampMs) * 1000);
    if (ptsUs <= this.lastQueuedPtsUs) return undefined;
    this.lastQueuedPtsUs = ptsUs;
    return ptsUs;
  }

  /** Nominal frame duration: from the frame rate, else the first interval, else {@link LONE_FRAME_DURATION_US}. */
  private frameDurationUs(): number {
    const { frameRate } = this.settings;
    if (frameRate !== undefined) return 1_000_000 / frameRate;
    const [first, second] = this.queue;
    return first && second ? second.ptsUs - first.ptsUs : LONE_FRAME_DURATION_US;
  }

  private async start(): Promise<void> {
    this.phase = 'starting';
    const { settings } = this;
    this.prepare();
    let prerequisites: Prerequisites;
    try {
      prerequisites = await (this.ready as Promise<Prerequisites>);
      await writeFile(this.tempPath, '', { flag: 'wx' });
    } catch (error) {
      this.fail(asFramewiseError(error, 'OUTPUT_FAILED', settings.displayPath));
      return;
    }
    if (this.failure) {
      // The failure's cleanup may have run before the file existed.
      await rm(this.tempPath, { force: true });
      return;
    }

    const durationUs = this.frameDurationUs();
    const rate: RateMode =
      settings.container.variableFrameRate && settings.frameRate === undefined
        ? { kind: 'passthrough' }
        : { kind: 'constant', frameRate: settings.frameRate !== undefined ? String(settings.frameRate) : `1000000/${durationUs}` };
    const args = buildEncoderArgs({
      container: settings.container,
      outputPath: this.tempPath,
      rate,
      crf: settings.crf,
      preset: settings.preset,
      qscale: settings.qscale,
      audio: prerequisites.audio,
      extraOutputArgs: settings.extraOutputArgs,
    });
    settings.logger.debug('writeVideo: starting ffmpeg', { path: settings.path, args });

    const child = spawnTracked(settings.ffmpeg, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    this.child = child;
    const stdin = child.stdin as Writable;
    this.stdin = stdin;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
    });
    stdin.on('error', (error: NodeJS.ErrnoException) => {
      // ffmpeg closed its end of the pipe. Its exit status gives the reason, so the close handler reports it.
      if (CLOSED_PIPE_CODES.has(error.code ?? '')) return;
      this.fail(this.encodeFailed(`writing to ffmpeg's stdin failed (${error.message})`));
    });
    let spawnError: Error | undefined;
    child.once('error', (error) => (spawnError = error));
    child.once('close', (code, signal) => this.onClose(code, signal, spawnError));

    stdin.write(
      rawVideoStreamHeader({ width: this.frameSize?.width ?? 0, height: this.frameSize?.height ?? 0, defaultDurationUs: durationUs }),
    );
    this.phase = 'running';
    if (this.closeMode === 'abort') this.armWatchdog();
    this.pump();
  }

  /** Hands the next queued frame to stdin, one at a time, and ends stdin after the last one once closing. */
  private pump(): void {
    if (this.phase !== 'running' || this.writing || this.inputEnded || this.failure) return;
    const stdin = this.stdin as Writable;
    const next = this.queue.shift();
    if (!next) {
      if (this.closeMode) {
        this.inputEnded = true;
        stdin.end();
        if (this.closeMode === 'abort') this.armWatchdog();
      }
      return;
    }

    this.writing = true;
    stdin.write(rawVideoBlockHeader(next.ptsUs, next.frame.data.length));
    stdin.write(next.frame.data, (error) => {
      next.release();
      this.writing = false;
      if (error) return;
      this.framesWritten += 1;
      if (this.closeMode === 'abort') this.armWatchdog();
      this.pump();
    });
  }

  private onClose(code: number | null, signal: NodeJS.Signals | null, spawnError: Error | undefined): void {
    this.clearWatchdog();
    if (spawnError) {
      this.fail(
        new FramewiseError('FFMPEG_NOT_FOUND', `Cannot start ${JSON.stringify(this.settings.ffmpeg)}: ${spawnError.message}.`, {
          path: this.settings.ffmpeg,
        }, { cause: spawnError }),
      );
    } else if (!this.inputEnded && code === 0) {
      // Output options such as -frames:v or -t in extraOutputArgs end the encode early, which is a success.
      this.endInputEarly();
      this.settings.logger.info('writeVideo: ffmpeg finished before the end of the input; later frames are not written', {
        path: this.settings.path,
        framesWritten: this.framesWritten,
      });
    } else if (!this.inputEnded && code === SIGNALLED_EXIT_CODE && this.closeMode) {
      // A signal from outside (a terminal's Ctrl-C, systemd stopping the service) while closing: the
      // file ffmpeg finished is kept, without the frames it had not read yet.
      this.endInputEarly();
      this.settings.logger.warn('writeVideo: ffmpeg was stopped by a signal while closing; the file contains the frames it received', {
        path: this.settings.path,
        framesWritten: this.framesWritten,
      });
    } else if (!this.inputEnded && code === SIGNALLED_EXIT_CODE) {
      this.fail(
        this.encodeFailed(
          `ffmpeg was stopped by a signal from outside framewise (exit code ${code}) after ${this.framesWritten} frames. ` +
            'It finished the file with those frames, which is kept at the path unless it is empty',
          false,
        ),
        { keepFile: true },
      );
    } else if (!this.inputEnded) {
      this.fail(
        this.encodeFailed(`ffmpeg stopped with ${signal ? `signal ${signal}` : `code ${code}`} before the end of the input`),
      );
    }
    this.resolveFinished({ code, signal });
  }

  /** Marks the input as ended because ffmpeg exited by itself, and drops the frames still queued. */
  private endInputEarly(): void {
    this.inputEnded = true;
    for (const queued of this.queue) queued.release();
    this.queue = [];
  }

  /**
   * Records the first failure, drops queued frames, stops ffmpeg and removes the temporary file,
   * or, with `keepFile`, moves a finished non-empty file to the path.
   */
  private fail(error: FramewiseError, options: { keepFile?: boolean } = {}): void {
    if (this.failure) {
      this.settings.logger.debug('writeVideo: further failure after the first', { path: this.settings.path, error });
      return;
    }
    this.failure = error;
    for (const queued of this.queue) queued.release();
    this.queue = [];

    const child = this.child;
    this.cleanup = (async () => {
      if (child && !hasExited(child)) await terminate(child, KILL_GRACE_MS);
      if (options.keepFile) {
        // publish() removes the file itself when it is empty or cannot be moved.
        await this.publish().catch((publishError: unknown) => {
          this.settings.logger.warn('writeVideo: the file ffmpeg finished could not be kept', { path: this.settings.path, error: publishError });
        });
        return;
      }
      await rm(this.tempPath, { force: true });
    })();
    trackFinalization(this.cleanup);
    if (!child) this.resolveFinished({ code: null, signal: null });
    if (!this.closeMode) this.onFailure?.(error);
  }

  private armWatchdog(): void {
    this.clearWatchdog();
    const child = this.child;
    if (!child || hasExited(child)) return;
    this.watchdog = setTimeout(() => {
      this.settings.logger.warn('writeVideo: ffmpeg made no progress after unsubscribe; stopping it', {
        path: this.settings.path,
        timeoutMs: this.settings.finalizeTimeoutMs,
      });
      void terminate(child, KILL_GRACE_MS);
    }, this.settings.finalizeTimeoutMs);
  }

  private clearWatchdog(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }

  private encodeFailed(what: string, fileRemoved = true): FramewiseError {
    const stderr = this.stderrTail.trim();
    return new FramewiseError(
      'ENCODE_FAILED',
      `Encoding ${JSON.stringify(this.settings.displayPath)} failed: ${what}.` +
        (stderr ? ` ffmpeg reported: ${stderr.split('\n').slice(-5).join(' | ')}` : '') +
        (fileRemoved ? ' Check extraOutputArgs and the frames; no file was left at the path.' : ''),
      { path: this.settings.path, framesWritten: this.framesWritten, stderr },
    );
  }

  /** Checks that ffmpeg runs and finds the audio codec of `audioFrom`, if any. */
  private async checkPrerequisites(): Promise<Prerequisites> {
    const { settings } = this;
    await ensureBinary(settings.ffmpeg);
    if (settings.audioFrom === undefined) return {};

    const codec = await probeAudioCodec(settings.ffprobe, settings.audioFrom, settings.displayAudioFrom ?? settings.audioFrom);
    if (codec === undefined) {
      settings.logger.info('writeVideo: audioFrom has no audio stream; writing video only', {
        path: settings.path,
        audioFrom: settings.audioFrom,
      });
      return {};
    }
    const copy = settings.container.copyableAudio.includes(codec);
    return { audio: { path: settings.audioFrom, codec: copy ? 'copy' : settings.container.audioEncoder } };
  }
}

/** Returns the codec name of the first audio stream of a file, or undefined when it has none. */
async function probeAudioCodec(ffprobe: string, path: string, displayPath: string): Promise<string | undefined> {
  try {
    await stat(path);
  } catch (error) {
    throw new FramewiseError(
      'INPUT_NOT_FOUND',
      `audioFrom ${JSON.stringify(displayPath)} cannot be read: ${(error as Error).message}. Pass the path of an existing media file.`,
      { path: displayPath },
      { cause: error },
    );
  }
  await ensureBinary(ffprobe);
  const args = ['-v', 'error', '-select_streams', 'a:0', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', `file:${path}`];
  const child = spawnTracked(ffprobe, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-STDERR_TAIL_CHARS)));
  const code = await new Promise<number | null>((resolve) => {
    child.once('error', () => undefined);
    child.once('close', resolve);
  });
  if (code !== 0) {
    throw new FramewiseError(
      'INVALID_INPUT',
      `ffprobe cannot read audioFrom ${JSON.stringify(displayPath)} (exit code ${code}): ${stderr.trim()}. Pass a media file ffmpeg can open.`,
      { path: displayPath, exitCode: code, stderr },
    );
  }
  const codec = stdout.trim().split('\n')[0]?.trim();
  return codec ? codec : undefined;
}

function asFramewiseError(error: unknown, code: ErrorCode, path: string): FramewiseError {
  if (error instanceof FramewiseError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new FramewiseError(
    code,
    code === 'OUTPUT_FAILED'
      ? `Cannot create the output file next to ${JSON.stringify(path)}: ${message}. Check that the directory exists and is writable.`
      : `Writing ${JSON.stringify(path)} failed: ${message}.`,
    { path },
    { cause: error },
  );
}
