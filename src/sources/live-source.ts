/**
 * The supervisor shared by live sources: opens an input, watches it for stalls, reconnects with
 * exponential backoff and jitter, publishes the source state and feeds frames through the live
 * queue. `fromStream` and `fromCamera` supply the input, so nothing here depends on ffmpeg.
 */
import { Observable, share, type Subscriber } from 'rxjs';
import { FramewiseError, invalidArgument } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Frame } from '../types.js';
import { LiveQueue, type LiveImage, type LiveQueueSettings } from './live-queue.js';
import { SourceStateStore, type SourceState } from './source-state.js';

/**
 * A live source: an observable of frames that also reports its state.
 *
 * It is hot while subscribed: all subscribers share one connection, which opens with the first
 * subscriber and closes when the last one leaves. A later subscription opens a new connection
 * and restarts the counters.
 */
export interface LiveSource extends Observable<Frame> {
  /** Id carried by every frame; for URLs, the URL with its credentials masked. */
  readonly sourceId: string;
  /**
   * The state of the current or latest connection session: the current state at once, then each
   * status change and each new error. Never completes.
   */
  readonly state$: Observable<SourceState>;
  /** The current state, with up-to-date counters. */
  readonly state: SourceState;
}

/** Reconnection settings of a live source that lost its input. */
export interface ReconnectOptions {
  /**
   * Connection attempts in a row that may fail before the source gives up and reports `failed`.
   * Default `Infinity`: retry forever. The count restarts whenever frames flow again.
   */
  readonly maxAttempts?: number;
  /** Delay before the first attempt after a loss, in milliseconds. Default 500. */
  readonly initialDelayMs?: number;
  /**
   * Maximum delay between two attempts, in milliseconds. Default 30 000. Raising it spares a
   * server that is down for long; lowering it resumes sooner once the server is back.
   */
  readonly maxDelayMs?: number;
  /** Factor applied to the delay after each failed attempt. Default 2. */
  readonly multiplier?: number;
  /**
   * Random spread of each delay, as a fraction from 0 to 1: a delay `d` becomes a value between
   * `d * (1 - jitter)` and `d * (1 + jitter)`. Default 0.2. It keeps many cameras that lost the
   * same server from reconnecting at the same instant.
   */
  readonly jitter?: number;
}

/** Validated {@link ReconnectOptions}. */
export interface ReconnectSettings {
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly multiplier: number;
  readonly jitter: number;
}

/**
 * Validates reconnection options; `false` turns reconnection off.
 * @throws FramewiseError `INVALID_ARGUMENT` for values out of range.
 */
export function resolveReconnectOptions(options: ReconnectOptions | false | undefined): ReconnectSettings | undefined {
  if (options === false) return undefined;
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw invalidArgument('reconnect', options, 'an object of reconnection options, or false');
  }
  const { maxAttempts = Infinity, initialDelayMs = 500, maxDelayMs = 30_000, multiplier = 2, jitter = 0.2 } = options ?? {};
  if (!(maxAttempts === Infinity || (Number.isSafeInteger(maxAttempts) && maxAttempts >= 0))) {
    throw invalidArgument('reconnect.maxAttempts', maxAttempts, 'an integer of at least 0, or Infinity');
  }
  checkNonNegativeFinite('reconnect.initialDelayMs', initialDelayMs);
  checkNonNegativeFinite('reconnect.maxDelayMs', maxDelayMs);
  if (maxDelayMs < initialDelayMs) {
    throw invalidArgument('reconnect.maxDelayMs', maxDelayMs, `at least initialDelayMs (${initialDelayMs})`);
  }
  if (!(typeof multiplier === 'number' && Number.isFinite(multiplier) && multiplier >= 1)) {
    throw invalidArgument('reconnect.multiplier', multiplier, 'a finite number of at least 1');
  }
  if (!(typeof jitter === 'number' && jitter >= 0 && jitter <= 1)) {
    throw invalidArgument('reconnect.jitter', jitter, 'a number from 0 to 1');
  }
  return { maxAttempts, initialDelayMs, maxDelayMs, multiplier, jitter };
}

