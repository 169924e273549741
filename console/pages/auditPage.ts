// 审计: who did what, when, from where.
import type { AuditEntry } from '../audit/AuditLog.ts';
import { html, type Html } from './html.ts';
import { t, type Lang } from './i18n.ts';
import { beijing } from './format.ts';

export function auditBody(lang: Lang, page: { entries: AuditEntry[]; nextBefore?: number }): Html {
  const rows = page.entries.map(
    (e) => html`<tr><td class="num">${e.seq}</td><td>${beijing(e.at)}</td><td>${e.user}</td><td>${e.role}</td><td>${e.action}</td><td>${e.target}</td><td class="${e.result === 'ok' ? 'ok' : 'bad'}">${e.result}</td><td>${e.address}</td></tr>`,
  );
  return html`<table id="audit"><thead><tr><th>#</th><th>${t(lang, 'at')}</th><th>${t(lang, 'user')}</th><th>${t(lang, 'role')}</th><th>${t(lang, 'action')}</th><th>${t(lang, 'target')}</th><th>${t(lang, 'result')}</th><th>${t(lang, 'address')}</th></tr></thead>
<tbody>${rows}</tbody></table>${page.nextBefore ? html`<a href="/audit?before=${page.nextBefore}">${t(lang, 'older')}</a>` : ''}`;
}
