/**
 * Verified downloads: the body goes to `<destination>.partial`, which is renamed to the destination
 * only after its size and SHA-256 match. So a file at the destination is always complete, and an
 * interrupted download leaves a `.partial` file that the next attempt resumes with an HTTP `Range`
 * request. A `<destination>.lock` file stops two processes from writing the same `.partial` file.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { FramewiseError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';

/** Progress of one download, in bytes. */
export interface DownloadProgress {
  /** Bytes of the file present so far, including those kept from an earlier attempt. */
  readonly receivedBytes: number;
  readonly totalBytes: number;
  /** Bytes kept from an earlier, interrupted attempt (0 for a fresh download). */
  readonly resumedFromBytes: number;
}

/** Options of {@link downloadVerified}. */
export interface DownloadOptions {
  readonly url: string;
  /** Final path of the file. Its folder must exist. */
  readonly destination: string;
  readonly expectedBytes: number;
  /** Expected SHA-256, 64 hex digits. */
  readonly sha256: string;
  /** Called after each received chunk. Keep it cheap: it runs for every network chunk. */
  readonly onProgress?: (progress: DownloadProgress) => void;
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
}

/** Outcome of {@link downloadVerified}. */
export interface DownloadResult {
  readonly path: string;
  /** Bytes kept from an earlier attempt, 0 when the download started from the beginning. */
  readonly resumedFromBytes: number;
  /** Bytes received over the network by this call. */
  readonly downloadedBytes: number;
}

/**
 * Downloads `url` to `destination`, resuming a `.partial` file left by an interrupted attempt, and
 * renames it into place once its size and SHA-256 are right.
 *
 * @returns The path and how much was resumed and downloaded.
 * @throws FramewiseError, as a rejection:
 *   `DOWNLOAD_FAILED` when the server cannot be reached, returns an HTTP error, or the
 *   connection ends early (the `.partial` file is kept, so running it again resumes), or when
 *   another process holds the lock;
 *   `CHECKSUM_MISMATCH` when the complete file has another SHA-256 or is larger than expected
 *   (the `.partial` file is deleted, so the next attempt starts over);
 *   `ABORTED` when `signal` aborts (the `.partial` file is kept).
 */
export async function downloadVerified(options: DownloadOptions): Promise<DownloadResult> {
  const logger = options.logger ?? silentLogger;
  const lockPath = `${options.destination}.lock`;
  await acquireLock(lockPath, options.url);
  try {
    return await downloadLocked(options, logger);
  } finally {
    await unlink(lockPath).catch(() => undefined);
  }
}

async function downloadLocked(options: DownloadOptions, logger: Logger): Promise<DownloadResult> {
  const { url, expectedBytes } = options;
  const partialPath = `${options.destination}.partial`;

  let offset = await fileSize(partialPath);
  if (offset > expectedBytes) {
    logger.warn('Discarding a partial download larger than the expected file', { url, path: partialPath, bytes: offset, expectedBytes });
    await unlink(partialPath);
    offset = 0;
  }

  let downloadedBytes = 0;
  let resumedFromBytes = offset;
  if (offset < expectedBytes) {
    const response = await request(url, offset, options.signal);
    if (response.status !== 206 && offset > 0) {
      logger.info('Server ignored the Range request; downloading from the start', { url, status: response.status });
      resumedFromBytes = 0;
    }
    downloadedBytes = await writeBody(response, partialPath, resumedFromBytes, options);
  }

  await verify(partialPath, options);
  await rename(partialPath, options.destination);
  logger.info('Download verified', { url, path: options.destination, bytes: expectedBytes, resumedFromBytes });
  return { path: options.destination, resumedFromBytes, downloadedBytes };
}

/**
 * Sends the GET request, with `Range: bytes=<offset>-` when resuming. Accepts 200, and 206 only
 * when its `Content-Range` starts at `offset`; a range that does not fit falls back to a full
 * request.
 */
async function request(url: string, offset: number, signal: AbortSignal | undefined): Promise<Response> {
  const headers: Record<string, string> = offset > 0 ? { Range: `bytes=${offset}-` } : {};
  let response: Response;
  try {
    response = await fetch(url, { headers, signal, redirect: 'follow' });
  } catch (error) {
    throw networkError(url, error, signal, offset);
  }

  if (response.status === 206 && contentRangeStart(response.headers.get('content-range')) === offset) return response;
  if (response.status === 200) return response;
  if (offset > 0 && (response.status === 206 || response.status === 416)) {
    // The server cannot continue from this offset: start over.
    await response.body?.cancel();
    return request(url, 0, signal);
  }

  await response.body?.cancel();
  throw new FramewiseError(
    'DOWNLOAD_FAILED',
    `Download of ${url} failed: the server returned HTTP ${response.status} ${response.statusText}. ` +
      'Check the URL or the base-URL override, and try again later.',
    { url, status: response.status },
  );
}

