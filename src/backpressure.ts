/**
 * Flow control between a source and the stages that keep frames (see docs/backpressure.md).
 *
 * RxJS pushes values and has no demand signal, so framewise adds one: every frame a bounded source
 * emits carries a lease. The emission itself holds the lease until `next()` returns; a stage that
 * keeps the frame longer (a batch queue, an encoder waiting for its pipe) takes its own hold with
 * {@link holdFrame} during `next()` and releases it when done. The source counts frames whose lease
 * is still held and stops decoding while that count is at `maxQueuedFrames`.
 */
import type { Frame } from './types.js';

/** Property under which a frame carries its lease. A registered symbol, so copies of the package agree. */
export const FRAME_LEASE: unique symbol = Symbol.for('framewise.frameLease') as never;

/** A frame's flow-control handle. */
export interface FrameLease {
  /** Takes a hold on the frame. Returns a release function; calling it more than once has no effect. */
  retain(): () => void;
}

const noop = (): void => {};

/**
 * Takes a hold on `frame` so its source counts it as queued until the returned function is called.
 * Call it synchronously inside `next()`: once `next()` returns, an unheld frame counts as consumed.
 * Frames without a lease (built by hand, or from a source without flow control) return a no-op.
 */
export function holdFrame(frame: Frame): () => void {
  const lease = frame[FRAME_LEASE];
  return lease ? lease.retain() : noop;
}

/** A new lease, and the function that drops the emission's hold on it. */
export interface IssuedLease {
  readonly lease: FrameLease;
  /** Drops the hold the emission took; call it once `next()` has returned. */
  readonly releaseEmission: () => void;
}

/**
 * Creates a lease already held once, by the emission. `onSettled` runs once, when the last hold
 * is released. Sources use it to count frames still held downstream.
 */
export function createLease(onSettled: () => void): IssuedLease {
  let holds = 1;
  const drop = (): void => {
    holds -= 1;
    if (holds === 0) onSettled();
  };
  const once = (): (() => void) => {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      drop();
    };
  };
  const lease: FrameLease = {
    retain: () => {
      // A hold taken after every other hold was released comes too late to count; see holdFrame.
      if (holds === 0) return noop;
      holds += 1;
      return once();
    },
  };
  return { lease, releaseEmission: once() };
}

/** Counters of one source subscription, for monitoring and tests. */
export interface FlowCounters {
  /** Frames emitted so far. */
  emitted: number;
  /** Frames emitted whose lease is still held: the current queue length. */
  queued: number;
  /** Highest `queued` value seen. */
  maxQueued: number;
  /** Times the source paused decoding because `queued` reached the bound. */
  pauses: number;
}

/** Creates zeroed counters. */
export function createFlowCounters(): FlowCounters {
  return { emitted: 0, queued: 0, maxQueued: 0, pauses: 0 };
}

/**
 * Source side of the protocol: issues leases and reports when the source should pause and resume.
 * `onResume` runs when the queue drops below the bound after a pause.
 */
export class FlowGate {
  readonly maxQueuedFrames: number;
  readonly counters: FlowCounters;
  private readonly onResume: () => void;
  /** True while the source is asked to stop reading. */
  private pausedState = false;

  constructor(maxQueuedFrames: number, onResume: () => void, counters: FlowCounters = createFlowCounters()) {
    this.maxQueuedFrames = maxQueuedFrames;
    this.onResume = onResume;
    this.counters = counters;
  }

  /** True while the queue is full and the source should not read more input. */
  get paused(): boolean {
    return this.pausedState;
  }

  /**
   * Issues the lease of a frame about to be emitted, already held once by the emission.
   * Returns the lease and the function that drops the emission's hold, to call after `next()`.
   */
  issue(): IssuedLease {
    const counters = this.counters;
    counters.emitted += 1;
    counters.queued += 1;
    counters.maxQueued = Math.max(counters.maxQueued, counters.queued);
    if (counters.queued >= this.maxQueuedFrames && !this.pausedState) {
      this.pausedState = true;
      counters.pauses += 1;
    }

    return createLease(() => this.settle());
  }

  private settle(): void {
    this.counters.queued -= 1;
    if (this.pausedState && this.counters.queued < this.maxQueuedFrames) {
      this.pausedState = false;
      this.onResume();
    }
  }
}
