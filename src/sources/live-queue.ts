import { FRAME_LEASE, createLease, type IssuedLease } from '../backpressure.js';
import { invalidArgument } from '../errors.js';
import type { Frame } from '../types.js';
import type { MutableSourceCounters } from './source-state.js';

/**
 * Policy for a frame that arrives at a live source while its queue is full:
 *
 * - `drop-oldest`: drop the oldest frame still waiting in the source, so consumers always get the
 *   newest frame next. The source hands at most `maxQueuedFrames - 1` frames downstream at once
 *   and keeps the last place for the newest frame.
 * - `drop-newest`: drop the frame that just arrived, so frames already queued go on in order.
 * - `block`: drop nothing and stop reading the input until there is room. A network stream then
 *   falls behind real time, and its backlog collects in ffmpeg and socket buffers. A server or
 *   camera that cannot wait may drop frames or close the connection itself.
 */
export type OverflowPolicy = 'drop-oldest' | 'drop-newest' | 'block';

/** Overflow options shared by every live source. */
export interface LiveQueueOptions {
  /**
   * Frames the source keeps at once: waiting to be emitted plus emitted and still held downstream
   * (integer, at least 1; at least 2 under `drop-oldest`). Default 4. Raising it absorbs longer
   * bursts before frames are dropped, but adds latency, because queued frames age while they
   * wait, and costs `width * height * 3` bytes per frame (about 6 MB at 1920x1080).
   */
  readonly maxQueuedFrames?: number;
  /** Policy for frames arriving while the queue is full. Default `'drop-oldest'`. */
  readonly overflow?: OverflowPolicy;
  /**
   * Staleness budget in milliseconds: a frame that waited in the source longer than this since it
   * arrived is dropped instead of emitted (counted under `drops.stale`). Default: no budget.
   * Lowering it keeps results close to real time; frames already emitted are not affected.
   */
  readonly maxFrameAgeMs?: number;
}

/** Validated {@link LiveQueueOptions}. */
export interface LiveQueueSettings {
  readonly maxQueuedFrames: number;
  readonly overflow: OverflowPolicy;
  readonly maxFrameAgeMs: number | undefined;
}

/** Default of {@link LiveQueueOptions.maxQueuedFrames}. */
export const DEFAULT_LIVE_MAX_QUEUED_FRAMES = 4;

const POLICIES: readonly OverflowPolicy[] = ['drop-oldest', 'drop-newest', 'block'];

/**
 * Validates the overflow options and fills in the defaults.
 * @throws FramewiseError `INVALID_ARGUMENT` for an unknown policy, a bound below its minimum or a
 *   staleness budget that is not a positive number.
 */
export function resolveLiveQueueOptions(options: LiveQueueOptions): LiveQueueSettings {
  const overflow = options.overflow ?? 'drop-oldest';
  if (!POLICIES.includes(overflow)) {
    throw invalidArgument('overflow', overflow, `one of ${POLICIES.map((policy) => `'${policy}'`).join(', ')}`);
  }
  const minimum = overflow === 'drop-oldest' ? 2 : 1;
  const maxQueuedFrames = options.maxQueuedFrames ?? DEFAULT_LIVE_MAX_QUEUED_FRAMES;
  if (!(Number.isSafeInteger(maxQueuedFrames) && maxQueuedFrames >= minimum)) {
    throw invalidArgument(
      'maxQueuedFrames',
      maxQueuedFrames,
      `an integer of at least ${minimum}${overflow === 'drop-oldest' ? " under 'drop-oldest', which keeps one place for the newest frame" : ''}`,
    );
  }
  const { maxFrameAgeMs } = options;
  if (maxFrameAgeMs !== undefined && !(typeof maxFrameAgeMs === 'number' && maxFrameAgeMs > 0 && !Number.isNaN(maxFrameAgeMs))) {
    throw invalidArgument('maxFrameAgeMs', maxFrameAgeMs, 'a positive number of milliseconds');
  }
  return { maxQueuedFrames, overflow, maxFrameAgeMs: maxFrameAgeMs === Infinity ? undefined : maxFrameAgeMs };
}

/** Pixels of one frame as a live input delivers them, before the queue turns them into a {@link Frame}. */
export interface LiveImage {
  readonly width: number;
  readonly height: number;
  /** RGB24 pixels, `width * height * 3` bytes. */
  readonly data: Uint8Array;
}

/** Callbacks of a {@link LiveQueue}. */
export interface LiveQueueHandlers {
  /** Hands one frame downstream (`subscriber.next`). */
  deliver(frame: Frame): void;
  /** Under `block`: called with false when the input must stop being read, and with true when it may resume. */
  readingChanged?(allowed: boolean): void;
}

/** A frame waiting in the queue. */
interface WaitingFrame {
  readonly image: LiveImage;
  /** `performance.now()` when it arrived. */
  readonly arrivedAtMs: number;
  readonly timestampMs: number;
}

/**
 * The queue between a live input and the subscribers of its source: applies the overflow policy
 * and the staleness budget, counts drops, stamps arrival times and issues the frames' leases (see
 * `holdFrame`). One queue serves one subscription of a source, across its reconnections.
 */
export class LiveQueue {
  private readonly settings: LiveQueueSettings;
  private readonly sourceId: string;
  private readonly counters: MutableSourceCounters;
  private readonly handlers: LiveQueueHandlers;
  /** Frames emitted downstream at most at once: one less than the bound under `drop-oldest`. */
  private readonly emissionLimit: number;

