import { describe, expect, it } from 'vitest';
import { firstValueFrom, from, lastValueFrom, toArray } from 'rxjs';
import { annotate, type AnnotateOptions } from '../operators/annotate.js';
import { FRAME_LEASE, type FrameLease } from '../src/backpressure.js';
import { isFramewiseError } from '../src/errors.js';
import { measureText } from '../src/render/font.js';
import { CLASS_PALETTE, colorForClass, contrastRatio, textColorFor, type Rgb } from '../src/render/palette.js';
import { bitmapRenderer, type Annotation, type AnnotationStyle, type Renderer } from '../src/render/renderer.js';
import type { BoxXYXY, DetectedFrame, Detection } from '../src/types.js';

const GREY: Rgb = [128, 128, 128];

function makeFrame(width: number, height: number, detections: Detection[], fill: Rgb = GREY): DetectedFrame {
  const data = new Uint8Array(width * height * 3);
  for (let offset = 0; offset < data.length; offset += 3) data.set(fill, offset);
  return { sourceId: 'test', index: 0, timestampMs: 0, width, height, data, live: false, detections };
}

function detection(classId: number, box: BoxXYXY, name = `class${classId}`, score = 0.92): Detection {
  return { classId, name, score, box };
}

function pixel(frame: DetectedFrame, x: number, y: number): Rgb {
  const offset = (y * frame.width + x) * 3;
  return [frame.data[offset]!, frame.data[offset + 1]!, frame.data[offset + 2]!];
}

async function annotateOne(frame: DetectedFrame, options?: AnnotateOptions): Promise<DetectedFrame> {
  // The pixel checks below describe the built-in renderer, whether or not OpenCV is installed.
  return firstValueFrom(from([frame]).pipe(annotate({ renderer: bitmapRenderer, ...options })));
}

/** Pixels inside a rectangle, grouped by colour. */
function colorsIn(frame: DetectedFrame, left: number, top: number, right: number, bottom: number): Map<string, Rgb> {
  const colors = new Map<string, Rgb>();
  for (let y = top; y < bottom; y += 1) {
    for (let x = left; x < right; x += 1) {
      const color = pixel(frame, x, y);
      colors.set(color.join(','), color);
    }
  }
  return colors;
}

describe('annotate box outline', () => {
  const box: BoxXYXY = [50, 60, 150, 160];
  const options: AnnotateOptions = { lineWidth: 3, showName: false, showScore: false };

  it('colours each edge inward by the line width', async () => {
    const out = await annotateOne(makeFrame(320, 240, [detection(0, box)]), options);
    const color = CLASS_PALETTE[0]!;
    // Left edge: columns 50..52.
    expect(pixel(out, 50, 100)).toEqual(color);
    expect(pixel(out, 52, 100)).toEqual(color);
    expect(pixel(out, 53, 100)).toEqual(GREY);
    expect(pixel(out, 49, 100)).toEqual(GREY);
    // Right edge: the box ends before column 150, so columns 147..149.
    expect(pixel(out, 149, 100)).toEqual(color);
    expect(pixel(out, 147, 100)).toEqual(color);
    expect(pixel(out, 146, 100)).toEqual(GREY);
    expect(pixel(out, 150, 100)).toEqual(GREY);
    // Top edge: rows 60..62; bottom edge: rows 157..159.
    expect(pixel(out, 100, 60)).toEqual(color);
    expect(pixel(out, 100, 62)).toEqual(color);
    expect(pixel(out, 100, 63)).toEqual(GREY);
    expect(pixel(out, 100, 59)).toEqual(GREY);
    expect(pixel(out, 100, 159)).toEqual(color);
    expect(pixel(out, 100, 157)).toEqual(color);
    expect(pixel(out, 100, 156)).toEqual(GREY);
    expect(pixel(out, 100, 160)).toEqual(GREY);
    // Corners and interior.
    expect(pixel(out, 50, 60)).toEqual(color);
    expect(pixel(out, 149, 159)).toEqual(color);
    expect(pixel(out, 100, 100)).toEqual(GREY);
  });

  it('rounds fractional box coordinates', async () => {
    const out = await annotateOne(makeFrame(320, 240, [detection(0, [50.4, 60.6, 149.6, 160.2])]), { ...options, lineWidth: 1 });
    const color = CLASS_PALETTE[0]!;
    expect(pixel(out, 50, 100)).toEqual(color);
    expect(pixel(out, 51, 100)).toEqual(GREY);
    expect(pixel(out, 149, 100)).toEqual(color);
    expect(pixel(out, 100, 61)).toEqual(color);
    expect(pixel(out, 100, 60)).toEqual(GREY);
    expect(pixel(out, 100, 159)).toEqual(color);
  });

  it('scales the default line width with the frame size', async () => {
    const out = await annotateOne(makeFrame(1280, 720, [detection(0, [100, 100, 400, 400])]), {
      showName: false,
      showScore: false,
    });
    const color = CLASS_PALETTE[0]!;
    expect(pixel(out, 102, 200)).toEqual(color);
    expect(pixel(out, 103, 200)).toEqual(GREY);
  });

  it('draws no outline with showBox false', async () => {
    const out = await annotateOne(makeFrame(320, 240, [detection(0, box)]), { ...options, showBox: false });
    expect(colorsIn(out, 0, 0, 320, 240).size).toBe(1);
  });
});

