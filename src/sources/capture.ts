import { Observable, type Subscriber } from 'rxjs';
import { createFlowCounters, FlowGate, FRAME_LEASE, type FlowCounters } from '../backpressure.js';
import { FramewiseError, invalidArgument, isFramewiseError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { Frame } from '../types.js';

/**
 * An image as OpenCV bindings for Node return it (`@u4/opencv4nodejs`'s `Mat`): rows, columns,
 * channels and the pixel bytes in BGR order (BGRA with 4 channels, grey with 1), rows packed.
 */
export interface MatLike {
  readonly rows: number;
  readonly cols: number;
  /** Channels per pixel: 1, 3 or 4. A number or a method, depending on the binding. */
  readonly channels?: number | (() => number);
  /** True for the empty image OpenCV returns at the end of a stream. */
  readonly empty?: boolean;
  getData(): Uint8Array;
}

/** Packed BGR24 pixels: `width * height * 3` bytes. */
export interface BgrImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** Result of one `read()` of a capture. `null`, `undefined` or an empty image means the stream ended. */
export type CaptureImage = MatLike | BgrImage | null | undefined;

/**
 * A capture object in the style of OpenCV's `VideoCapture` (and ImageAI's `camera_input`): each
 * `read()` returns the next image, synchronously or as a promise.
 */
export interface CaptureLike {
  read(): CaptureImage | Promise<CaptureImage>;
  /** Called once when the stream ends, fails or is unsubscribed, if `releaseOnEnd` is true. */
  release?(): void;
}

/** Options of {@link fromCapture}. */
export interface CaptureOptions {
  /** `sourceId` of every frame. Default `'camera'`. */
  readonly sourceId?: string;
  /**
   * Frames downstream stages may hold at once before `read()` is no longer called (integer, at
   * least 1). Default 4. While reading is paused, the camera driver buffers or drops frames by its
   * own policy; this source drops none. Each held frame costs `width * height * 3` bytes.
   */
  readonly maxQueuedFrames?: number;
  /** Flow-control counters, reset and then updated by each subscription. */
  readonly counters?: FlowCounters;
  /** Calls `capture.release()` when the stream ends, fails or is unsubscribed, as ImageAI does. Default true. */
  readonly releaseOnEnd?: boolean;
  /** Receives debug events and a warning when `release()` throws. Silent by default. */
  readonly logger?: Logger;
}

/**
 * Reads frames from a capture object with a `read()` method, such as OpenCV's `VideoCapture` from
 * `@u4/opencv4nodejs`, converting its BGR images to RGB frames. The stream completes when `read()`
 * returns `null`, `undefined` or an empty image.
 *
 * Frames are live: `live` is true and `timestampMs` is the time since the first frame was read,
 * from the monotonic clock. `read()` is called once per frame from a `setImmediate` callback, so
 * a blocking `read()` (a camera waiting for its next frame) blocks the event loop while it waits,
 * as in ImageAI. Prefer a binding whose `read()` returns a promise for long-running services.
 *
 * Flow control follows the lease protocol (see `holdFrame`): `read()` is not called while
 * `maxQueuedFrames` frames are held downstream. This source never drops frames; a camera that
 * keeps producing meanwhile buffers or drops them in its driver.
 *
 * ```text
 * read():        img0  img1  img2  null
 * fromCapture:   --f0----f1----f2----|
 * ```
 *
 * @example
 * ```ts
 * import cv from '@u4/opencv4nodejs';
 * import { fromCapture } from 'framewise';
 *
 * const camera = new cv.VideoCapture(0);
 * fromCapture(camera).subscribe((frame) => console.log(frame.index, frame.timestampMs));
 * ```
 *
 * @param capture The capture object; it is released at the end unless `releaseOnEnd` is false.
 * @param options Source id, flow control, release and logging.
 * @throws FramewiseError `INVALID_ARGUMENT` at call time when `capture` has no `read()` method or
 * an option is invalid. Errors after subscription: `SOURCE_FAILED` when `read()` throws or
 * rejects (its error is the `cause`), `INVALID_INPUT` when it returns an image whose byte count
 * does not match its size and channels, or with an unsupported channel count.
 * @see fromVideoFile
 */
export function fromCapture(capture: CaptureLike, options: CaptureOptions = {}): Observable<Frame> {
  validateOptions(capture, options);
  return new Observable<Frame>((subscriber) => {
    const reader = new CaptureReader(capture, options, subscriber);
    reader.start();
    return () => reader.stop();
  });
}

function validateOptions(capture: CaptureLike, options: CaptureOptions): void {
  if (typeof capture !== 'object' || capture === null || typeof capture.read !== 'function') {
    throw invalidArgument('capture', capture, 'an object with a read() method, such as OpenCV\'s VideoCapture');
  }
  if (typeof options !== 'object' || options === null) {
    throw invalidArgument('capture options', options, 'an object or undefined');
  }
  const { maxQueuedFrames, sourceId, releaseOnEnd } = options;
  if (maxQueuedFrames !== undefined && !(Number.isSafeInteger(maxQueuedFrames) && maxQueuedFrames >= 1)) {
    throw invalidArgument('maxQueuedFrames', maxQueuedFrames, 'an integer of at least 1');
  }
  if (sourceId !== undefined && typeof sourceId !== 'string') throw invalidArgument('sourceId', sourceId, 'a string');
  if (releaseOnEnd !== undefined && typeof releaseOnEnd !== 'boolean') {
    throw invalidArgument('releaseOnEnd', releaseOnEnd, 'true or false');
  }
}

/** One subscription of {@link fromCapture}: the read loop, conversion and flow control. */
class CaptureReader {
  private readonly capture: CaptureLike;
  private readonly subscriber: Subscriber<Frame>;
  private readonly sourceId: string;
  private readonly releaseOnEnd: boolean;
  private readonly logger: Logger;
  private readonly gate: FlowGate;

  /** Set once the subscription ended: by unsubscribing, completion or an error. */
  private stopped = false;
  /** Pending `setImmediate` of the next read, if any. */
  private scheduled: NodeJS.Immediate | undefined;
  /** True while an asynchronous `read()` is pending. */
  private reading = false;
  /** `performance.now()` when the first frame was read. */
  private startedAt: number | undefined;
  private nextIndex = 0;

  constructor(capture: CaptureLike, options: CaptureOptions, subscriber: Subscriber<Frame>) {
    this.capture = capture;
    this.subscriber = subscriber;
    this.sourceId = options.sourceId ?? 'camera';
    this.releaseOnEnd = options.releaseOnEnd ?? true;
    this.logger = options.logger ?? silentLogger;
    const counters = options.counters ?? createFlowCounters();
    Object.assign(counters, createFlowCounters());
    this.gate = new FlowGate(options.maxQueuedFrames ?? 4, () => this.schedule(), counters);
  }

  start(): void {
    this.schedule();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.cleanUp();
  }

  private schedule(): void {
    if (this.stopped || this.scheduled !== undefined || this.reading) return;
    this.scheduled = setImmediate(() => {
      this.scheduled = undefined;
      this.readOne();
    });
  }

  private readOne(): void {
    if (this.stopped || this.gate.paused) return;
    let result: CaptureImage | Promise<CaptureImage>;
    try {
      result = this.capture.read();
    } catch (error) {
      this.fail(readError(this.sourceId, error));
      return;
    }
    if (isPromiseLike(result)) {
      this.reading = true;
      result.then(
        (image) => {
          this.reading = false;
          this.handle(image);
        },
        (error: unknown) => {
          this.reading = false;
          this.fail(readError(this.sourceId, error));
        },
      );
      return;
    }
    this.handle(result);
  }

  private handle(image: CaptureImage): void {
    if (this.stopped) return;
    let pixels: { width: number; height: number; data: Uint8Array } | undefined;
    try {
      pixels = toRgb(image, this.sourceId, this.nextIndex);
    } catch (error) {
      this.fail(error);
      return;
    }
    if (pixels === undefined) {
      this.logger.debug('Capture ended', { sourceId: this.sourceId, frames: this.nextIndex });
      this.stopped = true;
      this.cleanUp();
      this.subscriber.complete();
      return;
    }

    const now = performance.now();
    this.startedAt ??= now;
    const { lease, releaseEmission } = this.gate.issue();
    const frame: Frame = {
      sourceId: this.sourceId,
      index: this.nextIndex,
      timestampMs: Math.round((now - this.startedAt) * 1000) / 1000,
      width: pixels.width,
      height: pixels.height,
      data: pixels.data,
      live: true,
      [FRAME_LEASE]: lease,
    };
    this.nextIndex += 1;
    this.subscriber.next(frame);
    releaseEmission();
    // While the gate is paused, the release that reopens it schedules the next read.
    if (!this.gate.paused) this.schedule();
  }

  private fail(error: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    this.cleanUp();
    this.subscriber.error(error);
  }

  private cleanUp(): void {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    if (!this.releaseOnEnd || typeof this.capture.release !== 'function') return;
    try {
      this.capture.release();
    } catch (error) {
      // The stream is over either way; a failing release must not replace its outcome.
      this.logger.warn('capture.release() threw', { sourceId: this.sourceId, error });
    }
  }
}

function isPromiseLike(value: unknown): value is Promise<CaptureImage> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function readError(sourceId: string, error: unknown): FramewiseError {
  if (isFramewiseError(error)) return error;
  return new FramewiseError(
    'SOURCE_FAILED',
    `Reading a frame from the capture ${JSON.stringify(sourceId)} failed: ${error instanceof Error ? error.message : String(error)}. ` +
      'Check that the camera is connected and not used by another program.',
    { sourceId },
    { cause: error },
  );
}

/** Converts one captured image to RGB24, or returns undefined at the end of the stream. */
function toRgb(image: CaptureImage, sourceId: string, index: number): { width: number; height: number; data: Uint8Array } | undefined {
  if (image === null || image === undefined) return undefined;
  let width: number;
  let height: number;
  let channels: number;
  let source: Uint8Array;
  if ('getData' in image && typeof image.getData === 'function') {
    if (image.empty === true || image.rows === 0 || image.cols === 0) return undefined;
    width = image.cols;
    height = image.rows;
    channels = typeof image.channels === 'function' ? image.channels() : (image.channels ?? 3);
    source = image.getData();
  } else if ('data' in image) {
    width = image.width;
    height = image.height;
    channels = 3;
    source = image.data;
  } else {
    throw new FramewiseError(
      'INVALID_INPUT',
      `The capture ${JSON.stringify(sourceId)} returned an image without getData() or data for frame ${index}. ` +
        'Return an OpenCV Mat, { width, height, data } with BGR bytes, or null at the end.',
      { sourceId, frameIndex: index },
    );
  }

  const expected = width * height * channels;
  if (![1, 3, 4].includes(channels) || !(source instanceof Uint8Array) || source.length !== expected || width <= 0 || height <= 0) {
    throw new FramewiseError(
      'INVALID_INPUT',
      `Frame ${index} of the capture ${JSON.stringify(sourceId)} is ${width}x${height} with ${channels} channels and ` +
        `${source instanceof Uint8Array ? source.length : 'no'} bytes; expected 1, 3 or 4 channels of 8-bit pixels, packed ` +
        `(${expected} bytes). Convert the image to 8-bit BGR before returning it.`,
      { sourceId, frameIndex: index, width, height, channels, expected, actual: source instanceof Uint8Array ? source.length : undefined },
    );
  }

  const data = new Uint8Array(width * height * 3);
  for (let pixel = 0, from = 0, to = 0; pixel < width * height; pixel += 1, from += channels, to += 3) {
    if (channels === 1) {
      const grey = source[from] as number;
      data[to] = grey;
      data[to + 1] = grey;
      data[to + 2] = grey;
    } else {
      data[to] = source[from + 2] as number;
      data[to + 1] = source[from + 1] as number;
      data[to + 2] = source[from] as number;
    }
  }
  return { width, height, data };
}
