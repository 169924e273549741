// 智能感知管理 over the relay's and the bridge's admin APIs: the devices that report to the relay
// (edges by their heartbeat, third-party devices by their calls), the model registry and its
// bindings, the GB/T 28181 devices and channels. Binding and pushing need the operator role, are
// audited with the relay's verdict, and go to the relay as one PUT of the whole list (the relay
// signs the manifest with it and publishes it: that is the push).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ACCOUNT_NAME, DEVICE_ID, MINE_ID, MODEL_NAME, MAX_BINDINGS, type BindingTarget, type ModelBinding } from '../../src/models/manifest.ts';
import type { DeviceRow, ModelsView } from '../../src/contract/admin.ts';
import type { ConsoleContext } from '../ConsoleContext.ts';
import { ConsoleInvalid, ConsoleUpstream } from '../errors.ts';
import { gbOf, type GbDevices } from '../upstream/GbAdmin.ts';
import { API_ERROR, Passed, envelope, ok } from './schemas.ts';
import { addressOf } from './itemsApi.ts';

export type { DeviceRow, ModelsView };

export const TARGET_KINDS = ['device', 'mine', 'account'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];
/** ids one bind request names at most */
export const BIND_MAX_TARGETS = 200;

const TARGET_RULES: Record<TargetKind, { re: RegExp; rule: string }> = {
  device: { re: DEVICE_ID, rule: 'device ids of letters, digits, . _ : - (1 to 64 each)' },
  mine: { re: MINE_ID, rule: '12-character mine ids of letters and digits' },
  account: { re: ACCOUNT_NAME, rule: 'account names (1 to 64 characters, no white space or colon)' },
};

export async function listDevices(ctx: ConsoleContext): Promise<{ devices: DeviceRow[] }> {
  return ctx.relay.get('/admin/devices');
}

export async function listModels(ctx: ConsoleContext): Promise<ModelsView> {
  return ctx.relay.get('/admin/models');
}

export async function gbDevices(ctx: ConsoleContext): Promise<GbDevices> {
  return gbOf(ctx).devices();
}

/** The targets of a bind request checked: each id by its kind's rule, no more than BIND_MAX_TARGETS. */
export function checkTargets(kind: unknown, ids: unknown): { kind: TargetKind; ids: string[] } {
  if (typeof kind !== 'string' || !(TARGET_KINDS as readonly string[]).includes(kind)) throw ConsoleInvalid(`targetKind: one of ${TARGET_KINDS.join(', ')}`, { field: 'targetKind' });
  const k = kind as TargetKind;
  const list = typeof ids === 'string' ? ids.split(/[\s,，;；]+/) : Array.isArray(ids) ? ids : undefined;
  if (!list) throw ConsoleInvalid('targets: a list of ids (or, in the form, ids separated by commas or spaces)', { field: 'targets' });
  const out = [...new Set(list.map((v) => (typeof v === 'string' ? v.trim() : v)).filter((v) => v !== ''))];
  if (out.length === 0) throw ConsoleInvalid('targets: at least one id', { field: 'targets' });
  if (out.length > BIND_MAX_TARGETS) throw ConsoleInvalid(`targets: at most ${BIND_MAX_TARGETS} ids at once, got ${out.length}`, { field: 'targets' });
  const bad = out.find((v) => typeof v !== 'string' || !TARGET_RULES[k].re.test(v));
  if (bad !== undefined) throw ConsoleInvalid(`targets: ${TARGET_RULES[k].rule}, got ${JSON.stringify(String(bad).slice(0, 40))}`, { field: 'targets' });
  return { kind: k, ids: out as string[] };
}

/** '' (unbind) or a model name by the manifest's rule; whether it is published is the relay's to say. */
export function checkModelName(model: unknown): string {
  if (model === '' || model === undefined) return '';
  if (typeof model !== 'string' || !MODEL_NAME.test(model)) throw ConsoleInvalid('model: a model name of letters, digits, . _ - (1 to 64), or empty to remove the binding', { field: 'model' });
  return model;
}

