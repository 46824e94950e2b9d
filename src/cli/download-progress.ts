import type { DownloadProgress } from '../model-cache/download.js';
import { formatDuration } from './progress.js';

const BAR_WIDTH = 28;

/** Formats a byte count with a binary unit: `512 B`, `300.0 KiB`, `33.9 MiB`, `1.20 GiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

/**
 * Builds one progress line of a download: bar, bytes, percentage, rate of this session and time
 * left. Bytes resumed from an earlier attempt count as done but not towards the rate.
 */
export function renderDownloadLine(name: string, progress: DownloadProgress, elapsedMs: number): string {
  const { receivedBytes, totalBytes, resumedFromBytes } = progress;
  const ratio = totalBytes > 0 ? Math.min(1, receivedBytes / totalBytes) : 0;
  const filled = Math.round(ratio * BAR_WIDTH);
  const bytesPerSecond = elapsedMs > 0 ? ((receivedBytes - resumedFromBytes) * 1000) / elapsedMs : 0;
  const eta = bytesPerSecond > 0 ? formatDuration((totalBytes - receivedBytes) / bytesPerSecond) : '--:--';
  return (
    `${name} [${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ` +
    `${formatBytes(receivedBytes)}/${formatBytes(totalBytes)} ${(ratio * 100).toFixed(0)}%  ${formatBytes(Math.round(bytesPerSecond))}/s  ETA ${eta}`
  );
}

/** A download progress bar on stderr: redrawn in place on a terminal, an occasional line elsewhere. */
export class DownloadProgressBar {
  private readonly name: string;
  private readonly stream: NodeJS.WriteStream;
  private readonly intervalMs: number;
  private readonly startedAt = performance.now();
  /** The latest progress, drawn by `finish`. */
  private last: DownloadProgress | undefined;
  /** When the line was last drawn, in `performance.now()` milliseconds. */
  private drawnAt = 0;

  /**
   * @param stream Default `process.stderr`.
   * @param intervalMs Minimum time between redraws. Default 200 on a terminal, 5000 otherwise.
   */
  constructor(name: string, stream: NodeJS.WriteStream = process.stderr, intervalMs?: number) {
    this.name = name;
    this.stream = stream;
    this.intervalMs = intervalMs ?? (stream.isTTY ? 200 : 5000);
  }

  /** Records progress and redraws when the interval has passed. */
  update(progress: DownloadProgress): void {
    this.last = progress;
    const now = performance.now();
    if (now - this.drawnAt < this.intervalMs) return;
    this.drawnAt = now;
    this.draw(progress);
  }

  /** Draws the last state, if any, and ends the line. */
  finish(): void {
    if (!this.last) return;
    this.draw(this.last);
    if (this.stream.isTTY) this.stream.write('\n');
  }

  private draw(progress: DownloadProgress): void {
    const line = renderDownloadLine(this.name, progress, performance.now() - this.startedAt);
    this.stream.write(this.stream.isTTY ? `\r\x1b[2K${line}` : `${line}\n`);
  }
}
