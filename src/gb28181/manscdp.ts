// MANSCDP (GB/T 28181 §A): small XML documents such as
//   <?xml version="1.0" encoding="GB2312"?><Query><CmdType>Catalog</CmdType><SN>17</SN><DeviceID>…</DeviceID></Query>
// A small, bounded XML reader (elements, text, entities, CDATA, comments; attributes ignored: MANSCDP
// uses none that matter) that returns an error instead of throwing, and a writer. Tag lookups are
// case-insensitive: devices write DeviceID, DeviceId and deviceID.

export interface XmlElement {
  name: string;
  children: XmlElement[];
  /** the element's own text, trimmed */
  text: string;
}

export type XmlResult = { ok: true; root: XmlElement } | { ok: false; error: string };

export const XML_LIMITS = { maxBytes: 1024 * 1024, maxDepth: 16, maxElements: 50_000 };

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(s: string): string | undefined {
  if (!s.includes('&')) return s;
  let bad = false;
  const out = s.replace(/&(#x[0-9a-fA-F]{1,6}|#\d{1,7}|[a-zA-Z]{2,4});?/g, (_m, e: string) => {
    if (e[0] === '#') {
      const cp = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      if (!(cp > 0 && cp <= 0x10ffff)) {
        bad = true;
        return '';
      }
      return String.fromCodePoint(cp);
    }
    const v = ENTITIES[e];
    if (v === undefined) return `&${e}`; // devices write a bare & in names: keep it
    return v;
  });
  return bad ? undefined : out;
}

const NAME = /^[A-Za-z_][\w.:-]{0,63}$/;

/** Parses a MANSCDP document; never throws. */
export function parseXml(text: string): XmlResult {
  if (text.length > XML_LIMITS.maxBytes) return { ok: false, error: 'the body is too long' };
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let count = 0;
  let i = 0;
  let pending = '';
  const n = text.length;
  while (i < n) {
    const lt = text.indexOf('<', i);
    const chunk = lt < 0 ? text.slice(i) : text.slice(i, lt);
    if (stack.length) pending += chunk;
    else if (chunk.trim() !== '') return { ok: false, error: 'text outside the root element' };
    if (lt < 0) break;
    if (text.startsWith('<?', lt)) {
      const end = text.indexOf('?>', lt + 2);
      if (end < 0) return { ok: false, error: 'unterminated <?' };
      i = end + 2;
    } else if (text.startsWith('<!--', lt)) {
      const end = text.indexOf('-->', lt + 4);
      if (end < 0) return { ok: false, error: 'unterminated comment' };
      i = end + 3;
    } else if (text.startsWith('<![CDATA[', lt)) {
      const end = text.indexOf(']]>', lt + 9);
      if (end < 0 || !stack.length) return { ok: false, error: 'bad CDATA' };
      // marked so entity decoding leaves it alone
      pending += '\u0000' + text.slice(lt + 9, end) + '\u0001';
      i = end + 3;
    } else if (text.startsWith('<!', lt)) {
      const end = text.indexOf('>', lt + 2);
      if (end < 0) return { ok: false, error: 'unterminated <!' };
      i = end + 1;
    } else {
      const end = text.indexOf('>', lt + 1);
      if (end < 0) return { ok: false, error: 'unterminated tag' };
      let tag = text.slice(lt + 1, end);
      i = end + 1;
      if (tag.startsWith('/')) {
        const name = tag.slice(1).trim();
        const open = stack.pop();
        if (!open || open.name !== name) return { ok: false, error: `</${name.slice(0, 64)}> does not close <${open?.name ?? ''}>` };
        const t = textOf(pending);
        if (t === undefined) return { ok: false, error: `bad character reference in <${name}>` };
        if (!open.children.length || t !== '') open.text = t;
        pending = '';
        continue;
      }
      const selfClosing = tag.endsWith('/');
      if (selfClosing) tag = tag.slice(0, -1);
      const name = /^\s*([^\s/]+)/.exec(tag)?.[1] ?? '';
      if (!NAME.test(name)) return { ok: false, error: `bad element name <${name.slice(0, 64)}>` };
      if (++count > XML_LIMITS.maxElements) return { ok: false, error: 'too many elements' };
      const el: XmlElement = { name, children: [], text: '' };
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(el);
      else if (root) return { ok: false, error: 'more than one root element' };
      else root = el;
      pending = '';
      if (!selfClosing) {
        if (stack.length >= XML_LIMITS.maxDepth) return { ok: false, error: 'elements nested too deep' };
        stack.push(el);
      }
    }
  }
  if (stack.length) return { ok: false, error: `<${stack[stack.length - 1]!.name}> is not closed` };
  if (!root) return { ok: false, error: 'no root element' };
  return { ok: true, root };
}

