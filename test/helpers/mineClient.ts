// A mine device written from the guide alone: it fetches the SM2 key from /sm2, encrypts its
// password the way the guide's users do (sm-crypto's doEncrypt with its default mode, or a
// hutool-style base64 ciphertext with 04), logs in with Basic pcfront:pcfront, and makes the
// guide's calls with the guide's part names. Tests use it against the relay.
import { openAsBlob } from 'node:fs';
import { basename } from 'node:path';
import { request } from 'undici';
import smCrypto from 'sm-crypto';
import { AUTH_PATHS, type EvidenceEndpoint, type RecordEndpoint } from '../../src/contract/index.ts';

export type PasswordStyle = 'sm-crypto' | 'hutool-base64' | 'c1c2c3-hex';

export interface Answer {
  status: number;
  body: any;
  headers: Record<string, string | string[] | undefined>;
}

export function encryptPassword(password: string, publicKey: string, style: PasswordStyle): string {
  const pub = publicKey.trim();
  switch (style) {
    case 'sm-crypto':
      // the JS default: cipherMode 1 = C1C3C2, hex, without the leading 04
      return smCrypto.sm2.doEncrypt(password, pub);
    case 'c1c2c3-hex':
      return smCrypto.sm2.doEncrypt(password, pub, 0);
    case 'hutool-base64':
      // Java hutool: C1C3C2 with the 04 point prefix, base64
      return Buffer.from('04' + smCrypto.sm2.doEncrypt(password, pub, 1), 'hex').toString('base64');
  }
}

async function answer(res: Awaited<ReturnType<typeof request>>): Promise<Answer> {
  const text = await res.body.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // bare text (/sm2)
  }
  return { status: res.statusCode, body, headers: res.headers as Answer['headers'] };
}

export class GuideMine {
  token = '';
  constructor(
    readonly baseUrl: string,
    readonly username: string,
    readonly password: string,
    readonly options: { style?: PasswordStyle; client?: string; method?: 'GET' | 'POST' } = {},
  ) {}

  async publicKey(): Promise<string> {
    const res = await request(this.baseUrl + AUTH_PATHS.publicKey);
    return (await res.body.text()).trim();
  }

  /** The guide's login: GET with a query string (or POST form), Basic client. */
  async login(password = this.password): Promise<Answer> {
    const key = await this.publicKey();
    const params = new URLSearchParams({
      username: this.username,
      password: encryptPassword(password, key, this.options.style ?? 'sm-crypto'),
      grant_type: 'password',
      scope: 'server',
      encrypt: 'SM2',
    });
    const basic = 'Basic ' + Buffer.from(this.options.client ?? 'pcfront:pcfront').toString('base64');
    const res =
      this.options.method === 'POST'
        ? await request(this.baseUrl + AUTH_PATHS.token, {
            method: 'POST',
            headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
            body: params.toString(),
          })
        : await request(`${this.baseUrl}${AUTH_PATHS.token}?${params}`, { headers: { authorization: basic } });
    const a = await answer(res);
    if (a.status === 200) this.token = a.body.access_token;
    return a;
  }

  async record(endpoint: RecordEndpoint, body: unknown, options: { method?: 'GET' | 'POST'; raw?: string; contentType?: string } = {}): Promise<Answer> {
    const res = await request(this.baseUrl + endpoint.path, {
      method: options.method ?? 'POST',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': options.contentType ?? 'application/json' },
      body: options.raw ?? JSON.stringify(body),
    });
    return answer(res);
  }

  async upload(endpoint: EvidenceEndpoint, path: string, options: { fileName?: string; partName?: string; contentType?: string } = {}): Promise<Answer> {
    const form = new FormData();
    const blob = await openAsBlob(path, { type: options.contentType ?? 'application/mp4' });
    form.append(options.partName ?? endpoint.partName, blob, options.fileName ?? basename(path));
    const res = await fetch(this.baseUrl + endpoint.path, { method: 'POST', headers: { authorization: `Bearer ${this.token}` }, body: form });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, body, headers: Object.fromEntries(res.headers) };
  }

  async mineStatus(mineId: string): Promise<Answer> {
    const res = await request(`${this.baseUrl}/jy-essa/electronicSeal/camera/mineStatus?mineId=${encodeURIComponent(mineId)}`, {
      headers: { authorization: `Bearer ${this.token}` },
    });
    return answer(res);
  }
}