describe('annotate label', () => {
  it('draws the most confident label on top', async () => {
    const box: BoxXYXY = [20, 40, 60, 60];
    const detections = [detection(2, box, 'car', 0.9), detection(67, box, 'cell phone', 0.3)];
    const out = await annotateOne(makeFrame(100, 80, detections), { fontScale: 1 });
    // The label band above the box starts at its left edge, in the background colour of the winner.
    expect(pixel(out, 20, 39)).toEqual(colorForClass(2));
  });

  it('fills a background above the box with the label text', async () => {
    const out = await annotateOne(makeFrame(320, 240, [detection(5, [50, 60, 200, 160], 'bus', 0.92)]), {
      lineWidth: 2,
      fontScale: 2,
    });
    const background = CLASS_PALETTE[5]!;
    // 'bus 92%' is 7 characters: (7 * 6 - 1) * 2 = 82 px of text plus 2 px padding each side.
    // 8 font rows * 2 = 16 px of text plus padding: the label spans rows 40..59.
    const labelLeft = 50;
    const labelRight = 50 + 82 + 4;
    const labelTop = 40;
    const labelBottom = 60;
    expect(pixel(out, labelLeft, labelTop)).toEqual(background);
    expect(pixel(out, labelRight - 1, labelBottom - 1)).toEqual(background);
    expect(pixel(out, labelRight, labelTop + 5)).toEqual(GREY);
    expect(pixel(out, labelLeft + 5, labelTop - 1)).toEqual(GREY);

    const colors = colorsIn(out, labelLeft, labelTop, labelRight, labelBottom);
    expect([...colors.keys()].sort()).toEqual([background.join(','), textColorFor(background).join(',')].sort());
  });

  it('uses the same text as the score percentage', async () => {
    let received: readonly Annotation[] = [];
    const renderer: Renderer = { draw: (_image, annotations) => void (received = annotations) };
    await annotateOne(makeFrame(64, 64, [detection(5, [1, 1, 9, 9], 'bus', 0.916)]), { renderer });
    expect(received.map((annotation) => annotation.label)).toEqual(['bus 92%']);
    await annotateOne(makeFrame(64, 64, [detection(5, [1, 1, 9, 9], 'bus', 0.916)]), { renderer, showName: false });
    expect(received.map((annotation) => annotation.label)).toEqual(['92%']);
    await annotateOne(makeFrame(64, 64, [detection(5, [1, 1, 9, 9], 'bus', 0.916)]), { renderer, showScore: false });
    expect(received.map((annotation) => annotation.label)).toEqual(['bus']);
    await annotateOne(makeFrame(64, 64, [detection(5, [1, 1, 9, 9], 'bus', 0.916)]), {
      renderer,
      showScore: false,
      showName: false,
    });
    expect(received.map((annotation) => annotation.label)).toEqual(['']);
  });

  it('goes inside the box when there is no room above', async () => {
    const out = await annotateOne(makeFrame(320, 240, [detection(2, [40, 5, 200, 100], 'car')]), {
      lineWidth: 1,
      fontScale: 1,
    });
    const background = CLASS_PALETTE[2]!;
    // Label height is 8 + 2 = 10 px, more than the 5 rows above the box.
    expect(pixel(out, 45, 4)).toEqual(GREY);
    expect(pixel(out, 41, 6)).toEqual(background);
    expect(pixel(out, 41, 14)).toEqual(background);
    expect(pixel(out, 41, 16)).toEqual(GREY);
  });

  it('keeps text contrast at least 4.5:1 for every palette colour', async () => {
    for (const [classId, background] of CLASS_PALETTE.entries()) {
      const out = await annotateOne(makeFrame(200, 100, [detection(classId, [10, 40, 190, 90], 'person', 0.88)]), {
        fontScale: 2,
      });
      const labelWidth = measureText('person 88%', 2).width + 4;
      const colors = colorsIn(out, 10, 20, 10 + labelWidth, 40);
      const textColors = [...colors.values()].filter((color) => color.join(',') !== background.join(','));
      expect(textColors, `class ${classId} has one text colour`).toHaveLength(1);
      const ratio = contrastRatio(textColors[0]!, pixel(out, 10, 20));
      expect(ratio, `class ${classId} contrast`).toBeGreaterThanOrEqual(4.5);
    }
  });
});