const keyOf = (t: BindingTarget) => Object.entries(t)[0]!.join(' ');

/** The bindings with those targets bound to `model` (or unbound when model is ''); the others kept, in order. */
export function mergeBindings(current: readonly ModelBinding[], kind: TargetKind, ids: readonly string[], model: string): ModelBinding[] {
  const targets = new Set(ids.map((id) => `${kind} ${id}`));
  const kept = current.filter((b) => !targets.has(keyOf(b.target)));
  if (!model) return kept;
  return [...kept, ...ids.map((id) => ({ target: { [kind]: id } as BindingTarget, model }))];
}

/** One change of the registry on the relay, audited with its verdict; the relay's refusal of a field is the console's 400 naming it. */
async function changeModels(ctx: ConsoleContext, request: FastifyRequest, action: string, target: string, call: () => Promise<{ status: number; data?: ModelsView; msg?: string }>): Promise<ModelsView> {
  const c = request.caller!;
  let a: { status: number; data?: ModelsView; msg?: string };
  try {
    a = await call();
  } catch (err) {
    await ctx.store.audit.append({ user: c.name, role: c.role, action, target, result: 'failed: the relay did not answer', address: addressOf(request) });
    throw err;
  }
  const result = a.data !== undefined ? 'ok' : `refused: HTTP ${a.status}: ${a.msg ?? ''}`;
  await ctx.store.audit.append({ user: c.name, role: c.role, action, target: target.slice(0, 200), result: result.slice(0, 300), address: addressOf(request) });
  if (a.data !== undefined) return a.data;
  // the relay names the field: 'bindings[0].model: no model …', 'models: nothing is published yet …'
  if (a.status === 400) throw ConsoleInvalid(a.msg ?? 'bindings: refused by the relay', { field: /^([\w.[\]]+):/.exec(a.msg ?? '')?.[1] ?? 'bindings' });
  if (a.status >= 400 && a.status < 500) throw ConsoleInvalid(a.msg ?? `the relay refused (HTTP ${a.status})`, { field: 'models', statusCode: 409 });
  throw ConsoleUpstream(`the relay did not ${action}: HTTP ${a.status}: ${a.msg ?? ''}`);
}

/** Replaces the whole list of bindings (PUT /admin/models/bindings). */
export function putBindings(ctx: ConsoleContext, request: FastifyRequest, bindings: ModelBinding[], what: string): Promise<ModelsView> {
  return changeModels(ctx, request, 'bind models', what, () => ctx.relay.call<ModelsView>('PUT', '/admin/models/bindings', { bindings }));
}

/** Binds (or unbinds) these targets, keeping every other binding. */
export async function bindTargets(ctx: ConsoleContext, request: FastifyRequest, kind: TargetKind, ids: string[], model: string): Promise<ModelsView> {
  const current = await listModels(ctx);
  const next = mergeBindings(current.bindings, kind, ids, model);
  if (next.length > MAX_BINDINGS) throw ConsoleInvalid(`targets: the manifest holds at most ${MAX_BINDINGS} bindings`, { field: 'targets' });
  const what = `${kind} ${ids.slice(0, 10).join(',')}${ids.length > 10 ? `,… (${ids.length})` : ''} -> ${model || '(none)'}`;
  return putBindings(ctx, request, next, what);
}

export function pushModels(ctx: ConsoleContext, request: FastifyRequest): Promise<ModelsView> {
  return changeModels(ctx, request, 'push models', 'model manifest', () => ctx.relay.call<ModelsView>('POST', '/admin/models/push'));
}

