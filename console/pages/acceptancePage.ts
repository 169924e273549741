// 企业自测: every mine's last seven days against the acceptance rules, one mine's items with their
// verdicts and reasons, and its self-test record to download (CSV, JSON; each export audited).
import type { FastifyInstance } from 'fastify';
import type { ConsoleContext } from '../ConsoleContext.ts';
import { acceptanceList, acceptanceOf, readAcceptanceQuery, type AcceptanceList, type AcceptanceQuery } from '../api/acceptanceApi.ts';
import { checkMineParam, intIn } from '../api/minesApi.ts';
import { MAX_GAP_HOURS, reasonText, type AcceptanceResult, type ItemRule, type Reason, type Verdict } from '../acceptance/acceptanceRules.ts';
import { html, query, type Html } from './html.ts';
import { t, type Lang, type WordKey } from './i18n.ts';
import { beijing } from './format.ts';
import { ms, statusCell } from './minesPage.ts';
import type { SendPage } from './pageRoutes.ts';

export const ACCEPTANCE_PAGE_SIZE = 100;

const RULE_WORDS: Record<ItemRule, WordKey> = { steady: 'ruleSteady', arrive: 'ruleArrive', optional: 'ruleOptional' };

export function verdictCell(lang: Lang, v: Verdict): Html {
  return html`<span style="white-space:nowrap" class="verdict ${v === 'pass' ? 'ok' : v === 'fail' ? 'bad' : 'muted'}" data-verdict="${v}">${t(lang, v === 'pass' ? 'pass' : v === 'fail' ? 'fail' : 'noData')}</span>`;
}

function reasons(lang: Lang, list: readonly Reason[]): string {
  return list.map((r) => reasonText(r, lang)).join('; ');
}

function periodForm(lang: Lang, action: string, q: AcceptanceQuery): Html {
  return html`<form method="get" action="${action}" class="filters" id="acceptance-filter">
<label>${t(lang, 'endDay')}<input type="date" name="to" id="f-to" value="${q.to}" required></label>
<label>${t(lang, 'gapHours')}<input type="number" name="gapHours" id="f-gapHours" min="1" max="${MAX_GAP_HOURS}" step="1" value="${q.gapHours}" required></label>
<button type="submit">${t(lang, 'filter')}</button></form>
<p><small>${t(lang, 'acceptanceRules')}</small></p>`;
}

export function acceptanceListBody(lang: Lang, l: AcceptanceList, offset: number): Html {
  const q = { to: l.to, gapHours: l.gapHours };
  const rows = l.mines.slice(offset, offset + ACCEPTANCE_PAGE_SIZE).map(
    (m) => html`<tr data-mine="${m.mineId}"><td><a href="/acceptance/${m.mineId}${query(q)}">${m.mineId}</a></td><td>${statusCell(lang, m.status, m.mineKind === 'shutDown')}</td>
<td>${t(lang, m.mineKind === 'shutDown' ? 'kindShutDown' : 'kindProducing')}</td><td class="num">${m.calls}</td><td>${verdictCell(lang, m.verdict)}</td>
<td><small>${m.failing.map((f) => html`<span data-endpoint="${f.endpoint}">${f.endpoint}: ${reasons(lang, f.reasons)}</span><br>`)}</small></td></tr>`,
  );
  const prev = offset > 0 ? html`<a href="/acceptance${query({ ...q, offset: Math.max(0, offset - ACCEPTANCE_PAGE_SIZE) })}" id="prev">${t(lang, 'previous')}</a> ` : '';
  const next = offset + ACCEPTANCE_PAGE_SIZE < l.mines.length ? html`<a href="/acceptance${query({ ...q, offset: offset + ACCEPTANCE_PAGE_SIZE })}" id="next">${t(lang, 'next')}</a>` : '';
  return html`${periodForm(lang, '/acceptance', q)}
<p><small>${t(lang, 'hourlyOnMine')}</small></p>
<div class="cards">
<div class="card" id="c-period"><div>${t(lang, 'period')}</div><div class="v" style="font-size:16px">${l.from} – ${l.to}</div></div>
<div class="card" id="c-passed"><div>${t(lang, 'pass')}</div><div class="v ok">${l.passed}</div></div>
<div class="card" id="c-failed"><div>${t(lang, 'fail')}</div><div class="v ${l.failed ? 'bad' : 'ok'}">${l.failed}</div></div>
</div>
<table id="acceptance"><thead><tr><th>${t(lang, 'mine')}</th><th>${t(lang, 'mineStatus')}</th><th>${t(lang, 'mineKind')}</th><th>${t(lang, 'calls')}</th><th>${t(lang, 'verdict')}</th><th>${t(lang, 'reasons')}</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="6">${t(lang, 'noItems')}</td></tr>`}</tbody></table>${prev}${next}`;
}

export function acceptanceBody(lang: Lang, r: AcceptanceResult, q: AcceptanceQuery): Html {
  const items = r.items.map(
    (i) => html`<tr data-endpoint="${i.endpoint}" class="${i.verdict === 'fail' && i.rule !== 'optional' ? 'risk' : ''}"><td>${i.endpoint}<br><small class="muted">${i.zh} · ${i.section}</small></td><td>${t(lang, RULE_WORDS[i.rule])}</td>