describe('annotate colours', () => {
  it('gives a class the same colour in every frame', async () => {
    const frames = [makeFrame(100, 100, [detection(7, [10, 10, 50, 50])]), makeFrame(100, 100, [detection(7, [40, 40, 90, 90])])];
    const out = await lastValueFrom(from(frames).pipe(annotate({ showName: false, showScore: false }), toArray()));
    expect(pixel(out[0]!, 10, 30)).toEqual(CLASS_PALETTE[7]);
    expect(pixel(out[1]!, 40, 60)).toEqual(CLASS_PALETTE[7]);
  });

  it('gives different classes different colours', async () => {
    const detections = [detection(1, [10, 10, 50, 50]), detection(2, [60, 10, 90, 50])];
    const out = await annotateOne(makeFrame(100, 100, detections), { showName: false, showScore: false });
    expect(pixel(out, 10, 30)).toEqual(CLASS_PALETTE[1]);
    expect(pixel(out, 60, 30)).toEqual(CLASS_PALETTE[2]);
    expect(new Set(CLASS_PALETTE.map((color) => color.join(','))).size).toBe(CLASS_PALETTE.length);
  });

  it('uses colorFor when given', async () => {
    const out = await annotateOne(makeFrame(100, 100, [detection(1, [10, 10, 50, 50])]), {
      showName: false,
      showScore: false,
      colorFor: () => [1, 2, 3],
    });
    expect(pixel(out, 10, 30)).toEqual([1, 2, 3]);
  });

  it('emits INVALID_ARGUMENT for a bad colorFor result', async () => {
    const result = annotateOne(makeFrame(100, 100, [detection(1, [10, 10, 50, 50])]), {
      colorFor: () => [300, 0, 0],
    });
    await expect(result).rejects.toSatisfy((error) => isFramewiseError(error, 'INVALID_ARGUMENT'));
  });
});