/**
 * Returns the delay before reconnection attempt `attempt` (1 for the first), in milliseconds:
 * `initialDelayMs * multiplier ** (attempt - 1)`, capped at `maxDelayMs`, then spread by `jitter`.
 */
export function reconnectDelayMs(settings: ReconnectSettings, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(settings.maxDelayMs, settings.initialDelayMs * settings.multiplier ** Math.max(0, attempt - 1));
  const spread = 1 + settings.jitter * (2 * random() - 1);
  return Math.max(0, Math.round(base * spread));
}

/**
 * Validates a timeout option in milliseconds.
 * @throws FramewiseError `INVALID_ARGUMENT` unless it is a positive finite number.
 */
export function checkTimeoutMs(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (!(typeof value === 'number' && Number.isFinite(value) && value > 0)) {
    throw invalidArgument(name, value, 'a positive number of milliseconds');
  }
  return value;
}

function checkNonNegativeFinite(name: string, value: unknown): void {
  if (!(typeof value === 'number' && Number.isFinite(value) && value >= 0)) {
    throw invalidArgument(name, value, 'a finite number of milliseconds, 0 or more');
  }
}

/** The way an input ended. */
export type LiveInputEnd =
  /** The connection was lost or could not be opened; the supervisor may retry. */
  | { readonly kind: 'disconnected'; readonly error: FramewiseError }
  /** The input has no more frames, as a capture whose `read()` returned nothing. */
  | { readonly kind: 'ended' }
  /** An error that no retry can fix, such as a missing ffmpeg or rejected credentials. */
  | { readonly kind: 'fatal'; readonly error: FramewiseError };

/** Callbacks an input calls; calls after `close()` are ignored. */
export interface LiveInputHandlers {
  frame(image: LiveImage): void;
  /** Called when the input stops by itself. The supervisor ignores calls after the first. */
  ended(end: LiveInputEnd): void;
}

/** One open connection or device. */
export interface LiveInput {
  /** Stops the input and releases what it holds (child process, capture). */
  close(): void;
  /** Pauses or resumes reading, for the `block` policy. */
  setReading(allowed: boolean): void;
}

/** Everything the supervisor needs to run a live source. */
export interface LiveSourceConfig {
  readonly sourceId: string;
  /** Name of the source in messages, for example `stream "rtsp://***:***@cam/live"`. Free of credentials. */
  readonly description: string;
  /** Opens one connection. Called again for each reconnection attempt. */
  readonly open: (handlers: LiveInputHandlers) => LiveInput;
  /** Runs before the first connection of a session, for example to check that ffmpeg runs. */
  readonly prepare?: () => Promise<void>;
  readonly queue: LiveQueueSettings;
  /** No frame for this long while live → `stalled`, then reconnect. Undefined: no watchdog. */
  readonly stallTimeoutMs: number | undefined;
  /** No first frame for this long after opening → the attempt failed. Undefined: wait forever. */
  readonly connectTimeoutMs: number | undefined;
  /** Undefined: a lost input fails the source. */
  readonly reconnect: ReconnectSettings | undefined;
  readonly logger: Logger;
}

/** Creates a {@link LiveSource} from a supervisor configuration. */
export function createLiveSource(config: LiveSourceConfig): LiveSource {
  return new SupervisedLiveSource(config);
}

class SupervisedLiveSource extends Observable<Frame> implements LiveSource {
  readonly sourceId: string;
  private readonly store: SourceStateStore;

  constructor(config: LiveSourceConfig) {
    const store = new SourceStateStore(config.sourceId);
    const connection = new Observable<Frame>((subscriber) => {
      const session = new LiveSession(config, store, subscriber);
      session.start();
      return () => session.stop();
    }).pipe(share());
    super((subscriber) => connection.subscribe(subscriber));
    this.sourceId = config.sourceId;
    this.store = store;
  }

  get state$(): Observable<SourceState> {
    return this.store.state$;
  }

  get state(): SourceState {
    return this.store.snapshot();
  }
}

