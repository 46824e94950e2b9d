import { BehaviorSubject, type Observable } from 'rxjs';
import type { FramewiseError } from '../errors.js';

/**
 * Status of a live source:
 *
 * - `connecting`: the first connection is being opened; no frame has arrived yet.
 * - `live`: frames are arriving.
 * - `stalled`: no frame arrived for `stallTimeoutMs`; the source is about to reconnect.
 * - `reconnecting`: the connection was lost; the source waits for its backoff delay or for the
 *   first frame of a new connection.
 * - `ended`: the stream ended (a capture returned its last image) or the last subscriber left.
 *   It is also the status before the first subscription.
 * - `failed`: the source gave up, after its reconnection attempts or on an error no retry can fix.
 */
export type SourceStatus = 'connecting' | 'live' | 'stalled' | 'reconnecting' | 'ended' | 'failed';

/** Frames dropped by a live source, by reason. */
export interface DropCounts {
  /** Dropped because the queue was full (`drop-oldest` and `drop-newest` policies). */
  readonly overflow: number;
  /** Dropped because they waited longer than `maxFrameAgeMs`. */
  readonly stale: number;
  /** Still waiting in the queue when the source stopped or failed. */
  readonly stopped: number;
}

/** Counters of one live source subscription. They restart at 0 when a new connection session starts. */
export interface SourceCounters {
  /** Frames decoded from the camera or stream. */
  readonly framesReceived: number;
  /** Frames handed to subscribers. `framesReceived = framesEmitted + framesDropped + queued frames not yet emitted`. */
  readonly framesEmitted: number;
  /** Frames received and never emitted: the sum of {@link SourceCounters.drops}. */
  readonly framesDropped: number;
  /** Dropped frames by reason. */
  readonly drops: DropCounts;
  /** Times the source became `live` again after losing its connection. */
  readonly reconnects: number;
  /** Connection attempts after the first one, successful or not. */
  readonly reconnectAttempts: number;
  /** Frames in the live queue now: waiting to be emitted plus emitted and still held downstream. */
  readonly queuedFrames: number;
  /** Highest `queuedFrames` seen. Never above `maxQueuedFrames` under the dropping policies. */
  readonly maxQueuedFramesSeen: number;
}

/** A snapshot of a live source: status, counters and the last error. */
export interface SourceState extends SourceCounters {
  /** Id of the source; for URLs, the URL with its credentials masked. */
  readonly sourceId: string;
  readonly status: SourceStatus;
  /**
   * The latest error: a lost connection, a stall or the error the source failed with. It stays set
   * after the source recovers, until a newer error replaces it. Messages and context are free of
   * credentials.
   */
  readonly lastError: FramewiseError | undefined;
  /** Wall-clock time (`Date.now()`) of the latest status change. */
  readonly statusSince: number;
}

/** Mutable counters, as the live queue and the supervisor update them. */
export interface MutableSourceCounters {
  framesReceived: number;
  framesEmitted: number;
  drops: { overflow: number; stale: number; stopped: number };
  reconnects: number;
  reconnectAttempts: number;
  queuedFrames: number;
  maxQueuedFramesSeen: number;
}

/** Creates counters at zero. */
export function createSourceCounters(): MutableSourceCounters {
  return {
    framesReceived: 0,
    framesEmitted: 0,
    drops: { overflow: 0, stale: 0, stopped: 0 },
    reconnects: 0,
    reconnectAttempts: 0,
    queuedFrames: 0,
    maxQueuedFramesSeen: 0,
  };
}

/** True for the statuses after which a source emits nothing more. */
export function isFinalStatus(status: SourceStatus): boolean {
  return status === 'ended' || status === 'failed';
}

/**
 * Holds the state of one live source and publishes it. `state$` replays the current state to each
 * new subscriber and then emits on every status change and every new error; counters in between
 * are read from {@link SourceStateStore.snapshot}. `state$` never completes, because a source
 * that ended can be subscribed again.
 */
export class SourceStateStore {
  readonly sourceId: string;
  /** Counters the live queue and the supervisor update in place. */
  readonly counters: MutableSourceCounters = createSourceCounters();
  private status: SourceStatus;
  private lastError: FramewiseError | undefined;
  private statusSince = Date.now();
  private readonly subject: BehaviorSubject<SourceState>;

  constructor(sourceId: string, initialStatus: SourceStatus = 'ended') {
    this.sourceId = sourceId;
    this.status = initialStatus;
    this.subject = new BehaviorSubject(this.snapshot());
  }

  /** Status changes and errors, starting with the current state. */
  get state$(): Observable<SourceState> {
    return this.subject.asObservable();
  }

  get currentStatus(): SourceStatus {
    return this.status;
  }

  /** Returns the current state with up-to-date counters. */
  snapshot(): SourceState {
    const counters = this.counters;
    const drops = { ...counters.drops };
    return {
      sourceId: this.sourceId,
      status: this.status,
      lastError: this.lastError,
      statusSince: this.statusSince,
      framesReceived: counters.framesReceived,
      framesEmitted: counters.framesEmitted,
      framesDropped: drops.overflow + drops.stale + drops.stopped,
      drops,
      reconnects: counters.reconnects,
      reconnectAttempts: counters.reconnectAttempts,
      queuedFrames: counters.queuedFrames,
      maxQueuedFramesSeen: counters.maxQueuedFramesSeen,
    };
  }

  /** Zeroes the counters and clears the last error, for a new subscription. Publishes nothing. */
  reset(): void {
    Object.assign(this.counters, createSourceCounters());
    this.lastError = undefined;
  }

  /** Changes the status (and the last error when one is given) and publishes the new state. */
  setStatus(status: SourceStatus, error?: FramewiseError): void {
    if (status !== this.status) {
      this.status = status;
      this.statusSince = Date.now();
    }
    if (error !== undefined) this.lastError = error;
    this.subject.next(this.snapshot());
  }

  /** Records an error without changing the status, and publishes the new state. */
  setError(error: FramewiseError): void {
    this.lastError = error;
    this.subject.next(this.snapshot());
  }
}
