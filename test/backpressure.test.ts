import {
  asyncScheduler,
  bufferCount,
  concatMap,
  filter,
  finalize,
  lastValueFrom,
  map,
  merge,
  mergeMap,
  Observable,
  observeOn,
  share,
  tap,
  timer,
  toArray,
  type OperatorFunction,
} from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFlowCounters, FlowGate, FRAME_LEASE, holdFrame } from '../src/backpressure.js';
import { runningChildPids } from '../src/ffmpeg/process.js';
import { fromVideoFile } from '../src/sources/video-file.js';
import type { Frame } from '../src/types.js';
import { createTempMediaDir, waitForNoChildren, type TempMediaDir } from './helpers/media.js';

const MAX_QUEUED = 4;
const FRAME_COUNT = 300;

/** What a {@link slowStage} saw. */
interface StageStats {
  /** Frames received and not finished yet, right now. */
  inStage: number;
  /** Highest `inStage` value seen. */
  maxInStage: number;
}

/**
 * Builds a stage that keeps every frame it receives (with holdFrame) and finishes them one at a
 * time, each after `delayMs`, as a slow encoder or detector would. Emits the indexes of finished frames.
 */
function slowStage(delayMs: number, stats: StageStats = { inStage: 0, maxInStage: 0 }): OperatorFunction<Frame, number> {
  return (source) =>
    new Observable<number>((subscriber) => {
      // Frames received and not finished, oldest first, each with the release of its hold.
      const waiting: Array<{ frame: Frame; release: () => void }> = [];
      // Timer of the frame being finished, if any.
      let timeout: ReturnType<typeof setTimeout> | undefined;
      let sourceDone = false;

      const pump = (): void => {
        if (timeout !== undefined) return;
        const item = waiting[0];
        if (!item) {
          if (sourceDone) subscriber.complete();
          return;
        }
        timeout = setTimeout(() => {
          timeout = undefined;
          waiting.shift();
          stats.inStage -= 1;
          item.release();
          subscriber.next(item.frame.index);
          pump();
        }, delayMs);
      };

      const subscription = source.subscribe({
        next: (frame) => {
          waiting.push({ frame, release: holdFrame(frame) });
          stats.inStage += 1;
          stats.maxInStage = Math.max(stats.maxInStage, stats.inStage);
          pump();
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => {
          sourceDone = true;
          pump();
        },
      });

      return () => {
        clearTimeout(timeout);
        subscription.unsubscribe();
      };
    });
}

const allIndexes = [...Array(FRAME_COUNT).keys()];

describe('FlowGate', () => {
  it('counts an emission until released', () => {
    const gate = new FlowGate(2, () => {});
    const { releaseEmission } = gate.issue();
    expect(gate.counters).toEqual({ emitted: 1, queued: 1, maxQueued: 1, pauses: 0 });
    releaseEmission();
    expect(gate.counters.queued).toBe(0);
    expect(gate.paused).toBe(false);
  });

  it('ignores repeated releases', () => {
    const gate = new FlowGate(4, () => {});
    const { lease, releaseEmission } = gate.issue();
    const releaseHold = lease.retain();
    releaseEmission();
    releaseEmission();
    expect(gate.counters.queued).toBe(1);
    releaseHold();
    releaseHold();
    expect(gate.counters.queued).toBe(0);
  });

  it('keeps a frame queued until its last hold ends', () => {
    const gate = new FlowGate(4, () => {});
    const { lease, releaseEmission } = gate.issue();
    const first = lease.retain();
    const second = lease.retain();
    releaseEmission();
    first();
    expect(gate.counters.queued).toBe(1);
    second();
    expect(gate.counters.queued).toBe(0);
  });

  it('ignores a hold taken after release', () => {
    const gate = new FlowGate(4, () => {});
    const { lease, releaseEmission } = gate.issue();
    releaseEmission();
    const late = lease.retain();
    expect(gate.counters.queued).toBe(0);
    late();
    expect(gate.counters.queued).toBe(0);
  });

  it('pauses at the bound and resumes below it', () => {
    let resumes = 0;
    const gate = new FlowGate(2, () => (resumes += 1));
    const holds = [gate.issue(), gate.issue()].map(({ lease, releaseEmission }) => {
      const release = lease.retain();
      releaseEmission();
      return release;
    });
    expect(gate.paused).toBe(true);
    expect(gate.counters.pauses).toBe(1);
    expect(resumes).toBe(0);

    holds[0]?.();
    expect(gate.paused).toBe(false);
    expect(resumes).toBe(1);
    holds[1]?.();
    expect(resumes).toBe(1);
    expect(gate.counters).toEqual({ emitted: 2, queued: 0, maxQueued: 2, pauses: 1 });
  });

  it('resumes inside the emission when unheld', () => {
    let resumes = 0;
    const gate = new FlowGate(1, () => (resumes += 1));
    const { releaseEmission } = gate.issue();
    expect(gate.paused).toBe(true);
    releaseEmission();
    expect(gate.paused).toBe(false);
    expect(resumes).toBe(1);
  });

  it('holdFrame on a frame without lease is a no-op', () => {
    const frame: Frame = { sourceId: 'x', index: 0, timestampMs: 0, width: 1, height: 1, data: new Uint8Array(3), live: false };
    expect(() => holdFrame(frame)()).not.toThrow();
  });

  it('object spread keeps the lease', () => {
    const gate = new FlowGate(4, () => {});
    const { lease } = gate.issue();
    const frame: Frame = { sourceId: 'x', index: 0, timestampMs: 0, width: 1, height: 1, data: new Uint8Array(3), live: false, [FRAME_LEASE]: lease };
    expect({ ...frame, extra: 1 }[FRAME_LEASE]).toBe(lease);
  });
});

describe('fromVideoFile flow control', () => {
  let media: TempMediaDir;
  let clip: string;

  beforeAll(async () => {
    media = await createTempMediaDir();
    clip = media.file('frames-300.mp4');
    await media.ffmpeg('-f', 'lavfi', '-i', `testsrc=size=64x48:rate=25:duration=${FRAME_COUNT / 25}`, '-c:v', 'libx264', clip);
  });

  afterAll(async () => {
    await media?.remove();
    await waitForNoChildren(runningChildPids);
  });

  it('bounds the queue for a slow stage', async () => {
    const counters = createFlowCounters();
    const stats = { inStage: 0, maxInStage: 0 };
    const indexes = await lastValueFrom(
      fromVideoFile(clip, { counters, maxQueuedFrames: MAX_QUEUED }).pipe(slowStage(1, stats), toArray()),
    );
    expect(indexes).toEqual(allIndexes);
    expect(counters.maxQueued).toBeLessThanOrEqual(MAX_QUEUED);
    expect(stats.maxInStage).toBeLessThanOrEqual(MAX_QUEUED);
    // The bound was reached, so the test exercised pausing.
    expect(counters.pauses).toBeGreaterThan(0);
    expect(counters.queued).toBe(0);
  });

  it('keeps the bound through share', async () => {
    const counters = createFlowCounters();
    const shared = fromVideoFile(clip, { counters, maxQueuedFrames: MAX_QUEUED }).pipe(share());
    const [fast, slow] = await Promise.all([
      lastValueFrom(shared.pipe(slowStage(1), toArray())),
      lastValueFrom(shared.pipe(slowStage(2), toArray())),
    ]);
    expect(fast).toEqual(allIndexes);
    expect(slow).toEqual(allIndexes);
    expect(counters.emitted).toBe(FRAME_COUNT);
    expect(counters.maxQueued).toBeLessThanOrEqual(MAX_QUEUED);
    expect(counters.pauses).toBeGreaterThan(0);
  });

  it('keeps the bound through map with spread', async () => {
    const counters = createFlowCounters();
    const indexes = await lastValueFrom(
      fromVideoFile(clip, { counters, maxQueuedFrames: MAX_QUEUED }).pipe(
        map((frame) => ({ ...frame, extra: 1 })),
        slowStage(1),
        toArray(),
      ),
    );
    expect(indexes).toEqual(allIndexes);
    expect(counters.maxQueued).toBeLessThanOrEqual(MAX_QUEUED);
    expect(counters.pauses).toBeGreaterThan(0);
  });

  it('loses the bound when map drops the lease', async () => {
    const counters = createFlowCounters();
    const stats = { inStage: 0, maxInStage: 0 };
    const indexes = await lastValueFrom(
      fromVideoFile(clip, { counters, maxQueuedFrames: MAX_QUEUED }).pipe(
        map((frame): Frame => ({ sourceId: frame.sourceId, index: frame.index, timestampMs: frame.timestampMs, width: frame.width, height: frame.height, data: frame.data, live: frame.live })),
        slowStage(1, stats),
        toArray(),
      ),
    );
    expect(indexes).toEqual(allIndexes);
    // The source counts every frame as consumed when next() returns, so it never pauses...
    expect(counters.maxQueued).toBe(1);
    expect(counters.pauses).toBe(0);
    // ...while the stage piles frames up, limited only by how fast ffmpeg decodes.
    expect(stats.maxInStage).toBeGreaterThan(MAX_QUEUED);
  });

  it('keeps the bound through filter', async () => {
    const counters = createFlowCounters();
    const indexes = await lastValueFrom(
      fromVideoFile(clip, { counters, maxQueuedFrames: MAX_QUEUED }).pipe(
        filter((frame) => frame.index % 2 === 0),
        slowStage(2),
        toArray(),
      ),
    );
    expect(indexes).toEqual(allIndexes.filter((index) => index % 2 === 0));
    expect(counters.emitted).toBe(FRAME_COUNT);
    expect(counters.maxQueued).toBeLessThanOrEqual(MAX_QUEUED);
    expect(counters.pauses).toBeGreaterThan(0);
  });

  it('loses the bound through observeOn', async () => {
    const counters = createFlowCounters();
    const stats = { inStage: 0, maxInStage: 0 };
    const indexes = await lastValueFrom(
      fromVideoFile(clip, { counters, maxQueuedFrames: MAX_QUEUED }).pipe(
        observeOn(asyncScheduler),
        slowStage(1, stats),
        toArray(),
      ),
    );
    expect(indexes).toEqual(allIndexes);
    // observeOn delivers each frame after next() has returned, when the emission's hold is gone,
    // so the stage's hold comes too late and the source never counts more than the frame in flight.
    expect(counters.maxQueued).toBe(1);
    expect(counters.pauses).toBe(0);
    expect(stats.maxInStage).toBeGreaterThan(MAX_QUEUED);
  });

  it('keeps the bound when held before observeOn', async () => {
    const counters = createFlowCounters();
    const stats = { inStage: 0, maxInStage: 0 };
    // Holds taken before the asynchronous boundary, released once the stage has finished the frame.
    const holds = new Map<number, () => void>();
    const indexes = await lastValueFrom(
      fromVideoFile(clip, { counters, maxQueuedFrames: MAX_QUEUED }).pipe(
        tap((frame) => holds.set(frame.index, holdFrame(frame))),
        observeOn(asyncScheduler),
        slowStage(1, stats),
        tap((index) => {
          holds.get(index)?.();
          holds.delete(index);
        }),
        toArray(),
      ),
    );
    expect(indexes).toEqual(allIndexes);
    expect(counters.maxQueued).toBeLessThanOrEqual(MAX_QUEUED);
    expect(stats.maxInStage).toBeLessThanOrEqual(MAX_QUEUED);
    expect(counters.pauses).toBeGreaterThan(0);
  });

  it('loses the bound in mergeMap without a hold', async () => {
    const counters = createFlowCounters();
    let inner = 0;
    let maxInner = 0;
    const indexes = await lastValueFrom(
      fromVideoFile(clip, { counters, maxQueuedFrames: MAX_QUEUED }).pipe(
        mergeMap((frame) => {
          inner += 1;
          maxInner = Math.max(maxInner, inner);
          return timer(50).pipe(
            map(() => frame.index),
            finalize(() => (inner -= 1)),
          );
        }),
        toArray(),
      ),
    );
    expect(indexes.sort((a, b) => a - b)).toEqual(allIndexes);
    expect(counters.maxQueued).toBe(1);
    expect(maxInner).toBeGreaterThan(MAX_QUEUED);
  });

  it('keeps the bound in mergeMap holding in its project', async () => {
    const counters = createFlowCounters();
    let inner = 0;
    let maxInner = 0;
    const indexes = await lastValueFrom(
      fromVideoFile(clip, { counters, maxQueuedFrames: MAX_QUEUED }).pipe(
        mergeMap((frame) => {
          const release = holdFrame(frame);
          inner += 1;
          maxInner = Math.max(maxInner, inner);
          return timer(5).pipe(
            map(() => frame.index),
            finalize(() => {
              inner -= 1;
              release();
            }),
          );
        }),
        toArray(),
      ),
    );
    expect(indexes.sort((a, b) => a - b)).toEqual(allIndexes);
    expect(counters.maxQueued).toBeLessThanOrEqual(MAX_QUEUED);
    expect(maxInner).toBeLessThanOrEqual(MAX_QUEUED);
  });

  it('keeps the bound in concatMap held by tap', async () => {
    const counters = createFlowCounters();
    const holds = new Map<Frame, () => void>();
    const indexes = await lastValueFrom(
      fromVideoFile(clip, { counters, maxQueuedFrames: MAX_QUEUED }).pipe(
        tap((frame) => holds.set(frame, holdFrame(frame))),
        concatMap((frame) =>
          timer(1).pipe(
            map(() => frame.index),
            finalize(() => {
              holds.get(frame)?.();
              holds.delete(frame);
            }),
          ),
        ),
        toArray(),
      ),
    );
    expect(indexes).toEqual(allIndexes);
    expect(counters.maxQueued).toBeLessThanOrEqual(MAX_QUEUED);
    expect(counters.pauses).toBeGreaterThan(0);
  });

  it('bufferCount holds frames outside the count', async () => {
    const counters = createFlowCounters();
    const batches = await lastValueFrom(
      fromVideoFile(clip, { counters, maxQueuedFrames: MAX_QUEUED }).pipe(bufferCount(10), toArray()),
    );
    expect(batches).toHaveLength(FRAME_COUNT / 10);
    // Ten frames sit in each batch, yet the source counts one at a time and never pauses.
    expect(counters.maxQueued).toBe(1);
    expect(counters.pauses).toBe(0);
  });

  it('keeps the bound for two sources at once', async () => {
    const first = createFlowCounters();
    const second = createFlowCounters();
    const [a, b] = await Promise.all([
      lastValueFrom(fromVideoFile(clip, { counters: first, maxQueuedFrames: 2 }).pipe(slowStage(1), toArray())),
      lastValueFrom(fromVideoFile(clip, { counters: second, maxQueuedFrames: 3 }).pipe(slowStage(1), toArray())),
    ]);
    expect(a).toEqual(allIndexes);
    expect(b).toEqual(allIndexes);
    expect(first.maxQueued).toBeLessThanOrEqual(2);
    expect(second.maxQueued).toBeLessThanOrEqual(3);
  });

  it('merges sources keeping each bound', async () => {
    const counters = createFlowCounters();
    const indexes = await lastValueFrom(
      merge(fromVideoFile(clip, { counters, maxQueuedFrames: MAX_QUEUED })).pipe(slowStage(1), toArray()),
    );
    expect(indexes).toEqual(allIndexes);
    expect(counters.maxQueued).toBeLessThanOrEqual(MAX_QUEUED);
  });
});
