/**
 * One ffmpeg process reading a live input (network stream or camera) and decoding it to RGB24.
 *
 * Frame sizes come from the `showinfo` filter's line for each frame, which ffmpeg writes to stderr
 * before it writes the frame's pixels to stdout. With `-autoscale 0` ffmpeg writes each frame at its
 * own size, so a stream that changes resolution is cut at the right byte offsets and every frame
 * carries its own size.
 */
import type { ChildProcess } from 'node:child_process';
import { FramewiseError } from '../errors.js';
import { ensureBinary } from '../ffmpeg/binaries.js';
import { spawnTracked, terminate } from '../ffmpeg/process.js';
import type { Logger } from '../logger.js';
import { classifyStderrLine, LineSplitter } from './frame-reader.js';
import type { LiveImage } from './live-queue.js';
import { createLiveSource, type LiveInput, type LiveInputHandlers, type LiveSource, type LiveSourceConfig } from './live-source.js';

/** Input of the ffmpeg process, with the means to name it without leaking credentials. */
export interface FfmpegLiveInputSpec {
  readonly ffmpegPath: string;
  /** Input options followed by `-i` and the input itself. */
  readonly inputArgs: readonly string[];
  readonly sourceId: string;
  /** Name of the input in messages, free of credentials. */
  readonly description: string;
  /** Removes credentials from any text derived from the input (stderr lines, arguments). */
  readonly redact: (text: string) => string;
  readonly logger: Logger;
}

/** Time between SIGTERM and SIGKILL: a live decoder has nothing to save, and may sit in a blocking network read. */
const LIVE_DECODER_KILL_GRACE_MS = 1000;

/** Stderr lines kept for error messages. */
const STDERR_TAIL_LINES = 6;

/** Stderr lines logged at debug level per process; later ones are counted only. */
const MAX_LOGGED_STDERR_LINES = 50;

/**
 * Stderr lines that carry no information about a failure: the description of the input and
 * output streams, the scaler's note on JPEG's full-range pixel formats, and the closing statistics.
 */
const NOISE_LINE = /^\s|^(?:Input|Output) #\d|^Stream mapping:|^Press \[q\]|deprecated pixel format used|^frame=\s*\d+|^video:\d+kB/;

/** ffmpeg's reports of rejected credentials (RTSP `DESCRIBE`, HTTP). Retrying cannot fix them. */
const CREDENTIALS_REJECTED = /\b401 Unauthorized\b|\b403 Forbidden\b|authorization failed/i;

/** Settings of a live source that {@link createFfmpegLiveSource} does not take from the input spec. */
export type FfmpegLiveSourceSettings = Pick<LiveSourceConfig, 'queue' | 'reconnect' | 'stallTimeoutMs' | 'connectTimeoutMs'>;

/**
 * Creates a live source that reads `spec` with one ffmpeg process per connection, after checking
 * once per session that ffmpeg runs.
 */
export function createFfmpegLiveSource(spec: FfmpegLiveInputSpec, settings: FfmpegLiveSourceSettings): LiveSource {
  return createLiveSource({
    ...settings,
    sourceId: spec.sourceId,
    description: spec.description,
    logger: spec.logger,
    prepare: async () => {
      await ensureBinary(spec.ffmpegPath);
    },
    open: (handlers) => openFfmpegLiveInput(spec, handlers),
  });
}

/**
 * Starts ffmpeg on `spec` and reports its frames and its end through `handlers`.
 * Exit code 0 is reported as a disconnection like any other exit: on a live input it means the
 * server closed the connection or a read timed out, not that the video ended.
 */
