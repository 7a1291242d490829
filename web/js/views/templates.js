// The notice templates, filtered by hazard, tier and locale.
import { h, fill, fmtTime } from '../dom.js';
import { get, qs } from '../api.js';
import { t } from '../i18n.js';
import { HAZARDS, TIERS, LOCALES, hazardName, tierName, localeName } from '../data.js';

export async function render(root, ctx) {
  const q = ctx.query;
  const f = { hazard: q.get('hazard') || '', tier: q.get('tier') || '', locale: q.get('locale') || '' };
  const go = () => ctx.navigate(`#/templates${qs(f)}`);
  const sel = (key, opts, all) => h('select', {
    id: `tf-${key}`, 'aria-label': t(`tpl.${key}`),
    onchange: (e) => { f[key] = e.target.value; go(); },
  }, h('option', { value: '' }, all), opts.map(([v, label]) => h('option', { value: v, selected: f[key] === v }, label)));
  const body = h('div', { class: 'table-wrap' });
  fill(root,
    h('div', { class: 'page-head' }, h('h1', {}, t('tpl.list_title')),
      h('p', { class: 'muted' }, ctx.can('admin') ? t('tpl.list_help_admin') : t('tpl.list_help'))),
    h('div', { class: 'filters' },
      sel('hazard', [['*', hazardName('*')], ...HAZARDS.map((x) => [x.code, hazardName(x.code)])], t('tpl.all_hazards')),
      sel('tier', TIERS.map((x) => [x.code, tierName(x.code)]), t('tpl.all_tiers')),
      sel('locale', LOCALES.map((x) => [x.code, localeName(x.code)]), t('tpl.all_locales'))),
    body);
  const r = await get(`/templates${qs(f)}`, { signal: ctx.signal });
  const hzOrder = ['*', ...HAZARDS.map((x) => x.code)];
  const tierOrder = TIERS.map((x) => x.code);
  const items = [...r.items].sort((a, b) => hzOrder.indexOf(a.hazard) - hzOrder.indexOf(b.hazard)
    || tierOrder.indexOf(a.tier) - tierOrder.indexOf(b.tier) || a.locale.localeCompare(b.locale));
  if (!items.length) { fill(body, h('p', { class: 'empty' }, t('tpl.none'))); return; }
  fill(body, h('table', { class: 'table', id: 'tpl-table' },
    h('thead', {}, h('tr', {}, ['tpl.hazard', 'tpl.tier', 'tpl.locale', 'tpl.version', 'tpl.updated', 'tpl.author', 'tpl.comment'].map((k) => h('th', {}, t(k))))),
    h('tbody', {}, items.map((x) => h('tr', {
      class: 'clickable', 'data-id': x.id, 'data-hazard': x.hazard, 'data-tier': x.tier, 'data-locale': x.locale,
      onclick: () => ctx.navigate(`#/templates/${x.id}`),
    },
    h('td', {}, h('a', { href: `#/templates/${x.id}` }, hazardName(x.hazard))),
    h('td', {}, tierName(x.tier)), h('td', {}, localeName(x.locale)),
    h('td', { class: 'num' }, `v${x.version}`), h('td', {}, fmtTime(x.updated_at)), h('td', {}, x.author ?? ''),
    h('td', { class: 'muted ellipsis' }, x.comment ?? ''))))));
}