/** One connection session: from the first subscriber to the end, across reconnections. */
class LiveSession {
  private readonly config: LiveSourceConfig;
  private readonly store: SourceStateStore;
  private readonly subscriber: Subscriber<Frame>;
  private readonly queue: LiveQueue;
  private readonly logger: Logger;

  /** Set once the session is over: stopped, ended or failed. Later events are ignored. */
  private finished = false;
  /** Set while the queue drains after the input ended normally. */
  private ending = false;
  /** The open input, if any. */
  private input: LiveInput | undefined;
  /** Increases with every opened input, so events of a closed input are recognized and ignored. */
  private attempt = 0;
  /** True once the current input delivered a frame. */
  private attemptWentLive = false;
  /** True once any input of this session delivered a frame. */
  private everLive = false;
  /** Reconnection attempts since frames last flowed. */
  private attemptsSinceLive = 0;
  private reading = true;
  private stallTimer: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(config: LiveSourceConfig, store: SourceStateStore, subscriber: Subscriber<Frame>) {
    this.config = config;
    this.store = store;
    this.subscriber = subscriber;
    this.logger = config.logger;
    this.queue = new LiveQueue(config.queue, config.sourceId, store.counters, {
      deliver: (frame) => subscriber.next(frame),
      readingChanged: (allowed) => this.onReadingChanged(allowed),
    });
  }

  start(): void {
    this.store.reset();
    this.store.setStatus('connecting');
    const prepared = this.config.prepare ? this.config.prepare() : Promise.resolve();
    prepared.then(
      () => {
        if (!this.finished) this.open();
      },
      (error: unknown) => this.fail(asFramewiseError(error, this.config)),
    );
  }

  /** Ends the session from the subscribers' side. */
  stop(): void {
    if (this.finished) return;
    this.finished = true;
    this.releaseInput();
    this.queue.close();
    this.store.setStatus('ended');
    this.logger.debug('Live source stopped', this.fields());
  }

  private open(): void {
    this.attempt += 1;
    const attempt = this.attempt;
    this.attemptWentLive = false;
    this.logger.debug('Opening live source', { ...this.fields(), attempt: this.attemptsSinceLive });
    try {
      this.input = this.config.open({
        frame: (image) => {
          if (attempt === this.attempt) this.onFrame(image);
        },
        ended: (end) => {
          if (attempt === this.attempt) this.onEnded(end);
        },
      });
    } catch (error) {
      this.fail(asFramewiseError(error, this.config));
      return;
    }
    if (!this.reading) this.input.setReading(false);
    const timeoutMs = this.config.connectTimeoutMs;
    if (timeoutMs !== undefined) {
      this.connectTimer = setTimeout(() => {
        this.connectTimer = undefined;
        this.lose(
          new FramewiseError(
            'SOURCE_FAILED',
            `No frame arrived from ${this.config.description} within ${timeoutMs} ms of connecting. ` +
              'Check that the source sends video, or raise connectTimeoutMs.',
            { sourceId: this.config.sourceId, reason: 'connect-timeout', connectTimeoutMs: timeoutMs },
          ),
        );
      }, timeoutMs);
    }
  }

  private onFrame(image: LiveImage): void {
    if (this.finished || this.ending) return;
    if (!this.attemptWentLive) {
      this.attemptWentLive = true;
      this.clearTimer('connect');
      if (this.everLive) {
        this.store.counters.reconnects += 1;
        this.logger.info('Live source reconnected', { ...this.fields(), reconnects: this.store.counters.reconnects });
      } else {
        this.logger.info('Live source connected', { ...this.fields(), width: image.width, height: image.height });
      }
      this.everLive = true;
      this.attemptsSinceLive = 0;
      this.store.setStatus('live');
    }
    this.armStallTimer();
    this.queue.push(image);
  }

  private onEnded(end: LiveInputEnd): void {
    if (this.finished || this.ending) return;
    this.input = undefined;
    this.clearTimer('stall');
    this.clearTimer('connect');
    if (end.kind === 'ended') {
      this.ending = true;
      this.logger.info('Live source ended', this.fields());
      this.queue.finish(() => {
        if (this.finished) return;
        this.finished = true;
        this.store.setStatus('ended');
        this.subscriber.complete();
      });
      return;
    }
    if (end.kind === 'fatal') {
      this.fail(end.error);
      return;
    }
    this.lose(end.error);
  }

