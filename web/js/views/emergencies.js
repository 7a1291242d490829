// The emergencies: the active ones first, each with its colour, hazard,
// area, headline and a coverage bar (acked/planned). Refreshed every 5 s.
import { h, fill, fmtTime } from '../dom.js';
import { get, qs } from '../api.js';
import { t } from '../i18n.js';
import { colourOf } from '../data.js';
import { ensureNames, areaNames } from '../regions.js';
import { renderApprovals } from '../approvals.js';
import { sevBadge, hazardTitle, statusBadge, drillBadge, coverageBar, remaining, retrying } from '../widgets.js';

const FILTERS = ['active', 'cancelled', 'expired', ''];

export async function render(root, ctx) {
  const status = FILTERS.includes(ctx.query.get('status') ?? 'active') ? (ctx.query.get('status') ?? 'active') : 'active';
  const list = h('div', { class: 'em-list', id: 'em-list', 'aria-live': 'polite' });
  const count = h('span', { class: 'muted' });
  const approvals = h('section', { class: 'card approvals', id: 'approvals', hidden: true });
  fill(root,
    h('div', { class: 'page-head' },
      h('h1', {}, t('list.title')),
      ctx.can('operator') ? h('a', { class: 'btn danger big', href: '#/declare', id: 'declare-btn' }, '＋ ', t('list.declare')) : null),
    h('div', { class: 'tabs', role: 'tablist' },
      FILTERS.map((f) => h('a', {
        role: 'tab', class: `tab ${f === status ? 'active' : ''}`, 'aria-selected': f === status ? 'true' : 'false',
        href: f === 'active' ? '#/emergencies' : `#/emergencies?status=${f}`,
      }, t(`list.filter_${f || 'all'}`))),
      count),
    approvals,
    list);

  await ctx.poll(async () => {
    await renderApprovals(approvals, ctx);
    const r = await get(`/emergencies${qs({ status, limit: 100 })}`, { signal: ctx.signal });
    await ensureNames(r.items.flatMap((e) => e.area || []));
    if (ctx.signal.aborted) return;
    fill(count, t('list.count', { n: r.total }));
    if (!r.items.length) {
      fill(list, h('div', { class: 'empty' },
        h('p', {}, status === 'active' ? t('list.none_active') : t('list.none')),
        status === 'active' && ctx.can('operator') ? h('p', { class: 'muted' }, t('list.none_hint')) : null));
      return;
    }
    fill(list, r.items.map((e) => card(e)));
  }, 5000);
}

function card(e) {
  const tot = e.coverage?.total;
  const warn = [];
  if (tot?.dead) warn.push(h('span', { class: 'pill bad' }, t('list.dead', { n: tot.dead })));
  if (retrying(tot)) warn.push(h('span', { class: 'pill warn' }, t('list.failed', { n: retrying(tot) })));
  if (tot?.offline_at_send) warn.push(h('span', { class: 'pill warn' }, t('list.offline', { n: tot.offline_at_send })));
  return h('a', {
    class: `em-card status-${e.status}`, href: `#/emergencies/${e.id}`, 'data-id': e.id,
    style: { borderLeftColor: colourOf(e.severity) },
  },
  h('div', { class: 'em-main' },
    h('div', { class: 'em-title' },
      sevBadge(e.severity), h('strong', { class: 'em-hazard' }, hazardTitle(e)), drillBadge(e.exercise),
      e.status !== 'active' ? statusBadge(e.status) : null,
      h('span', { class: 'muted em-id' }, `#${e.id} · ${t('emergency.rev', { n: e.revision })}`)),
    h('div', { class: 'em-headline' }, e.headline),
    h('div', { class: 'em-meta muted' },
      h('span', {}, t('emergency.area'), t('colon'), areaNames(e.area || [])),
      h('span', {}, t('emergency.issued_at'), t('colon'), fmtTime(e.created_at)),
      e.status === 'active'
        ? h('span', {}, t('emergency.expires_at'), t('colon'), fmtTime(e.expires_at), ` (${remaining(e.expires_at)})`)
        : h('span', {}, t('emergency.updated_at'), t('colon'), fmtTime(e.updated_at)))),
  h('div', { class: 'em-cov' }, coverageBar(tot), warn.length ? h('div', { class: 'pills' }, warn) : null));
}