export function openFfmpegLiveInput(spec: FfmpegLiveInputSpec, handlers: LiveInputHandlers): LiveInput {
  const args = [
    '-nostdin', '-hide_banner', '-nostats', '-loglevel', 'info',
    ...spec.inputArgs,
    '-map', '0:v:0',
    '-an', '-sn', '-dn',
    '-vf', 'showinfo=checksum=0',
    '-fps_mode', 'passthrough',
    // By default ffmpeg scales every frame to the first frame's size after a resolution change.
    '-autoscale', '0',
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
  ];
  spec.logger.debug('Starting ffmpeg', { sourceId: spec.sourceId, ffmpeg: spec.ffmpegPath, args: args.map(spec.redact) });
  const child = spawnTracked(spec.ffmpegPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new FfmpegLiveProcess(spec, handlers, child);
}

class FfmpegLiveProcess implements LiveInput {
  private readonly spec: FfmpegLiveInputSpec;
  private readonly handlers: LiveInputHandlers;
  private child: ChildProcess | undefined;
  private readonly splitter = new SizedFrameSplitter();
  private readonly lines = new LineSplitter();
  /** Set by close() or once the end was reported. */
  private closed = false;
  /** Last stderr lines that are not showinfo output, with credentials removed. */
  private readonly stderrTail: string[] = [];
  private stderrLines = 0;
  private credentialsRejected = false;

  constructor(spec: FfmpegLiveInputSpec, handlers: LiveInputHandlers, child: ChildProcess) {
    this.spec = spec;
    this.handlers = handlers;
    this.child = child;
    child.on('error', this.onSpawnError);
    child.on('close', this.onClose);
    child.stdout?.on('data', this.onStdout);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', this.onStderr);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.release();
  }

  setReading(allowed: boolean): void {
    const stdout = this.child?.stdout;
    if (!stdout) return;
    if (allowed) stdout.resume();
    else stdout.pause();
  }

  private readonly onStdout = (chunk: Buffer): void => {
    if (this.closed) return;
    this.deliver(this.splitter.pushBytes(chunk));
  };

  private readonly onStderr = (chunk: string): void => {
    if (this.closed) return;
    for (const line of this.lines.push(chunk)) this.readStderrLine(line);
    // Sizes that arrived after their pixels complete frames already buffered.
    this.deliver(this.splitter.cut());
  };

  private deliver(images: LiveImage[]): void {
    for (const image of images) {
      if (this.closed) return;
      this.handlers.frame(image);
    }
  }

  private readStderrLine(line: string): void {
    const entry = classifyStderrLine(line);
    if (entry.kind === 'frame') {
      this.splitter.pushSize(entry.frame.width, entry.frame.height);
      return;
    }
    if (entry.kind !== 'other') return;

    if (NOISE_LINE.test(entry.text)) return;
    const text = this.spec.redact(entry.text);
    this.stderrTail.push(text);
    if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
    if (CREDENTIALS_REJECTED.test(entry.text)) this.credentialsRejected = true;
    this.stderrLines += 1;
    if (this.stderrLines <= MAX_LOGGED_STDERR_LINES) {
      this.spec.logger.debug('ffmpeg output', { sourceId: this.spec.sourceId, line: text });
    }
  }

  private readonly onSpawnError = (error: NodeJS.ErrnoException): void => {
    if (this.closed) return;
    this.closed = true;
    this.release();
    const missing = error.code === 'ENOENT' || error.code === 'EACCES';
    // The spawn error lists ffmpeg's arguments, credentials included, so it is not attached as the cause.
    const failure = new FramewiseError(
      missing ? 'FFMPEG_NOT_FOUND' : 'DECODE_FAILED',
      `Cannot run ffmpeg (${JSON.stringify(this.spec.ffmpegPath)}) to read ${this.spec.description}: ${error.code ?? 'spawn failed'}.`,
      { sourceId: this.spec.sourceId, path: this.spec.ffmpegPath, errno: error.code },
    );
    this.handlers.ended(missing ? { kind: 'fatal', error: failure } : { kind: 'disconnected', error: failure });
  };

  private readonly onClose = (code: number | null, signal: NodeJS.Signals | null): void => {
    if (this.closed) return;
    this.closed = true;
    for (const line of this.lines.flush()) this.readStderrLine(line);
    this.release();

    const tail = this.stderrTail.join('\n') || '(no message)';
    const context = { sourceId: this.spec.sourceId, exitCode: code, signal, stderr: tail };
    if (this.credentialsRejected) {
      this.handlers.ended({
        kind: 'fatal',
        error: new FramewiseError(
          'INVALID_INPUT',
          `The server of ${this.spec.description} rejected the credentials: ${tail}. Check the user name and password in the URL.`,
          { ...context, reason: 'credentials-rejected' },
        ),
      });
      return;
    }
    const exit = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    this.handlers.ended({
      kind: 'disconnected',
      error: new FramewiseError(
        'SOURCE_FAILED',
        `ffmpeg ${exit} while reading ${this.spec.description}` +
          (code === 0 ? ' (the server closed the connection or a read timed out)' : '') +
          `: ${tail}`,
        { ...context, reason: 'disconnected' },
      ),
    });
  };

  /** Detaches from the child and stops it. */
  private release(): void {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    child.off('close', this.onClose);
    child.stdout?.off('data', this.onStdout);
    child.stderr?.off('data', this.onStderr);
    child.stdout?.destroy();
    child.stderr?.destroy();
    // onSpawnError stays attached: an 'error' event without a listener would crash the process.
    void terminate(child, LIVE_DECODER_KILL_GRACE_MS);
  }
}

/**
 * Cuts raw RGB24 output into frames whose sizes are announced one by one, in output order.
 * Bytes that arrive before their frame's size wait in the splitter.
 */
export class SizedFrameSplitter {
  /** Sizes announced and not cut yet, oldest first. */
  private readonly sizes: Array<{ width: number; height: number }> = [];
  /** Received bytes not cut yet, oldest first. */
  private readonly chunks: Buffer[] = [];
  private bufferedBytes = 0;

  /** Bytes received and not yet part of a frame. */
  get pendingBytes(): number {
    return this.bufferedBytes;
  }

  /** Records the size of the next frame. */
  pushSize(width: number, height: number): void {
    this.sizes.push({ width, height });
  }

  /** Adds output bytes and returns the frames they complete. */
  pushBytes(chunk: Buffer): LiveImage[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.bufferedBytes += chunk.length;
    }
    return this.cut();
  }

  /** Returns every frame whose size and bytes have both arrived. Each frame gets its own memory. */
  cut(): LiveImage[] {
    const images: LiveImage[] = [];
    while (this.sizes.length > 0) {
      const { width, height } = this.sizes[0] as { width: number; height: number };
      const frameBytes = width * height * 3;
      if (this.bufferedBytes < frameBytes) break;
      this.sizes.shift();
      images.push({ width, height, data: this.take(frameBytes) });
    }
    return images;
  }

  private take(byteCount: number): Uint8Array {
    // allocUnsafeSlow: not a slice of Node's shared pool, and every byte is overwritten below.
    const frame = Buffer.allocUnsafeSlow(byteCount);
    let filled = 0;
    while (filled < byteCount) {
      const chunk = this.chunks[0] as Buffer;
      const copied = chunk.copy(frame, filled, 0, Math.min(chunk.length, byteCount - filled));
      filled += copied;
      if (copied === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(copied);
    }
    this.bufferedBytes -= byteCount;
    return frame;
  }
}