  /** Handles a lost or failed connection: retry after the backoff delay, or fail. */
  private lose(error: FramewiseError): void {
    if (this.finished || this.ending) return;
    this.releaseInput();
    const settings = this.config.reconnect;
    if (settings === undefined || this.attemptsSinceLive >= settings.maxAttempts) {
      const attempts = this.attemptsSinceLive;
      this.fail(
        settings === undefined || attempts === 0
          ? error
          : new FramewiseError(
              'SOURCE_FAILED',
              `Gave up on ${this.config.description} after ${attempts} failed reconnection attempts. Last error: ${error.message}`,
              { ...error.context, sourceId: this.config.sourceId, reason: 'reconnect-attempts-exhausted', attempts },
              { cause: error },
            ),
      );
      return;
    }

    this.attemptsSinceLive += 1;
    const delayMs = reconnectDelayMs(settings, this.attemptsSinceLive);
    this.logger.warn('Live source lost its input; reconnecting', {
      ...this.fields(),
      error: error.message,
      attempt: this.attemptsSinceLive,
      delayMs,
    });
    this.store.setStatus('reconnecting', error);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.finished) return;
      this.store.counters.reconnectAttempts += 1;
      this.open();
    }, delayMs);
  }

  private armStallTimer(): void {
    this.clearTimer('stall');
    const timeoutMs = this.config.stallTimeoutMs;
    if (timeoutMs === undefined || !this.reading) return;
    this.stallTimer = setTimeout(() => {
      this.stallTimer = undefined;
      const error = new FramewiseError(
        'SOURCE_FAILED',
        `No frame arrived from ${this.config.description} for ${timeoutMs} ms; reconnecting. ` +
          'Raise stallTimeoutMs if the source sends frames less often.',
        { sourceId: this.config.sourceId, reason: 'stalled', stallTimeoutMs: timeoutMs },
      );
      this.logger.warn('Live source stalled', { ...this.fields(), stallTimeoutMs: timeoutMs });
      this.store.setStatus('stalled', error);
      this.lose(error);
    }, timeoutMs);
  }

  private onReadingChanged(allowed: boolean): void {
    this.reading = allowed;
    this.input?.setReading(allowed);
    // No frame can arrive while reading is paused, so the watchdog waits for the resume.
    if (!allowed) this.clearTimer('stall');
    else if (this.attemptWentLive) this.armStallTimer();
  }

  private fail(error: FramewiseError): void {
    if (this.finished) return;
    this.finished = true;
    this.releaseInput();
    this.queue.close();
    this.store.setStatus('failed', error);
    this.logger.error('Live source failed', { ...this.fields(), error: error.message, code: error.code });
    this.subscriber.error(error);
  }

  private releaseInput(): void {
    this.clearTimer('stall');
    this.clearTimer('connect');
    this.clearTimer('retry');
    const input = this.input;
    this.input = undefined;
    // Events of the closed input carry an old attempt number from now on.
    this.attempt += 1;
    input?.close();
  }

  private clearTimer(which: 'stall' | 'connect' | 'retry'): void {
    const key = `${which}Timer` as const;
    const timer = this[key];
    if (timer !== undefined) clearTimeout(timer);
    this[key] = undefined;
  }

  private fields(): Record<string, unknown> {
    const counters = this.store.counters;
    return {
      sourceId: this.config.sourceId,
      framesReceived: counters.framesReceived,
      framesEmitted: counters.framesEmitted,
      reconnects: counters.reconnects,
    };
  }
}

function asFramewiseError(error: unknown, config: LiveSourceConfig): FramewiseError {
  if (error instanceof FramewiseError) return error;
  return new FramewiseError(
    'DECODE_FAILED',
    `Opening ${config.description} failed: ${error instanceof Error ? error.message : String(error)}`,
    { sourceId: config.sourceId },
    { cause: error },
  );
}