function textOf(raw: string): string | undefined {
  // CDATA sections (between \0 and \1) are taken as they are; the rest has its entities decoded
  let out = '';
  for (const [k, part] of raw.split(/\u0000|\u0001/).entries()) {
    if (k % 2 === 1) out += part;
    else {
      const d = decodeEntities(part);
      if (d === undefined) return undefined;
      out += d;
    }
  }
  return out.trim();
}

/** The first child named `name` (case-insensitive). */
export function child(el: XmlElement | undefined, name: string): XmlElement | undefined {
  if (!el) return undefined;
  const lower = name.toLowerCase();
  return el.children.find((c) => c.name.toLowerCase() === lower);
}

/** Every child named `name` (case-insensitive). */
export function children(el: XmlElement | undefined, name: string): XmlElement[] {
  if (!el) return [];
  const lower = name.toLowerCase();
  return el.children.filter((c) => c.name.toLowerCase() === lower);
}

/** The text of the first child named `name`; '' when there is none. */
export function childText(el: XmlElement | undefined, name: string): string {
  return child(el, name)?.text ?? '';
}

/** The integer in the child `name`, or undefined when it is missing or not a number. */
export function childInt(el: XmlElement | undefined, name: string): number | undefined {
  const t = childText(el, name);
  if (!/^-?\d{1,15}$/.test(t)) return undefined;
  return Number(t);
}

export type XmlValue = string | number | XmlFields | XmlValue[] | undefined;
export interface XmlFields {
  [name: string]: XmlValue;
}

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function writeFields(fields: XmlFields, indent: string, out: string[]): void {
  for (const [name, v] of Object.entries(fields)) writeValue(name, v, indent, out);
}

function writeValue(name: string, v: XmlValue, indent: string, out: string[]): void {
  if (v === undefined) return;
  if (Array.isArray(v)) {
    for (const item of v) writeValue(name, item, indent, out);
  } else if (typeof v === 'object') {
    // a list element carries its Num attribute (DeviceList Num="2"): written as a `@Num` key
    const attrs = Object.entries(v)
      .filter(([k]) => k.startsWith('@'))
      .map(([k, a]) => ` ${k.slice(1)}="${escapeXml(String(a))}"`)
      .join('');
    const inner: XmlFields = Object.fromEntries(Object.entries(v).filter(([k]) => !k.startsWith('@')));
    out.push(`${indent}<${name}${attrs}>`);
    writeFields(inner, indent + '  ', out);
    out.push(`${indent}</${name}>`);
  } else {
    out.push(`${indent}<${name}>${escapeXml(String(v))}</${name}>`);
  }
}

/** `<?xml version="1.0" encoding="GB2312"?>` then `<root>` with `fields` in their order. */
export function buildXml(root: 'Query' | 'Response' | 'Notify' | 'Control', fields: XmlFields, encoding = 'GB2312'): string {
  const out = [`<?xml version="1.0" encoding="${encoding}"?>`, `<${root}>`];
  writeFields(fields, '  ', out);
  out.push(`</${root}>`, '');
  return out.join('\r\n');
}
