// Running the relay role: open the data dir, build the app, listen, and close in order on
// shutdown (stop accepting, finish in-flight requests, then close the stores).
import type { FastifyInstance } from 'fastify';
import type { EsealConfig } from '../src/config/schema.ts';
import { parseListen } from '../src/config/load.ts';
import type { Logger } from '../src/log.ts';
import { openRelayContext, type RelayContext } from './RelayContext.ts';
import { buildRelayApp } from './app.ts';
import { resolveTls } from './tls.ts';

export interface RunningRelay {
  app: FastifyInstance;
  ctx: RelayContext;
  /** the address actually bound (port 0 picks a free one) */
  url: string;
  close(): Promise<void>;
}

export async function startRelay(config: EsealConfig, log: Logger): Promise<RunningRelay> {
  const ctx = await openRelayContext(config, log);
  let app: FastifyInstance | undefined;
  let sweeper: NodeJS.Timeout | undefined;
  try {
    const tls = await resolveTls(config);
    if (tls?.created) log.warn({ certificate: tls.certPath, sha256: tls.fingerprint256 }, 'created a self-signed TLS certificate');
    app = await buildRelayApp(ctx, tls ? { https: tls } : {});
    const { host, port } = parseListen(config.relay.listen);
    await app.listen({ host, port });
    const addr = app.server.address();
    const boundPort = typeof addr === 'object' && addr ? addr.port : port;
    const shownHost = host.includes(':') ? `[${host}]` : host;
    const url = `${tls ? 'https' : 'http'}://${shownHost}:${boundPort}`;
    log.info({ url, dataDir: config.dataDir, tls: tls ? tls.fingerprint256 : 'off', upstream: config.upstream.url || '(none: holding everything)' }, 'relay listening');
    sweeper = setInterval(() => {
      ctx.tokens.sweep().catch((err: unknown) => log.warn({ err }, 'token sweep failed'));
    }, 3600_000);
    sweeper.unref();
    const running = app;
    return {
      app: running,
      ctx,
      url,
      async close() {
        clearInterval(sweeper);
        await running.close();
        await ctx.close();
      },
    };
  } catch (err) {
    clearInterval(sweeper);
    await app?.close().catch(() => {});
    await ctx.close().catch(() => {});
    throw err;
  }
}
