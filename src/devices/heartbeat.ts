// The edge's heartbeat to the relay: what it runs and how it fares, every edge.heartbeatSeconds.
// Not a national API path: the relay answers it (relay/devices/), a national platform answers 404
// and the edge stops sending until it tries again an hour later.
//
//   POST /eseal/edge/heartbeat   Authorization: Bearer <the mine account's token>
//   {
//     "deviceId":  "edge-01",                                 [A-Za-z0-9._:-]{1,64}
//     "mineId":    "140421007866",                            optional: the mine its cameras watch
//     "software":  { "name": "eseal-edge", "version": "0.9.0" },
//     "model":     { "name": "default", "version": "2", "sm3": "<64 hex>" } | null,
//     "cameras":   [{ "cameraId": "20", "state": "running" | "offline" | …, "fps": 4.8, "lastFrameAt": ms }],   ≤ 64
//     "detector":  { "p50Ms": 41, "p95Ms": 80, "runs": 12345 },
//     "errors":    [{ "at": ms, "code": "ESEAL_ERR_…", "msg": "…" }],                                             ≤ 20
//     "startedAt": ms,
//     "intervalSeconds": 60                                   optional: when the next one is due
//   }
//   → {"code":0,"msg":"success","data":{"model":{"name","version","sm3"}}}   the model bound to this device, if any
//
// Every string is at most 200 characters, the body at most 64 KiB; a field breaking its rule is
// refused with its path named (`cameras[3].state: …`).
import { Pattern, Type, check, pathOf, type Static } from '../config/rules.ts';
import { InvalidField } from '../contract/errors.ts';
import { DEVICE_ID, MINE_ID } from '../models/manifest.ts';

export const HEARTBEAT_PATH = '/eseal/edge/heartbeat';
export const HEARTBEAT_MAX_BYTES = 64 * 1024;
export const HEARTBEAT_MAX_CAMERAS = 64;
export const HEARTBEAT_MAX_ERRORS = 20;
export const HEARTBEAT_MAX_CHARS = 200;
export const HEARTBEAT_DEFAULT_SECONDS = 60;

const text = (hint = `text of at most ${HEARTBEAT_MAX_CHARS} characters`) => Type.String({ maxLength: HEARTBEAT_MAX_CHARS, hint });
const name = () => Type.String({ minLength: 1, maxLength: HEARTBEAT_MAX_CHARS, hint: `text of 1 to ${HEARTBEAT_MAX_CHARS} characters` });
/** ms since the epoch, from 2000 to 2100 */
const time = () => Type.Integer({ minimum: 946_684_800_000, maximum: 4_102_444_800_000, hint: 'a time in ms since 1970 (2000 to 2100)' });
const ms = () => Type.Number({ minimum: 0, maximum: 3_600_000 });

export const HeartbeatSchema = Type.Object(
  {
    deviceId: Pattern(DEVICE_ID, 'a device id of letters, digits, . _ : - (1 to 64)'),
    mineId: Type.Optional(Pattern(MINE_ID, 'the 12-character mine id')),
    software: Type.Object({ name: name(), version: text() }),
    model: Type.Union(
      [
        Type.Object({
          name: name(),
          version: text(),
          sm3: Pattern(/^([0-9a-f]{64})?$/, "64 lowercase hex digits, or '' for a model not from the registry"),
        }),
        Type.Null(),
      ],
      { hint: '{name, version, sm3} or null' },
    ),
    cameras: Type.Array(
      Type.Object({
        cameraId: Type.String({ minLength: 1, maxLength: 32, hint: 'a camera id of 1 to 32 characters' }),
        state: Pattern(/^[a-z][a-z-]{0,31}$/, "a state word such as running or offline (lower case, at most 32 characters)"),
        fps: Type.Optional(Type.Number({ minimum: 0, maximum: 1000 })),
        lastFrameAt: Type.Optional(time()),
      }),
      { maxItems: HEARTBEAT_MAX_CAMERAS },
    ),
    detector: Type.Object({ p50Ms: ms(), p95Ms: ms(), runs: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }) }),
    errors: Type.Array(Type.Object({ at: time(), code: name(), msg: text() }), { maxItems: HEARTBEAT_MAX_ERRORS }),
    startedAt: time(),
    intervalSeconds: Type.Optional(Type.Integer({ minimum: 5, maximum: 86_400 })),
  },
  { additionalProperties: true },
);

export type Heartbeat = Static<typeof HeartbeatSchema>;
export type HeartbeatModel = NonNullable<Heartbeat['model']>;
export type HeartbeatCamera = Heartbeat['cameras'][number];
export type HeartbeatError = Heartbeat['errors'][number];

/** What the relay answers: the model bound to the device that sent the heartbeat, if any. */
export interface HeartbeatAnswer {
  model?: { name: string; version: string; sm3: string };
}

/** The heartbeat's own fields (unknown ones dropped); throws ESEAL_ERR_INPUT_FIELD naming the first field at fault. */
export function checkHeartbeat(body: unknown): Heartbeat {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw InvalidField('body: a JSON object (the heartbeat)', { field: 'body' });
  const { value, problems } = check(HeartbeatSchema, body, '');
  if (problems.length) {
    const shown = problems.slice(0, 5).join('; ') + (problems.length > 5 ? `; and ${problems.length - 5} more` : '');
    throw InvalidField(shown, { field: pathOf(problems[0]!), detail: { problems: problems.slice(0, 20) } });
  }
  const { deviceId, mineId, software, model, cameras, detector, errors, startedAt, intervalSeconds } = value;
  return {
    deviceId,
    ...(mineId !== undefined ? { mineId } : {}),
    software: { name: software.name, version: software.version },
    model: model ? { name: model.name, version: model.version, sm3: model.sm3 } : null,
    cameras: cameras.map((c) => ({
      cameraId: c.cameraId,
      state: c.state,
      ...(c.fps !== undefined ? { fps: c.fps } : {}),
      ...(c.lastFrameAt !== undefined ? { lastFrameAt: c.lastFrameAt } : {}),
    })),
    detector: { p50Ms: detector.p50Ms, p95Ms: detector.p95Ms, runs: detector.runs },
    errors: errors.map((e) => ({ at: e.at, code: e.code, msg: e.msg })),
    startedAt,
    ...(intervalSeconds !== undefined ? { intervalSeconds } : {}),
  };
}