// the target's kinds and rules are the relay's to check (it names bindings[i].target and the rule)
const BindingSchema = Type.Object(
  {
    target: Type.Object({}, { additionalProperties: Type.String({ maxLength: 64 }), minProperties: 1, maxProperties: 1, description: 'exactly one of {device: ID}, {mine: ID}, {account: NAME}' }),
    model: Type.String({ maxLength: 64, description: 'a published model name' }),
  },
  { additionalProperties: false },
);
const Models = Passed('the model registry: manifest {issuedAt, publisher, models [{name, version, sm3, bytes, inputSize}]}, bindings [{target: {device|mine|account}, model}]');
const MODEL_ERRORS = { 400: API_ERROR, 401: API_ERROR, 403: API_ERROR, 409: API_ERROR, 502: API_ERROR };

export async function devicesApi(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  app.get(
    '/api/devices',
    {
      config: { role: 'viewer' },
      schema: {
        summary: 'the devices that report to the relay (edges by heartbeat, third-party by their calls, with alerts) and the GB/T 28181 bridge\'s devices and channels',
        tags: ['devices'],
        response: {
          200: envelope(
            Type.Object({
              devices: Type.Array(Passed('a device: account, mineIds, deviceId, kind, lastSeenAt, heartbeatAt, software, model, boundModel, cameras, detector, errors, calls, rejected, alerts')),
              gb: Type.Object({ url: Type.String(), running: Type.Boolean(), devices: Type.Array(Passed('a GB/T 28181 device: deviceId, name, online, transport, address, registeredAt, keepaliveAt, channels')), error: Type.Optional(Type.String()) }),
            }),
          ),
          401: API_ERROR,
          502: API_ERROR,
        },
      },
    },
    async () => {
      const [relay, gb] = await Promise.all([listDevices(ctx), gbDevices(ctx)]);
      return ok({ devices: relay.devices, gb });
    },
  );
  app.get(
    '/api/models',
    { config: { role: 'viewer' }, schema: { summary: "the relay's model registry and its bindings", tags: ['devices'], response: { 200: envelope(Models), 401: API_ERROR, 502: API_ERROR } } },
    async () => ok(await listModels(ctx)),
  );
  app.put(
    '/api/models/bindings',
    {
      config: { role: 'operator' },
      schema: {
        summary: 'replace every binding (device > account > mine); the relay signs and publishes the manifest with them (audited)',
        tags: ['devices'],
        body: Type.Object({ bindings: Type.Array(BindingSchema, { maxItems: MAX_BINDINGS }) }, { additionalProperties: false }),
        response: { 200: envelope(Models), ...MODEL_ERRORS },
      },
    },
    async (request) => {
      const { bindings } = request.body as { bindings: ModelBinding[] };
      return ok(await putBindings(ctx, request, bindings, `all bindings (${bindings.length})`));
    },
  );
  app.post(
    '/api/models/bind',
    {
      config: { role: 'operator' },
      schema: {
        summary: 'bind these devices, mines or accounts to a model (model "" removes their binding), keeping every other binding; published at once (audited)',
        tags: ['devices'],
        body: Type.Object(
          {
            targetKind: Type.String({ enum: [...TARGET_KINDS] }),
            targets: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: BIND_MAX_TARGETS }),
            model: Type.String({ maxLength: 64, description: 'a published model name, or "" to unbind' }),
          },
          { additionalProperties: false },
        ),
        response: { 200: envelope(Models), ...MODEL_ERRORS },
      },
    },
    async (request) => {
      const body = request.body as { targetKind: string; targets: string[]; model: string };
      const { kind, ids } = checkTargets(body.targetKind, body.targets);
      return ok(await bindTargets(ctx, request, kind, ids, checkModelName(body.model)));
    },
  );
  app.post(
    '/api/models/push',
    { config: { role: 'operator' }, schema: { summary: 'sign and publish the manifest again now: edges see it at their next poll (audited)', tags: ['devices'], response: { 200: envelope(Models), ...MODEL_ERRORS } } },
    async (request) => ok(await pushModels(ctx, request)),
  );
}
