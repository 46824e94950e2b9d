/**
 * The built-in bitmap font: 5x8-pixel glyphs for printable ASCII (32–126) and a hollow box drawn
 * for every other character. Capitals and digits use rows 0–6, and descenders use the last row
 * (g, j, p, q, y and `_`). Letters with descenders sit one row higher than other lowercase letters.
 */

/** Glyph width in font pixels. */
export const GLYPH_WIDTH = 5;

/** Glyph height in font pixels, descender row included. */
export const GLYPH_HEIGHT = 8;

/** Horizontal distance from one character to the next in font pixels: the glyph plus one blank column. */
export const GLYPH_ADVANCE = 6;

/** First character code with a glyph of its own (space). */
const FIRST_CODE = 32;

/** Last character code with a glyph of its own (`~`). */
const LAST_CODE = 126;

/**
 * Glyph rows for codes 32 to 126 in order, then the fallback box. Each string contains eight rows
 * from top to bottom, separated by spaces. In a row, `#` is a lit pixel and `.` a blank one, left to right.
 */
const GLYPH_SOURCE: readonly string[] = [
  '..... ..... ..... ..... ..... ..... ..... .....', // space
  '..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#.. .....', // !
  '.#.#. .#.#. ..... ..... ..... ..... ..... .....', // "
  '.#.#. .#.#. ##### .#.#. ##### .#.#. .#.#. .....', // #
  '..#.. .#### #.#.. .###. ..#.# ####. ..#.. .....', // $
  '##... ##..# ...#. ..#.. .#... #..## ...## .....', // %
  '.##.. #..#. #.#.. .#... #.#.# #..#. .##.# .....', // &
  '..#.. ..#.. .#... ..... ..... ..... ..... .....', // '
  '...#. ..#.. .#... .#... .#... ..#.. ...#. .....', // (
  '.#... ..#.. ...#. ...#. ...#. ..#.. .#... .....', // )
  '..... ..#.. #.#.# .###. #.#.# ..#.. ..... .....', // *
  '..... ..#.. ..#.. ##### ..#.. ..#.. ..... .....', // +
  '..... ..... ..... ..... ..... .##.. ..#.. .#...', // ,
  '..... ..... ..... ##### ..... ..... ..... .....', // -
  '..... ..... ..... ..... ..... .##.. .##.. .....', // .
  '..... ....# ...#. ..#.. .#... #.... ..... .....', // /
  '.###. #...# #..## #.#.# ##..# #...# .###. .....', // 0
  '..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###. .....', // 1
  '.###. #...# ....# ...#. ..#.. .#... ##### .....', // 2
  '##### ...#. ..#.. ...#. ....# #...# .###. .....', // 3
  '...#. ..##. .#.#. #..#. ##### ...#. ...#. .....', // 4
  '##### #.... ####. ....# ....# #...# .###. .....', // 5
  '..##. .#... #.... ####. #...# #...# .###. .....', // 6
  '##### ....# ...#. ..#.. .#... .#... .#... .....', // 7
  '.###. #...# #...# .###. #...# #...# .###. .....', // 8
  '.###. #...# #...# .#### ....# ...#. .##.. .....', // 9
  '..... .##.. .##.. ..... .##.. .##.. ..... .....', // :
  '..... .##.. .##.. ..... .##.. ..#.. .#... .....', // ;
  '...#. ..#.. .#... #.... .#... ..#.. ...#. .....', // <
  '..... ..... ##### ..... ##### ..... ..... .....', // =
  '.#... ..#.. ...#. ....# ...#. ..#.. .#... .....', // >
  '.###. #...# ....# ...#. ..#.. ..... ..#.. .....', // ?
  '.###. #...# ....# .##.# #.#.# #.#.# .###. .....', // @
  '.###. #...# #...# ##### #...# #...# #...# .....', // A
  '####. #...# #...# ####. #...# #...# ####. .....', // B
  '.###. #...# #.... #.... #.... #...# .###. .....', // C
  '###.. #..#. #...# #...# #...# #..#. ###.. .....', // D
  '##### #.... #.... ####. #.... #.... ##### .....', // E
  '##### #.... #.... ####. #.... #.... #.... .....', // F
  '.###. #...# #.... #.### #...# #...# .#### .....', // G
  '#...# #...# #...# ##### #...# #...# #...# .....', // H
  '.###. ..#.. ..#.. ..#.. ..#.. ..#.. .###. .....', // I
  '..### ...#. ...#. ...#. ...#. #..#. .##.. .....', // J
  '#...# #..#. #.#.. ##... #.#.. #..#. #...# .....', // K
  '#.... #.... #.... #.... #.... #.... ##### .....', // L
  '#...# ##.## #.#.# #.#.# #...# #...# #...# .....', // M
  '#...# #...# ##..# #.#.# #..## #...# #...# .....', // N
  '.###. #...# #...# #...# #...# #...# .###. .....', // O
  '####. #...# #...# ####. #.... #.... #.... .....', // P
  '.###. #...# #...# #...# #.#.# #..#. .##.# .....', // Q
  '####. #...# #...# ####. #.#.. #..#. #...# .....', // R
  '.#### #.... #.... .###. ....# ....# ####. .....', // S
  '##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#.. .....', // T
  '#...# #...# #...# #...# #...# #...# .###. .....', // U
  '#...# #...# #...# #...# #...# .#.#. ..#.. .....', // V
  '#...# #...# #...# #.#.# #.#.# #.#.# .#.#. .....', // W
  '#...# #...# .#.#. ..#.. .#.#. #...# #...# .....', // X
  '#...# #...# .#.#. ..#.. ..#.. ..#.. ..#.. .....', // Y
  '##### ....# ...#. ..#.. .#... #.... ##### .....', // Z
  '.###. .#... .#... .#... .#... .#... .###. .....', // [
  '..... #.... .#... ..#.. ...#. ....# ..... .....', // backslash
  '.###. ...#. ...#. ...#. ...#. ...#. .###. .....', // ]
  '..#.. .#.#. #...# ..... ..... ..... ..... .....', // ^
  '..... ..... ..... ..... ..... ..... ..... #####', // _
  '.#... ..#.. ...#. ..... ..... ..... ..... .....', // `
  '..... ..... .###. ....# .#### #...# .#### .....', // a
  '#.... #.... #.##. ##..# #...# #...# ####. .....', // b
  '..... ..... .###. #.... #.... #...# .###. .....', // c
  '....# ....# .##.# #..## #...# #...# .#### .....', // d
  '..... ..... .###. #...# ##### #.... .###. .....', // e
  '..##. .#..# .#... ###.. .#... .#... .#... .....', // f
  '..... ..... .#### #...# #...# .#### ....# .###.', // g
  '#.... #.... #.##. ##..# #...# #...# #...# .....', // h
  '..#.. ..... .##.. ..#.. ..#.. ..#.. .###. .....', // i
  '...#. ..... ..##. ...#. ...#. ...#. #..#. .##..', // j
  '#.... #.... #..#. #.#.. ##... #.#.. #..#. .....', // k
  '.##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###. .....', // l
  '..... ..... ##.#. #.#.# #.#.# #...# #...# .....', // m
  '..... ..... #.##. ##..# #...# #...# #...# .....', // n
  '..... ..... .###. #...# #...# #...# .###. .....', // o
  '..... ..... ####. #...# #...# ####. #.... #....', // p
  '..... ..... .#### #...# #...# .#### ....# ....#', // q
  '..... ..... #.##. ##..# #.... #.... #.... .....', // r
  '..... ..... .#### #.... .###. ....# ####. .....', // s
  '.#... .#... ###.. .#... .#... .#..# ..##. .....', // t
  '..... ..... #...# #...# #...# #..## .##.# .....', // u
  '..... ..... #...# #...# #...# .#.#. ..#.. .....', // v
  '..... ..... #...# #...# #.#.# #.#.# .#.#. .....', // w
  '..... ..... #...# .#.#. ..#.. .#.#. #...# .....', // x
  '..... ..... #...# #...# #...# .#### ....# .###.', // y
  '..... ..... ##### ...#. ..#.. .#... ##### .....', // z
  '...#. ..#.. ..#.. .#... ..#.. ..#.. ...#. .....', // {
  '..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#.. .....', // |
  '.#... ..#.. ..#.. ...#. ..#.. ..#.. .#... .....', // }
  '..... ..... .#... #.#.# ...#. ..... ..... .....', // ~
  '##### #...# #...# #...# #...# #...# ##### .....', // fallback box
];

