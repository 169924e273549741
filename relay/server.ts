// Running the relay role: open the data dir, build the app, listen, forward, keep; and close in
// order on shutdown (stop accepting, finish requests in flight, let the calls upstream finish,
// then close the stores).
import type { FastifyInstance } from 'fastify';
import { API_PREFIX } from '../src/contract/index.ts';
import type { RelayConfig } from './config.ts';
import { parseListen } from '../src/config/load.ts';
import type { Logger } from '../src/log.ts';
import { openRelayContext, type RelayContext } from './RelayContext.ts';
import { buildRelayApp } from './app.ts';
import { Forwarder } from './forward/Forwarder.ts';
import { evidenceSender } from './forward/evidenceSender.ts';
import { DiskWatch } from './keep/DiskWatch.ts';
import { Retention } from './keep/Retention.ts';
import { Scrub } from './integrity/Scrub.ts';
import { resolveTls } from './tls.ts';

export interface RunningRelay {
  app: FastifyInstance;
  ctx: RelayContext;
  /** the address actually bound (port 0 picks a free one) */
  url: string;
  retention: Retention;
  disk: DiskWatch;
  close(): Promise<void>;
}

export async function startRelay(config: RelayConfig, log: Logger): Promise<RunningRelay> {
  const ctx = await openRelayContext(config, log);
  let app: FastifyInstance | undefined;
  let sweeper: NodeJS.Timeout | undefined;
  const retention = new Retention(ctx);
  const disk = new DiskWatch(ctx, () => void retention.run(Date.now(), true).catch(() => {}));
  try {
    await disk.check();
    const tls = await resolveTls(config, ctx.metrics);
    if (tls?.created) log.warn({ certificate: tls.certPath, sha256: tls.fingerprint256 }, 'created a self-signed TLS certificate');
    app = await buildRelayApp(ctx, tls ? { https: tls } : {});
    const { host, port } = parseListen(config.relay.listen);
    await app.listen({ host, port });
    const addr = app.server.address();
    const boundPort = typeof addr === 'object' && addr ? addr.port : port;
    const shownHost = host.includes(':') ? `[${host}]` : host;
    const url = `${tls ? 'https' : 'http'}://${shownHost}:${boundPort}`;
    if (ctx.upstream) {
      ctx.forwarder = new Forwarder(ctx, ctx.upstream.client, ctx.upstream.tokens, (multipart) => evidenceSender(ctx, multipart));
      ctx.forwarder.start();
    }
    log.info(
      { url, dataDir: config.dataDir, tls: tls ? tls.fingerprint256 : 'off', upstream: config.upstream.url || '(none: holding everything)', api: API_PREFIX },
      'relay listening',
    );
    sweeper = setInterval(() => {
      ctx.tokens.sweep().catch((err: unknown) => log.warn({ err }, 'token sweep failed'));
    }, 3600_000);
    sweeper.unref();
    disk.start();
    retention.start();
    ctx.scrub = new Scrub(ctx);
    ctx.scrub.start();
    const running = app;
    return {
      app: running,
      ctx,
      url,
      retention,
      disk,
      async close() {
        clearInterval(sweeper);
        disk.stop();
        await running.close();
        await ctx.forwarder?.close();
        await ctx.scrub?.stop();
        await retention.stop();
        await ctx.close();
      },
    };
  } catch (err) {
    clearInterval(sweeper);
    disk.stop();
    await app?.close().catch(() => {});
    await ctx.forwarder?.close().catch(() => {});
    await ctx.scrub?.stop().catch(() => {});
    await ctx.close().catch(() => {});
    throw err;
  }
}
