// The relay's device inventory on its listener:
//   POST /eseal/edge/heartbeat   an edge's heartbeat (src/devices/heartbeat.ts), the mine account's
//                                Bearer token; answers the model bound to the device
//   GET  /admin/devices          every device that reports here, with its alerts (loopback, admin token)
// and the counting of every call per account (third-party devices are known by their calls).
// The heartbeat is not a national API path: a missing or stale token is HTTP 401 in the API's
// envelope, as on the model routes.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { success } from '../../src/contract/index.ts';
import { HEARTBEAT_MAX_BYTES, HEARTBEAT_PATH, checkHeartbeat, type HeartbeatAnswer } from '../../src/devices/heartbeat.ts';
import { EsealError } from '../../src/errors.ts';
import { bindingFor } from '../../src/models/manifest.ts';
import type { RelayContext } from '../RelayContext.ts';
import { loopbackOnly } from '../admin/adminRoutes.ts';
import { bearerAuth, ensureMine } from '../auth/bearer.ts';
import { RateLimiter } from '../auth/RateLimiter.ts';
import { AuthTokenInvalid } from '../errors.ts';
import { ModelRegistry } from '../models/ModelRegistry.ts';
import { adminAuth } from '../routes/opsRoutes.ts';
import { DeviceInventory, type DeviceInventoryOptions } from './DeviceInventory.ts';
import { DEFAULT_ALERT_RULES, deviceRows, type AlertRules } from './deviceRows.ts';
import { DeviceRate } from './errors.ts';

export interface DeviceRoutesOptions extends DeviceInventoryOptions {
  /** heartbeats one account may send per minute (burst the same); default 120 */
  heartbeatsPerMinute?: number;
  rules?: Partial<AlertRules>;
  registry?: ModelRegistry;
  /** clock, for tests */
  now?: () => number;
}

function address(request: FastifyRequest): string {
  const a = request.socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/**
 * Opens the inventory and adds its routes and its call counting to `app` (called on the root
 * instance, before the other routes, so the counting hooks see every route). Returns the inventory.
 */
export async function deviceRoutes(app: FastifyInstance, ctx: RelayContext, options: DeviceRoutesOptions = {}): Promise<DeviceInventory> {
  const inventory = new DeviceInventory(ctx.root, options);
  const registry = options.registry ?? new ModelRegistry(ctx.config.dataDir);
  const now = options.now ?? Date.now;
  const rules = { ...DEFAULT_ALERT_RULES, ...options.rules };
  app.addHook('onClose', async () => inventory.close());

  // Every call of a known account: counted once answered; a refusal with its code and message.
  // Callback hooks: the hot path pays no promise per call for them.
  app.addHook('onError', (request, _reply, error, done) => {
    const account = request.account?.username;
    if (account) {
      const code = error instanceof EsealError ? error.code : ((error as { code?: string }).code ?? 'ESEAL_ERR_RELAY_INTERNAL');
      inventory.rejected(account, request.routeOptions.config?.endpoint ?? 'other', address(request), code, error.message, now());
    }
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const account = request.account?.username;
    if (account && reply.statusCode < 400) inventory.called(account, request.routeOptions.config?.endpoint ?? 'other', address(request), now());
    done();
  });

  const limiter = new RateLimiter(options.heartbeatsPerMinute ?? 120);
  await app.register(async (scope) => {
    const auth = bearerAuth(ctx);
    scope.addHook('onRequest', async (request) => {
      try {
        await auth(request);
      } catch (err) {
        if (AuthTokenInvalid.is(err)) throw AuthTokenInvalid(err.message, { statusCode: 401 });
        throw err;
      }
    });
    scope.post(HEARTBEAT_PATH, { bodyLimit: HEARTBEAT_MAX_BYTES, config: { endpoint: 'edge.heartbeat' } }, async (request, reply) => {
      const account = request.account!;
      const decision = limiter.take(account.username, now());
      if (!decision.allowed) {
        reply.header('retry-after', String(decision.retryAfterSeconds));
        throw DeviceRate(`account ${account.username}: more than ${options.heartbeatsPerMinute ?? 120} heartbeats a minute; retry after ${decision.retryAfterSeconds} s`);
      }
      const heartbeat = checkHeartbeat(request.body);
      if (heartbeat.mineId !== undefined) ensureMine(ctx, account, heartbeat.mineId);
      await inventory.heartbeat(account.username, address(request), heartbeat, now());
      const manifest = await registry.current().catch((err: unknown) => {
        request.log.warn({ err }, 'heartbeat: the model manifest does not verify; answering without a binding');
        return undefined;
      });
      const binding = manifest && bindingFor(manifest, { deviceId: heartbeat.deviceId, account: account.username, ...(heartbeat.mineId ? { mineId: heartbeat.mineId } : {}) });
      const entry = binding && manifest.models.find((m) => m.name === binding.model);
      const answer: HeartbeatAnswer = entry ? { model: { name: entry.name, version: entry.version, sm3: entry.sm3 } } : {};
      return success(answer);
    });
  });

  await app.register(async (scope) => {
    scope.addHook('onRequest', loopbackOnly);
    scope.addHook('onRequest', adminAuth(ctx));
    scope.get('/admin/devices', async () => {
      const manifest = await registry.current().catch(() => undefined);
      const devices = deviceRows({
        heartbeats: inventory.heartbeats(),
        calls: inventory.calls(),
        minesOf: (account) => ctx.accounts.get(account)?.mines ?? [],
        manifest,
        now: now(),
        rules,
      });
      return success({ devices });
    });
  });
  return inventory;
}
