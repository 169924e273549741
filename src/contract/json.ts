// A strict RFC 8259 JSON reader for request bodies. We parse ourselves instead of JSON.parse so
// that a mine integrator is told exactly where the body breaks and why: the guide's own examples
// carry full-width quotes (“ ”) and miss commas, and devices copied them. Limits on depth, member
// count and string length are enforced while reading.
import { InvalidJson } from './errors.ts';

export interface JsonLimits {
  maxDepth: number;
  /** members of one object or items of one array */
  maxMembers: number;
  /** UTF-16 units of one string */
  maxStringLength: number;
}

export const DEFAULT_JSON_LIMITS: JsonLimits = { maxDepth: 8, maxMembers: 64, maxStringLength: 4096 };

const LOOKALIKES: Record<string, string> = {
  '\u201c': 'a full-width opening quote “ (U+201C); JSON needs the ASCII double quote "',
  '\u201d': 'a full-width closing quote ” (U+201D); JSON needs the ASCII double quote "',
  '\u201e': 'a low quote „ (U+201E); JSON needs the ASCII double quote "',
  '\u2033': 'a double prime ″ (U+2033); JSON needs the ASCII double quote "',
  '\uff02': 'a full-width quote ＂ (U+FF02); JSON needs the ASCII double quote "',
  '\u2018': "a curly single quote ‘ (U+2018); JSON needs the ASCII double quote \"",
  '\u2019': "a curly single quote ’ (U+2019); JSON needs the ASCII double quote \"",
  "'": "a single quote '; JSON strings need double quotes \"",
  '\uff1a': 'a full-width colon ： (U+FF1A); JSON needs the ASCII colon :',
  '\uff0c': 'a full-width comma ， (U+FF0C); JSON needs the ASCII comma ,',
  '\uff5b': 'a full-width brace ｛ (U+FF5B); JSON needs {',
  '\uff5d': 'a full-width brace ｝ (U+FF5D); JSON needs }',
  '\u3000': 'an ideographic space (U+3000); JSON allows only ASCII white space',
  '\u00a0': 'a no-break space (U+00A0); JSON allows only ASCII white space',
};

class Reader {
  pos = 0;
  constructor(
    readonly text: string,
    readonly limits: JsonLimits,
  ) {}

  fail(problem: string, at = this.pos): never {
    const { line, column } = lineColumn(this.text, at);
    const ch = this.text[at];
    const cause = ch !== undefined ? LOOKALIKES[ch] : undefined;
    const found = ch === undefined ? 'the end of the body' : cause ? `found ${cause}` : `found ${describeChar(ch)}`;
    throw InvalidJson(`body: invalid JSON at line ${line}, column ${column} (position ${at}): ${problem}; ${found}`, {
      field: 'body',
      detail: { position: at, line, column },
    });
  }

