import { describe, expect, it } from 'vitest';
import { holdFrame } from '../src/backpressure.js';
import { isFramewiseError } from '../src/errors.js';
import { LiveQueue, resolveLiveQueueOptions, type LiveQueueOptions } from '../src/sources/live-queue.js';
import { reconnectDelayMs, resolveReconnectOptions } from '../src/sources/live-source.js';
import { createSourceCounters, type MutableSourceCounters } from '../src/sources/source-state.js';
import type { Frame } from '../src/types.js';

/** Creates a queue whose consumer keeps a hold on every frame until the test releases it. */
function heldQueue(options: LiveQueueOptions) {
  const counters: MutableSourceCounters = createSourceCounters();
  const delivered: Frame[] = [];
  const releases: Array<() => void> = [];
  const readingChanges: boolean[] = [];
  const queue = new LiveQueue(resolveLiveQueueOptions(options), 'cam', counters, {
    deliver: (frame) => {
      delivered.push(frame);
      releases.push(holdFrame(frame));
    },
    readingChanged: (allowed) => readingChanges.push(allowed),
  });
  const push = (value: number, arrivedAtMs = performance.now()): void =>
    queue.push({ width: 1, height: 1, data: new Uint8Array([value, value, value]) }, arrivedAtMs);
  const releaseFirst = (): void => (releases.shift() as () => void)();
  const releaseAll = (): void => {
    while (releases.length > 0) releaseFirst();
  };
  return { queue, counters, delivered, readingChanges, push, releaseFirst, releaseAll };
}

const values = (frames: Frame[]): number[] => frames.map((frame) => frame.data[0] as number);

describe('LiveQueue drop-oldest', () => {
  it('keeps the newest frame waiting while the consumer is busy', () => {
    const { counters, delivered, push, releaseFirst } = heldQueue({ maxQueuedFrames: 3, overflow: 'drop-oldest' });
    for (let value = 0; value < 10; value += 1) push(value);

    expect(values(delivered)).toEqual([0, 1]);
    expect(counters.drops.overflow).toBe(7);
    expect(counters.queuedFrames).toBe(3);

    releaseFirst();
    expect(values(delivered)).toEqual([0, 1, 9]);
    expect(delivered.map((frame) => frame.index)).toEqual([0, 1, 2]);
  });

  it('never queues more than maxQueuedFrames', () => {
    const { counters, push, releaseFirst, releaseAll } = heldQueue({ maxQueuedFrames: 4 });
    for (let value = 0; value < 50; value += 1) {
      push(value);
      if (value % 3 === 0) releaseFirst();
    }
    releaseAll();

    expect(counters.maxQueuedFramesSeen).toBe(4);
    expect(counters.queuedFrames).toBe(0);
    expect(counters.framesReceived).toBe(50);
    expect(counters.drops.overflow).toBeGreaterThan(0);
    expect(counters.framesEmitted + counters.drops.overflow).toBe(50);
  });

  it('counts frames still waiting at close as stopped', () => {
    const { queue, counters, push } = heldQueue({ maxQueuedFrames: 2 });
    push(0);
    push(1);
    queue.close();
    push(2);
    expect(counters.drops.stopped).toBe(1);
    expect(counters.framesReceived).toBe(2);
    expect(counters.framesEmitted).toBe(1);
  });

  it('rejects a bound of 1', () => {
    expect(() => resolveLiveQueueOptions({ maxQueuedFrames: 1 })).toThrow(/at least 2 under 'drop-oldest'/);
  });
});

describe('LiveQueue drop-newest', () => {
  it('drops arrivals while the queue is full', () => {
    const { counters, delivered, push, releaseFirst } = heldQueue({ maxQueuedFrames: 3, overflow: 'drop-newest' });
    for (let value = 0; value < 10; value += 1) push(value);
    expect(values(delivered)).toEqual([0, 1, 2]);
    expect(counters.drops.overflow).toBe(7);

    releaseFirst();
    push(10);
    expect(values(delivered)).toEqual([0, 1, 2, 10]);
  });
});

