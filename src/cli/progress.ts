/** Progress display on stderr: frames done, frames per second and time left. */
export interface ProgressOptions {
  /** Frames expected in total, when known; without it the bar shows a count only. */
  readonly total?: number;
  /** Stream to draw on. Default `process.stderr`. */
  readonly stream?: NodeJS.WriteStream;
  /** Minimum time between redraws in milliseconds. Default 200 on a terminal, 5000 otherwise. */
  readonly intervalMs?: number;
}

const BAR_WIDTH = 28;

/** Formats seconds as `m:ss` or `h:mm:ss`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const whole = Math.round(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}

/** Builds one progress line: bar (when the total is known), count, rate and time left. */
export function renderProgressLine(done: number, total: number | undefined, elapsedMs: number): string {
  const fps = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
  const rate = `${fps.toFixed(1)} fps`;
  if (total === undefined || total <= 0) return `${done} frames  ${rate}`;
  const ratio = Math.min(1, done / total);
  const filled = Math.round(ratio * BAR_WIDTH);
  const eta = fps > 0 ? formatDuration((total - done) / fps) : '--:--';
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${done}/${total} ${(ratio * 100).toFixed(0)}%  ${rate}  ETA ${eta}`;
}

/** A progress bar that redraws in place on a terminal and prints occasional lines elsewhere. */
export class ProgressBar {
  private total: number | undefined;
  private readonly stream: NodeJS.WriteStream;
  private readonly intervalMs: number;
  private readonly startedAt = performance.now();
  /** Frames counted so far. */
  private done = 0;
  /** When the line was last drawn, in `performance.now()` milliseconds. */
  private drawnAt = 0;

  constructor(options: ProgressOptions = {}) {
    this.total = options.total;
    this.stream = options.stream ?? process.stderr;
    this.intervalMs = options.intervalMs ?? (this.stream.isTTY ? 200 : 5000);
  }

  /** Counts one more frame and redraws when the interval has passed. */
  tick(): void {
    this.done += 1;
    const now = performance.now();
    if (now - this.drawnAt >= this.intervalMs) {
      this.drawnAt = now;
      this.draw();
    }
  }

  /**
   * Draws the final state and ends the line. After a complete run the frames counted are the
   * total, because a container's declared frame count can be wrong (a file cut with `-c copy`
   * keeps the original count), and the bar then ends at 100 %.
   */
  finish(completed = false): void {
    if (completed) this.total = this.done;
    this.draw();
    if (this.stream.isTTY) this.stream.write('\n');
  }

  private draw(): void {
    const line = renderProgressLine(this.done, this.total, performance.now() - this.startedAt);
    this.stream.write(this.stream.isTTY ? `\r\x1b[2K${line}` : `${line}\n`);
  }
}
