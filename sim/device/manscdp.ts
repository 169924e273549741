// The MANSCDP XML (GB/T 28181 Annex A) the device writes and the little it reads: the root, CmdType,
// SN and DeviceID of a server's Query. Flat documents only, bounded and total (a body that is not
// one gives undefined). Bodies are bytes: GB2312 by default (the standard's charset), UTF-8 on
// request, and the declaration can lie on purpose (a failure knob). Kernel candidates:
// escapeXml, xmlDocument, readQuery, encodeBody/decodeBody.
import iconv from 'iconv-lite';

export type Charset = 'GB2312' | 'UTF-8';
export type GbVersion = '2016' | '2022';

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** A value is text, a list of nested elements, or an element with attributes and children. */
export type XmlValue = string | number | XmlNode[];
export interface XmlNode {
  name: string;
  attrs?: Record<string, string | number>;
  value: XmlValue;
}

function render(n: XmlNode, indent: string): string {
  const attrs = Object.entries(n.attrs ?? {}).map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`).join('');
  if (Array.isArray(n.value)) return `${indent}<${n.name}${attrs}>\r\n${n.value.map((c) => render(c, indent + '  ')).join('')}${indent}</${n.name}>\r\n`;
  return `${indent}<${n.name}${attrs}>${escapeXml(String(n.value))}</${n.name}>\r\n`;
}

/** `<?xml version="1.0" encoding="…"?>` then the root, CRLF line ends as devices write them. */
export function xmlDocument(root: string, children: XmlNode[], declaredCharset: Charset): string {
  return `<?xml version="1.0" encoding="${declaredCharset}"?>\r\n${render({ name: root, value: children }, '')}`;
}

export const el = (name: string, value: XmlValue, attrs?: Record<string, string | number>): XmlNode => (attrs ? { name, value, attrs } : { name, value });

/** How the body is encoded and what it declares; a lie declares one and encodes the other. */
export type CharsetLie = 'none' | 'declares-gb2312-sends-utf8' | 'declares-utf8-sends-gb2312';

export function declaredAndActual(charset: Charset, lie: CharsetLie): { declared: Charset; actual: Charset } {
  if (lie === 'declares-gb2312-sends-utf8') return { declared: 'GB2312', actual: 'UTF-8' };
  if (lie === 'declares-utf8-sends-gb2312') return { declared: 'UTF-8', actual: 'GB2312' };
  return { declared: charset, actual: charset };
}

export function encodeBody(xml: string, actual: Charset): Buffer {
  return actual === 'UTF-8' ? Buffer.from(xml, 'utf8') : iconv.encode(xml, 'gb2312');
}

/** Decodes by the declaration (GB2312/GBK/GB18030 → GB18030, a superset), UTF-8 otherwise. */
export function decodeBody(body: Buffer): string {
  const head = body.subarray(0, 100).toString('latin1');
  const m = /encoding\s*=\s*["']([A-Za-z0-9_-]+)["']/.exec(head);
  const cs = m ? m[1]!.toUpperCase() : 'UTF-8';
  return /^GB/.test(cs) ? iconv.decode(body, 'gb18030') : body.toString('utf8');
}

export interface ManscdpRequest {
  /** Query, Control, Notify, Response */
  root: string;
  cmdType: string;
  sn: string;
  deviceId: string;
  /** other flat fields, e.g. StartTime */
  fields: Record<string, string>;
}

const MAX_BODY = 64 * 1024;

/** Reads a flat MANSCDP document; undefined when the body is not one. */
export function readManscdp(body: Buffer): ManscdpRequest | undefined {
  if (body.length === 0 || body.length > MAX_BODY) return undefined;
  const text = decodeBody(body).replace(/<\?xml[^>]*\?>/, '').trim();
  const root = /^<([A-Za-z]+)[^>]*>([\s\S]*)<\/\1>\s*$/.exec(text);
  if (!root) return undefined;
  const fields: Record<string, string> = {};
  const re = /<([A-Za-z][A-Za-z0-9]*)(?:\s[^>]*)?>([^<]*)<\/\1>/g;
  for (let m = re.exec(root[2]!); m; m = re.exec(root[2]!)) if (!(m[1]! in fields)) fields[m[1]!] = unescapeXml(m[2]!.trim());
  const cmdType = fields['CmdType'];
  if (!cmdType) return undefined;
  return { root: root[1]!, cmdType, sn: fields['SN'] ?? '', deviceId: fields['DeviceID'] ?? '', fields };
}

function unescapeXml(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos);/g, (_, e: string) => ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" })[e]!);
}

/** The standard's local time, `yyyy-MM-ddTHH:mm:ss` (Beijing time, UTC+8, as the guide requires). */
export function gbTime(d: Date = new Date(), millis = false): string {
  const bj = new Date(d.getTime() + 8 * 3600_000).toISOString();
  return millis ? bj.slice(0, 23) : bj.slice(0, 19);
}
