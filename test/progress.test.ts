import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { formatDuration, ProgressBar, renderProgressLine } from '../src/cli/progress.js';

describe('progress line', () => {
  it.each([
    [0, '0:00'],
    [59.4, '0:59'],
    [61, '1:01'],
    [3725, '1:02:05'],
    [Number.NaN, '--:--'],
    [Number.POSITIVE_INFINITY, '--:--'],
  ])('formats %s seconds as %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });

  it('shows count, percentage, rate and time left', () => {
    expect(renderProgressLine(50, 100, 5000)).toBe(`[${'#'.repeat(14)}${'-'.repeat(14)}] 50/100 50%  10.0 fps  ETA 0:05`);
  });

  it('shows a count alone when the total is unknown', () => {
    expect(renderProgressLine(12, undefined, 2000)).toBe('12 frames  6.0 fps');
  });

  it('never reports NaN before the first frame', () => {
    expect(renderProgressLine(0, 10, 0)).not.toMatch(/NaN|Infinity/);
  });
});

describe('ProgressBar', () => {
  /** Runs `frames` ticks against a declared `total` and returns the last line written. */
  function lastLine(total: number, frames: number, completed: boolean): string {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    }) as unknown as NodeJS.WriteStream;
    const bar = new ProgressBar({ total, stream, intervalMs: 60_000 });
    for (let i = 0; i < frames; i += 1) bar.tick();
    bar.finish(completed);
    return lines.at(-1)!.trim();
  }

  it('ends a complete run at 100 %', () => {
    expect(lastLine(118, 63, true)).toMatch(/\] 63\/63 100%/);
  });

  it('keeps the declared total when stopped early', () => {
    expect(lastLine(118, 63, false)).toMatch(/\] 63\/118 53%/);
  });
});
