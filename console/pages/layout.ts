// The frame of every page: the nav with every page of the console, the user and the language switch.
import { html, type Html } from './html.ts';
import { t, type Lang, type WordKey } from './i18n.ts';

export const NAV: readonly { path: string; word: WordKey }[] = [
  { path: '/', word: 'overview' },
  { path: '/mines', word: 'mines' },
  { path: '/items', word: 'items' },
  { path: '/alarms', word: 'alarms' },
  { path: '/devices', word: 'devices' },
  { path: '/live', word: 'live' },
  { path: '/acceptance', word: 'acceptance' },
  { path: '/settings', word: 'settings' },
  { path: '/audit', word: 'audit' },
];

export interface PageFrame {
  lang: Lang;
  /** the nav entry that is lit */
  active: string;
  title: string;
  user?: { name: string; role: string; csrf: string } | undefined;
  /** the page's own path and query, for the language switch */
  here: string;
  body: Html;
  /** extra scripts (e.g. /assets/echarts.min.js) */
  scripts?: string[];
}

function langLink(here: string, lang: Lang): string {
  const u = new URL(here, 'http://x');
  u.searchParams.set('lang', lang);
  return u.pathname + u.search;
}

export function page(f: PageFrame): string {
  const nav = f.user
    ? html`<nav class="nav">${NAV.map((n) => html`<a href="${n.path}"${n.path === f.active ? html` class="on" aria-current="page"` : ''} data-nav="${n.path}">${t(f.lang, n.word)}</a>`)}</nav>`
    : '';
  const who = f.user
    ? html`<span class="who">${f.user.name} (${f.user.role})</span>
        <form method="post" action="/logout" class="inline"><input type="hidden" name="_csrf" value="${f.user.csrf}"><button type="submit" id="logout">${t(f.lang, 'logout')}</button></form>`
    : '';
  return html`<!doctype html>
<html lang="${f.lang === 'en' ? 'en' : 'zh-CN'}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${f.title} · ${t(f.lang, 'title')}</title>
<link rel="stylesheet" href="/assets/console.css">
${f.user ? html`<meta name="csrf-token" content="${f.user.csrf}">` : ''}
</head>
<body>
<header class="top"><strong class="brand">${t(f.lang, 'title')}</strong>${nav}
<span class="tools">${who}<a href="${langLink(f.here, f.lang === 'en' ? 'zh' : 'en')}" class="lang">${f.lang === 'en' ? '中文' : 'English'}</a></span></header>
<main>
<h1>${f.title}</h1>
${f.body}
</main>
<script src="/assets/console.js" defer></script>
${(f.scripts ?? []).map((s) => html`<script src="${s}" defer></script>`)}
</body>
</html>`.text;
}
