// 智能感知管理 (front-end analysis management, guide table 5-23): the devices that report to the
// relay with the model each runs against its binding and their alerts, the model registry with its
// bindings, a form to bind a model to devices, mines or accounts and a push button (operators), and
// the GB/T 28181 bridge's devices and channels (a bridge that is not running is said, not an error).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ConsoleContext } from '../ConsoleContext.ts';
import { EsealError } from '../../src/errors.ts';
import { ConsoleInvalid } from '../errors.ts';
import { describeTarget } from '../../src/models/manifest.ts';
import { TARGET_KINDS, bindTargets, checkModelName, checkTargets, gbDevices, listDevices, listModels, pushModels, type DeviceRow, type ModelsView } from '../api/devicesApi.ts';
import type { GbDevices } from '../upstream/GbAdmin.ts';
import { html, type Html } from './html.ts';
import { t, type Lang, type WordKey } from './i18n.ts';
import { beijing, bytes } from './format.ts';
import type { SendPage } from './pageRoutes.ts';

/** The relay's alert texts (relay/devices/deviceRows.ts) in the page's language: by their start. */
const ALERT_WORDS: readonly [RegExp, WordKey][] = [
  [/^heartbeat late/, 'dvAlertLate'],
  [/^model differs from binding/, 'dvAlertModel'],
  [/^detector p95 >/, 'dvAlertDetector'],
  [/^cameras not running/, 'dvAlertCameras'],
  [/^errors in last hour/, 'dvAlertErrors'],
  [/^no calls for over/, 'dvAlertSilent'],
];

export function alertText(lang: Lang, alert: string): string {
  const hit = ALERT_WORDS.find(([re]) => re.test(alert));
  if (!hit || lang === 'en') return alert;
  // the relay's detail after the rule (e.g. the cameras' ids, the limit in ms) is kept
  const rest = alert.replace(hit[0], '').replace(/^:/, '').trim();
  return rest ? `${t(lang, hit[1])}: ${rest}` : t(lang, hit[1]);
}

/** device rows shown at most (a province has a thousand mines: filter, or list only those with alerts) */
export const DEVICES_LIST_MAX = 500;

export interface DevicesFilter {
  /** the start of an account, mine or device id */
  q: string;
  /** only devices with alerts */
  alerts: boolean;
}

export function readDevicesFilter(query: Record<string, unknown>): DevicesFilter {
  const raw = query['q'];
  const q = typeof raw === 'string' ? raw.trim() : '';
  if (q && !/^[^\u0000-\u001f\u007f\s]{1,64}$/u.test(q)) throw ConsoleInvalid('q: the start of an account, mine or device id (1 to 64 characters, no white space)', { field: 'q' });
  return { q, alerts: query['alerts'] === '1' };
}

export function filterDevices(devices: DeviceRow[], f: DevicesFilter): DeviceRow[] {
  return devices.filter((d) => (!f.alerts || d.alerts.length > 0) && (!f.q || d.account.startsWith(f.q) || d.deviceId?.startsWith(f.q) || d.mineIds.some((m) => m.startsWith(f.q))));
}

export interface DevicesView {
  devices: DeviceRow[];
  models: ModelsView;
  gb: GbDevices;
}

function modelCell(m: { name: string; version: string } | null | undefined): Html | string {
  return m ? html`${m.name} <small class="muted">${m.version}</small>` : '-';
}

