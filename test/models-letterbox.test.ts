import { describe, expect, it } from 'vitest';
import { clipBox, computeLetterbox, toModelBox, toSourceBox } from '../models/letterbox.js';
import { prepareInput, ULTRALYTICS_PREPROCESSING, type InputPreprocessing } from '../models/preprocess.js';
import type { BoxXYXY, RgbImage } from '../src/types.js';

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

/**
 * Resizes like OpenCV's `INTER_LINEAR` on 8-bit images, one output value at a time and with no
 * shortcut: the reference that prepareInput's faster loop must match value for value.
 */
function referenceResize(source: RgbImage, outWidth: number, outHeight: number): Uint8Array {
  const sample = (size: number, outSize: number, out: number): [number, number, number] => {
    const position = (out + 0.5) * (size / outSize) - 0.5;
    if (position <= 0) return [0, 0, 0];
    if (position >= size - 1) return [size - 1, size - 1, 0];
    const first = Math.floor(position);
    return [first, first + 1, position - first];
  };
  const result = new Uint8Array(outWidth * outHeight * 3);
  for (let y = 0; y < outHeight; y += 1) {
    const [top, bottom, fy] = sample(source.height, outHeight, y);
    for (let x = 0; x < outWidth; x += 1) {
      const [left, right, fx] = sample(source.width, outWidth, x);
      for (let c = 0; c < 3; c += 1) {
        const at = (row: number, column: number): number => source.data[(row * source.width + column) * 3 + c] as number;
        const upper = at(top, left) * (1 - fx) + at(top, right) * fx;
        const lower = at(bottom, left) * (1 - fx) + at(bottom, right) * fx;
        result[(y * outWidth + x) * 3 + c] = Math.round(upper * (1 - fy) + lower * fy);
      }
    }
  }
  return result;
}

describe('prepareInput against a plain bilinear resize', () => {
  // A fixed pseudo-random image, so that every rounding case of the blend is exercised.
  let state = 7;
  const noise = image(37, 23, () => {
    const next = (): number => {
      state = (state * 1103515245 + 12345) >>> 0;
      return state >>> 24;
    };
    return [next(), next(), next()];
  });

  it.each([
    ['letterbox downscale', 24, 24, 'letterbox'],
    ['letterbox upscale', 96, 64, 'letterbox'],
    ['stretch to odd sizes', 17, 41, 'stretch'],
  ] as const)('matches it value for value: %s', (_name, width, height, resize) => {
    const spec: InputPreprocessing = { ...ULTRALYTICS_PREPROCESSING, resize, layout: 'nhwc', dtype: 'uint8' };
    const input = prepareInput(noise, width, height, spec);
    const { newWidth, newHeight, padX, padY } = input.placement;
    const expected = referenceResize(noise, newWidth, newHeight);

    const mismatches: string[] = [];
    for (let y = 0; y < newHeight; y += 1) {
      for (let x = 0; x < newWidth * 3; x += 1) {
        const got = input.data[((y + padY) * width + padX) * 3 + x];
        const want = expected[y * newWidth * 3 + x];
        if (got !== want) mismatches.push(`(${Math.floor(x / 3)}, ${y}) channel ${x % 3}: ${got} != ${want}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('writes the same values as planes, in BGR order', () => {
    const interleaved = prepareInput(noise, 40, 40, { ...ULTRALYTICS_PREPROCESSING, layout: 'nhwc', dtype: 'uint8' });
    const planar = prepareInput(noise, 40, 40, { ...ULTRALYTICS_PREPROCESSING, layout: 'nchw', dtype: 'uint8', channelOrder: 'bgr' });

    let differences = 0;
    for (let pixel = 0; pixel < 40 * 40; pixel += 1) {
      for (let c = 0; c < 3; c += 1) if (planar.data[(2 - c) * 1600 + pixel] !== interleaved.data[pixel * 3 + c]) differences += 1;
    }
    expect(differences).toBe(0);
  });
});
