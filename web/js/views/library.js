// The science library: full-text search (Chinese works: 台风, 高温中暑) and
// listing by hazard, audience and locale.
import { h, fill, snippetNode } from '../dom.js';
import { get, qs } from '../api.js';
import { t } from '../i18n.js';
import { HAZARDS, AUDIENCES, LOCALES, hazardName, audienceName, localeName } from '../data.js';

export async function render(root, ctx) {
  const q = ctx.query;
  const f = { q: q.get('q') || '', hazard: q.get('hazard') || '', audience: q.get('audience') || '', locale: q.get('locale') || '' };
  const input = h('input', { type: 'search', id: 'lib-q', value: f.q, placeholder: t('lib.search_ph'), 'aria-label': t('lib.search_ph') });
  const sel = (key, opts, all) => h('select', { id: `lf-${key}`, 'aria-label': t(`lib.${key}`) },
    h('option', { value: '' }, all), opts.map(([v, label]) => h('option', { value: v, selected: f[key] === v }, label)));
  const hz = sel('hazard', HAZARDS.map((x) => [x.code, hazardName(x.code)]), t('tpl.all_hazards'));
  const au = sel('audience', AUDIENCES.map((x) => [x.code, audienceName(x.code)]), t('lib.all_audiences'));
  const lo = sel('locale', LOCALES.map((x) => [x.code, localeName(x.code)]), t('tpl.all_locales'));
  const results = h('div', { class: 'lib-results', id: 'lib-results', 'aria-live': 'polite' });
  const info = h('p', { class: 'muted', id: 'lib-info' });
  const form = h('form', {
    class: 'filters lib-search', role: 'search',
    onsubmit: (e) => {
      e.preventDefault();
      ctx.navigate(`#/library${qs({ q: input.value.trim(), hazard: hz.value, audience: au.value, locale: lo.value })}`);
    },
  }, input, hz, au, lo, h('button', { type: 'submit', class: 'btn primary', id: 'lib-go' }, t('lib.search')));
  for (const s of [hz, au, lo]) s.addEventListener('change', () => form.requestSubmit());
  fill(root, h('div', { class: 'page-head' }, h('h1', {}, t('lib.title'))), form, info, results);
  input.focus();

  if (f.q) {
    const r = await get(`/library/search${qs({ q: f.q, hazard: f.hazard, locale: f.locale, limit: 50 })}`, { signal: ctx.signal });
    let items = r.items;
    if (f.audience) items = items.filter((x) => x.audience === f.audience);
    info.textContent = t('lib.found', { n: r.total, q: r.q ?? f.q, mode: t(`lib.mode_${r.mode}`, {}, r.mode) });
    fill(results, items.length ? items.map((x) => card(x, true)) : h('p', { class: 'empty' }, t('lib.nothing')));
  } else {
    const r = await get(`/library${qs({ hazard: f.hazard, audience: f.audience, locale: f.locale, limit: 500 })}`, { signal: ctx.signal });
    info.textContent = t('lib.count', { n: r.total });
    fill(results, r.items.length ? r.items.map((x) => card(x, false)) : h('p', { class: 'empty' }, t('lib.nothing')));
  }
}

function card(x, withSnippet) {
  return h('article', { class: 'lib-card', 'data-id': x.id },
    h('h3', {}, h('a', { href: `#/library/${x.id}` }, x.title)),
    h('div', { class: 'badges' },
      h('span', { class: 'pill' }, hazardName(x.hazard)), h('span', { class: 'pill' }, audienceName(x.audience)),
      h('span', { class: 'pill' }, localeName(x.locale)), h('span', { class: 'muted small' }, `${x.id} · v${x.version ?? ''}`)),
    h('p', { class: 'lib-summary' }, x.summary),
    withSnippet && x.snippet ? h('p', { class: 'lib-snippet' }, snippetNode(x.snippet)) : null);
}
