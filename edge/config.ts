// The edge role's cameras, from `edge.cameras` in the YAML: each entry checked here, every mistake
// named by its full path (`edge.cameras[1].analyses.person.line: …`), all mistakes at once.
//
//   edge:
//     cameras:
//       - name: aux-shaft            # letters, digits, - _ (unique)
//         cameraId: "20"             # the guide's 2-digit code: 1x main shaft, 2x auxiliary shaft, 3x truck gate, 4x dispatch room
//         url: rtsp://user:pw@10.1.2.3:554/Streaming/Channels/102   # or file:///…mp4, or gb28181://<device id>/<channel id>
//         loop: true                 # file:// only: replay forever
//         livePort: 8091             # optional; default edge.live.basePort + index
//         model: /etc/eseal/models/shaft.onnx   # optional: this camera's own detector (its .json contract beside it)
//         analyses:                  # optional; default by the camera's place (below)
//           person: { line: [[0.1, 0.6], [0.9, 0.6]], towards: [0.5, 0.9] }
//           occlusion: {}
//           moved: {}
//
// Default analyses by place: 1x belt, 2x person, 3x truck, 4x dispatchRoom; occlusion and moved on
// every camera. `analyses: { moved: false }` turns one off.
//
// gb28181:// cameras are read from the GB/T 28181 bridge's viewer (a channel of a registered device):
//     gb28181:
//       url: ""        # '' = the bridge on this server (http://127.0.0.1:9092); else http://host:port, its gb28181.http.listen
//       token: ""      # '' = <dataDir>/gb28181/view.token (same dataDir as the bridge); else the bridge's viewer token
import { cameraPlace } from '../src/contract/codes.ts';
import { LINK_SETTINGS, linkDefaults } from '../src/client/linkSettings.ts';
import type { ConfigSection } from '../src/config/load.ts';
import type { KernelConfig } from '../src/config/kernel.ts';
import { OneOf, Pattern, Type, check, type Static } from '../src/config/rules.ts';
import { ANALYSES, linkAnalyses } from './analyses/registry.ts';
import { parseSourceUrl, type CaptureSource } from './capture/sourceUrl.ts';
import type { AnalysisKind } from './types.ts';


const int = (minimum: number, maximum: number) => Type.Integer({ minimum, maximum });

