// Camera sources as the configuration names them, checked once, and turned into what ffmpeg is
// given. Camera URLs often carry the camera's password (rtsp://admin:secret@…): `redactSecrets` is
// applied to everything capture logs or reports, including ffmpeg's own messages.
// A gb28181:// channel is read through the GB/T 28181 bridge's viewer (gbStream.ts): its URL is made
// at each connection, because it carries the viewer token, which may not exist yet when the edge starts.

import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkGbAddress, type GbAddress } from '../../src/contract/gb28181.ts';
import { CaptureBadUrl } from './errors.ts';

export type SourceKind = 'rtsp' | 'http' | 'file' | 'gb28181';

export interface CaptureSource {
  kind: SourceKind;
  /** the URL as configured (may hold a password: never log it, log `redacted`) */
  url: string;
  /** the URL with its password and credential query parameters replaced by [redacted] */
  redacted: string;
  /** what ffmpeg's `-i` gets: the URL, or `file:` + the absolute path ('' for gb28181: made at each connection) */
  input: string;
  /** file sources: the absolute path */
  path?: string;
  /** gb28181 sources: the device and channel */
  gb?: GbAddress;
  /** secrets found in the URL (password, raw and decoded), for redacting ffmpeg's messages */
  secrets: string[];
}

const FORMS = 'rtsp://host/path, rtsps://…, http(s)://…, file:///abs/path.mp4, file:relative/path.mp4 or gb28181://<device id>/<channel id>';

/**
 * Parses and checks a camera source. Relative `file:` paths resolve against `cwd`.
 * Throws CaptureBadUrl (its `field` is `url`; for gb28181:// its detail says which id is wrong).
 */
export function parseSourceUrl(url: string, cwd: string = process.cwd()): CaptureSource {
  const text = url.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'rtsp':
    case 'rtsps':
      return network('rtsp', text);
    case 'http':
    case 'https':
      return network('http', text);
    case 'file':
      return file(text, cwd);
    case 'gb28181':
      return gb28181(text);
    default:
      throw CaptureBadUrl(`camera source ${redactSecrets(text)}: not a supported URL (use ${FORMS})`, { field: 'url' });
  }
}

function network(kind: 'rtsp' | 'http', text: string): CaptureSource {
  const redacted = redactSecrets(text);
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    // The URL parser's error carries the raw input (and so the password): it is not kept as cause.
    throw CaptureBadUrl(`camera source ${redacted}: not a valid URL`, { field: 'url' });
  }
  if (!parsed.hostname) throw CaptureBadUrl(`camera source ${redacted}: the URL names no host`, { field: 'url' });
  if (/\s/.test(text)) throw CaptureBadUrl(`camera source ${redacted}: the URL contains white space`, { field: 'url' });
  const secrets: string[] = [];
  if (parsed.password) {
    secrets.push(parsed.password);
    const decoded = safeDecode(parsed.password);
    if (decoded !== parsed.password) secrets.push(decoded);
  }
  return { kind, url: text, redacted, input: text, secrets };
}

function file(text: string, cwd: string): CaptureSource {
  let path: string;
  if (text.startsWith('file://')) {
    try {
      path = fileURLToPath(text);
    } catch (err) {
      throw CaptureBadUrl(`camera source ${text}: ${(err as Error).message}`, { field: 'url' });
    }
  } else {
    const rest = safeDecode(text.slice('file:'.length));
    if (!rest) throw CaptureBadUrl(`camera source ${text}: the file URL names no file`, { field: 'url' });
    path = isAbsolute(rest) ? rest : resolve(cwd, rest);
  }
  if (path.endsWith('/')) throw CaptureBadUrl(`camera source ${text}: names a directory, not a video file`, { field: 'url' });
  // `file:` in front keeps ffmpeg from reading a colon in the path as a protocol name.
  return { kind: 'file', url: text, redacted: text, input: `file:${path}`, path, secrets: [] };
}

function gb28181(text: string): CaptureSource {
  const checked = checkGbAddress(text);
  if ('problem' in checked) {
    throw CaptureBadUrl(`camera source ${redactSecrets(text.slice(0, 200))}: ${checked.problem}`, { field: 'url', detail: { part: checked.field } });
  }
  const { deviceId, channelId } = checked.address;
  // the canonical address: the log shows it, never the bridge's URL with its token
  const url = `gb28181://${deviceId}/${channelId}`;
  return { kind: 'gb28181', url: text, redacted: url, input: '', gb: checked.address, secrets: [] };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/:@]*):([^\s/]*)@/gi;
const CREDENTIAL_PARAM = /([?&](?:password|passwd|pwd|pass|token|access_token|secret|auth|key)=)[^&\s#]*/gi;

/**
 * Replaces the password of every URL in `text` (scheme://user:password@host → user:[redacted]@),
 * credential query parameters (?password=, token=, …), and any of the given literal `secrets`.
 */
export function redactSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(USERINFO, '$1$2:[redacted]@').replace(CREDENTIAL_PARAM, '$1[redacted]');
  for (const secret of secrets) {
    // Very short secrets would blank out ordinary words; the URL patterns above still apply.
    if (secret.length >= 3) out = out.split(secret).join('[redacted]');
  }
  return out;
}