${i.perDay.map((n) => html`<td class="num ${n === 0 && i.rule === 'steady' ? 'bad' : ''}">${n}</td>`)}<td class="num" data-col="calls">${i.calls}</td>
<td class="num ${i.late ? 'bad' : ''}" data-col="late">${i.late}</td><td class="num ${i.latencyMaxMs > i.budgetSeconds * 1000 ? 'bad' : ''}" data-col="latencyMax">${ms(i.latencyMaxMs)} <small class="muted">/ ${i.budgetSeconds} s</small></td>
<td class="num ${i.flagged ? 'bad' : ''}" data-col="flagged">${i.flagged}</td><td class="num ${i.rejected ? 'bad' : ''}" data-col="rejected">${i.rejected}</td><td class="num ${i.dead ? 'bad' : ''}" data-col="dead">${i.dead}</td>
<td data-col="gaps">${(i.gaps ?? []).map((g) => html`<small>${beijing(g.from).slice(5, 16)} – ${beijing(g.to).slice(5, 16)} (${g.hours} h)</small><br>`)}</td>
<td>${verdictCell(lang, i.verdict)}</td><td><small>${reasons(lang, i.reasons)}</small></td></tr>`,
  );
  const dl = query({ to: q.to, gapHours: q.gapHours });
  return html`${periodForm(lang, `/acceptance/${r.mineId}`, q)}
<div class="cards">
<div class="card" id="c-verdict"><div>${t(lang, 'verdict')}</div><div class="v">${verdictCell(lang, r.verdict)}</div></div>
<div class="card" id="c-period"><div>${t(lang, 'period')}</div><div class="v" style="font-size:16px">${r.from} – ${r.to}</div></div>
<div class="card" id="c-kind"><div>${t(lang, 'mineKind')}</div><div class="v" style="font-size:16px">${t(lang, r.mineKind === 'shutDown' ? 'kindShutDown' : 'kindProducing')}</div><small>${statusCell(lang, r.status, r.mineKind === 'shutDown')}</small></div>
</div>
<p class="actions"><a href="/api/acceptance/${r.mineId}/record.csv${dl}" id="download-csv" download>${t(lang, 'downloadCsv')}</a> · <a href="/api/acceptance/${r.mineId}/record.json${dl}" id="download-json" download>${t(lang, 'downloadJson')}</a> · <a href="/mines/${r.mineId}">${t(lang, 'mines')} ${r.mineId}</a></p>
${r.failing.length ? html`<div class="error" role="alert" id="failing"><b>${t(lang, 'reasons')}</b><ul>${r.failing.map((f) => html`<li>${f.endpoint}: ${reasons(lang, f.reasons)}</li>`)}</ul></div>` : ''}
<table id="acceptance-items"><thead><tr><th>${t(lang, 'endpoint')}</th><th>${t(lang, 'rule')}</th>${r.days.map((d) => html`<th>${d.slice(5)}</th>`)}<th>${t(lang, 'calls')}</th>
<th>${t(lang, 'late')}</th><th>${t(lang, 'latencyMax')}</th><th>${t(lang, 'flags')}</th><th>${t(lang, 'rejected')}</th><th>${t(lang, 'deadLetters')}</th><th>${t(lang, 'gaps')} (&gt; ${r.gapHours} h)</th><th>${t(lang, 'verdict')}</th><th>${t(lang, 'reasons')}</th></tr></thead>
<tbody>${items}</tbody></table>`;
}

export async function acceptancePages(app: FastifyInstance, ctx: ConsoleContext, send: SendPage): Promise<void> {
  app.get('/acceptance', { config: { role: 'viewer' } }, async (request, reply) => {
    const raw = request.query as Record<string, unknown>;
    const q = readAcceptanceQuery(raw);
    const offset = intIn(raw, 'offset', 0, 1_000_000, 0);
    return send(request, reply, '/acceptance', 'acceptance', acceptanceListBody(request.lang, await acceptanceList(ctx, q), offset));
  });
  app.get('/acceptance/:mine', { config: { role: 'viewer' } }, async (request, reply) => {
    const mine = checkMineParam((request.params as { mine: string }).mine);
    const q = readAcceptanceQuery(request.query as Record<string, unknown>);
    return send(request, reply, '/acceptance', 'acceptance', acceptanceBody(request.lang, await acceptanceOf(ctx, mine, q), q), `${t(request.lang, 'acceptance')} ${mine}`);
  });
}
