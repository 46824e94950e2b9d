import { describe, expect, it } from 'vitest';
import { clipBox, computeLetterbox, toModelBox, toSourceBox } from '../models/letterbox.js';
import { prepareInput, ULTRALYTICS_PREPROCESSING, type InputPreprocessing } from '../models/preprocess.js';
import type { BoxXYXY } from '../src/types.js';

describe('computeLetterbox', () => {
  it.each([
    // case, source size, target size, expected { scale, padX, padY, newWidth, newHeight }
    ['square', [640, 640], [640, 640], { scale: 1, padX: 0, padY: 0, newWidth: 640, newHeight: 640 }],
    ['wide', [1280, 720], [640, 640], { scale: 0.5, padX: 0, padY: 140, newWidth: 640, newHeight: 360 }],
    ['tall', [480, 640], [640, 640], { scale: 1, padX: 80, padY: 0, newWidth: 480, newHeight: 640 }],
    ['upscale', [320, 240], [640, 640], { scale: 2, padX: 0, padY: 80, newWidth: 640, newHeight: 480 }],
    // 161 rows of padding: 80 above, 81 below.
    ['odd padding', [640, 479], [640, 640], { scale: 1, padX: 0, padY: 80, newWidth: 640, newHeight: 479 }],
    ['non-square target', [200, 100], [64, 48], { scale: 0.32, padX: 0, padY: 8, newWidth: 64, newHeight: 32 }],
    ['rounded size', [333, 500], [640, 640], { scale: 1.28, padX: 107, padY: 0, newWidth: 426, newHeight: 640 }],
  ] as const)('%s', (_case, [sourceWidth, sourceHeight], [targetWidth, targetHeight], expected) => {
    const params = computeLetterbox(sourceWidth, sourceHeight, targetWidth, targetHeight);
    expect(params.scale).toBeCloseTo(expected.scale, 12);
    expect(params.padX).toBe(expected.padX);
    expect(params.padY).toBe(expected.padY);
    expect(params.newWidth).toBe(expected.newWidth);
    expect(params.newHeight).toBe(expected.newHeight);
  });
});

describe('letterbox box round trip', () => {
  it.each([
    ['square', 640, 640],
    ['wide', 1280, 720],
    ['tall', 480, 640],
    ['upscale', 320, 240],
    ['non-square source', 200, 100],
  ])('%s image maps boxes there and back', (_case, width, height) => {
    const params = computeLetterbox(width, height, 640, 640);
    const box: BoxXYXY = [10, 20, width - 5, height - 7];
    const back = toSourceBox(params, toModelBox(params, box));
    box.forEach((value, index) => expect(back[index]).toBeCloseTo(value, 9));
  });

  it('places the source corners inside the scaled image area', () => {
    const params = computeLetterbox(1280, 720, 640, 640);
    expect(toModelBox(params, [0, 0, 1280, 720])).toEqual([0, 140, 640, 500]);
  });

  it('clips boxes in the padding to the source frame', () => {
    const params = computeLetterbox(1280, 720, 640, 640);
    // A model box covering the whole input reaches into both padding bands.
    expect(toSourceBox(params, [0, 0, 640, 640], { width: 1280, height: 720 })).toEqual([0, 0, 1280, 720]);
    expect(toSourceBox(params, [-10, 100, 20, 150], { width: 1280, height: 720 })).toEqual([0, 0, 40, 20]);
  });
});

describe('clipBox', () => {
  it('clamps each coordinate to the frame', () => {
    expect(clipBox([-5, -1, 105, 60], 100, 50)).toEqual([0, 0, 100, 50]);
    expect(clipBox([10, 20, 30, 40], 100, 50)).toEqual([10, 20, 30, 40]);
  });
});

/** Creates a `width` x `height` RGB24 image whose pixels come from `pixel(x, y)`. */
function image(width: number, height: number, pixel: (x: number, y: number) => readonly [number, number, number]) {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) data.set(pixel(x, y), (y * width + x) * 3);
  }
  return { width, height, data };
}

describe('prepareInput', () => {
  it('pads the letterbox borders with 114 and keeps a flat colour exact', () => {
    const input = prepareInput(image(4, 2, () => [10, 20, 30]), 4, 4, ULTRALYTICS_PREPROCESSING);
    expect(input.dims).toEqual([1, 3, 4, 4]);
    expect(input.placement.padY).toBe(1);

    const planes = [0, 1, 2].map((c) => Array.from(input.data.subarray(c * 16, (c + 1) * 16)));
    const pad = 114 / 255;
    // Rows 0 and 3 are padding, rows 1 and 2 the image.
    [10, 20, 30].forEach((value, c) => {
      const plane = planes[c] as number[];
      expect(plane.slice(0, 4).every((v) => Math.abs(v - pad) < 1e-6)).toBe(true);
      expect(plane.slice(4, 12).every((v) => Math.abs(v - value / 255) < 1e-6)).toBe(true);
      expect(plane.slice(12, 16).every((v) => Math.abs(v - pad) < 1e-6)).toBe(true);
    });
  });

  it('interpolates with aligned pixel centres', () => {
    const gradient = image(2, 1, (x) => (x === 0 ? [0, 0, 0] : [255, 255, 255]));
    const spec: InputPreprocessing = { ...ULTRALYTICS_PREPROCESSING, resize: 'stretch', dtype: 'uint8' };
    const input = prepareInput(gradient, 4, 1, spec);
    // OpenCV INTER_LINEAR gives 0, 64, 191, 255 for this upscale.
    expect(Array.from(input.data.subarray(0, 4))).toEqual([0, 64, 191, 255]);
  });

  it('swaps channels for BGR models', () => {
    const red = image(2, 2, () => [255, 0, 0]);
    const input = prepareInput(red, 2, 2, { ...ULTRALYTICS_PREPROCESSING, channelOrder: 'bgr' });
    expect(input.data[0]).toBe(0);
    expect(input.data[8]).toBe(1);
  });

  it('writes interleaved uint8 for NHWC models', () => {
    const input = prepareInput(image(2, 1, (x) => [x, 100, 200]), 2, 1, {
      ...ULTRALYTICS_PREPROCESSING,
      resize: 'stretch',
      layout: 'nhwc',
      dtype: 'uint8',
    });
    expect(input.data).toBeInstanceOf(Uint8Array);
    expect(input.dims).toEqual([1, 1, 2, 3]);
    expect(Array.from(input.data)).toEqual([0, 100, 200, 1, 100, 200]);
  });

  it('applies scale, mean and std per tensor channel', () => {
    const input = prepareInput(image(1, 1, () => [255, 0, 51]), 1, 1, {
      ...ULTRALYTICS_PREPROCESSING,
      resize: 'stretch',
      mean: [0.5, 0, 0.1],
      std: [0.5, 1, 0.2],
    });
    expect(input.data[0]).toBeCloseTo(1, 6);
    expect(input.data[1]).toBeCloseTo(0, 6);
    expect(input.data[2]).toBeCloseTo(0.5, 6);
  });

  it('stretches without padding', () => {
    const input = prepareInput(image(8, 2, () => [1, 2, 3]), 4, 4, { ...ULTRALYTICS_PREPROCESSING, resize: 'stretch' });
    expect(input.placement.padX).toBe(0);
    expect(input.placement.padY).toBe(0);
    expect(input.placement.scaleX).toBe(0.5);
    expect(input.placement.scaleY).toBe(2);
    expect(Array.from(input.data.subarray(0, 16)).every((v) => Math.abs(v - 1 / 255) < 1e-6)).toBe(true);
  });
});