describe('annotate frame handling', () => {
  it('leaves the input buffer untouched', async () => {
    const input = makeFrame(120, 80, [detection(0, [10, 20, 60, 70], 'dog')]);
    const before = Uint8Array.from(input.data);
    const out = await annotateOne(input);
    expect(out.data).not.toBe(input.data);
    expect(Buffer.from(input.data).equals(Buffer.from(before))).toBe(true);
    expect(Buffer.from(out.data).equals(Buffer.from(before))).toBe(false);
  });

  it('copies pixels unchanged with no detections', async () => {
    const input = makeFrame(64, 48, []);
    input.data[7] = 9;
    const out = await annotateOne(input);
    expect(out.data).not.toBe(input.data);
    expect(Buffer.from(out.data).equals(Buffer.from(input.data))).toBe(true);
  });

  it('keeps the flow-control lease and other fields', async () => {
    const lease: FrameLease = { retain: () => () => {} };
    const input: DetectedFrame = { ...makeFrame(32, 32, []), index: 4, timestampMs: 160, carried: true, [FRAME_LEASE]: lease };
    const out = await annotateOne(input);
    expect(out[FRAME_LEASE]).toBe(lease);
    expect(out.index).toBe(4);
    expect(out.timestampMs).toBe(160);
    expect(out.carried).toBe(true);
    expect(out.detections).toBe(input.detections);
  });

  it('clips boxes partly outside the frame', async () => {
    const detections = [
      detection(3, [-50, -30, 100, 80], 'left'),
      detection(4, [300, 200, 400, 300], 'right'),
      detection(5, [500, 500, 600, 600], 'outside'),
      detection(6, [Number.NaN, 0, 10, 10], 'nan'),
    ];
    const out = await annotateOne(makeFrame(320, 240, detections), { lineWidth: 2, fontScale: 1 });
    // Right and bottom edges of the first box are visible; its label sits inside at the top.
    expect(pixel(out, 99, 40)).toEqual(CLASS_PALETTE[3]);
    expect(pixel(out, 50, 79)).toEqual(CLASS_PALETTE[3]);
    expect(pixel(out, 0, 0)).toEqual(CLASS_PALETTE[3]);
    // The second box's left and top edges are inside the frame.
    expect(pixel(out, 300, 230)).toEqual(CLASS_PALETTE[4]);
    expect(pixel(out, 310, 201)).toEqual(CLASS_PALETTE[4]);
    // Nothing of the third and fourth boxes is drawn.
    const colors = [...colorsIn(out, 0, 0, 320, 240).keys()];
    expect(colors).not.toContain(CLASS_PALETTE[5]!.join(','));
    expect(colors).not.toContain(CLASS_PALETTE[6]!.join(','));
  });

  it('emits INVALID_INPUT for a short pixel buffer', async () => {
    const input = { ...makeFrame(10, 10, []), data: new Uint8Array(10) };
    await expect(annotateOne(input)).rejects.toSatisfy((error) => isFramewiseError(error, 'INVALID_INPUT'));
  });

  it('passes style and annotations to a custom renderer', async () => {
    const calls: { annotations: readonly Annotation[]; style: AnnotationStyle }[] = [];
    const renderer: Renderer = { draw: (_image, annotations, style) => void calls.push({ annotations, style }) };
    await annotateOne(makeFrame(640, 480, [detection(5, [1, 2, 3, 4], 'bus', 0.5)]), { renderer });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.style).toEqual({ lineWidth: 2, fontScale: 2, showBox: true });
    expect(calls[0]!.annotations).toEqual([
      { box: [1, 2, 3, 4], color: CLASS_PALETTE[5], label: 'bus 50%', textColor: textColorFor(CLASS_PALETTE[5]!) },
    ]);
  });
});

describe('annotate options', () => {
  const invalid: [string, AnnotateOptions][] = [
    ['zero line width', { lineWidth: 0 }],
    ['fractional line width', { lineWidth: 1.5 }],
    ['string font scale', { fontScale: '2' as unknown as number }],
    ['non-boolean showBox', { showBox: 'yes' as unknown as boolean }],
    ['non-function colorFor', { colorFor: [1, 2, 3] as unknown as () => Rgb }],
    ['renderer without draw', { renderer: {} as Renderer }],
  ];
  it.each(invalid)('rejects %s at call time', (_case, options) => {
    expect(() => annotate(options)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
