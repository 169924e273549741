// The control API of the simulator, on its own listener (loopback by default, no authentication,
// never faulted): plain JSON in and out, for tests, the demo and integrators' scripts.
//
//   GET  /_sim/info            URLs, public key, seed, accounts, mine statuses
//   GET  /_sim/faults          the knobs          PUT /_sim/faults      change some (partial)
//   POST /_sim/expire-tokens   every token stops working
//   GET  /_sim/received?endpoint=&mineId=&account=&since=<seq>          {items, lastSeq}
//   GET  /_sim/stats           counters           POST /_sim/reset      forget what was received
//   POST /_sim/accounts        {username, password, org?, mines?}
//   PUT  /_sim/mine-status     {mineId, status}   (status '' forgets the mine)
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EsealError } from '../../src/errors.ts';
import { requestUrl } from '../../src/http/guard.ts';
import { SimOptionsInvalid } from '../errors.ts';
import { checkAccount } from './Authority.ts';
import { json, send, type Answer } from './http.ts';
import type { NationalSimulator } from './NationalSimulator.ts';
import type { ReceivedFilter, SimFaults } from './SimTypes.ts';

const MAX_BODY_BYTES = 1024 * 1024;

async function readJson(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw SimOptionsInvalid(`body: larger than ${MAX_BODY_BYTES} bytes`, { field: 'body' });
    parts.push(chunk as Buffer);
  }
  const text = Buffer.concat(parts).toString('utf8').trim();
  if (text === '') throw SimOptionsInvalid('body: a JSON object is required', { field: 'body' });
  try {
    return JSON.parse(text);
  } catch (err) {
    throw SimOptionsInvalid(`body: not JSON (${(err as Error).message})`, { field: 'body', cause: err });
  }
}

function object(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw SimOptionsInvalid(`body: must be a JSON object ${what}`, { field: 'body' });
  return v as Record<string, unknown>;
}

function filterOf(url: URL): ReceivedFilter {
  const filter: ReceivedFilter = {};
  const endpoint = url.searchParams.get('endpoint');
  const mineId = url.searchParams.get('mineId');
  const account = url.searchParams.get('account');
  const since = url.searchParams.get('since');
  if (endpoint) filter.endpoint = endpoint;
  if (mineId) filter.mineId = mineId;
  if (account) filter.account = account;
  if (since) {
    if (!/^\d+$/.test(since)) throw SimOptionsInvalid(`since: must be a seq (a whole number), got ${JSON.stringify(since)}`, { field: 'since' });
    filter.since = Number(since);
  }
  return filter;
}

type Handler = (sim: NationalSimulator, req: IncomingMessage, url: URL) => Promise<Answer> | Answer;

const ROUTES: Record<string, Partial<Record<string, Handler>>> = {
  '/_sim/info': {
    GET: (sim) =>
      json(200, {
        url: sim.url,
        controlUrl: sim.controlUrl,
        publicKey: sim.publicKey,
        publicKeyHex: sim.publicKeyHex,
        seed: sim.seed,
        accounts: sim.accounts(),
        mineStatuses: sim.mineStatuses(),
      }),
  },
  '/_sim/faults': {
    GET: (sim) => json(200, sim.faults),
    PUT: async (sim, req) => json(200, await sim.setFaults(object(await readJson(req), 'of fault knobs') as Partial<SimFaults>)),
  },
  '/_sim/expire-tokens': {
    POST: (sim) => json(200, { expired: sim.expireTokens() }),
  },
  '/_sim/received': {
    GET: (sim, _req, url) => {
      const items = sim.received(filterOf(url));
      return json(200, { items, lastSeq: sim.stats().lastSeq });
    },
  },
  '/_sim/stats': {
    GET: (sim) => json(200, sim.stats()),
  },
  '/_sim/reset': {
    POST: (sim) => {
      sim.reset();
      return json(200, { reset: true });
    },
  },
  '/_sim/accounts': {
    GET: (sim) => json(200, { accounts: sim.accounts() }),
    POST: async (sim, req) => {
      const account = checkAccount(await readJson(req));
      sim.addAccount(account);
      return json(201, { username: account.username, mines: account.mines ?? [], org: account.org ?? account.username });
    },
  },
  '/_sim/mine-status': {
    GET: (sim) => json(200, sim.mineStatuses()),
    PUT: async (sim, req) => {
      const body = object(await readJson(req), '{mineId, status}');
      const { mineId, status } = body;
      if (typeof mineId !== 'string') throw SimOptionsInvalid('mineId: required, a 12-character mine code', { field: 'mineId' });
      if (status !== null && status !== undefined && typeof status !== 'string') {
        throw SimOptionsInvalid('status: must be a string such as 生产矿井 ("" forgets the mine)', { field: 'status' });
      }
      sim.setMineStatus(mineId, (status as string | null | undefined) ?? undefined);
      return json(200, { mineId, status: sim.mineStatuses()[mineId] ?? null });
    },
  },
};

export function controlPortHandler(sim: NationalSimulator): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    // an unparsable target throws here: the listener's guard answers it 400
    const url = requestUrl(req, 'http://control');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const route = ROUTES[path === '/_sim' ? '/_sim/info' : path];
    const handler = route?.[req.method ?? 'GET'];
    let answer: Promise<Answer>;
    if (!route) {
      answer = Promise.resolve(json(404, { error: `no control route ${url.pathname}; the routes are ${Object.keys(ROUTES).join(', ')}` }));
    } else if (!handler) {
      answer = Promise.resolve(json(405, { error: `${req.method} is not allowed on ${path}; use ${Object.keys(route).join(' or ')}` }, { allow: Object.keys(route).join(', ') }));
    } else {
      answer = Promise.resolve().then(() => handler(sim, req, url));
    }
    answer
      .catch((err: unknown) =>
        err instanceof EsealError
          ? json(err.statusCode, { error: err.message, code: err.code, field: err.field ?? null })
          : json(500, { error: err instanceof Error ? err.message : String(err) }),
      )
      .then((a) => {
        if (!req.complete) req.resume();
        send(res, a);
      })
      .catch(() => undefined);
  };
}
