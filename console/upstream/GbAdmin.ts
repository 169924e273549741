// The console's client of the GB/T 28181 bridge: its operators' API (GET /api/devices, Bearer
// <dataDir>/gb28181/admin.token, loopback) and its live MJPEG streams (/live/<dev>/<ch>.mjpeg,
// ?token=<dataDir>/gb28181/view.token). The console proxies the streams so that the browser never
// holds either token; it sends the admin token too, as the edge beside the bridge does, so the
// bridge does not hold all the console's viewers to its per-address limit meant for one browser
// (the console keeps its own limits per session and in all).
import { readFile } from 'node:fs/promises';
import { Agent, request, type Dispatcher } from 'undici';
import { GB28181_VIEW_LISTEN, gbAdminTokenFile, gbLiveUrl, gbViewBaseUrl, gbViewTokenFile, type GbAddress } from '../../src/contract/gb28181.ts';
import { ConsoleUpstream } from '../errors.ts';

/** A device as the bridge lists it (gb28181/view/deviceList.ts GbDeviceRow). */
export interface GbDevice {
  deviceId: string;
  name?: string;
  online: boolean;
  transport: string;
  address: string;
  registeredAt?: number;
  keepaliveAt?: number;
  channels: { channelId: string; name?: string; status?: string }[];
}

/** The bridge's devices, or why there are none to show (not running, refused). */
export interface GbDevices {
  url: string;
  running: boolean;
  devices: GbDevice[];
  error?: string;
}

export interface GbAdminOptions {
  /** the bridge's viewer listener, e.g. http://127.0.0.1:9092 */
  url: string;
  /** the admin Bearer token; '' reads adminTokenFile on each need */
  token: string;
  adminTokenFile: string;
  viewTokenFile: string;
  timeoutMs?: number;
}

async function tokenFrom(file: string): Promise<string> {
  return (await readFile(file, 'utf8').catch(() => '')).trim();
}

export class GbAdmin {
  readonly url: string;
  readonly #options: GbAdminOptions;
  readonly #api: Dispatcher;
  /** streams run for hours: no body timeout, a connect and header timeout only */
  readonly #live: Dispatcher;

  constructor(options: GbAdminOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.#options = options;
    const timeout = options.timeoutMs ?? 5000;
    this.#api = new Agent({ connect: { timeout }, headersTimeout: timeout, bodyTimeout: timeout, connections: 4 });
    this.#live = new Agent({ connect: { timeout }, headersTimeout: 20_000, bodyTimeout: 0 });
  }

  async #adminToken(): Promise<string> {
    return this.#options.token || tokenFrom(this.#options.adminTokenFile);
  }

  /** The bridge's devices; a bridge that does not answer is `running: false`, never a throw. */
  async devices(): Promise<GbDevices> {
    const base = { url: this.url, devices: [] as GbDevice[] };
    let res: Dispatcher.ResponseData;
    try {
      res = await request(`${this.url}/api/devices`, { dispatcher: this.#api, headers: { authorization: `Bearer ${await this.#adminToken()}` } });
    } catch (err) {
      return { ...base, running: false, error: `the bridge at ${this.url} did not answer (${(err as { code?: string }).code ?? (err as Error).message})` };
    }
    const text = await res.body.text().catch(() => '');
    let json: { code?: unknown; msg?: string; data?: { devices?: GbDevice[] } } | undefined;
    try {
      json = JSON.parse(text) as typeof json;
    } catch {
      json = undefined;
    }
    if (res.statusCode === 200 && json?.code === 0 && Array.isArray(json.data?.devices)) return { ...base, running: true, devices: json.data.devices };
    return { ...base, running: true, error: `the bridge refused GET /api/devices: HTTP ${res.statusCode}: ${(json?.msg ?? text).slice(0, 200)}` };
  }

  /**
   * Opens a channel's MJPEG stream. The answer's body streams until `signal` aborts (the browser
   * left) or the bridge ends it; a refusal comes back with its status and the bridge's message.
   */
  async mjpeg(address: GbAddress, signal: AbortSignal): Promise<{ status: number; contentType: string; body: Dispatcher.ResponseData['body']; msg?: string }> {
    const viewToken = await tokenFrom(this.#options.viewTokenFile);
    if (!viewToken) throw ConsoleUpstream(`the bridge's view token (${this.#options.viewTokenFile}) is not there: is the gb28181 role running on this server?`);
    const adminToken = await this.#adminToken();
    let res: Dispatcher.ResponseData;
    try {
      res = await request(gbLiveUrl(this.url, address, 'mjpeg', viewToken), {
        dispatcher: this.#live,
        signal,
        headers: adminToken ? { authorization: `Bearer ${adminToken}` } : {},
      });
    } catch (err) {
      // the URL carries the token: only its code goes in the message
      throw ConsoleUpstream(`the bridge at ${this.url} did not answer (${(err as { code?: string }).code ?? 'no code'})`, { cause: err });
    }
    const contentType = String(res.headers['content-type'] ?? '');
    if (res.statusCode !== 200) {
      const text = await res.body.text().catch(() => '');
      let msg = text.slice(0, 200);
      try {
        msg = (JSON.parse(text) as { msg?: string }).msg ?? msg;
      } catch {
        /* as it is */
      }
      return { status: res.statusCode, contentType, body: res.body, msg };
    }
    return { status: res.statusCode, contentType, body: res.body };
  }

  async close(): Promise<void> {
    await Promise.all([this.#api.close(), this.#live.destroy()]);
  }
}

/** The bridge's client from the console's configuration (gb28181.http.listen read loosely: the bridge's section may be absent). */
export function gbAdminFrom(config: { dataDir: string; admin: { gb28181: { url: string; token: string } } }): GbAdmin {
  const listen = (config as { gb28181?: { http?: { listen?: string } } }).gb28181?.http?.listen ?? GB28181_VIEW_LISTEN;
  return new GbAdmin({
    url: config.admin.gb28181.url || gbViewBaseUrl(listen),
    token: config.admin.gb28181.token,
    adminTokenFile: gbAdminTokenFile(config.dataDir),
    viewTokenFile: gbViewTokenFile(config.dataDir),
  });
}

const clients = new WeakMap<object, GbAdmin>();

/** The console's one bridge client (made on first use, closed with the console's listener). */
export function gbOf(ctx: { config: Parameters<typeof gbAdminFrom>[0] }): GbAdmin {
  let c = clients.get(ctx);
  if (!c) {
    c = gbAdminFrom(ctx.config);
    clients.set(ctx, c);
  }
  return c;
}

/** Closes the client gbOf made for `ctx`, if any. */
export async function closeGbOf(ctx: object): Promise<void> {
  const c = clients.get(ctx);
  clients.delete(ctx);
  await c?.close();
}