describe('LiveQueue block', () => {
  it('asks to stop reading when full and drops nothing', () => {
    const { counters, delivered, readingChanges, push, releaseFirst } = heldQueue({ maxQueuedFrames: 2, overflow: 'block' });
    push(0);
    push(1);
    expect(readingChanges).toEqual([false]);

    // Frames the input had already read are kept.
    push(2);
    expect(counters.drops.overflow).toBe(0);
    releaseFirst();
    expect(values(delivered)).toEqual([0, 1, 2]);
    releaseFirst();
    expect(readingChanges).toEqual([false, true]);
  });
});

describe('LiveQueue staleness budget', () => {
  it('drops frames older than maxFrameAgeMs instead of emitting them', () => {
    const { counters, delivered, push } = heldQueue({ maxQueuedFrames: 4, maxFrameAgeMs: 50 });
    push(0, performance.now() - 200);
    push(1);
    expect(values(delivered)).toEqual([1]);
    expect(counters.drops.stale).toBe(1);
  });
});

describe('LiveQueue timestamps', () => {
  it('measures arrival time from the first frame, strictly increasing', () => {
    const { delivered, push, releaseFirst } = heldQueue({ maxQueuedFrames: 8 });
    push(0, 1000);
    push(1, 1040.5);
    push(2, 1040.5);
    push(3, 1000);
    for (let i = 0; i < 4; i += 1) releaseFirst();
    expect(delivered.map((frame) => frame.timestampMs)).toEqual([0, 40.5, 40.501, 40.502]);
    expect(delivered.every((frame) => frame.live)).toBe(true);
  });
});

describe('resolveLiveQueueOptions', () => {
  it.each([
    [{ overflow: 'drop-all' }, 'overflow'],
    [{ maxQueuedFrames: 0, overflow: 'block' }, 'maxQueuedFrames'],
    [{ maxQueuedFrames: 2.5 }, 'maxQueuedFrames'],
    [{ maxFrameAgeMs: 0 }, 'maxFrameAgeMs'],
    [{ maxFrameAgeMs: Number.NaN }, 'maxFrameAgeMs'],
  ])('rejects %j', (options, argument) => {
    let caught: unknown;
    try {
      resolveLiveQueueOptions(options as LiveQueueOptions);
    } catch (error) {
      caught = error;
    }
    expect(isFramewiseError(caught, 'INVALID_ARGUMENT')).toBe(true);
    expect((caught as { context: { argument: string } }).context.argument).toBe(argument);
  });

  it('fills in the defaults', () => {
    expect(resolveLiveQueueOptions({})).toEqual({ maxQueuedFrames: 4, overflow: 'drop-oldest', maxFrameAgeMs: undefined });
  });
});

describe('reconnectDelayMs', () => {
  const settings = resolveReconnectOptions({ initialDelayMs: 500, maxDelayMs: 4000, multiplier: 2, jitter: 0.2 });

  it.each([
    // attempt, random value, expected delay
    [1, 0.5, 500],
    [2, 0.5, 1000],
    [3, 0.5, 2000],
    [4, 0.5, 4000],
    [9, 0.5, 4000], // capped at maxDelayMs
    [1, 0, 400], // jitter: -20 %
    [1, 1, 600], // jitter: +20 %
  ])('attempt %i with random %d waits %i ms', (attempt, random, expected) => {
    expect(reconnectDelayMs(settings!, attempt, () => random)).toBe(expected);
  });

  it('is off with reconnect: false', () => {
    expect(resolveReconnectOptions(false)).toBeUndefined();
  });

  it('rejects a maximum below the initial delay', () => {
    expect(() => resolveReconnectOptions({ initialDelayMs: 1000, maxDelayMs: 10 })).toThrow(/at least initialDelayMs/);
  });
});