function deviceRows(lang: Lang, all: DeviceRow[], f: DevicesFilter): Html {
  const devices = filterDevices(all, f);
  const rows = devices.slice(0, DEVICES_LIST_MAX).map((d) => {
    const differs = d.alerts.some((a) => a.startsWith('model differs'));
    const running = (d.cameras ?? []).filter((c) => c.state === 'running').length;
    const total = Object.values(d.calls).reduce((a, b) => a + b, 0);
    const lastError = d.errors?.at(-1)?.msg ?? d.lastError?.msg;
    return html`<tr class="${d.alerts.length ? 'risk' : ''}" data-account="${d.account}" data-device="${d.deviceId ?? ''}">
<td>${d.kind === 'eseal-edge' ? t(lang, 'dvEdge') : t(lang, 'dvThirdParty')}</td><td>${d.deviceId ?? '-'}</td><td>${d.account}</td><td>${d.mineIds.join(', ')}</td>
<td>${d.software ? `${d.software.name} ${d.software.version}` : '-'}</td>
<td class="model${differs ? ' bad' : ''}">${modelCell(d.model)}</td><td class="bound">${d.boundModel ? html`${modelCell(d.boundModel)} <small class="muted">(${d.boundModel.target})</small>` : '-'}</td>
<td class="num">${d.cameras ? `${running}/${d.cameras.length}` : '-'}</td>
<td class="num">${d.detector && d.detector.runs > 0 ? `${Math.round(d.detector.p50Ms)} / ${Math.round(d.detector.p95Ms)}` : '-'}</td>
<td class="num">${total}</td><td class="num ${d.rejected ? 'warn' : ''}">${d.rejected}</td>
<td>${beijing(d.lastSeenAt)}</td>
<td class="alerts">${d.alerts.length ? d.alerts.map((a) => html`<div class="bad">${alertText(lang, a)}</div>`) : html`<span class="ok">${t(lang, 'dvNoAlerts')}</span>`}${lastError ? html`<div><small class="muted">${lastError}</small></div>` : ''}</td></tr>`;
  });
  const filters = html`<form method="get" action="/devices" class="filters" id="devices-filter">
<label>${t(lang, 'dvFilter')}<input name="q" value="${f.q}" maxlength="64" id="devices-q"></label>
<label><span><input type="checkbox" name="alerts" value="1"${f.alerts ? html` checked` : ''} id="devices-alerts"> ${t(lang, 'dvOnlyAlerts')}</span></label>
<button type="submit">${t(lang, 'filter')}</button> <small class="muted" id="devices-count">${devices.length} / ${all.length}</small></form>`;
  const more = devices.length > DEVICES_LIST_MAX ? html`<p class="muted">${t(lang, 'lvMore')} (${devices.length - DEVICES_LIST_MAX})</p>` : '';
  return html`${filters}<table id="devices"><thead><tr><th>${t(lang, 'dvKind')}</th><th>${t(lang, 'dvDevice')}</th><th>${t(lang, 'account')}</th><th>${t(lang, 'mine')}</th>
<th>${t(lang, 'dvSoftware')}</th><th>${t(lang, 'dvRunsModel')}</th><th>${t(lang, 'dvBoundModel')}</th><th>${t(lang, 'dvCameras')}</th><th>${t(lang, 'dvDetector')}</th>
<th>${t(lang, 'dvCalls')}</th><th>${t(lang, 'dvRejected')}</th><th>${t(lang, 'dvLastSeen')}</th><th>${t(lang, 'dvAlerts')}</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="13">${t(lang, 'dvNoDevices')}</td></tr>`}</tbody></table>${more}`;
}

function registry(lang: Lang, m: ModelsView, user: { role: string; csrf: string }, form: Record<string, string>): Html {
  const canAct = user.role === 'operator' || user.role === 'admin';
  const csrf = html`<input type="hidden" name="_csrf" value="${user.csrf}">`;
  const models = m.manifest?.models ?? [];
  const manifest = m.manifest
    ? html`<p id="manifest">${t(lang, 'dvIssuedAt')}: ${beijing(m.manifest.issuedAt)} · ${t(lang, 'dvPublisher')}: ${m.manifest.publisher}</p>`
    : html`<p class="notice" id="manifest">${t(lang, 'dvNoManifest')}</p>`;
  const modelRows = models.map(
    (x) => html`<tr data-model="${x.name}"><td>${x.name}</td><td>${x.version}</td><td><code title="${x.sm3}">${x.sm3.slice(0, 16)}…</code></td><td class="num">${bytes(x.bytes)}</td><td class="num">${x.inputSize}</td></tr>`,
  );
  const bindingRows = m.bindings.map((b) => {
    const [kind, id] = Object.entries(b.target)[0] as [string, string];
    return html`<tr data-target="${describeTarget(b.target)}"><td>${t(lang, `dvTarget_${kind}` as WordKey)}</td><td>${id}</td><td>${b.model}</td>
