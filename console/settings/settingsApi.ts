// The thresholds as JSON: read by any user, changed by admins (audited, failures too).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { ConsoleContext } from '../ConsoleContext.ts';
import { EsealError } from '../../src/errors.ts';
import { API_ERROR, envelope, ok } from '../api/schemas.ts';
import { MineOverrideSchema, ThresholdsSchema, type ThresholdSettings } from './thresholds.ts';

const Settings = Type.Object({
  default: ThresholdsSchema,
  mines: Type.Record(Type.String({ pattern: '^[0-9A-Za-z]{12}$' }), MineOverrideSchema, { description: 'mine id → the kinds it sets apart from the default' }),
  updatedAt: Type.Optional(Type.Integer()),
  updatedBy: Type.Optional(Type.String()),
});

/** One change of the thresholds, audited whether it is taken or refused. */
export async function changeThresholds(ctx: ConsoleContext, request: FastifyRequest, target: string, change: () => Promise<ThresholdSettings>): Promise<ThresholdSettings> {
  const c = request.caller!;
  const audit = (result: string) => ctx.store.audit.append({ user: c.name, role: c.role, action: 'settings', target, result, address: request.socket.remoteAddress ?? '' });
  try {
    const s = await change();
    await audit('ok');
    return s;
  } catch (err) {
    await audit(`refused: ${err instanceof EsealError ? err.message : 'error'}`);
    throw err;
  }
}

export async function settingsApi(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  app.get(
    '/api/settings/thresholds',
    { config: { role: 'viewer' }, schema: { summary: '默认参数设置: the alarm thresholds, the default and per mine', tags: ['settings'], response: { 200: envelope(Settings), 401: API_ERROR } } },
    async () => ok(ctx.store.thresholds.get()),
  );
  app.put(
    '/api/settings/thresholds/default',
    {
      config: { role: 'admin' },
      schema: { summary: 'set the default thresholds (audited)', tags: ['settings'], body: ThresholdsSchema, response: { 200: envelope(Settings), 400: API_ERROR, 401: API_ERROR, 403: API_ERROR } },
    },
    async (request) => ok(await changeThresholds(ctx, request, 'thresholds default', () => ctx.store.thresholds.setDefault(request.body, request.caller!.name))),
  );
  app.put(
    '/api/settings/thresholds/mines/:mine',
    {
      config: { role: 'admin' },
      schema: {
        summary: "set a mine's own thresholds; {} removes them (audited)",
        tags: ['settings'],
        params: Type.Object({ mine: Type.String({ pattern: '^[0-9A-Za-z]{12}$', description: 'the 12-character mine id' }) }),
        body: MineOverrideSchema,
        response: { 200: envelope(Settings), 400: API_ERROR, 401: API_ERROR, 403: API_ERROR },
      },
    },
    async (request) => {
      const mine = (request.params as { mine: string }).mine;
      return ok(await changeThresholds(ctx, request, `thresholds mine ${mine}`, () => ctx.store.thresholds.setMine(mine, request.body, request.caller!.name)));
    },
  );
}
