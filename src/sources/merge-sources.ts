import { catchError, combineLatest, EMPTY, map, merge, Observable } from 'rxjs';
import { FramewiseError, invalidArgument, isFramewiseError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { Frame } from '../types.js';
import type { LiveSource } from './live-source.js';
import { isFinalStatus, SourceStateStore, type SourceState } from './source-state.js';

/** Options of {@link mergeSources}. */
export interface MergeSourcesOptions {
  /** Receives an error entry for each source that fails, with its id and the error message. Silent by default. */
  readonly logger?: Logger;
}

/** The merged frames of several sources, with the state of each. */
export interface MergedSources extends Observable<Frame> {
  /** Ids of the merged sources, in the order given. */
  readonly sourceIds: readonly string[];
  /**
   * The state of every source, by id, in the order given: the current states at once, then again
   * whenever one of them changes. Live sources report their own state; other observables get a
   * simple one (`connecting`, `live` after the first frame, `ended`, `failed`). Never completes.
   */
  readonly state$: Observable<ReadonlyMap<string, SourceState>>;
}

/**
 * Merges the frames of several sources into one stream, keeping each frame's source id and
 * isolating failures. A source that errors (a camera that gave up reconnecting, an unreadable
 * file) reports `failed` on its state and its error is logged. That source then completes while
 * the others go on. The merged stream completes when every source has completed or failed.
 *
 * Source ids: pass an array of live sources (each keeps its `sourceId`) or any observables (they
 * are named `source-0`, `source-1`, … by position), or a record whose keys name the sources. Each
 * frame is tagged with its source's id by a spread copy, which keeps its lease, so the sources'
 * flow control stays intact (see docs/backpressure.md).
 *
 * ```text
 * cam-a:   a0----a1----a2----a3--
 * cam-b:   ---b0----✕              (fails for good)
 * cam-c:   -----c0------c1----c2-
 * merged:  a0-b0-c0-a1--a2-c1-a3-c2-   cam-b: failed, others go on
 * ```
 *
 * @example
 * ```ts
 * import { fromStream, mergeSources } from 'framewise';
 * import { detect } from 'framewise/operators';
 *
 * const cameras = mergeSources([fromStream('rtsp://10.0.0.7/live'), fromStream('rtsp://10.0.0.8/live')]);
 * cameras.state$.subscribe((states) => console.log([...states.values()].map((s) => `${s.sourceId}: ${s.status}`)));
 * cameras.pipe(detect(detector, { maxBatchSize: 4, maxBatchWaitMs: 20 })).subscribe((frame) => {
 *   console.log(frame.sourceId, frame.detections.length);
 * });
 * ```
 *
 * @param sources Live sources or frame observables, as an array or as a record keyed by source id.
 * @param options Logging.
 * @throws {FramewiseError} `INVALID_ARGUMENT` at call time when no source is given, an entry is
 *   not an observable, or two sources have the same id.
 * @see fromStream
 * @see fromCamera
 */
export function mergeSources(
  sources: readonly Observable<Frame>[] | Readonly<Record<string, Observable<Frame>>>,
  options: MergeSourcesOptions = {},
): MergedSources {
  const entries = namedSources(sources);
  const logger = options.logger ?? silentLogger;
  const ids = entries.map((entry) => entry.id);
  const duplicate = ids.find((id, index) => ids.indexOf(id) !== index);
  if (duplicate !== undefined) {
    throw invalidArgument('sources', ids, `distinct source ids; ${JSON.stringify(duplicate)} appears twice (name the sources with a record or the sourceId option)`);
  }

  const members = entries.map((entry) => new MergeMember(entry.id, entry.source, logger));
  const state$ = combineLatest(members.map((member) => member.state$)).pipe(
    map((states) => new Map(states.map((state, index) => [ids[index] as string, state] as const))),
  );
  return new MergedObservable(merge(...members.map((member) => member.frames())), ids, state$);
}

class MergedObservable extends Observable<Frame> implements MergedSources {
  readonly sourceIds: readonly string[];
  readonly state$: Observable<ReadonlyMap<string, SourceState>>;

  constructor(frames: Observable<Frame>, sourceIds: readonly string[], state$: Observable<ReadonlyMap<string, SourceState>>) {
    super((subscriber) => frames.subscribe(subscriber));
    this.sourceIds = Object.freeze([...sourceIds]);
    this.state$ = state$;
  }
}

/** One merged source: its id, its frames tagged with the id, and its state. */
class MergeMember {
  readonly id: string;
  private readonly source: Observable<Frame>;
  private readonly logger: Logger;
  /** State of a source that does not report its own; undefined for live sources. */
  private readonly store: SourceStateStore | undefined;

  constructor(id: string, source: Observable<Frame>, logger: Logger) {
    this.id = id;
    this.source = source;
    this.logger = logger;
    this.store = isLiveSource(source) ? undefined : new SourceStateStore(id);
  }

  get state$(): Observable<SourceState> {
    return this.store ? this.store.state$ : (this.source as LiveSource).state$;
  }

  frames(): Observable<Frame> {
    const store = this.store;
    const id = this.id;
    const tagged = new Observable<Frame>((subscriber) => {
      if (store) {
        store.reset();
        store.setStatus('connecting');
      }
      const subscription = this.source.subscribe({
        next: (frame) => {
          if (store) {
            store.counters.framesReceived += 1;
            store.counters.framesEmitted += 1;
            if (store.currentStatus !== 'live') store.setStatus('live');
          }
          // A spread copy keeps the frame's lease, so holds taken downstream still reach the source.
          subscriber.next(frame.sourceId === id ? frame : { ...frame, sourceId: id });
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => {
          store?.setStatus('ended');
          subscriber.complete();
        },
      });
      return () => {
        subscription.unsubscribe();
        if (store && !isFinalStatus(store.currentStatus)) store.setStatus('ended');
      };
    });
    return tagged.pipe(
      catchError((error: unknown) => {
        const failure = isFramewiseError(error)
          ? error
          : new FramewiseError('SOURCE_FAILED', `Source ${JSON.stringify(id)} failed: ${error instanceof Error ? error.message : String(error)}`, { sourceId: id }, { cause: error });
        store?.setStatus('failed', failure);
        this.logger.error('Source failed; the other sources go on', { sourceId: id, code: failure.code, error: failure.message });
        return EMPTY;
      }),
    );
  }
}

function isLiveSource(source: Observable<Frame>): source is LiveSource {
  const candidate = source as Partial<LiveSource>;
  return typeof candidate.sourceId === 'string' && candidate.state$ instanceof Observable;
}

function namedSources(
  sources: readonly Observable<Frame>[] | Readonly<Record<string, Observable<Frame>>>,
): Array<{ id: string; source: Observable<Frame> }> {
  if (typeof sources !== 'object' || sources === null) {
    throw invalidArgument('sources', sources, 'an array or a record of frame observables');
  }
  const entries = Array.isArray(sources)
    ? sources.map((source: Observable<Frame>, index) => ({ id: isObservable(source) && isLiveSource(source) ? source.sourceId : `source-${index}`, source }))
    : Object.entries(sources).map(([id, source]) => ({ id, source }));
  if (entries.length === 0) throw invalidArgument('sources', sources, 'at least one source');
  for (const { id, source } of entries) {
    if (!isObservable(source)) throw invalidArgument(`sources[${JSON.stringify(id)}]`, typeof source, 'an Observable of frames');
  }
  return entries;
}

function isObservable(value: unknown): value is Observable<Frame> {
  return value instanceof Observable;
}
