// Everyday science (日常宣教): the campaigns — library notices sent on a
// schedule to chosen regions — and the quiet hours per region. Refreshed
// every 10 s (a schedule may run meanwhile).
import { h, fill, fmtTime } from '../dom.js';
import { get } from '../api.js';
import { t } from '../i18n.js';
import { tierName, audienceName } from '../data.js';
import { ensureNames, areaNames } from '../regions.js';
import { describeSchedule } from '../campaigns.js';
import { quietPanel } from '../quiet.js';

export async function render(root, ctx) {
  const list = h('div', { class: 'table-wrap', id: 'campaign-list' });
  const count = h('span', { class: 'muted' });
  const quiet = quietPanel(ctx);
  fill(root,
    h('div', { class: 'page-head' },
      h('h1', {}, t('camp.title')), count,
      ctx.can('admin') ? h('a', { class: 'btn primary', href: '#/campaigns/new', id: 'campaign-new' }, '＋ ', t('camp.new')) : null),
    h('p', { class: 'help page-help' }, t('camp.help')),
    list, quiet.el);

  let quickSet = false;
  await ctx.poll(async () => {
    const r = await get('/campaigns', { signal: ctx.signal });
    const items = r.items || [];
    await ensureNames(items.flatMap((c) => c.regions || []));
    if (ctx.signal.aborted) return;
    fill(count, t('list.count', { n: items.length }));
    if (!quickSet) {
      quickSet = true;
      quiet.setQuick([...new Set(items.flatMap((c) => c.regions || []))].slice(0, 8));
    }
    if (!items.length) {
      fill(list, h('div', { class: 'empty' }, h('p', {}, t('camp.none')),
        ctx.can('admin') ? h('p', { class: 'muted' }, t('camp.none_hint')) : null));
      return;
    }
    fill(list, h('table', { class: 'table', id: 'campaign-table' },
      h('thead', {}, h('tr', {}, ['camp.name', 'camp.schedule', 'camp.state', 'camp.regions', 'camp.tiers', 'camp.notices_n',
        'camp.next_run', 'camp.last_run', 'camp.runs'].map((k) => h('th', { class: k === 'camp.notices_n' || k === 'camp.runs' ? 'num' : '' }, t(k))))),
      h('tbody', {}, items.map((c) => h('tr', {
        class: `clickable ${c.enabled ? '' : 'disabled'}`, 'data-id': c.id,
        onclick: (e) => { if (!e.target.closest('a')) ctx.navigate(`#/campaigns/${c.id}`); },
      },
      h('td', {}, h('a', { href: `#/campaigns/${c.id}` }, c.name)),
      h('td', {}, h('code', { class: 'mono' }, c.schedule), describeSchedule(c.schedule) ? h('div', { class: 'muted small' }, describeSchedule(c.schedule)) : null),
      h('td', {}, enabledPill(c.enabled)),
      h('td', {}, areaNames(c.regions || [], 3)),
      h('td', {}, (c.tiers || []).map(tierName).join(t('camp.sep')), c.audience ? h('div', { class: 'muted small' }, audienceName(c.audience)) : null),
      h('td', { class: 'num' }, String((c.notices || []).length)),
      h('td', { 'data-col': 'next' }, c.next_run_at ? fmtTime(c.next_run_at) : h('span', { class: 'muted' }, '—')),
      h('td', { 'data-col': 'last' }, c.last_run_at ? fmtTime(c.last_run_at) : h('span', { class: 'muted' }, t('camp.never'))),
      h('td', { class: 'num', 'data-col': 'runs' }, String(c.runs ?? 0)))))));
  }, 10000);
}

export function enabledPill(on) {
  return h('span', { class: `pill ${on ? 'ok' : ''}`, 'data-enabled': on ? 'true' : 'false' }, on ? t('camp.enabled') : t('camp.disabled'));
}
