import { concat, defer, mergeMap, type MonoTypeOperatorFunction } from 'rxjs';
import { FRAME_LEASE } from '../src/backpressure.js';
import { invalidArgument } from '../src/errors.js';
import type { Frame } from '../src/types.js';
import { INFERENCE_MARK } from './sample-every.js';

/** Options of {@link resample}. */
export interface ResampleOptions {
  /**
   * Output rate in frames per second, above 0 and at most 1000. A higher rate repeats more frames
   * (smoother timing, more frames for every later stage); a lower rate drops more.
   */
  readonly frameRate: number;
}

/**
 * Converts a stream to a constant frame rate by media time: output frame `k` is the input frame
 * on screen at `t0 + k * 1000 / frameRate` ms, where `t0` is the first input frame's `timestampMs`.
 * Input frames are dropped to lower the rate and repeated to raise it, so the output keeps the
 * input's duration. Output frames get `index = k` and `timestampMs` on that grid; every other
 * field, pixels included, is the input frame's.
 *
 * ```text
 * input (25 fps):        a-b-c-d-e-f-g-h-i-j-k-l-m|       (one frame every 40 ms)
 * resample({ frameRate: 10 }): a----c----f----h----k----|   (one frame every 100 ms)
 * ```
 *
 * A repeated frame is marked to skip inference (see `INFERENCE_MARK`), so `detect` gives it the
 * detections of the frame it repeats instead of running the model on the same pixels again.
 *
 * The input frame on screen at a time is only known once the next frame arrives, so each frame
 * is emitted when its successor arrives (or on completion), which delays the stream by one input
 * frame. The last input frame is assumed to last as long as the mean interval between input
 * frames. A stream of a single frame gives one output frame.
 *
 * Flow control: frames emitted while input frame `i + 1` is being delivered are copies of frame
 * `i` carrying the lease of frame `i + 1`, so a downstream hold keeps the source paused exactly
 * as if it held frame `i + 1`. This operator keeps one input frame (`width * height * 3` bytes)
 * beyond the source's `maxQueuedFrames` bound and takes no hold itself, so it works with any
 * bound, including 1.
 *
 * @example
 * ```ts
 * import { fromVideoFile } from 'framewise';
 * import { detect, resample, writeVideo } from 'framewise/operators';
 *
 * // A 29.97 fps file becomes 10 frames per second of video, with the same duration.
 * fromVideoFile('in.mp4').pipe(resample({ frameRate: 10 }), detect(detector), writeVideo('out.mp4')).subscribe();
 * ```
 *
 * @param options The output `frameRate`.
 * @throws FramewiseError `INVALID_ARGUMENT` at call time when `frameRate` is not a number above 0
 * and at most 1000.
 * @see sampleEvery
 * @see writeVideo
 */
export function resample<T extends Frame>(options: ResampleOptions): MonoTypeOperatorFunction<T> {
  if (typeof options !== 'object' || options === null) {
    throw invalidArgument('resample options', options, 'an object such as { frameRate: 10 }');
  }
  const { frameRate } = options;
  if (!(typeof frameRate === 'number' && Number.isFinite(frameRate) && frameRate > 0 && frameRate <= 1000)) {
    throw invalidArgument('resample frameRate', frameRate, 'frames per second, a number above 0 and at most 1000');
  }

  // A frame stamped up to this much after a grid time counts as on screen at that time, so that
  // timestamps rounded by the container do not make a same-rate conversion drop and repeat frames.
  const toleranceMs = Math.min(0.5, 100 / frameRate);

  // Built-in operators carry the frames, so an unsubscribe from inside a synchronous source's
  // emission stops that source at once.
  return (source) =>
    defer(() => {
      const clock = new ResampleClock<T>(frameRate, toleranceMs);
      return concat(
        source.pipe(mergeMap((frame) => clock.push(frame))),
        defer(() => clock.finish()),
      );
    });
}

/** State of one subscription of {@link resample}. */
class ResampleClock<T extends Frame> {
  private readonly frameRate: number;
  private readonly toleranceMs: number;
  /** Input frame on screen now; emitted for every grid time before the next frame's timestamp. */
  private current: T | undefined;
  /** Input frames received, to estimate how long the last frame lasts from the mean interval. */
  private inputCount = 0;
  /** Timestamp of the first input frame: time 0 of the output grid. */
  private originMs = 0;
  /** Grid position of the next output frame. */
  private nextOutput = 0;
  /** Output frames made from `current` so far; the second and later are repeats. */
  private copiesOfCurrent = 0;

  constructor(frameRate: number, toleranceMs: number) {
    this.frameRate = frameRate;
    this.toleranceMs = toleranceMs;
  }

  /** Takes the next input frame; returns the output frames of the frame it replaces on screen. */
  push(frame: T): T[] {
    let outputs: T[] = [];
    if (this.current === undefined) {
      this.originMs = frame.timestampMs;
    } else {
      outputs = this.emitUntil(frame.timestampMs, frame[FRAME_LEASE]);
    }
    this.inputCount += 1;
    this.current = frame;
    this.copiesOfCurrent = 0;
    return outputs;
  }

  /** Returns the output frames of the last input frame, once the input has completed. */
  finish(): T[] {
    const last = this.current;
    if (last === undefined) return [];
    // The mean input interval, rather than the last one, so a rounded last timestamp cannot add a frame.
    const span = last.timestampMs - this.originMs;
    const interval = this.inputCount > 1 && span > 0 ? span / (this.inputCount - 1) : 1000 / this.frameRate;
    this.current = undefined;
    // The grid starts at the first frame, so even a single short frame gives one output.
    return this.emitUntil(last.timestampMs + interval, last[FRAME_LEASE], last);
  }

  private gridTime(k: number): number {
    return this.originMs + (k * 1000) / this.frameRate;
  }

  /** Copies of the frame on screen for every grid time before `untilMs`, under `lease` (the frame being delivered). */
  private emitUntil(untilMs: number, lease: Frame[typeof FRAME_LEASE], frame = this.current as T): T[] {
    const outputs: T[] = [];
    while (this.gridTime(this.nextOutput) < untilMs - this.toleranceMs) {
      const repeat = this.copiesOfCurrent > 0;
      outputs.push({
        ...frame,
        index: this.nextOutput,
        timestampMs: this.gridTime(this.nextOutput),
        [FRAME_LEASE]: lease,
        ...(repeat ? { [INFERENCE_MARK]: false } : {}),
      });
      this.copiesOfCurrent += 1;
      this.nextOutput += 1;
    }
    return outputs;
  }
}
