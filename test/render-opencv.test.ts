import { firstValueFrom, from } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { annotate } from '../operators/annotate.js';
import { isFramewiseError } from '../src/errors.js';
import { createOpenCvRenderer, isOpenCvAvailable } from '../src/render/opencv-renderer.js';
import { colorForClass, contrastRatio, textColorFor, type Rgb } from '../src/render/palette.js';
import type { DetectedFrame } from '../src/types.js';

const available = isOpenCvAvailable();

function grayFrame(width: number, height: number, boxes: { classId: number; box: [number, number, number, number] }[]): DetectedFrame {
  return {
    sourceId: 'test',
    index: 0,
    timestampMs: 0,
    width,
    height,
    live: false,
    data: new Uint8Array(width * height * 3).fill(128),
    detections: boxes.map(({ classId, box }) => ({ classId, name: 'bus', score: 0.92, box })),
  };
}

function pixel(frame: DetectedFrame, x: number, y: number): Rgb {
  const offset = (y * frame.width + x) * 3;
  return [frame.data[offset]!, frame.data[offset + 1]!, frame.data[offset + 2]!];
}

describe.skipIf(!available)('OpenCV renderer (needs the optional @u4/opencv4nodejs)', () => {
  it('draws the box outline in the class colour inside the box', async () => {
    const frame = grayFrame(320, 240, [{ classId: 5, box: [100, 120, 200, 220] }]);
    const out = await firstValueFrom(from([frame]).pipe(annotate({ renderer: 'opencv', lineWidth: 2, showName: false, showScore: false })));
    const color = colorForClass(5);
    expect(pixel(out, 100, 170)).toEqual(color);
    expect(pixel(out, 101, 170)).toEqual(color);
    expect(pixel(out, 199, 170)).toEqual(color);
    expect(pixel(out, 150, 219)).toEqual(color);
    expect(pixel(out, 99, 170)).toEqual([128, 128, 128]);
    expect(pixel(out, 150, 170)).toEqual([128, 128, 128]);
  });

  it('fills the label above the box with readable text', async () => {
    const frame = grayFrame(320, 240, [{ classId: 5, box: [100, 120, 200, 220] }]);
    const out = await firstValueFrom(from([frame]).pipe(annotate({ renderer: 'opencv', fontScale: 2 })));
    const background = colorForClass(5);
    const text = textColorFor(background);

    // The label sits on top of the box: count its pixels by colour in the band above the box.
    let backgroundPixels = 0;
    let textPixels = 0;
    for (let y = 100; y < 120; y += 1) {
      for (let x = 100; x < 160; x += 1) {
        const value = pixel(out, x, y).join(',');
        if (value === background.join(',')) backgroundPixels += 1;
        if (value === text.join(',')) textPixels += 1;
      }
    }
    expect(backgroundPixels).toBeGreaterThan(200);
    expect(textPixels).toBeGreaterThan(30);
    expect(contrastRatio(text, background)).toBeGreaterThanOrEqual(4.5);
  });

  it('leaves the input frame untouched', async () => {
    const frame = grayFrame(64, 64, [{ classId: 1, box: [5, 20, 40, 60] }]);
    const before = Uint8Array.from(frame.data);
    await firstValueFrom(from([frame]).pipe(annotate({ renderer: 'opencv' })));
    expect(frame.data).toEqual(before);
  });

  it('clips boxes partly outside the frame', async () => {
    const frame = grayFrame(64, 64, [{ classId: 2, box: [-30, -30, 200, 40] }]);
    const out = await firstValueFrom(from([frame]).pipe(annotate({ renderer: 'opencv' })));
    expect(out.data.length).toBe(64 * 64 * 3);
  });

  it('is the automatic choice when installed', async () => {
    const frame = grayFrame(64, 64, [{ classId: 1, box: [5, 20, 40, 60] }]);
    const auto = await firstValueFrom(from([frame]).pipe(annotate()));
    const opencv = await firstValueFrom(from([frame]).pipe(annotate({ renderer: 'opencv' })));
    expect(auto.data).toEqual(opencv.data);
  });
});

describe.skipIf(available)('OpenCV renderer when the package is absent', () => {
  it('reports how to get it', () => {
    try {
      createOpenCvRenderer();
      expect.unreachable('createOpenCvRenderer should throw');
    } catch (error) {
      expect(isFramewiseError(error, 'INVALID_ARGUMENT')).toBe(true);
      expect((error as Error).message).toContain('@u4/opencv4nodejs');
    }
  });
});