const edgeSchema = Type.Object({
  /** the edge analysis role: watches a mine's cameras and reports as a mine device would */
  edge: Type.Object({
    /** the mine the cameras belong to (12 characters) */
    mineId: Pattern(/^(|\S{12})$/, 'the 12-character national mine code'),
    /** where the edge reports: a relay (or the national platform) */
    report: Type.Object({
      url: Pattern(/^https?:\/\/\S+$/, 'an http:// or https:// URL of the relay (or the national platform)'),
      username: Type.String(),
      password: Type.String({ secret: true }),
      ...LINK_SETTINGS,
    }),
    /** what the mine's state is: auto asks camera/mineStatus; producing sends records, shutdown sends evidence videos */
    mineStatus: OneOf(['auto', 'producing', 'shutdown']),
    /** the frames the analyses see */
    analysis: Type.Object({ width: int(64, 3840), height: int(64, 2160), fps: int(1, 30) }),
    detector: Type.Object({
      /** '' = the default CenterNet converted from @vladmandic/human; or a path to an .onnx with its .json contract beside it */
      model: Type.String(),
      /** input size of the default model (a multiple of 32) */
      inputSize: int(128, 1024),
      /** minimum score of a detection, in percent */
      minScorePercent: int(1, 99),
      /** onnxruntime intra-op threads of the detector worker */
      threads: int(1, 64),
    }),
    /** the relay's model registry: the edge polls it and hot-swaps the model */
    models: Type.Object({
      publicKey: Pattern(/^(|04[0-9a-fA-F]{128})$/, "the province's model-signing public key (eseal models key), 04 and 128 hex digits"),
      name: Pattern(/^[A-Za-z0-9._-]{1,64}$/, 'a model name of letters, digits, . _ -'),
      pollSeconds: int(10, 86400),
    }),
    /** the marked live streams (mjpg-streamer compatible); the liveUrl carries a secret path per camera */
    live: Type.Object({
      /** address the MJPEG servers bind ('' = publicHost when it is an address of this machine, else every interface) */
      host: Pattern(/^\S*$/, "an address to bind, e.g. 10.1.2.3 or 0.0.0.0 ('' = the liveUrl's host when it is one of this machine's addresses)"),
      /** the first camera's port; the next cameras count up unless they set livePort */
      basePort: int(1, 65535),
      /** host name or address put in the liveUrl sent to the platform ('' = the first non-internal IPv4) */
      publicHost: Type.String(),
      /** viewers of one camera's stream at once; the next gets 503 */
      maxViewers: int(1, 64),
      /** viewers of one camera's stream at once from one address; the next from it gets 429 */
      maxViewersPerAddress: int(1, 64),
      /** a viewer that has not taken the frame it was sent within this many seconds is disconnected */
      stalledViewerSeconds: int(1, 300),
    }),
    evidence: Type.Object({ preSeconds: int(1, 30), postSeconds: int(1, 30), maxBytes: int(64 * 1024, 10 * 1024 * 1024) }),
    /** the edge's own store of reports not yet taken by the relay; past a bound the oldest clips go first, records never */
    outbox: Type.Object({ maxItems: int(100, 100_000_000), maxMegabytes: int(64, 16 * 1024 * 1024) }),
    /** where gb28181://<device>/<channel> cameras are read: the GB/T 28181 bridge's viewer */
    gb28181: Type.Object({
      /** '' = the bridge on this server (http://127.0.0.1:9092, its default gb28181.http.listen) */
      url: Pattern(/^(|https?:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?\/?)$/, "'' (the bridge on this server) or http://host:port of the bridge's viewer (its gb28181.http.listen)"),
      /** '' = read <dataDir>/gb28181/view.token at each connection (the bridge on this server makes it) */
      token: Pattern(/^(|[A-Za-z0-9_-]{20,256})$/, "'' (the token file of the bridge on this server) or the bridge's viewer token (the ?token= of eseal gb28181 play)", { secret: true }),
    }),
    /** camera/online-offine is sent this often */
    statusSeconds: int(10, 3600),
    /** the heartbeat to the relay (POST /eseal/edge/heartbeat: model, cameras, detector latency, errors) is sent this often */
    heartbeatSeconds: int(5, 3600),
    /** this edge's name in the relay's device inventory and in model bindings ('' = the host name) */
    deviceId: Pattern(/^(|[A-Za-z0-9._:-]{1,64})$/, "'' (the host name) or 1 to 64 letters, digits, . _ : -"),
    /** each a mapping read by parseCameras below: name, cameraId, url, loop, livePort, model, analyses */
    cameras: Type.Array(Type.Record(Type.String(), Type.Unknown(), { hint: 'a mapping (name, cameraId, url, …)' }), { maxItems: 64 }),
  }),
});

export type EdgeConfig = Static<typeof edgeSchema>['edge'];
/** What the edge's code reads: the kernel's keys and its own. */
export type EdgeRoleConfig = KernelConfig & { edge: EdgeConfig };

export const EDGE_DEFAULTS: Static<typeof edgeSchema> = {
  edge: {
    mineId: '',
    report: {
      url: 'https://127.0.0.1:8443',
      username: '',
      password: '',
      ...linkDefaults(),
    },
    mineStatus: 'auto',
    analysis: { width: 704, height: 576, fps: 5 },
    detector: { model: '', inputSize: 512, minScorePercent: 15, threads: 1 },
    models: { publicKey: '', name: 'default', pollSeconds: 300 },
    live: { host: '', basePort: 8090, publicHost: '', maxViewers: 8, maxViewersPerAddress: 4, stalledViewerSeconds: 10 },
    evidence: { preSeconds: 5, postSeconds: 5, maxBytes: 10 * 1024 * 1024 - 64 * 1024 },
    outbox: { maxItems: 200_000, maxMegabytes: 8192 },
    gb28181: { url: '', token: '' },
    statusSeconds: 300,
    heartbeatSeconds: 60,
    deviceId: '',
    cameras: [],
  },
};

export const edgeConfigSection: ConfigSection<EdgeRoleConfig> = {
  schema: edgeSchema,
  defaults: EDGE_DEFAULTS,
  env: {
    ESEAL_EDGE_REPORT_URL: 'edge.report.url',
    ESEAL_EDGE_PASSWORD: 'edge.report.password',
    // the live streams
    ESEAL_EDGE_LIVE_HOST: 'edge.live.host',
    ESEAL_EDGE_LIVE_PUBLIC_HOST: 'edge.live.publicHost',
    // gb28181:// cameras: a bridge on another server
    ESEAL_EDGE_GB28181_URL: 'edge.gb28181.url',
    ESEAL_EDGE_GB28181_TOKEN: 'edge.gb28181.token',
  },
};

