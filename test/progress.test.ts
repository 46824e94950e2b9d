import { describe, expect, it } from 'vitest';
import { formatDuration, renderProgressLine } from '../src/cli/progress.js';

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