/** Writes the response body to the partial file from `offset` on and returns the bytes received. */
async function writeBody(response: Response, partialPath: string, offset: number, options: DownloadOptions): Promise<number> {
  const { url, expectedBytes } = options;
  const file = await open(partialPath, offset > 0 ? 'a' : 'w');
  let received = 0;
  try {
    if (!response.body) throw new Error('the response has no body');
    for await (const chunk of response.body) {
      const bytes = chunk as Uint8Array;
      if (offset + received + bytes.length > expectedBytes) {
        await file.close();
        await unlink(partialPath);
        throw sizeMismatchError(url, expectedBytes, offset + received + bytes.length);
      }
      await writeAll(file, bytes);
      received += bytes.length;
      options.onProgress?.({ receivedBytes: offset + received, totalBytes: expectedBytes, resumedFromBytes: offset });
    }
  } catch (error) {
    if (error instanceof FramewiseError) throw error;
    throw networkError(url, error, options.signal, offset + received, expectedBytes);
  } finally {
    await file.close().catch(() => undefined);
  }

  if (offset + received < expectedBytes) {
    throw new FramewiseError(
      'DOWNLOAD_FAILED',
      `Download of ${url} ended after ${offset + received} of ${expectedBytes} bytes. ` +
        'The partial file is kept; run the same pull again to resume it.',
      { url, receivedBytes: offset + received, expectedBytes, partialPath },
    );
  }
  return received;
}

async function writeAll(file: FileHandle, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const { bytesWritten } = await file.write(bytes, written, bytes.length - written);
    written += bytesWritten;
  }
}

/**
 * Checks the size and SHA-256 of the complete partial file; deletes it when either is wrong.
 *
 * @throws FramewiseError `CHECKSUM_MISMATCH`.
 */
async function verify(partialPath: string, options: DownloadOptions): Promise<void> {
  const size = await fileSize(partialPath);
  if (size !== options.expectedBytes) {
    await unlink(partialPath);
    throw sizeMismatchError(options.url, options.expectedBytes, size);
  }
  const actual = await hashFile(partialPath);
  if (actual === options.sha256.toLowerCase()) return;

  await unlink(partialPath);
  throw new FramewiseError(
    'CHECKSUM_MISMATCH',
    `The file downloaded from ${options.url} has SHA-256 ${actual}, but ${options.sha256} was expected. ` +
      'The file was deleted. Check that the base URL serves the published file, then pull again.',
    { url: options.url, expected: options.sha256, actual },
  );
}

function hashFile(path: string): Promise<string> {
  const hash: Hash = createHash('sha256');
  return new Promise((resolve, reject) => {
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/**
 * Creates the lock file with this process id. A lock whose process no longer runs is stale and
 * is taken over.
 *
 * @throws FramewiseError `DOWNLOAD_FAILED` when a running process holds the lock.
 */
async function acquireLock(lockPath: string, url: string): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }

    const owner = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10);
    if (Number.isSafeInteger(owner) && owner > 0 && owner !== process.pid && isRunning(owner)) {
      throw new FramewiseError(
        'DOWNLOAD_FAILED',
        `Another download of ${url} is running (process ${owner}). Wait for it to finish, or delete ${JSON.stringify(lockPath)} if that process is not framewise.`,
        { url, lockPath, pid: owner },
      );
    }
    await unlink(lockPath).catch(() => undefined);
  }
  throw new FramewiseError('DOWNLOAD_FAILED', `Cannot take the download lock ${JSON.stringify(lockPath)}. Delete it and try again.`, { url, lockPath });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}

/** Parses the first byte of `Content-Range: bytes START-END/TOTAL`. */
function contentRangeStart(header: string | null): number | undefined {
  const match = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(header?.trim() ?? '');
  return match ? Number(match[1]) : undefined;
}

function sizeMismatchError(url: string, expectedBytes: number, actualBytes: number): FramewiseError {
  return new FramewiseError(
    'CHECKSUM_MISMATCH',
    `The file downloaded from ${url} has ${actualBytes} bytes or more, but ${expectedBytes} were expected. ` +
      'The file was deleted. Check that the base URL serves the published file, then pull again.',
    { url, expectedBytes, actualBytes },
  );
}

function networkError(url: string, error: unknown, signal: AbortSignal | undefined, receivedBytes: number, expectedBytes?: number): FramewiseError {
  if (signal?.aborted) {
    return new FramewiseError('ABORTED', `Download of ${url} was aborted after ${receivedBytes} bytes; run it again to resume.`, { url, receivedBytes }, {
      cause: error,
    });
  }
  const cause = error as Error & { cause?: Error };
  const reason = cause.cause?.message ?? cause.message ?? String(error);
  const progress = expectedBytes === undefined ? '' : ` after ${receivedBytes} of ${expectedBytes} bytes`;
  return new FramewiseError(
    'DOWNLOAD_FAILED',
    `Download of ${url} failed${progress}: ${reason}. ` +
      (receivedBytes > 0 ? 'The partial file is kept; run the same pull again to resume it.' : 'Check the network connection and the URL, then try again.'),
    { url, receivedBytes, expectedBytes },
    { cause: error },
  );
}