/**
 * Glyph bitmaps, `GLYPH_HEIGHT` bytes per glyph, one byte per row: bit 4 is the leftmost column and
 * bit 0 the rightmost. Glyph `code - 32` for printable ASCII, the last glyph for anything else.
 */
const GLYPH_BITS: Uint8Array = parseGlyphs(GLYPH_SOURCE);

/** Index of the fallback box glyph. */
const FALLBACK_GLYPH = LAST_CODE - FIRST_CODE + 1;

/**
 * Returns the rows of the glyph that draws `codePoint`: printable ASCII gets its own glyph, every
 * other code point the hollow box. Row `r` has bit `4 - c` set when column `c` is lit.
 */
export function glyphRows(codePoint: number): Uint8Array {
  const glyph = codePoint >= FIRST_CODE && codePoint <= LAST_CODE ? codePoint - FIRST_CODE : FALLBACK_GLYPH;
  return GLYPH_BITS.subarray(glyph * GLYPH_HEIGHT, (glyph + 1) * GLYPH_HEIGHT);
}

/**
 * Measures a line of text drawn at an integer pixel `scale`, without the blank column after the
 * last character. Returns zero width for an empty string. Counts code points, not UTF-16 units.
 */
export function measureText(text: string, scale: number): { width: number; height: number } {
  const characters = [...text].length;
  const width = characters === 0 ? 0 : (characters * GLYPH_ADVANCE - (GLYPH_ADVANCE - GLYPH_WIDTH)) * scale;
  return { width, height: GLYPH_HEIGHT * scale };
}

function parseGlyphs(source: readonly string[]): Uint8Array {
  const expectedGlyphs = LAST_CODE - FIRST_CODE + 2;
  if (source.length !== expectedGlyphs) {
    throw new Error(`Font table has ${source.length} glyphs, expected ${expectedGlyphs}.`);
  }
  const bits = new Uint8Array(source.length * GLYPH_HEIGHT);
  source.forEach((glyph, glyphIndex) => {
    const rows = glyph.split(' ');
    if (rows.length !== GLYPH_HEIGHT || rows.some((row) => !/^[#.]{5}$/.test(row))) {
      throw new Error(`Font glyph ${glyphIndex} is malformed: ${JSON.stringify(glyph)}.`);
    }
    rows.forEach((row, rowIndex) => {
      let mask = 0;
      for (const pixel of row) mask = (mask << 1) | (pixel === '#' ? 1 : 0);
      bits[glyphIndex * GLYPH_HEIGHT + rowIndex] = mask;
    });
  });
  return bits;
}