<td>${canAct ? html`<form method="post" action="/devices/bind" class="inline" data-confirm="${t(lang, 'dvConfirmUnbind')}">${csrf}<input type="hidden" name="targetKind" value="${kind}"><input type="hidden" name="targets" value="${id}"><input type="hidden" name="model" value=""><button type="submit" class="danger">${t(lang, 'dvUnbind')}</button></form>` : ''}</td></tr>`;
  });
  const bindForm = canAct && models.length
    ? html`<form method="post" action="/devices/bind" class="filters" id="bind-form">${csrf}
<label>${t(lang, 'dvTargetKind')}<select name="targetKind" id="bind-kind">${TARGET_KINDS.map((k) => html`<option value="${k}"${form['targetKind'] === k ? html` selected` : ''}>${t(lang, `dvTarget_${k}` as WordKey)}</option>`)}</select></label>
<label>${t(lang, 'dvTargets')}<input name="targets" id="bind-targets" value="${form['targets'] ?? ''}" maxlength="14000" size="40" placeholder="edge-01, edge-02"></label>
<label>${t(lang, 'dvModel')}<select name="model" id="bind-model">${models.map((x) => html`<option value="${x.name}"${form['model'] === x.name ? html` selected` : ''}>${x.name} (${x.version})</option>`)}<option value=""${form['model'] === '' ? html` selected` : ''}>${t(lang, 'dvNoModel')}</option></select></label>
<button type="submit" id="bind">${t(lang, 'dvBind')}</button></form>
<form method="post" action="/devices/push" class="inline" id="push-form">${csrf}<button type="submit" id="push">${t(lang, 'dvPush')}</button> <small class="muted">${t(lang, 'dvPushHint')}</small></form>`
    : '';
  return html`<h2>${t(lang, 'dvRegistry')}</h2>${manifest}
<table id="models"><thead><tr><th>${t(lang, 'dvModel')}</th><th>${t(lang, 'dvVersion')}</th><th>SM3</th><th>${t(lang, 'dvSize')}</th><th>${t(lang, 'dvInputSize')}</th></tr></thead>
<tbody>${modelRows.length ? modelRows : html`<tr><td colspan="5">${t(lang, 'none')}</td></tr>`}</tbody></table>
<h2>${t(lang, 'dvBindings')}</h2>
<table id="bindings"><thead><tr><th>${t(lang, 'dvTargetKind')}</th><th>${t(lang, 'target')}</th><th>${t(lang, 'dvModel')}</th><th></th></tr></thead>
<tbody>${bindingRows.length ? bindingRows : html`<tr><td colspan="4">${t(lang, 'none')}</td></tr>`}</tbody></table>
<p class="muted">${t(lang, 'dvBindingOrder')}</p>
${bindForm}`;
}

function gbSection(lang: Lang, gb: GbDevices): Html {
  if (!gb.running) return html`<h2>${t(lang, 'dvGb')}</h2><p class="notice" id="gb-down">${t(lang, 'dvGbDown')} <small class="muted">${gb.error ?? ''}</small></p>`;
  const rows = gb.devices.map(
    (d) => html`<tr data-gb="${d.deviceId}"><td>${d.deviceId}</td><td>${d.name ?? ''}</td><td class="${d.online ? 'ok' : 'bad'}">${t(lang, d.online ? 'dvOnline' : 'dvOffline')}</td>
<td>${d.transport}</td><td>${d.address}</td><td>${beijing(d.registeredAt)}</td><td>${beijing(d.keepaliveAt)}</td>
<td>${d.channels.map((c) => html`<div data-channel="${c.channelId}">${c.channelId} ${c.name ?? ''} <small class="${c.status === 'ON' ? 'ok' : 'muted'}">${c.status ?? ''}</small></div>`)}</td></tr>`,
  );
  return html`<h2>${t(lang, 'dvGb')}</h2>${gb.error ? html`<p class="error">${gb.error}</p>` : ''}
<table id="gb"><thead><tr><th>${t(lang, 'dvDevice')}</th><th>${t(lang, 'dvName')}</th><th>${t(lang, 'state')}</th><th>${t(lang, 'dvTransport')}</th><th>${t(lang, 'address')}</th>
<th>${t(lang, 'dvRegistered')}</th><th>${t(lang, 'dvKeepalive')}</th><th>${t(lang, 'dvChannels')}</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="8">${t(lang, 'none')}</td></tr>`}</tbody></table>`;
}

