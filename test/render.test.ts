import { describe, expect, it } from 'vitest';
import { fillRect, drawText, strokeRect } from '../src/render/draw.js';
import { GLYPH_HEIGHT, glyphRows, measureText } from '../src/render/font.js';
import {
  BLACK,
  CLASS_PALETTE,
  colorForClass,
  contrastRatio,
  relativeLuminance,
  textColorFor,
  WHITE,
  type Rgb,
} from '../src/render/palette.js';
import type { RgbImage } from '../src/types.js';

function blank(width: number, height: number): RgbImage {
  return { width, height, data: new Uint8Array(width * height * 3) };
}

function at(image: RgbImage, x: number, y: number): Rgb {
  const offset = (y * image.width + x) * 3;
  return [image.data[offset]!, image.data[offset + 1]!, image.data[offset + 2]!];
}

function litCount(image: RgbImage): number {
  let count = 0;
  for (let offset = 0; offset < image.data.length; offset += 3) if (image.data[offset] !== 0) count += 1;
  return count;
}

describe('palette contrast', () => {
  const cases: [string, Rgb, number][] = [
    ['black', BLACK, 0],
    ['white', WHITE, 1],
    ['mid grey', [128, 128, 128], 0.2159],
    ['pure green', [0, 255, 0], 0.7152],
  ];
  it.each(cases)('computes the luminance of %s', (_name, color, expected) => {
    expect(relativeLuminance(color)).toBeCloseTo(expected, 4);
  });

  it('rates black on white 21:1', () => {
    expect(contrastRatio(BLACK, WHITE)).toBeCloseTo(21, 6);
    expect(contrastRatio(WHITE, WHITE)).toBe(1);
  });

  it('picks the text colour with more contrast', () => {
    expect(textColorFor([255, 255, 0])).toBe(BLACK);
    expect(textColorFor([0, 0, 128])).toBe(WHITE);
  });

  it('reaches 4.5:1 for every grey and palette colour', () => {
    const backgrounds: Rgb[] = [...CLASS_PALETTE];
    for (let level = 0; level < 256; level += 1) backgrounds.push([level, level, level]);
    for (const background of backgrounds) {
      expect(contrastRatio(background, textColorFor(background)), background.join(',')).toBeGreaterThanOrEqual(4.5);
    }
  });
});

describe('palette class colours', () => {
  it('repeats after the palette size', () => {
    expect(colorForClass(3)).toBe(CLASS_PALETTE[3]);
    expect(colorForClass(3 + CLASS_PALETTE.length)).toBe(CLASS_PALETTE[3]);
  });

  it('folds negative and fractional ids into the palette', () => {
    expect(colorForClass(-1)).toBe(CLASS_PALETTE[CLASS_PALETTE.length - 1]);
    expect(colorForClass(2.7)).toBe(CLASS_PALETTE[2]);
    expect(colorForClass(Number.NaN)).toBe(CLASS_PALETTE[0]);
  });
});

describe('bitmap font', () => {
  it('has a distinct glyph for every printable character', () => {
    const seen = new Map<string, string>();
    for (let code = 33; code <= 126; code += 1) {
      const key = Buffer.from(glyphRows(code)).toString('hex');
      expect(key, String.fromCharCode(code)).not.toBe('0'.repeat(GLYPH_HEIGHT * 2));
      expect(seen.get(key), `${String.fromCharCode(code)} repeats ${seen.get(key)}`).toBeUndefined();
      seen.set(key, String.fromCharCode(code));
    }
    expect([...glyphRows(32)]).toEqual(new Array(GLYPH_HEIGHT).fill(0));
  });

  it('draws a box for characters outside printable ASCII', () => {
    const box = [...glyphRows(0x7f)];
    expect([...glyphRows('é'.codePointAt(0)!)]).toEqual(box);
    expect([...glyphRows(0x1f600)]).toEqual(box);
    expect([...glyphRows(10)]).toEqual(box);
    expect(box[0]).toBe(0b11111);
    expect(box[3]).toBe(0b10001);
  });

  it('measures text without the trailing gap', () => {
    expect(measureText('', 2)).toEqual({ width: 0, height: 16 });
    expect(measureText('a', 1)).toEqual({ width: 5, height: 8 });
    expect(measureText('bus 92%', 3)).toEqual({ width: 41 * 3, height: 24 });
    expect(measureText('é😀', 1).width).toBe(11);
  });
});

describe('drawing primitives', () => {
  it('clips rectangles to the image', () => {
    const image = blank(10, 10);
    fillRect(image, -5, -5, 3, 2, [255, 0, 0]);
    fillRect(image, 8, 8, 20, 20, [255, 0, 0]);
    fillRect(image, 20, 20, 30, 30, [255, 0, 0]);
    expect(litCount(image)).toBe(3 * 2 + 2 * 2);
    expect(at(image, 2, 1)).toEqual([255, 0, 0]);
    expect(at(image, 3, 1)).toEqual([0, 0, 0]);
  });

  it('fills a rectangle thinner than twice the line width', () => {
    const image = blank(10, 10);
    strokeRect(image, 2, 2, 5, 5, 4, [255, 0, 0]);
    expect(litCount(image)).toBe(9);
  });

  it('draws glyph pixels at the scale', () => {
    const image = blank(20, 20);
    drawText(image, '|', 0, 0, 2, [255, 255, 255]);
    // '|' is column 2 on rows 0-6: a 2 px wide, 14 px tall bar at x 4-5.
    expect(litCount(image)).toBe(2 * 14);
    expect(at(image, 4, 13)).toEqual([255, 255, 255]);
    expect(at(image, 5, 0)).toEqual([255, 255, 255]);
    expect(at(image, 6, 0)).toEqual([0, 0, 0]);
    expect(at(image, 4, 14)).toEqual([0, 0, 0]);
  });

  it('cuts text at clipRight', () => {
    const image = blank(40, 10);
    drawText(image, 'HHHH', 0, 0, 1, [255, 255, 255], 8);
    for (let y = 0; y < 10; y += 1) for (let x = 8; x < 40; x += 1) expect(at(image, x, y)).toEqual([0, 0, 0]);
    expect(at(image, 6, 0)).toEqual([255, 255, 255]);
  });
});