  ws(): void {
    const t = this.text;
    let p = this.pos;
    while (p < t.length) {
      const c = t.charCodeAt(p);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) p++;
      else break;
    }
    this.pos = p;
  }

  value(depth: number): unknown {
    this.ws();
    const c = this.text[this.pos];
    switch (c) {
      case '{':
        return this.object(depth + 1);
      case '[':
        return this.array(depth + 1);
      case '"':
        return this.string();
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      default:
        if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
        return this.fail('expected a value (a "string", number, object, array, true, false or null)');
    }
  }

  literal<T>(word: string, v: T): T {
    if (this.text.startsWith(word, this.pos)) {
      this.pos += word.length;
      return v;
    }
    return this.fail(`expected ${word}`);
  }

  number(): number {
    const re = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    re.lastIndex = this.pos;
    const m = re.exec(this.text);
    if (!m) return this.fail('malformed number');
    this.pos += m[0].length;
    return Number(m[0]);
  }

  string(): string {
    const t = this.text;
    const start = this.pos;
    let p = this.pos + 1;
    let out = '';
    let chunkStart = p;
    for (;;) {
      if (p >= t.length) return this.fail('unterminated string (a closing " is missing)', start);
      const c = t.charCodeAt(p);
      if (c === 0x22) break;
      if (c < 0x20) return this.fail('control character inside a string (escape it, e.g. \\n)', p);
      if (c === 0x5c) {
        out += t.slice(chunkStart, p);
        const e = t[p + 1];
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e !== undefined && simple[e] !== undefined) {
          out += simple[e];
          p += 2;
        } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(t.slice(p + 2, p + 6))) {
          out += String.fromCharCode(parseInt(t.slice(p + 2, p + 6), 16));
          p += 6;
        } else {
          return this.fail('invalid escape in a string', p);
        }
        chunkStart = p;
      } else {
        p++;
      }
      if (p - start > this.limits.maxStringLength) return this.fail(`string longer than ${this.limits.maxStringLength} characters`, start);
    }
    out += t.slice(chunkStart, p);
    this.pos = p + 1;
    return out;
  }

  object(depth: number): Record<string, unknown> {
    if (depth > this.limits.maxDepth) return this.fail(`nested deeper than ${this.limits.maxDepth} levels`);
    this.pos++; // {
    const obj: Record<string, unknown> = Object.create(null);
    let count = 0;
    this.ws();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return obj;
    }
    for (;;) {
      this.ws();
      if (this.text[this.pos] !== '"') {
        if (this.text[this.pos] === '}' && count > 0) return this.fail('trailing comma before }');
        return this.fail('expected a member name in double quotes');
      }
      const keyAt = this.pos;
      const key = this.string();
      if (Object.hasOwn(obj, key)) return this.fail(`member "${key}" appears twice`, keyAt);
      this.ws();
      if (this.text[this.pos] !== ':') return this.fail(`expected : after member name "${key}"`);
      this.pos++;
      obj[key] = this.value(depth);
      if (++count > this.limits.maxMembers) return this.fail(`more than ${this.limits.maxMembers} members in one object`, keyAt);
      this.ws();
      const c = this.text[this.pos];
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === '}') {
        this.pos++;
        return obj;
      }
      if (c === '"') return this.fail(`missing comma after the value of "${key}"`);
      return this.fail(`expected , or } after the value of "${key}"`);
    }
  }

  array(depth: number): unknown[] {
    if (depth > this.limits.maxDepth) return this.fail(`nested deeper than ${this.limits.maxDepth} levels`);
    this.pos++; // [
    const arr: unknown[] = [];
    this.ws();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return arr;
    }
    for (;;) {
      this.ws();
      if (this.text[this.pos] === ']' && arr.length > 0) return this.fail('trailing comma before ]');
      arr.push(this.value(depth));
      if (arr.length > this.limits.maxMembers) return this.fail(`more than ${this.limits.maxMembers} items in one array`);
      this.ws();
      const c = this.text[this.pos];
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === ']') {
        this.pos++;
        return arr;
      }
      return this.fail('expected , or ] after an array item');
    }
  }
}

function describeChar(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  if (cp < 0x20 || cp === 0x7f) return `control character U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  return `'${ch}' (U+${cp.toString(16).toUpperCase().padStart(4, '0')})`;
}

function lineColumn(text: string, at: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < at && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: at - lineStart + 1 };
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Decodes UTF-8 (a BOM is dropped) or throws ESEAL_ERR_INPUT_JSON naming the problem. */
export function decodeUtf8Body(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch (err) {
    throw InvalidJson('body: not valid UTF-8 (is it GBK-encoded? the national API requires UTF-8, 5.3.2)', { field: 'body', cause: err });
  }
}

/** Parses a complete JSON text; throws ESEAL_ERR_INPUT_JSON with position and likely cause. */
export function parseJsonText(text: string, limits: JsonLimits = DEFAULT_JSON_LIMITS): unknown {
  const r = new Reader(text, limits);
  r.ws();
  if (r.pos >= text.length) throw InvalidJson('body: empty; a JSON object is required', { field: 'body' });
  const v = r.value(0);
  r.ws();
  if (r.pos < text.length) r.fail('unexpected text after the end of the JSON value');
  return v;
}

export function parseJsonBody(bytes: Uint8Array, limits: JsonLimits = DEFAULT_JSON_LIMITS): unknown {
  return parseJsonText(decodeUtf8Body(bytes), limits);
}