  /** Frames received and not emitted yet, oldest first. */
  private readonly waiting: WaitingFrame[] = [];
  /** Emitted frames whose lease is still held. */
  private held = 0;
  /** Arrival time of the first frame, the origin of `timestampMs`. */
  private originMs: number | undefined;
  private lastTimestampMs = -Infinity;
  private nextIndex = 0;
  /** True while `pump` runs, so a release inside `deliver` does not start a second pump. */
  private pumping = false;
  private readingAllowed = true;
  /** Set by `close`: nothing more is emitted. */
  private closed = false;
  /** Set by `finish`: called once every waiting frame has been emitted. */
  private onDrained: (() => void) | undefined;

  constructor(settings: LiveQueueSettings, sourceId: string, counters: MutableSourceCounters, handlers: LiveQueueHandlers) {
    this.settings = settings;
    this.sourceId = sourceId;
    this.counters = counters;
    this.handlers = handlers;
    this.emissionLimit = settings.overflow === 'drop-oldest' ? settings.maxQueuedFrames - 1 : settings.maxQueuedFrames;
  }

  /** Frames waiting plus frames held downstream. */
  get queuedFrames(): number {
    return this.waiting.length + this.held;
  }

  /** Takes in one frame that arrived at `arrivedAtMs` (`performance.now()` clock), then emits what the bound allows. */
  push(image: LiveImage, arrivedAtMs: number = performance.now()): void {
    if (this.closed) return;
    this.counters.framesReceived += 1;
    this.originMs ??= arrivedAtMs;
    // Frames completed by one read arrive within microseconds; timestamps still strictly increase.
    let timestampMs = Math.round((arrivedAtMs - this.originMs) * 1000) / 1000;
    if (timestampMs <= this.lastTimestampMs) timestampMs = Math.round((this.lastTimestampMs + 0.001) * 1000) / 1000;
    this.lastTimestampMs = timestampMs;

    this.dropStale(arrivedAtMs);
    if (this.queuedFrames >= this.settings.maxQueuedFrames) {
      if (this.settings.overflow === 'drop-newest') {
        this.counters.drops.overflow += 1;
        return;
      }
      if (this.settings.overflow === 'drop-oldest' && this.waiting.length > 0) {
        this.waiting.shift();
        this.counters.drops.overflow += 1;
      }
      // Under `block` the input was asked to pause; frames it had already read are kept.
    }
    this.waiting.push({ image, arrivedAtMs, timestampMs });
    this.updateCounts();
    this.pump();
  }

  /**
   * Emits the frames still waiting as the bound allows, then calls `onDrained` once. Used when the
   * input ended normally.
   */
  finish(onDrained: () => void): void {
    if (this.closed) return;
    this.onDrained = onDrained;
    this.pump();
  }

  /**
   * Stops emitting. Frames still waiting are dropped and counted under `drops.stopped`; frames
   * held downstream stay valid, and their releases are still counted.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.counters.drops.stopped += this.waiting.length;
    this.waiting.length = 0;
    this.onDrained = undefined;
    this.updateCounts();
  }

  private pump(): void {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    try {
      while (!this.closed && this.held < this.emissionLimit && this.waiting.length > 0) {
        const next = this.waiting.shift() as WaitingFrame;
        if (this.isStale(next, performance.now())) {
          this.counters.drops.stale += 1;
          continue;
        }
        this.emit(next);
      }
    } finally {
      this.pumping = false;
    }
    this.updateCounts();
    if (!this.closed && this.waiting.length === 0 && this.onDrained) {
      const onDrained = this.onDrained;
      this.onDrained = undefined;
      onDrained();
    }
  }

  private emit(waiting: WaitingFrame): void {
    const { lease, releaseEmission } = this.issueLease();
    const frame: Frame = {
      sourceId: this.sourceId,
      index: this.nextIndex,
      timestampMs: waiting.timestampMs,
      width: waiting.image.width,
      height: waiting.image.height,
      data: waiting.image.data,
      live: true,
      [FRAME_LEASE]: lease,
    };
    this.nextIndex += 1;
    this.counters.framesEmitted += 1;
    this.updateCounts();
    this.handlers.deliver(frame);
    releaseEmission();
  }

  private isStale(waiting: WaitingFrame, nowMs: number): boolean {
    const budget = this.settings.maxFrameAgeMs;
    return budget !== undefined && nowMs - waiting.arrivedAtMs > budget;
  }

  private dropStale(nowMs: number): void {
    while (this.waiting.length > 0 && this.isStale(this.waiting[0] as WaitingFrame, nowMs)) {
      this.waiting.shift();
      this.counters.drops.stale += 1;
    }
  }

  /** Issues the lease of a frame about to be emitted, held once by the emission itself. */
  private issueLease(): IssuedLease {
    this.held += 1;
    return createLease(() => {
      this.held -= 1;
      this.updateCounts();
      this.pump();
    });
  }

  private updateCounts(): void {
    const queued = this.queuedFrames;
    this.counters.queuedFrames = queued;
    this.counters.maxQueuedFramesSeen = Math.max(this.counters.maxQueuedFramesSeen, queued);
    if (this.settings.overflow !== 'block' || this.closed) return;
    const allowed = queued < this.settings.maxQueuedFrames;
    if (allowed !== this.readingAllowed) {
      this.readingAllowed = allowed;
      this.handlers.readingChanged?.(allowed);
    }
  }
}
