// 概览: is the relay up, does data reach the nation within its budgets, what is stuck.
import type { Overview } from '../api/overviewApi.ts';
import { html, type Html } from './html.ts';
import { t, type Lang } from './i18n.ts';
import { age } from './format.ts';

export function overviewBody(lang: Lang, o: Overview): Html {
  const relayCard = html`<div class="card" id="relay-admin"><div>${t(lang, 'relayAdmin')}</div>
<div class="v ${o.relay.reachable ? 'ok' : 'bad'}">${t(lang, o.relay.reachable ? 'reachable' : 'unreachable')}</div><small>${o.relay.url}</small>
${o.relay.error ? html`<div class="bad"><small>${o.relay.error}</small></div>` : ''}</div>`;
  const roles = html`<div class="card" id="roles"><div>${t(lang, 'rolesRunning')}</div><div class="v">${o.roles.join(', ')}</div></div>`;
  const s = o.status;
  if (!s) return html`<div class="cards">${relayCard}${roles}</div>`;
  const up = s.upstream;
  const upState = up ? up.state : t(lang, 'none');
  const upCard = html`<div class="card" id="upstream"><div>${t(lang, 'upstream')}</div>
<div class="v ${up?.state === 'closed' ? 'ok' : 'bad'}">${upState === 'closed' ? t(lang, 'reachable') : upState}</div><small>${up?.url ?? ''}</small>
${up?.lastError ? html`<div class="bad"><small>${up.lastError}</small></div>` : ''}</div>`;
  const dead = html`<div class="card" id="dead"><div>${t(lang, 'deadLetters')}</div>
<div class="v ${s.queue.dead ? 'bad' : 'ok'}"><a href="/items?state=dead">${s.queue.dead}</a></div></div>`;
  const disk = s.disk
    ? html`<div class="card" id="disk"><div>${t(lang, 'disk')}</div><div class="v ${s.disk.full ? 'bad' : s.disk.usedPercent > s.disk.highWatermarkPercent - 10 ? 'warn' : 'ok'}">${s.disk.usedPercent}%</div><small>≤ ${s.disk.highWatermarkPercent}%</small></div>`
    : '';
  const late = o.today
    ? html`<div class="card" id="late-today"><div>${t(lang, 'lateToday')}</div><div class="v ${o.today.late ? 'warn' : 'ok'}">${o.today.late}</div><small>/ ${o.today.delivered} ${t(lang, 'delivered')} · ≤ ${(o.today.latencyMaxMs / 1000).toFixed(1)} ${t(lang, 'seconds')}</small></div>`
    : '';
  const mines = html`<div class="card" id="mines-heard"><div>${t(lang, 'minesHeard')}</div><div class="v">${s.mines.length}</div></div>`;
  const lanes = Object.entries(s.lanes).map(
    ([lane, l]) => html`<tr class="${l.atRisk ? 'risk' : ''}" data-lane="${lane}"><td>${lane}</td><td class="num">${l.pending}</td><td class="num">${l.inFlight ?? '-'}</td>
<td class="num ${l.oldestAgeSeconds !== undefined && l.oldestAgeSeconds > l.budgetSeconds ? 'bad' : ''}">${age(l.oldestAgeSeconds)}</td><td class="num">${l.budgetSeconds} ${t(lang, 'seconds')}</td>
<td class="num">${l.delivered ?? '-'}</td><td class="num ${l.late ? 'warn' : ''}">${l.late ?? '-'}</td><td>${l.atRisk ? html`<span class="warn">${t(lang, 'atRisk')}</span>` : ''}</td></tr>`,
  );
  return html`<div class="cards">${relayCard}${upCard}${dead}${late}${disk}${mines}${roles}</div>
<h2>${t(lang, 'queue')}</h2>
<table id="lanes"><thead><tr><th>${t(lang, 'lane')}</th><th>${t(lang, 'pending')}</th><th>${t(lang, 'inFlight')}</th><th>${t(lang, 'oldest')}</th><th>${t(lang, 'budget')}</th><th>${t(lang, 'delivered')}</th><th>${t(lang, 'late')}</th><th></th></tr></thead>
<tbody>${lanes}</tbody></table>`;
}
