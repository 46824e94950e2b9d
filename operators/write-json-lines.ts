import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Observable, type MonoTypeOperatorFunction } from 'rxjs';
import { holdFrame } from '../src/backpressure.js';
import { FramewiseError } from '../src/errors.js';
import { trackFinalization } from '../src/finalizers.js';
import type { DetectedFrame } from '../src/types.js';

/** Options of {@link writeJsonLines}. */
export interface WriteJsonLinesOptions<T extends DetectedFrame> {
  /** Builds the record written for a frame. Default: {@link toFrameRecord}. */
  readonly record?: (frame: T) => unknown;
}

/** The default JSON Lines record of a frame. */
export interface FrameRecord {
  readonly index: number;
  readonly timestampMs: number;
  readonly sourceId: string;
  readonly detections: readonly {
    readonly classId: number;
    readonly name: string;
    readonly score: number;
    readonly box: readonly number[];
  }[];
}

/** Builds the default record: index, timestamp, source id and detections, without pixels. */
export function toFrameRecord(frame: DetectedFrame): FrameRecord {
  return {
    index: frame.index,
    timestampMs: frame.timestampMs,
    sourceId: frame.sourceId,
    detections: frame.detections.map(({ classId, name, score, box }) => ({ classId, name, score, box: [...box] })),
  };
}

/**
 * Writes one JSON object per frame to a JSON Lines file and passes every frame through.
 *
 * The file is written under a temporary name next to `path` and renamed to `path` when the stream
 * completes, errors or is unsubscribed, so a reader never sees a file that is still growing under
 * its final name. `complete` is forwarded only after the file is closed and renamed.
 *
 * ```
 * frames:             --a--b--c--|
 * writeJsonLines(p):  --a--b--c--|   (p contains three lines once complete arrives)
 * ```
 *
 * @param path Output file, for example `detections.jsonl`.
 * @throws Errors after subscription: `OUTPUT_FAILED` when the file cannot be written.
 * @see writeVideo
 */
export function writeJsonLines<T extends DetectedFrame>(
  path: string,
  options: WriteJsonLinesOptions<T> = {},
): MonoTypeOperatorFunction<T> {
  const toRecord = options.record ?? toFrameRecord;
  const finalPath = resolve(path);
  const tempPath = join(dirname(finalPath), `.${basename(finalPath)}.${process.pid}.partial`);

  return (source) =>
    new Observable<T>((subscriber) => {
      const stream: WriteStream = createWriteStream(tempPath);
      // Holds of frames waiting for the file stream to drain.
      const waiting: (() => void)[] = [];
      // Set once the file has been closed, on any path.
      let closed = false;

      const releaseWaiting = (): void => {
        for (const release of waiting.splice(0)) release();
      };
      stream.on('drain', releaseWaiting);

      const close = (keep: boolean): Promise<void> => {
        closed = true;
        releaseWaiting();
        return new Promise<void>((done, failed) => {
          stream.once('error', failed);
          stream.end(() => done());
        })
          .then(() => (keep ? rename(tempPath, finalPath) : rm(tempPath, { force: true })))
          .catch(async (error: unknown) => {
            await rm(tempPath, { force: true });
            throw new FramewiseError('OUTPUT_FAILED', `Cannot write ${JSON.stringify(path)}: ${describeFileError(error)}.`, { path }, { cause: error });
          });
      };

      stream.once('error', (error) => {
        if (closed) return;
        closed = true;
        releaseWaiting();
        void rm(tempPath, { force: true });
        subscriber.error(
          new FramewiseError(
            'OUTPUT_FAILED',
            `Cannot write ${JSON.stringify(path)}: ${describeFileError(error)}. Check that the folder exists and is writable.`,
            { path },
            { cause: error },
          ),
        );
      });

      const subscription = source.subscribe({
        next: (frame) => {
          if (closed) return;
          const line = `${JSON.stringify(toRecord(frame))}\n`;
          if (!stream.write(line)) waiting.push(holdFrame(frame));
          subscriber.next(frame);
        },
        error: (error: unknown) => {
          if (closed) return;
          close(true).then(
            () => subscriber.error(error),
            () => subscriber.error(error),
          );
        },
        complete: () => {
          if (closed) return;
          close(true).then(
            () => subscriber.complete(),
            (error: unknown) => subscriber.error(error),
          );
        },
      });

      return () => {
        subscription.unsubscribe();
        if (!closed) trackFinalization(close(true));
      };
    });
}

/**
 * Describes a file-system error by its code (`ENOENT`, `EACCES`, ...) rather than its message,
 * which names the temporary file the user never asked for.
 */
function describeFileError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'the folder does not exist (ENOENT)';
  if (code === 'EACCES' || code === 'EPERM') return `permission denied (${code})`;
  return code ?? String(error);
}
