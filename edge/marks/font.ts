// A 5×7 bitmap font for the printable ASCII range, drawn in a 6×8 cell (one column and one row of
// spacing). Labels, status lines and timestamps on clips and the live stream are ASCII, so this is
// all the text rendering the edge needs, with no font files or native libraries on the appliance.

export const GLYPH_WIDTH = 5;
export const GLYPH_HEIGHT = 7;
export const CELL_WIDTH = GLYPH_WIDTH + 1;
export const CELL_HEIGHT = GLYPH_HEIGHT + 1;

const FIRST = 0x20;

/**
 * One glyph per code point from 0x20 (space) to 0x7e (~), seven rows each as 5-bit masks, the
 * most significant of the five bits the leftmost column, written as 14 hex digits.
 */
const GLYPHS: readonly string[] = [
  '00000000000000', '04040404040004', '0a0a0000000000', '0a0a1f0a1f0a0a', // space ! " #
  '040f140e051e04', '18190204081303', '0c12140815120d', '04040000000000', // $ % & '
  '02040808080402', '08040202020408', '0004150e150400', '0004041f040400', // ( ) * +
  '000000000c0408', '0000001f000000', '00000000000c0c', '00010204081000', // , - . /
  '0e11131519110e', '040c040404040e', '0e11010204081f', '1f02040201110e', // 0 1 2 3
  '02060a121f0202', '1f101e0101110e', '0608101e11110e', '1f010204080808', // 4 5 6 7
  '0e11110e11110e', '0e11110f01020c', '000c0c000c0c00', '000c0c000c0408', // 8 9 : ;
  '02040810080402', '00001f001f0000', '08040201020408', '0e110102040004', // < = > ?
  '0e11010d15150e', '0e1111111f1111', '1e11111e11111e', '0e11101010110e', // @ A B C
  '1c12111111121c', '1f10101e10101f', '1f10101e101010', '0e11101711110f', // D E F G
  '1111111f111111', '0e04040404040e', '0702020202120c', '11121418141211', // H I J K
  '1010101010101f', '111b1515111111', '11111915131111', '0e11111111110e', // L M N O
  '1e11111e101010', '0e11111115120d', '1e11111e141211', '0f10100e01011e', // P Q R S
  '1f040404040404', '1111111111110e', '11111111110a04', '1111111515150a', // T U V W
  '11110a040a1111', '1111110a040404', '1f01020408101f', '0e08080808080e', // X Y Z [
  '00100804020100', '0e02020202020e', '040a1100000000', '0000000000001f', // \ ] ^ _
  '08040200000000', '00000e010f110f', '1010161911111e', '00000e1010110e', // ` a b c
  '01010d1311110f', '00000e111f100e', '0609081c080808', '000f11110f010e', // d e f g
  '10101619111111', '04000c0404040e', '0200060202120c', '10101214181412', // h i j k
  '0c04040404040e', '00001a15151111', '00001619111111', '00000e1111110e', // l m n o
  '00001e111e1010', '00000d130f0101', '00001619101010', '00000e100e011e', // p q r s
  '08081c08080906', '0000111111130d', '00001111110a04', '0000111115150a', // t u v w
  '0000110a040a11', '000011110f010e', '00001f0204081f', '02040408040402', // x y z {
  '04040404040404', '08040402040408', '00000815020000', // | } ~
];

/** Shown for anything outside printable ASCII (labels are meant to be ASCII; a hollow box shows where one slipped in). */
const UNKNOWN = '1f11111111111f';

const rowsCache = new Map<string, readonly number[]>();

function decode(hex: string): readonly number[] {
  const rows: number[] = [];
  for (let i = 0; i < GLYPH_HEIGHT; i++) rows.push(parseInt(hex.slice(i * 2, i * 2 + 2), 16));
  return rows;
}

/** The seven 5-bit rows of `ch` (its first UTF-16 unit); a hollow box for anything not printable ASCII. */
export function glyphRows(ch: string): readonly number[] {
  const code = ch.charCodeAt(0);
  const hex = code >= FIRST && code - FIRST < GLYPHS.length ? GLYPHS[code - FIRST]! : UNKNOWN;
  let rows = rowsCache.get(hex);
  if (!rows) {
    rows = decode(hex);
    rowsCache.set(hex, rows);
  }
  return rows;
}

/** Width in pixels of `text` at `scale` (no trailing spacing column). */
export function textWidth(text: string, scale = 1): number {
  return text.length === 0 ? 0 : (text.length * CELL_WIDTH - 1) * scale;
}

/** Height in pixels of one line of text at `scale` (no trailing spacing row). */
export function textHeight(scale = 1): number {
  return GLYPH_HEIGHT * scale;
}

/**
 * Calls `plot(x, y)` for every lit pixel of `text` with its top-left corner at (x, y), each glyph
 * pixel a scale × scale square. Clipping is the caller's business.
 */
export function forEachTextPixel(text: string, x: number, y: number, scale: number, plot: (px: number, py: number) => void): void {
  for (let i = 0; i < text.length; i++) {
    const rows = glyphRows(text[i]!);
    const gx = x + i * CELL_WIDTH * scale;
    for (let r = 0; r < GLYPH_HEIGHT; r++) {
      const bits = rows[r]!;
      if (bits === 0) continue;
      for (let c = 0; c < GLYPH_WIDTH; c++) {
        if ((bits & (0x10 >> c)) === 0) continue;
        for (let sy = 0; sy < scale; sy++) {
          for (let sx = 0; sx < scale; sx++) plot(gx + c * scale + sx, y + r * scale + sy);
        }
      }
    }
  }
}
