/** An sRGB colour as `[red, green, blue]`, each an integer from 0 to 255. */
export type Rgb = readonly [red: number, green: number, blue: number];

/** Black, one of the two label text colours. */
export const BLACK: Rgb = Object.freeze([0, 0, 0] as const);

/** White, one of the two label text colours. */
export const WHITE: Rgb = Object.freeze([255, 255, 255] as const);

/**
 * Box colours by class: twenty saturated colours with hues spread around the colour wheel, ordered so
 * that neighbouring class ids get hues far apart. Class `id` uses entry `id % 20`, so classes 0–19
 * all differ and class 20 repeats class 0.
 */
export const CLASS_PALETTE: readonly Rgb[] = Object.freeze(
  [
    0xe63333, 0x1973cc, 0x33e633, 0xcc7319, 0x8c33e6, 0x19cccc, 0xe6d733, 0xcc1991, 0x33e68c, 0x1928cc,
    0x8ce633, 0xcc4619, 0x33b9e6, 0xae19cc, 0xe6b033, 0x19cca0, 0x5f33e6, 0x46cc19, 0xe6335f, 0xa0cc19,
  ].map((hex): Rgb => Object.freeze([(hex >> 16) & 0xff, (hex >> 8) & 0xff, hex & 0xff] as const)),
);

/**
 * Returns the palette colour of a class: the same class id always gets the same colour.
 * Negative or fractional ids are folded into the palette too, so any number gets a colour.
 */
export function colorForClass(classId: number): Rgb {
  const size = CLASS_PALETTE.length;
  const slot = Number.isFinite(classId) ? ((Math.trunc(classId) % size) + size) % size : 0;
  return CLASS_PALETTE[slot] as Rgb;
}

/**
 * Computes the relative luminance of an sRGB colour as WCAG 2 defines it: 0 for black, 1 for white.
 * Each channel is linearised (`c / 12.92` below 0.04045, else `((c + 0.055) / 1.055) ^ 2.4`) and the
 * results are weighted 0.2126, 0.7152 and 0.0722.
 */
export function relativeLuminance(color: Rgb): number {
  const linear = (channel: number): number => {
    const c = channel / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * linear(color[0]) + 0.7152 * linear(color[1]) + 0.0722 * linear(color[2]);
}

/** Computes the WCAG 2 contrast ratio of two colours, from 1 (same luminance) to 21 (black on white). */
export function contrastRatio(a: Rgb, b: Rgb): number {
  const la = relativeLuminance(a);
  const lb = relativeLuminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

/**
 * Picks black or white text for a background, whichever has the higher contrast ratio. The better
 * of the two always reaches at least 4.58:1, above the 4.5:1 that WCAG 2 level AA requires for text.
 */
export function textColorFor(background: Rgb): Rgb {
  return contrastRatio(background, BLACK) >= contrastRatio(background, WHITE) ? BLACK : WHITE;
}
