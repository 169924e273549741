// The edge role's cameras, from `edge.cameras` in the YAML: each entry checked here, every mistake
// named by its full path (`edge.cameras[1].analyses.person.line: …`), all mistakes at once.
//
//   edge:
//     cameras:
//       - name: aux-shaft            # letters, digits, - _ (unique)
//         cameraId: "20"             # the guide's 2-digit code: 1x main shaft, 2x auxiliary shaft, 3x truck gate, 4x dispatch room
//         url: rtsp://user:pw@10.1.2.3:554/Streaming/Channels/102   # or file:///…mp4
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
import { cameraPlace } from '../src/contract/codes.ts';
import type { EdgeConfig } from '../src/config/schema.ts';
import { ANALYSES, linkAnalyses } from './analyses/registry.ts';
import { parseSourceUrl, type CaptureSource } from './capture/sourceUrl.ts';
import type { AnalysisKind } from './types.ts';

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
const CAMERA_KEYS = ['name', 'cameraId', 'url', 'loop', 'livePort', 'model', 'analyses'];

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
    for (const k of Object.keys(raw)) if (!CAMERA_KEYS.includes(k)) problems.push(`${at}.${k}: unknown key (one of ${CAMERA_KEYS.join(', ')})`);
    const before = problems.length;

    const name = raw['name'];
    if (typeof name !== 'string' || !/^[A-Za-z0-9_-]{1,32}$/.test(name)) problems.push(`${at}.name: must be 1–32 letters, digits, - or _, got ${JSON.stringify(name)}`);
    else if (names.has(name)) problems.push(`${at}.name: ${name} is used by another camera`);
    else names.add(name);

    const cameraId = typeof raw['cameraId'] === 'number' ? String(raw['cameraId']) : raw['cameraId'];
    const place = typeof cameraId === 'string' && /^\d{2}$/.test(cameraId) ? cameraPlace(cameraId) : undefined;
    if (typeof cameraId !== 'string' || !/^\d{2}$/.test(cameraId)) problems.push(`${at}.cameraId: must be the guide's 2-digit camera code (10 main shaft, 20 auxiliary shaft, 30 truck gate, 40 dispatch room), got ${JSON.stringify(raw['cameraId'])}`);

    let source: CaptureSource | undefined;
    const url = raw['url'];
    if (typeof url !== 'string' || url === '') problems.push(`${at}.url: required: rtsp://…, file:///….mp4 or http(s)://…`);
    else {
      try {
        source = parseSourceUrl(url);
      } catch (err) {
        problems.push(`${at}.url: ${problemOf(err)}`);
      }
    }

    const loop = raw['loop'] ?? false;
    if (typeof loop !== 'boolean') problems.push(`${at}.loop: must be true or false`);

    const livePort = raw['livePort'] ?? edge.live.basePort + i;
    if (typeof livePort !== 'number' || !Number.isInteger(livePort) || livePort < 0 || livePort > 65535) problems.push(`${at}.livePort: must be a port 1–65535 (0: any free port), got ${JSON.stringify(livePort)}`);
    else if (livePort !== 0 && ports.has(livePort)) problems.push(`${at}.livePort: ${livePort} is used by another camera`);
    else ports.add(livePort);

    const model = raw['model'] ?? '';
    if (typeof model !== 'string' || (model !== '' && !/\.onnx$/i.test(model))) {
      problems.push(`${at}.model: must be the path of an .onnx file (with its .json detector contract beside it), got ${JSON.stringify(model)}`);
    }

    const analyses: Partial<Record<AnalysisKind, unknown>> = {};
    const given = raw['analyses'];
    if (given !== undefined && !isMapping(given)) problems.push(`${at}.analyses: must be a mapping of analysis name to its options ({} for the defaults, false to turn one off)`);
    const wanted = new Map<AnalysisKind, unknown>();
    for (const kind of [...(place ? (DEFAULT_BY_PLACE[place] ?? []) : []), ...ON_EVERY_CAMERA]) wanted.set(kind, {});
    if (isMapping(given)) {
      for (const [k, v] of Object.entries(given)) {
        if (!Object.hasOwn(ANALYSES, k)) {
          problems.push(`${at}.analyses.${k}: unknown analysis (one of ${Object.keys(ANALYSES).join(', ')})`);
          continue;
        }
        if (v === false) wanted.delete(k as AnalysisKind);
        else wanted.set(k as AnalysisKind, v === true || v === null ? {} : v);
      }
    }
    for (const [kind, options] of wanted) {
      try {
        analyses[kind] = ANALYSES[kind].validate(options, `${at}.analyses.${kind}`);
      } catch (err) {
        problems.push(problemOf(err));
      }
    }

    if (problems.length === before && source && typeof name === 'string' && typeof cameraId === 'string' && typeof livePort === 'number') {
      cameras.push({ name, cameraId, url: url as string, source, loop: loop === true, livePort, model: model as string, analyses: linkAnalyses(analyses) });
    }
  });
  if (edge.cameras.length && !/^\S{12}$/.test(edge.mineId)) problems.push('edge.mineId: required with cameras: the 12-character national mine code');
  return { cameras, problems };
}
