// /api/openapi.json, made from the route schemas the console declares (once, beside each route):
// every /api/ route's parameters, body and answers, and the role it needs.
import type { RouteOptions } from 'fastify';

interface RouteSchema {
  summary?: string;
  tags?: string[];
  params?: { properties?: Record<string, unknown>; required?: string[] };
  querystring?: { properties?: Record<string, unknown>; required?: string[] };
  body?: unknown;
  response?: Record<string, { description?: string } & Record<string, unknown>>;
}

type Json = Record<string, unknown>;

/** The schema as plain JSON (TypeBox's symbols dropped). */
const plain = (s: unknown): Json => JSON.parse(JSON.stringify(s)) as Json;

const STATUS_WORDS: Record<string, string> = {
  200: 'success: {code: 0, msg, data}',
  400: 'a field breaks its rule',
  401: 'not logged in',
  403: 'the role does not allow it, or no CSRF token',
  404: 'not found',
  409: 'the relay refused the action',
  429: 'too many failed logins',
  502: "the relay's admin API did not answer",
};

export class OpenApiCollector {
  readonly #routes: RouteOptions[] = [];

  /** for Fastify's onRoute hook */
  readonly onRoute = (route: RouteOptions): void => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (route.url.startsWith('/api/') && !methods.every((m) => m === 'HEAD')) this.#routes.push(route);
  };

  document(info: { version: string }): Json {
    const paths: Record<string, Json> = {};
    for (const r of this.#routes) {
      const s = (r.schema ?? {}) as RouteSchema;
      const path = r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      const role = (r.config as { role?: string } | undefined)?.role ?? 'admin';
      const parameters: Json[] = [];
      for (const [where, part] of [['path', s.params], ['query', s.querystring]] as const) {
        for (const [name, schema] of Object.entries(part?.properties ?? {})) {
          parameters.push({ name, in: where, required: where === 'path' || (part?.required ?? []).includes(name), schema: plain(schema) });
        }
      }
      const responses: Json = {};
      for (const [status, schema] of Object.entries(s.response ?? { 200: {} })) {
        responses[status] = { description: STATUS_WORDS[status] ?? `HTTP ${status}`, content: { [(schema as { contentMediaType?: string }).contentMediaType ?? 'application/json']: { schema: plain(schema) } } };
      }
      const op: Json = {
        summary: s.summary ?? '',
        description: role === 'public' ? 'no login needed' : `needs the ${role} role (or above)${r.method === 'GET' ? '' : '; send the session\'s CSRF token in x-csrf-token'}`,
        operationId: `${String(r.method).toLowerCase()}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
        tags: s.tags ?? [],
        parameters,
        responses,
        security: role === 'public' ? [] : [{ session: [] }],
        'x-role': role,
      };
      if (s.body) op['requestBody'] = { required: true, content: { 'application/json': { schema: plain(s.body) } } };
      for (const m of Array.isArray(r.method) ? r.method : [r.method]) if (m !== 'HEAD') (paths[path] ??= {})[m.toLowerCase()] = op;
    }
    return {
      openapi: '3.1.0',
      info: {
        title: 'eseal console API',
        version: info.version,
        description:
          "The province's console: JSON under /api/, answers {code: 0, msg: 'success', data}, refusals {code: 'ESEAL_ERR_…', msg: 'field: rule'}. Log in with POST /api/login (cookie eseal_session); every request that changes something carries the session's CSRF token in x-csrf-token.",
      },
      paths,
      components: { securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'eseal_session' } } },
    };
  }
}