export function devicesBody(
  lang: Lang,
  v: DevicesView,
  user: { role: string; csrf: string },
  message?: { error?: string; notice?: string },
  form: Record<string, string> = {},
  filter: DevicesFilter = { q: '', alerts: false },
): Html {
  const alerted = v.devices.filter((d) => d.alerts.length).length;
  const edges = v.devices.filter((d) => d.kind === 'eseal-edge').length;
  const gbOnline = v.gb.devices.filter((d) => d.online).length;
  return html`${message?.error ? html`<div class="error" role="alert">${message.error}</div>` : ''}${message?.notice ? html`<div class="notice" role="status">${message.notice}</div>` : ''}
<div class="cards"><div class="card" id="dv-edges"><div>${t(lang, 'dvEdges')}</div><div class="v">${edges}</div></div>
<div class="card" id="dv-third"><div>${t(lang, 'dvThirdParty')}</div><div class="v">${v.devices.length - edges}</div></div>
<div class="card" id="dv-alerted"><div>${t(lang, 'dvAlerted')}</div><div class="v ${alerted ? 'bad' : 'ok'}">${alerted}</div></div>
<div class="card" id="dv-gb"><div>${t(lang, 'dvGb')}</div><div class="v ${v.gb.running ? 'ok' : 'warn'}">${v.gb.running ? `${gbOnline}/${v.gb.devices.length}` : t(lang, 'dvGbNotRunning')}</div></div></div>
<h2>${t(lang, 'dvReporting')}</h2>
${deviceRows(lang, v.devices, filter)}
${registry(lang, v.models, user, form)}
${gbSection(lang, v.gb)}`;
}

export async function devicesView(ctx: ConsoleContext): Promise<DevicesView> {
  const [d, models, gb] = await Promise.all([listDevices(ctx), listModels(ctx), gbDevices(ctx)]);
  return { devices: d.devices, models, gb };
}

const DONE: Record<string, WordKey> = { bound: 'dvBound', unbound: 'dvUnbound', pushed: 'dvPushed' };

export async function devicesPages(app: FastifyInstance, ctx: ConsoleContext, send: SendPage): Promise<void> {
  const show = async (request: FastifyRequest, reply: FastifyReply, message?: { error?: string; notice?: string }, form?: Record<string, string>, filter?: DevicesFilter) => {
    const c = request.caller!;
    return send(request, reply, '/devices', 'devices', devicesBody(request.lang, await devicesView(ctx), { role: c.role, csrf: c.session.csrf }, message, form, filter));
  };
  app.get('/devices', { config: { role: 'viewer' } }, async (request, reply) => {
    const q = request.query as Record<string, unknown>;
    const filter = readDevicesFilter(q);
    const done = DONE[String(q['done'] ?? '')];
    return show(request, reply, done ? { notice: t(request.lang, done) } : undefined, undefined, filter);
  });
  /** a refusal of the form's fields: the page again with the message and what was typed */
  const act = (path: string, run: (request: FastifyRequest, form: Record<string, string>) => Promise<string>) =>
    app.post(path, { config: { role: 'operator' } }, async (request, reply) => {
      const form = (request.body ?? {}) as Record<string, string>;
      let done: string;
      try {
        done = await run(request, form);
      } catch (err) {
        if (!(err instanceof EsealError) || (err.statusCode !== 400 && err.statusCode !== 409)) throw err;
        reply.status(err.statusCode);
        return show(request, reply, { error: err.message }, form);
      }
      return reply.redirect(`/devices?done=${done}`, 303);
    });
  act('/devices/bind', async (request, form) => {
    const { kind, ids } = checkTargets(form['targetKind'], form['targets'] ?? '');
    const model = checkModelName(form['model'] ?? '');
    await bindTargets(ctx, request, kind, ids, model);
    return model ? 'bound' : 'unbound';
  });
  act('/devices/push', async (request) => {
    await pushModels(ctx, request);
    return 'pushed';
  });
}
