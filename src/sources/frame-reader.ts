/**
 * Parsing helpers of the file source: cutting ffmpeg's rawvideo output into frames, and reading the
 * per-frame lines of the `showinfo` filter from ffmpeg's stderr.
 */

/** Cuts a stream of raw frames of a fixed byte size into one buffer per frame. */
export class RawFrameSplitter {
  readonly frameBytes: number;
  /** Frame being filled, or undefined between frames. */
  private current: Buffer | undefined;
  /** Bytes of `current` already filled. */
  private filled = 0;

  constructor(frameBytes: number) {
    this.frameBytes = frameBytes;
  }

  /** Bytes received after the last complete frame. */
  get partialBytes(): number {
    return this.current ? this.filled : 0;
  }

  /**
   * Copies `chunk` into frame buffers and returns the frames it completed. Each frame gets its own
   * memory, so a consumer may keep it as long as it likes.
   */
  push(chunk: Buffer): Buffer[] {
    const completed: Buffer[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      // allocUnsafeSlow: not a slice of Node's shared pool, and every byte is overwritten before use.
      const frame = this.current ?? Buffer.allocUnsafeSlow(this.frameBytes);
      const copied = chunk.copy(frame, this.filled, offset, offset + this.frameBytes - this.filled);
      offset += copied;
      this.filled += copied;
      if (this.filled === this.frameBytes) {
        completed.push(frame);
        this.current = undefined;
        this.filled = 0;
      } else {
        this.current = frame;
      }
    }
    return completed;
  }
}

/** One frame as the `showinfo` filter logs it. */
export interface ShowinfoFrame {
  /** Frame number counted by the filter, from 0. */
  readonly n: number;
  /** Presentation timestamp in units of the filter's time base; undefined when ffmpeg prints NOPTS. */
  readonly pts: number | undefined;
  /** `pts_time` in seconds; undefined when ffmpeg prints NOPTS. Rounded by ffmpeg to 6 significant digits. */
  readonly ptsTimeSeconds: number | undefined;
  /** Frame width in pixels at the filter. */
  readonly width: number;
  /** Frame height in pixels at the filter. */
  readonly height: number;
}

/** A classified line of ffmpeg's stderr. */
export type StderrLine =
  | { readonly kind: 'frame'; readonly frame: ShowinfoFrame }
  | { readonly kind: 'timeBase'; readonly num: number; readonly den: number }
  | { readonly kind: 'showinfo' }
  | { readonly kind: 'other'; readonly text: string };

const SHOWINFO_PREFIX = /^\[Parsed_showinfo_\d+ @ [^\]]+\] /;
const SHOWINFO_FRAME = /^n:\s*(\d+)\s+pts:\s*(-?\d+|NOPTS)\s+pts_time:(\S+)\s.*?\bs:(\d+)x(\d+)/;
const SHOWINFO_TIME_BASE = /^config in time_base:\s*(\d+)\/(\d+)/;

/** Classifies one line of ffmpeg's stderr, given without its line terminator. */
export function classifyStderrLine(line: string): StderrLine {
  const prefix = SHOWINFO_PREFIX.exec(line);
  if (!prefix) return { kind: 'other', text: line };

  const body = line.slice(prefix[0].length);
  const frame = SHOWINFO_FRAME.exec(body);
  if (frame) {
    const pts = frame[2] === 'NOPTS' ? undefined : Number(frame[2]);
    const ptsTime = Number(frame[3]);
    return {
      kind: 'frame',
      frame: {
        n: Number(frame[1]),
        pts,
        ptsTimeSeconds: Number.isFinite(ptsTime) ? ptsTime : undefined,
        width: Number(frame[4]),
        height: Number(frame[5]),
      },
    };
  }
  const timeBase = SHOWINFO_TIME_BASE.exec(body);
  if (timeBase) {
    const num = Number(timeBase[1]);
    const den = Number(timeBase[2]);
    if (num > 0 && den > 0) return { kind: 'timeBase', num, den };
  }
  // Side data, colour information and the output config line of showinfo.
  return { kind: 'showinfo' };
}

/**
 * Splits text arriving in chunks into lines. ffmpeg ends progress lines with `\r` and other lines
 * with `\n`, so both end a line; empty lines are dropped.
 */
export class LineSplitter {
  /** Text after the last line terminator. */
  private rest = '';

  /** Returns the lines completed by `chunk`. */
  push(chunk: string): string[] {
    const parts = (this.rest + chunk).split(/[\r\n]/);
    this.rest = parts.pop() ?? '';
    return parts.filter((part) => part.length > 0);
  }

  /** Returns the unterminated last line, if any, and clears it. */
  flush(): string[] {
    const last = this.rest;
    this.rest = '';
    return last.length > 0 ? [last] : [];
  }
}

/**
 * Stderr lines that report damaged input: the h264 and HEVC decoders' slice errors, concealment,
 * "corrupt decoded frame" and "Invalid data found".
 */
export const DECODE_ERROR_LINE = /error while decoding|corrupt|invalid data|concealing|decode_slice_header error/i;

/**
 * Stderr lines that report a failed network read. ffmpeg 5.1 prints them (for example
 * `http://host/v.ts: Connection timed out`) and then exits with status 0, as if the input had ended.
 */
export const NETWORK_ERROR_LINE = /connection timed out|connection reset|connection refused|network is unreachable|i\/o error|server returned/i;

/**
 * Converts showinfo timestamps into milliseconds after the first frame.
 *
 * It prefers `pts` times the filter's time base, which is exact, over `pts_time`, which ffmpeg
 * prints with 6 significant digits only (about 10 ms steps after the first 1000 seconds). Frames
 * without a timestamp get the previous frame's time plus one frame interval.
 */
export class FrameClock {
  /** Time base of the showinfo filter, from its config line; undefined until seen. */
  private timeBase: { num: number; den: number } | undefined;
  /** Presentation time in milliseconds of the first frame, subtracted from every later one. */
  private originMs: number | undefined;
  /** Last returned time, in milliseconds after the first frame. */
  private lastMs: number | undefined;
  private readonly fallbackIntervalMs: number;

  /** @param fallbackIntervalMs Frame interval used for frames without a timestamp. */
  constructor(fallbackIntervalMs: number) {
    this.fallbackIntervalMs = fallbackIntervalMs;
  }

  /** Records the time base of a showinfo config line. */
  setTimeBase(num: number, den: number): void {
    this.timeBase = { num, den };
  }

  /** Returns the time of `frame` in milliseconds after the first frame. */
  next(frame: ShowinfoFrame | undefined): number {
    const absoluteMs = frame ? this.absoluteMs(frame) : undefined;
    let relativeMs: number;
    if (absoluteMs === undefined) {
      relativeMs = this.lastMs === undefined ? 0 : this.lastMs + this.fallbackIntervalMs;
    } else {
      this.originMs ??= absoluteMs - (this.lastMs === undefined ? 0 : this.lastMs + this.fallbackIntervalMs);
      // Rounded to microseconds, so steps such as 40 ms print as 40, not 40.000000000000004.
      relativeMs = Math.round((absoluteMs - this.originMs) * 1e3) / 1e3;
    }
    this.lastMs = relativeMs;
    return relativeMs;
  }

  private absoluteMs(frame: ShowinfoFrame): number | undefined {
    if (frame.pts !== undefined && this.timeBase) {
      return (frame.pts * 1000 * this.timeBase.num) / this.timeBase.den;
    }
    return frame.ptsTimeSeconds === undefined ? undefined : frame.ptsTimeSeconds * 1000;
  }
}