/** One entry of edge.cameras, as written in the YAML. */
const CameraEntry = Type.Object({
  name: Pattern(/^[A-Za-z0-9_-]{1,32}$/, '1–32 letters, digits, - or _'),
  cameraId: Pattern(/^\d{2}$/, "the guide's 2-digit camera code (10 main shaft, 20 auxiliary shaft, 30 truck gate, 40 dispatch room)"),
  url: Type.String({ minLength: 1, hint: 'rtsp://…, file:///….mp4, http(s)://… or gb28181://<device id>/<channel id>' }),
  /** file:// only: replay forever */
  loop: Type.Boolean({ default: false }),
  livePort: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, hint: 'a port 1–65535 (0: any free port)' })),
  model: Pattern(/^(|.*\.[oO][nN][nN][xX])$/, 'the path of an .onnx file (with its .json detector contract beside it)', { default: '' }),
  analyses: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { hint: 'a mapping of analysis name to its options ({} for the defaults, false to turn one off)' })),
});

export interface CameraConfig {
  name: string;
  /** the guide's 2-digit camera code */
  cameraId: string;
  url: string;
  source: CaptureSource;
  loop: boolean;
  livePort: number;
  /** this camera's own detector model ('' = the edge's detector) */
  model: string;
  /** validated options of each analysis that runs on this camera */
  analyses: Partial<Record<AnalysisKind, unknown>>;
}

const DEFAULT_BY_PLACE: Record<string, AnalysisKind[]> = {
  mainShaft: ['belt'],
  auxiliaryShaft: ['person'],
  truckGate: ['truck'],
  dispatchRoom: ['dispatchRoom'],
};
const ON_EVERY_CAMERA: AnalysisKind[] = ['occlusion', 'moved'];

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function problemOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Checks every camera; returns the typed cameras and the problems (empty when all is well). */
export function parseCameras(edge: EdgeConfig): { cameras: CameraConfig[]; problems: string[] } {
  const problems: string[] = [];
  const cameras: CameraConfig[] = [];
  const names = new Set<string>();
  const ports = new Set<number>();
  edge.cameras.forEach((raw, i) => {
    const at = `edge.cameras[${i}]`;
    if (!isMapping(raw)) {
      problems.push(`${at}: must be a mapping with name, cameraId, url`);
      return;
    }
    const before = problems.length;
    const { value: entry, problems: fieldProblems } = check(CameraEntry, raw, at);
    problems.push(...fieldProblems);
    const { name, cameraId, url, loop, model } = entry;
    if (typeof name === 'string' && /^[A-Za-z0-9_-]{1,32}$/.test(name)) {
      if (names.has(name)) problems.push(`${at}.name: ${name} is used by another camera`);
      names.add(name);
    }
    const place = typeof cameraId === 'string' && /^\d{2}$/.test(cameraId) ? cameraPlace(cameraId) : undefined;

    let source: CaptureSource | undefined;
    if (typeof url === 'string' && url !== '') {
      try {
        source = parseSourceUrl(url);
      } catch (err) {
        problems.push(`${at}.url: ${problemOf(err)}`);
      }
    }

    if (loop === true && source && source.kind !== 'file') problems.push(`${at}.loop: only file:// cameras can loop (this one is ${source.kind})`);

    const livePort = entry.livePort ?? edge.live.basePort + i;
    if (Number.isInteger(livePort) && livePort !== 0) {
      if (ports.has(livePort)) problems.push(`${at}.livePort: ${livePort} is used by another camera`);
      ports.add(livePort);
    }

    const analyses: Partial<Record<AnalysisKind, unknown>> = {};
    const given = entry.analyses;
    const wanted = new Map<AnalysisKind, unknown>();
    for (const kind of [...(place ? (DEFAULT_BY_PLACE[place] ?? []) : []), ...ON_EVERY_CAMERA]) wanted.set(kind, {});
    if (isMapping(given)) {
      for (const [k, v] of Object.entries(given)) {
        if (!Object.hasOwn(ANALYSES, k)) {
          problems.push(`${at}.analyses.${k}: unknown analysis (one of ${Object.keys(ANALYSES).join(', ')})`);
          continue;
        }
        if (v === false) wanted.delete(k as AnalysisKind);
        else wanted.set(k as AnalysisKind, v);
      }
    }
    for (const [kind, options] of wanted) {
      const read = ANALYSES[kind].read(options, `${at}.analyses.${kind}`);
      problems.push(...read.problems);
      analyses[kind] = read.value;
    }

    if (problems.length === before && source) {
      cameras.push({ name, cameraId, url, source, loop, livePort, model, analyses: linkAnalyses(analyses) });
    }
  });
  if (edge.cameras.length && !/^\S{12}$/.test(edge.mineId)) problems.push('edge.mineId: required with cameras: the 12-character national mine code');
  return { cameras, problems };
}
