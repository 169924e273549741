// The edge role, live: for each configured camera a capture (ffmpeg child), the camera's pipeline,
// a clip recorder and a marked MJPEG server; shared by all cameras one detector worker, the
// persistent outbox and its uploader, the mine-state watcher and the model updater. It reports to
// the relay (or the national platform) exactly as a mine device would.
//
// Ownership: the service owns everything it opens and closes it in reverse order: cameras first
// (no new events), then the updater, the detector, the uploader (drains what is in flight), the
// outbox.
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { EdgeConfig, EdgeRoleConfig } from './config.ts';
import { safeUrl } from '../src/log.ts';
import { packageVersion } from '../src/cli/run.ts';
import type { Heartbeat, HeartbeatAnswer, HeartbeatModel } from '../src/devices/heartbeat.ts';
import { HeartbeatSender } from './heartbeat/HeartbeatSender.ts';
import { LatencyWindow } from './heartbeat/LatencyWindow.ts';
import { RecentErrors } from './heartbeat/RecentErrors.ts';
import { timedDetector } from './heartbeat/timedDetector.ts';
import { ANALYSES } from './analyses/registry.ts';
import { FfmpegCapture } from './capture/FfmpegCapture.ts';
import type { CameraConfig } from './config.ts';
import { createDetector, type Detector } from './detect/detector.ts';
import { readModelSpec, type DetectorModelSpec } from './detect/modelSpec.ts';
import { ClipRecorder } from './evidence/ClipRecorder.ts';
import { loadOrCreateLiveToken } from './live/LiveToken.ts';
import { MjpegServer } from './live/MjpegServer.ts';
import { defaultModelFile, defaultModelsDir, ensureDefaultModel } from './models/buildDefault.ts';
import { ModelUpdater, type InstalledModel, type ModelRefusal } from './models/ModelUpdater.ts';
import { CameraPipeline } from './pipeline/CameraPipeline.ts';
import { NewestFrameSlot } from './pipeline/NewestFrameSlot.ts';
import { evidenceReport, liveReport, onlineReport, recordReport, type RecordReport } from './report/reports.ts';
import { MineStatusWatcher } from './upload/MineStatus.ts';
import { openOutbox, type Outbox } from './upload/Outbox.ts';
import { Uploader } from './upload/Uploader.ts';
import type { AnalysisEvent, Frame, Marks } from './types.ts';

export interface EdgeCameraStatus {
  name: string;
  cameraId: string;
  online: boolean;
  liveUrl: string;
  frames: number;
  /** frames that arrived while the previous one was still being analysed (only the newest waits) */
  skipped: number;
  events: number;
  lastOfflineReason: string | undefined;
}

