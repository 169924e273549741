// MANSCDP bodies are bytes: GB/T 28181 says GB2312, devices send GB2312, GBK, GB18030 or UTF-8, and
// the XML declaration does not always say which (a common fault: `encoding="GB2312"` over UTF-8).
// Decoding: UTF-8 when the bytes are valid UTF-8 holding at least one multi-byte sequence (Chinese in
// GB encodings is almost never valid UTF-8), whatever is declared; otherwise GB18030 (a superset of
// GB2312 and GBK) unless UTF-8 is declared and the bytes are valid, which covers pure ASCII.
import iconv from 'iconv-lite';

export type BodyCharset = 'utf-8' | 'gb18030';

export interface DecodedBody {
  text: string;
  /** what the bytes really were */
  charset: BodyCharset;
  /** what the XML declaration (or Content-Type) said, lower case; '' when nothing */
  declared: string;
  /** the declaration named another encoding than the bytes are in */
  lying: boolean;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function declaredEncoding(head: string, contentType = ''): string {
  const xml = /<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_-]{1,20})["']/i.exec(head);
  if (xml) return xml[1]!.toLowerCase();
  const ct = /charset\s*=\s*"?([A-Za-z0-9_-]{1,20})/i.exec(contentType);
  return ct ? ct[1]!.toLowerCase() : '';
}

function isGbName(name: string): boolean {
  return /^(gb2312|gbk|gb18030|cp936|euc-cn|x-gbk)$/.test(name);
}

function hasHighBytes(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i]! >= 0x80) return true;
  return false;
}

/**
 * How much of `text` reads like real Chinese: ASCII, CJK punctuation and the 3,755 common characters
 * (GB2312 level 1, lead bytes B0–D7) count 1, other GB2312 characters ½, anything else 0. UTF-8
 * bytes misread as GB land on rare characters (their lead bytes E4–E9 are level 2), and GB bytes
 * misread as UTF-8 on odd code points, so the right reading scores higher.
 */
function plausibility(text: string): number {
  let good = 0;
  let n = 0;
  for (const ch of text) {
    n++;
    const c = ch.codePointAt(0)!;
    if ((c >= 0x20 && c < 0x7f) || c === 0x09 || c === 0x0a || c === 0x0d) good++;
    else if (c >= 0x4e00 && c <= 0x9fa5) {
      const gb = iconv.encode(ch, 'gb2312');
      const lead = gb.length === 2 ? gb[0]! : 0;
      if (lead >= 0xb0 && lead <= 0xd7) good++;
      else if (lead >= 0xd8 && lead <= 0xf7) good += 0.5;
    } else if ((c >= 0x3000 && c <= 0x303f) || (c >= 0xff00 && c <= 0xffef)) good++;
  }
  return n ? good / n : 1;
}

/** Decodes a MANSCDP body; never throws. `contentType` is the SIP Content-Type, for its charset. */
export function decodeBody(bytes: Uint8Array, contentType?: string): DecodedBody {
  const head = Buffer.from(bytes.subarray(0, 200)).toString('latin1');
  const declared = declaredEncoding(head, contentType);
  const saysUtf8 = /^utf-?8$/.test(declared);
  let utf8: string | undefined;
  try {
    utf8 = strictUtf8.decode(bytes);
  } catch {
    utf8 = undefined;
  }
  if (!hasHighBytes(bytes)) return { text: stripBom(utf8 ?? ''), charset: saysUtf8 || !isGbName(declared) ? 'utf-8' : 'gb18030', declared, lying: false };
  if (utf8 !== undefined) {
    if (saysUtf8) return { text: stripBom(utf8), charset: 'utf-8', declared, lying: false };
    // valid UTF-8 under a GB (or no) declaration: usually UTF-8 mislabelled, but a short GB text can
    // be valid UTF-8 too; the decoding that reads as Chinese wins, the declaration breaks a tie
    const gb = iconv.decode(Buffer.from(bytes), 'gb18030');
    const u = plausibility(utf8);
    const g = plausibility(gb);
    if (u > g || (u === g && !isGbName(declared))) return { text: stripBom(utf8), charset: 'utf-8', declared, lying: declared !== '' };
    return { text: gb, charset: 'gb18030', declared, lying: false };
  }
  const text = iconv.decode(Buffer.from(bytes), 'gb18030');
  return { text, charset: 'gb18030', declared, lying: saysUtf8 };
}

function stripBom(s: string): string {
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

/** Encodes text for a body declared as `charset` (GB2312 by the standard; GB18030 bytes cover every character). */
export function encodeBody(text: string, charset: 'GB2312' | 'UTF-8' = 'GB2312'): Buffer {
  return charset === 'UTF-8' ? Buffer.from(text, 'utf8') : iconv.encode(text, 'gb18030');
}

/** The `sip` package's bodies are latin1 strings (one char per byte): to bytes and back. */
export function latin1ToBytes(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}
export function bytesToLatin1(b: Uint8Array): string {
  return Buffer.from(b).toString('latin1');
}