/** The first non-internal IPv4 address: what a platform operator's browser can reach. */
export function defaultPublicHost(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/**
 * Where the live streams listen: `edge.live.host`, or by default the liveUrl's host when it is an
 * address of this machine (the interface the platform reaches, and no other), else every interface
 * (a NAT address or a name: the connection may arrive on any; the secret path still guards it).
 */
export function liveBindHost(configured: string, publicHost: string): string {
  if (configured) return configured;
  const bare = publicHost.replace(/^\[(.*)\]$/, '$1');
  const local = Object.values(networkInterfaces()).some((list) => (list ?? []).some((a) => a.address === bare));
  return local ? bare : '0.0.0.0';
}

/** The detector's model: the configured file (with its .json contract beside it) or the converted default. */
export async function resolveModel(edge: EdgeConfig, edgeDir: string): Promise<DetectorModelSpec> {
  if (edge.detector.model) return readModelSpec(edge.detector.model.replace(/\.onnx$/i, '') + '.json');
  // `npm run models` converts into ./models; otherwise the first start converts into the data dir
  const prebuilt = defaultModelsDir();
  const dir = existsSync(join(prebuilt, defaultModelFile(edge.detector.inputSize))) ? prebuilt : join(edgeDir, 'models', 'default');
  return ensureDefaultModel(dir, edge.detector.inputSize);
}

function specOfInstalled(model: InstalledModel): DetectorModelSpec {
  const e = model.entry;
  return {
    name: `${e.name}@${e.version}`,
    path: model.path,
    inputSize: e.inputSize,
    layout: e.layout,
    normalization: e.normalisation,
    decoder: e.decoder,
    classes: { ...e.classes },
  };
}

/**
 * Occlusion and moved report a condition once it has held 10 s, the belt once a start has held 3 s
 * (and its empty-belt baseline is learnt), all dated at the onset: the clip's history reaches back
 * this far beyond its 5 s before the event.
 */
const EVENT_LATENESS_SECONDS = 15;

/** `<dataDir>/edge/status.json`, for `eseal edge status` */
export const STATUS_FILE = 'status.json';
const STATUS_FILE_SECONDS = 5;

/** Clips are drawn from RGB only: the ring does not keep the luma plane. */
const NO_GRAY = new Uint8Array(0);

class LiveCamera {
  readonly config: CameraConfig;
  readonly pipeline: CameraPipeline;
  readonly capture: FfmpegCapture;
  readonly recorder: ClipRecorder;
  readonly live: MjpegServer;
  liveUrl = '';
  readonly #slot: NewestFrameSlot;
  lastOfflineReason: string | undefined;
  #state = '';
  /** when the last frame was shown, and the frame count at the last heartbeat (for its fps) */
  lastFrameAt = 0;
  beat = { frames: 0, at: Date.now() };
  /** evidence clips are made only for a shut-down mine: the ring costs memory only then */
  recording = false;

  constructor(
    config: CameraConfig,
    cfg: EdgeRoleConfig,
    edgeDir: string,
    detector: Detector | undefined,
    live: { host: string; pathToken: string },
    readonly log: Logger,
  ) {
    this.config = config;
    const { width, height, fps } = cfg.edge.analysis;
    const analyses = Object.entries(config.analyses).map(([kind, options]) => ANALYSES[kind as keyof typeof ANALYSES].create(config.name, options));
    this.pipeline = new CameraPipeline({ camera: config.name, width, height, analyses, ...(detector ? { detector } : {}) });
    this.capture = new FfmpegCapture({ camera: config.name, url: config.url, width, height, fps, mode: 'live', loop: config.loop, log, gb28181: { ...cfg.edge.gb28181, dataDir: cfg.dataDir } });
    this.recorder = new ClipRecorder({
      camera: config.name,
      fps,
      preSeconds: cfg.edge.evidence.preSeconds,
      postSeconds: cfg.edge.evidence.postSeconds,
      outDir: join(edgeDir, 'clips'),
      lateSeconds: EVENT_LATENESS_SECONDS,
      encode: { maxBytes: cfg.edge.evidence.maxBytes },
    });
    this.live = new MjpegServer({
      host: live.host,
      port: config.livePort,
      pathToken: live.pathToken,
      camera: config.name,
      maxClients: cfg.edge.live.maxViewers,
      maxClientsPerAddress: cfg.edge.live.maxViewersPerAddress,
      stalledViewerMs: cfg.edge.live.stalledViewerSeconds * 1000,
      log,
    });
    this.#slot = new NewestFrameSlot((frame) => this.pipeline.process(frame), {
      onError: (err) => this.log.error({ err, camera: config.name }, 'analysis of a frame failed'),
    });
    this.capture.on('frame', (frame) => this.#slot.offer(frame));
    this.pipeline.on('frame', (frame, marks) => this.#show(frame, marks));
  }

  set state(s: string) {
    this.#state = s;
  }

  #show(frame: Frame, marks: Marks[]): void {
    this.lastFrameAt = Date.now();
    if (this.recording) this.recorder.push({ ...frame, gray: NO_GRAY }, marks);
    this.live.publish(frame, marks, { time: frame.at, camera: `${this.config.name} (${this.config.cameraId})`, state: this.#state });
  }

  status(): EdgeCameraStatus {
    const s = this.pipeline.stats();
    return {
      name: this.config.name,
      cameraId: this.config.cameraId,
      online: this.capture.online,
      liveUrl: this.liveUrl,
      frames: s.frames,
      skipped: this.#slot.skipped,
      events: s.events,
      lastOfflineReason: this.lastOfflineReason,
    };
  }

  /** Stops the source, lets the frame in analysis finish, hands out held events, then cuts pending clips. */
  async close(): Promise<void> {
    await this.capture.stop();
    await this.#slot.drain();
    this.pipeline.flush();
    await this.recorder.close().catch(() => {});
    await this.live.close();
  }
}

export class EdgeService {
  readonly #cfg: EdgeRoleConfig;
  readonly #log: Logger;
  readonly #cameras: CameraConfig[];
  readonly #edgeDir: string;
  #outbox: Outbox | undefined;
  #uploader: Uploader | undefined;
  #mineStatus: MineStatusWatcher | undefined;
  #detector: Detector | undefined;
  readonly #ownDetectors = new Map<string, Detector>();
  /** the registry's last refused model, for status */
  #modelRefused: (ModelRefusal & { at: number }) | undefined;
  #updater: ModelUpdater | undefined;
  /** the heartbeat to the relay, and what it reports */
  #heartbeat: HeartbeatSender | undefined;
  readonly #latency = new LatencyWindow();
  readonly #errors = new RecentErrors();
  #runningModel: HeartbeatModel | null = null;
  readonly #startedAt = Date.now();
  readonly #version = packageVersion();
  #live: LiveCamera[] = [];
  #statusTimer: NodeJS.Timeout | undefined;
  #snapshotTimer: NodeJS.Timeout | undefined;
  #closed = false;
  #closing = false;
  /** events being turned into records or clips (waited for at close) */
  readonly #reporting = new Set<Promise<void>>();

  constructor(cfg: EdgeRoleConfig, cameras: CameraConfig[], log: Logger) {
    this.#cfg = cfg;
    this.#cameras = cameras;
    this.#log = log;
    this.#edgeDir = join(cfg.dataDir, 'edge');
  }

  get outbox(): Outbox | undefined {
    return this.#outbox;
  }

  async start(): Promise<void> {
    const edge = this.#cfg.edge;
    await mkdir(this.#edgeDir, { recursive: true });
    this.#outbox = await openOutbox({
      dir: join(this.#edgeDir, 'outbox'),
      maxItems: edge.outbox.maxItems,
      maxBytes: edge.outbox.maxMegabytes * 1024 * 1024,
      log: this.#log,
    });
    const target = {
      url: edge.report.url,
      username: edge.report.username,
      password: edge.report.password,
      client: edge.report.client,
      loginMethod: edge.report.loginMethod,
      cipherMode: edge.report.cipherMode,
      insecure: edge.report.tls.insecure === 'yes',
      ...(edge.report.tls.ca ? { ca: edge.report.tls.ca } : {}),
    };
    this.#uploader = new Uploader({ ...target, outbox: this.#outbox, retry: { baseSeconds: 1, maxSeconds: 60 }, log: this.#log });
    this.#uploader.start();
    this.#mineStatus = new MineStatusWatcher({
      session: this.#uploader.session,
      mineId: edge.mineId,
      configured: edge.mineStatus,
      log: this.#log,
      onChange: (state, status) => {
        this.#log.info({ state, status }, 'the mine state changed: reports follow it');
        this.#labelCameras();
      },
    });
    // the first answer may take a while (the relay may be down): never hold the cameras for it
    void this.#mineStatus.start().then(
      () => this.#labelCameras(),
      (err: unknown) => this.#log.warn({ err }, 'camera/mineStatus: no answer yet; assuming a producing mine until one comes'),
    );

    const detecting = this.#cameras.filter((c) => Object.keys(c.analyses).some((k) => ANALYSES[k as keyof typeof ANALYSES].needsDetections));
    const options = { intraOpThreads: edge.detector.threads, scoreThreshold: edge.detector.minScorePercent / 100 };
    if (detecting.some((c) => !c.model)) {
      const spec = await resolveModel(edge, this.#edgeDir);
      this.#detector = timedDetector(await createDetector({ model: spec, ...options }), this.#latency);
      this.#runningModel = { name: spec.name ?? 'default', version: 'builtin', sm3: '' };
      this.#log.info({ model: spec.name ?? spec.path, inputSize: spec.inputSize }, 'detector ready');
      if (edge.models.publicKey) await this.#startUpdater();
    }
    // a camera with a model of its own gets a detector (one worker) per distinct model
    for (const path of new Set(detecting.map((c) => c.model).filter(Boolean))) {
      const spec = await readModelSpec(path.replace(/\.onnx$/i, '') + '.json');
      this.#ownDetectors.set(path, timedDetector(await createDetector({ model: { ...spec, path }, ...options }), this.#latency));
      this.#log.info({ model: spec.name ?? path, inputSize: spec.inputSize }, 'a camera\'s own detector ready');
    }

    const publicHost = edge.live.publicHost || defaultPublicHost();
    const liveHost = liveBindHost(edge.live.host, publicHost);
    if (liveHost === '0.0.0.0' && !edge.live.host) {
      this.#log.info({ publicHost }, 'the live streams listen on every interface (edge.live.publicHost is not an address of this machine); set edge.live.host to the one the platform reaches');
    }
    for (const camera of this.#cameras) {
      const detector = camera.model ? this.#ownDetectors.get(camera.model) : this.#detector;
      const pathToken = await loadOrCreateLiveToken(this.#edgeDir, camera.name);
      const cam = new LiveCamera(camera, this.#cfg, this.#edgeDir, detector, { host: liveHost, pathToken }, this.#log.child({ camera: camera.name }));
      this.#live.push(cam);
      this.#labelCameras();
      cam.pipeline.on('event', (event) => {
        const reported = this.#report(cam, event).finally(() => this.#reporting.delete(reported));
        this.#reporting.add(reported);
      });
      cam.capture.on('online', () => {
        this.#log.info({ camera: camera.name, source: safeUrl(camera.url) }, 'camera online');
        void this.#send(onlineReport(edge.mineId, camera.cameraId, true, Date.now()));
      });
      cam.capture.on('offline', (reason) => {
        cam.lastOfflineReason = reason;
        this.#errors.add('camera.offline', `${camera.name} (${camera.cameraId}): ${reason}`);
        this.#log.warn({ camera: camera.name, reason }, 'camera offline');
        void this.#send(onlineReport(edge.mineId, camera.cameraId, false, Date.now()));
      });
      const { port } = await cam.live.listen();
      const url = cam.live.url(publicHost, port);
      if (url !== cam.liveUrl) {
        cam.liveUrl = url;
        await this.#send(liveReport(edge.mineId, camera.cameraId, url, Date.now()));
      }
      cam.capture.start();
    }
    // camera/online-offine for every camera every statusSeconds (guide: every 5 minutes)
    this.#statusTimer = setInterval(() => {
      for (const cam of this.#live) void this.#send(onlineReport(edge.mineId, cam.config.cameraId, cam.capture.online, Date.now()));
    }, edge.statusSeconds * 1000);
    this.#statusTimer.unref();
    // what `eseal edge status` shows: written every few seconds, by rename, never half a file
    this.#snapshotTimer = setInterval(() => void this.#writeStatus(), STATUS_FILE_SECONDS * 1000);
    this.#snapshotTimer.unref();
    await this.#writeStatus();
    this.#startHeartbeat();
  }

  /** This edge's name in the relay's inventory and in model bindings. */
  deviceId(): string {
    return this.#cfg.edge.deviceId || hostname().replace(/[^A-Za-z0-9._:-]/g, '-').slice(0, 64) || 'eseal-edge';
  }

  /** The edge's token for the relay's own routes; a fresh one when the relay refused `stale`. */
  async #token(stale?: boolean): Promise<string> {
    const session = this.#uploader!.session;
    const token = await session.token();
    if (!stale) return token;
    session.invalidate(token);
    return session.token();
  }

  #startHeartbeat(): void {
    const edge = this.#cfg.edge;
    this.#heartbeat = new HeartbeatSender({
      baseUrl: edge.report.url,
      getToken: (stale) => this.#token(stale),
      collect: () => this.heartbeat(),
      intervalSeconds: edge.heartbeatSeconds,
      log: this.#log,
      tls: { insecure: edge.report.tls.insecure === 'yes', ...(edge.report.tls.ca ? { ca: edge.report.tls.ca } : {}) },
    });
    this.#heartbeat.on('bound', (bound) => this.#followBinding(bound));
    this.#heartbeat.start();
  }

  /** The relay says which model is bound to this edge: poll the registry now when it is not the one installed. */
  #followBinding(bound: HeartbeatAnswer['model']): void {
    const updater = this.#updater;
    if (!updater) return;
    const installed = updater.installed();
    const differs = bound ? bound.name !== updater.following() || bound.sm3 !== installed?.entry.sm3 : updater.following() !== this.#cfg.edge.models.name;
    if (differs) void updater.checkNow();
  }

  /** What the heartbeat reports now. */
  heartbeat(): Heartbeat {
    const now = Date.now();
    const cameras = this.#live.map((cam) => {
      const frames = cam.pipeline.stats().frames;
      const seconds = (now - cam.beat.at) / 1000;
      const fps = seconds > 0 ? Math.round(((frames - cam.beat.frames) / seconds) * 10) / 10 : 0;
      cam.beat = { frames, at: now };
      return { cameraId: cam.config.cameraId, state: cam.capture.online ? 'running' : 'offline', fps, ...(cam.lastFrameAt ? { lastFrameAt: cam.lastFrameAt } : {}) };
    });
    return {
      deviceId: this.deviceId(),
      ...(this.#cfg.edge.mineId ? { mineId: this.#cfg.edge.mineId } : {}),
      software: { name: 'eseal-edge', version: this.#version },
      model: this.#runningModel,
      cameras,
      detector: this.#latency.percentiles(),
      errors: this.#errors.list(),
      startedAt: this.#startedAt,
    };
  }

  #labelCameras(): void {
    const shutdown = this.#mineStatus?.current() === 'shutdown';
    for (const cam of this.#live) {
      cam.state = shutdown ? 'mine shut down: evidence' : 'mine producing: records';
      cam.recording = shutdown;
    }
  }

  /** Follows the registry; a model it installed before a restart is put back before the cameras start. */
  async #startUpdater(): Promise<void> {
    const edge = this.#cfg.edge;
    this.#updater = new ModelUpdater({
      baseUrl: edge.report.url,
      getToken: (stale) => this.#token(stale),
      trustedPublicKey: edge.models.publicKey,
      dir: join(this.#edgeDir, 'models', 'registry'),
      wanted: edge.models.name,
      identity: { deviceId: this.deviceId(), account: edge.report.username, ...(edge.mineId ? { mineId: edge.mineId } : {}) },
      pollSeconds: edge.models.pollSeconds,
      log: this.#log,
      tls: { insecure: edge.report.tls.insecure === 'yes', ...(edge.report.tls.ca ? { ca: edge.report.tls.ca } : {}) },
    });
    this.#updater.on('model', (model) => {
      void this.#detector?.swapModel(specOfInstalled(model)).then(
        () => {
          this.#runningModel = { name: model.name, version: model.version, sm3: model.entry.sm3 };
          this.#log.info({ model: model.name, version: model.version }, 'detector now runs the new model');
        },
        (err: unknown) => {
          this.#errors.add('model.load', `${model.name} ${model.version}: ${(err as Error).message}`);
          this.#log.error({ err, model: model.name, version: model.version }, 'the new model did not load; the old one keeps running');
        },
      );
    });
    this.#updater.on('refused', (r) => {
      this.#modelRefused = { ...r, at: Date.now() };
      this.#errors.add(r.code, r.reason);
      this.#log.warn(r, 'a model from the registry was refused; the current one keeps running');
    });
    const installed = await this.#updater.start();
    if (installed) {
      await this.#detector!.swapModel(specOfInstalled(installed)).then(
        () => {
          this.#runningModel = { name: installed.name, version: installed.version, sm3: installed.entry.sm3 };
          this.#log.info({ model: installed.name, version: installed.version }, 'detector runs the registry model installed before');
        },
        (err: unknown) => this.#log.error({ err, model: installed.name }, 'the registry model installed before did not load; the default one runs'),
      );
    }
  }

  async #send(report: RecordReport): Promise<void> {
    if (this.#closed || !this.#outbox) return;
    try {
      await this.#outbox.addRecord(report.endpoint, report.body);
      this.#uploader?.kick();
    } catch (err) {
      this.#errors.add('report.queue', `${report.endpoint.id}: ${(err as Error).message}`);
      this.#log.error({ err, endpoint: report.endpoint.id }, 'could not queue a report');
    }
  }

  /** An event → a record (producing mine) or a 10 s marked clip (shut-down mine), into the outbox. */
  async #report(cam: LiveCamera, event: AnalysisEvent): Promise<void> {
    const edge = this.#cfg.edge;
    const state = this.#mineStatus?.current() ?? 'producing';
    this.#log.info({ camera: cam.config.name, kind: event.kind, count: event.count, beltStatus: event.beltStatus, detail: event.detail, state }, 'event');
    if (state === 'producing') {
      await this.#send(recordReport(event, edge.mineId, cam.config.cameraId));
      return;
    }
    try {
      const clip = await cam.recorder.request(event.at, event.kind);
      const { endpoint, fileName } = evidenceReport(event, edge.mineId, cam.config.cameraId);
      if (this.#closed || !this.#outbox) return;
      await this.#outbox.addEvidence(endpoint, fileName, clip.path);
      this.#uploader?.kick();
    } catch (err) {
      this.#errors.add('evidence.clip', `${cam.config.name} ${event.kind}: ${(err as Error).message}`);
      this.#log.error({ err, camera: cam.config.name, kind: event.kind }, 'could not make or queue the evidence clip');
    }
  }

  async #writeStatus(): Promise<void> {
    const file = join(this.#edgeDir, STATUS_FILE);
    const temp = `${file}.${process.pid}.tmp`;
    try {
      // 0600: it holds the cameras' liveUrls, whose paths are their secrets
      await writeFile(temp, JSON.stringify({ at: Date.now(), pid: process.pid, uploader: this.#uploader?.stats(), ...this.status() }, null, 1), { mode: 0o600 });
      await rename(temp, file);
    } catch (err) {
      this.#log.warn({ err }, 'could not write the edge status file');
    }
  }

  status(): {
    cameras: EdgeCameraStatus[];
    mineState: string;
    outbox: unknown;
    detector: unknown;
    ownDetectors: Record<string, unknown>;
    modelRefused: (ModelRefusal & { at: number }) | undefined;
  } {
    return {
      cameras: this.#live.map((c) => c.status()),
      mineState: this.#mineStatus?.current() ?? 'producing',
      outbox: this.#outbox?.stats(),
      detector: this.#detector?.stats(),
      ownDetectors: Object.fromEntries([...this.#ownDetectors].map(([path, d]) => [path, d.stats()])),
      modelRefused: this.#modelRefused,
    };
  }

  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#statusTimer) clearInterval(this.#statusTimer);
    if (this.#snapshotTimer) clearInterval(this.#snapshotTimer);
    await this.#heartbeat?.close();
    // cameras first: the events they still hold (a group of crossings not yet closed) are reported
    // into the outbox before it closes, so a restart loses no count
    await Promise.all(this.#live.map((c) => c.close().catch((err: unknown) => this.#log.warn({ err, camera: c.config.name }, 'camera did not close cleanly'))));
    await Promise.allSettled([...this.#reporting]);
    this.#closed = true;
    await this.#updater?.close();
    this.#mineStatus?.close();
    await this.#detector?.close();
    for (const d of this.#ownDetectors.values()) await d.close();
    await this.#uploader?.close();
    await this.#outbox?.close();
  }
}
