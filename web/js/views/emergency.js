// One emergency: what was declared, who has received it (coverage per
// tier and per town, refreshed every 2 s), the silent villages, offline
// screens, dead webhooks with re-drive, the revisions; update and cancel.
import { h, append, fill, fmtTime, pct, modal, toast, clock } from '../dom.js';
import { get, post, qs } from '../api.js';
import { t, errorText } from '../i18n.js';
import { colourOf, inkOf, tierName } from '../data.js';
import { ensureNames, areaNames, regionName } from '../regions.js';
import { sevBadge, hazardTitle, statusBadge, drillBadge, planningBadge, coverageBar, remaining, retrying } from '../widgets.js';
import { renderReport } from '../report.js';

const TIER_ORDER = ['province', 'city', 'county', 'town', 'village'];
const COLS = ['planned', 'acked', 'sent', 'waiting', 'failed', 'dead', 'offline_at_send'];

export async function render(root, ctx) {
  const id = ctx.params.id;
  const head = h('div', { class: 'em-head', id: 'em-head' });
  const actions = h('div', { class: 'em-actions', id: 'em-actions' });
  const total = h('section', { class: 'card', id: 'cov-total' });
  const tiers = h('section', { class: 'card', id: 'cov-tiers' });
  const towns = h('section', { class: 'card', id: 'cov-towns' });
  const report = h('section', { class: 'card report', id: 'report' });
  const silent = h('section', { class: 'card', id: 'silent' });
  const screens = h('section', { class: 'card', id: 'offline-screens' });
  const dead = h('section', { class: 'card', id: 'dead' });
  const revs = h('section', { class: 'card', id: 'revisions' });
  const stamp = h('span', { class: 'muted refresh', id: 'refreshed' });
  fill(root,
    h('div', { class: 'crumb-line' }, h('a', { href: '#/emergencies' }, '‹ ', t('list.title')), stamp),
    head, actions,
    h('div', { class: 'cov-top' }, total, tiers),
    towns, report, dead,
    h('div', { class: 'two-col' }, silent, screens),
    revs);

  let em = null;
  let tick = 0;
  const shared = { offline: new Set() }; // regions with an offline screen
  let actionsKey = '';
  await ctx.poll(async () => {
    const e = await get(`/emergencies/${id}`, { signal: ctx.signal });
    const codes = [...e.area, ...(e.revisions || []).flatMap((r) => r.area || []), ...(e.coverage?.by_town || []).map((x) => x.code)];
    await ensureNames(codes);
    em = e;
    const cov = e.coverage || {};
    renderHead(head, e);
    const key = `${e.status}/${e.revision}/${cov.total?.dead ?? 0}`;
    if (key !== actionsKey) { actionsKey = key; renderActions(actions, e, ctx, refresh); }
    renderTotal(total, cov);
    renderTiers(tiers, cov);
    renderTowns(towns, cov);
    if (tick % 5 === 0) await renderScreens(screens, e, ctx, shared);
    const jobs = [renderSilent(silent, e, ctx, shared), renderDead(dead, e, ctx, refresh), renderReport(report, e, ctx)];
    await Promise.all(jobs);
    if (tick % 5 === 0 || !revs.firstChild) renderRevisions(revs, e);
    tick++;
    stamp.textContent = t('detail.refreshed', { at: clock() });
  }, 2000);

  async function refresh() {
    tick = 0;
    actionsKey = '';
    const e = await get(`/emergencies/${id}`, { signal: ctx.signal });
    em = e;
    renderHead(head, e);
    renderActions(actions, e, ctx, refresh);
    renderRevisions(revs, e);
  }
}

function renderHead(el, e) {
  fill(el,
    h('div', { class: 'em-band', style: { background: colourOf(e.severity), color: inkOf(e.severity) } },
      h('div', { class: 'em-band-title' },
        h('span', { class: 'big-title' }, hazardTitle(e)),
        drillBadge(e.exercise), statusBadge(e.status), planningBadge(e.planning),
        h('span', { class: 'em-rev' }, `#${e.id} · ${t('emergency.rev', { n: e.revision })} · ${t(`msg.${e.msg_type}`, {}, e.msg_type)}`)),
      h('div', { class: 'em-band-headline', id: 'em-headline' }, e.headline)),
    h('dl', { class: 'facts' },
      h('dt', {}, t('emergency.area')), h('dd', { id: 'em-area' }, areaNames(e.area, 40)),
      h('dt', {}, t('emergency.issued_at')), h('dd', {}, fmtTime(e.created_at, true), ' · ', e.created_by ?? ''),
      h('dt', {}, t('emergency.expires_at')),
      h('dd', {}, fmtTime(e.expires_at, true), e.status === 'active' ? ` (${remaining(e.expires_at)})` : ''),
      e.description ? [h('dt', {}, t('field.description')), h('dd', { class: 'pre' }, e.description)] : null,
      e.instruction ? [h('dt', {}, t('field.instruction')), h('dd', { class: 'pre' }, e.instruction)] : null));
}

function renderActions(el, e, ctx, refresh) {
  if (!ctx.can('operator')) { fill(el); return; }
  const dead = e.coverage?.total?.dead ?? 0;
  fill(el,
    e.status === 'active' ? [
      h('a', { class: 'btn primary', href: `#/emergencies/${e.id}/update`, id: 'update-btn' }, t('detail.update')),
      h('button', { class: 'btn', type: 'button', id: 'allclear-btn', onclick: () => cancelDialog(e, ctx, refresh, 'allclear') }, t('allclear.button')),
      h('button', { class: 'btn danger-outline', type: 'button', id: 'cancel-btn', onclick: () => cancelDialog(e, ctx, refresh) }, t('detail.cancel')),
    ] : null,
    dead ? h('button', {
      class: 'btn warn', type: 'button', id: 'redrive-all',
      onclick: async (ev) => {
        ev.target.disabled = true;
        try {
          const r = await post(`/emergencies/${e.id}/retry`, {});
          toast(t('detail.redriven', { n: r.redriven }), 'ok');
        } catch (ex) { toast(errorText(ex), 'error', 8000); }
        ev.target.disabled = false;
      },
    }, t('detail.redrive_all', { n: dead })) : null);
}

// Cancel (the warning was a mistake; a reason is required) or all clear
// (the danger is over): both end it and reach every channel it reached.
async function cancelDialog(e, ctx, refresh, kind = 'cancel') {
  const ac = kind === 'allclear';
  await modal(ac ? t('allclear.title') : t('cancel.title'), (body, close) => {
    const reason = h('textarea', { id: 'cancel-reason', rows: 3, maxlength: 2000, required: !ac, autofocus: true });
    const err = h('div', { class: 'form-error', role: 'alert' });
    const go = h('button', {
      type: 'button', class: ac ? 'btn primary' : 'btn danger', id: 'cancel-confirm',
      onclick: async () => {
        if (!ac && !reason.value.trim()) { err.textContent = t('cancel.need_reason'); reason.focus(); return; }
        go.disabled = true;
        try {
          await post(`/emergencies/${e.id}/${kind}`, reason.value.trim() ? { reason: reason.value.trim() } : {});
          toast(ac ? t('allclear.done') : t('cancel.done'), 'ok');
          close(true);
          refresh();
        } catch (ex) {
          err.textContent = errorText(ex);
          go.disabled = false;
        }
      },
    }, ac ? t('allclear.confirm') : t('cancel.confirm'));
    append(body,
      h('p', { class: 'cancel-what' }, sevBadge(e.severity), ' ', h('strong', {}, e.headline)),
      h('p', {}, t(ac ? 'allclear.explain' : 'cancel.explain', { n: e.coverage?.total?.planned ?? 0 })),
      h('label', { for: 'cancel-reason', class: 'field-label' }, ac ? t('allclear.reason') : t('cancel.reason')),
      reason, err,
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'btn ghost', onclick: () => close(false) }, t('cancel.keep')), go));
  });
}

function statCell(c, k) {
  if (k === 'waiting') return (c.pending ?? 0) + (c.inflight ?? 0);
  if (k === 'failed') return retrying(c);
  return c[k] ?? 0;
}

function renderTotal(el, cov) {
  const c = cov.total || {};
  const stats = [
    ['acked', c.acked], ['sent', c.sent], ['waiting', (c.pending ?? 0) + (c.inflight ?? 0)],
    ['failed', retrying(c)], ['dead', c.dead], ['offline_at_send', c.offline_at_send],
  ];
  fill(el,
    h('h2', {}, t('cov.title'), h('span', { class: 'muted small' }, ` ${t('cov.of_rev', { n: cov.revision ?? '' })}`)),
    coverageBar(c, { big: true }),
    h('div', { class: 'legend' }, stats.map(([k, n]) => h('span', { class: `lg lg-${k} ${n ? '' : 'zero'}`, 'data-k': k },
      h('i', {}), t(`cov.${k}`), ' ', h('strong', {}, String(n ?? 0))))));
}

function covTable(rows, first, id) {
  return h('div', { class: 'table-wrap' }, h('table', { class: 'table cov-table', id },
    h('thead', {}, h('tr', {}, h('th', {}, first), h('th', { class: 'barcol' }, t('cov.progress')),
      COLS.map((k) => h('th', { class: 'num' }, t(`cov.${k}`))))),
    h('tbody', {}, rows.map(([name, c, code]) => {
      const r = c.planned ? c.acked / c.planned : 0;
      const done = c.planned > 0 && c.acked === c.planned;
      return h('tr', {
        class: done ? 'done' : '', 'data-code': code ?? '', 'data-acked': c.acked, 'data-planned': c.planned,
        style: { background: done ? '' : `rgba(34, 160, 80, ${(0.05 + 0.25 * r).toFixed(3)})` },
      },
      h('td', {}, done ? h('span', { class: 'tick', 'aria-hidden': 'true' }, '✓ ') : null, name),
      h('td', { class: 'barcol' }, h('div', { class: 'mini' }, h('span', { style: { width: `${pct(c.acked, c.planned)}%` } })),
        h('span', { class: 'mini-pct' }, `${pct(c.acked, c.planned)}%`)),
      COLS.map((k) => {
        const n = statCell(c, k);
        return h('td', { class: `num ${n && (k === 'dead' || k === 'failed' || k === 'offline_at_send') ? 'bad' : ''}` }, String(n));
      }));
    }))));
}

function renderTiers(el, cov) {
  const bt = cov.by_tier || {};
  const rows = Object.keys(bt).sort((a, b) => TIER_ORDER.indexOf(a) - TIER_ORDER.indexOf(b)).map((k) => [tierName(k), bt[k], k]);
  fill(el, h('h2', {}, t('cov.by_tier')), covTable(rows, t('cov.tier'), 'tier-table'));
}

function renderTowns(el, cov) {
  const rows = (cov.by_town || []).map((x) => [x.name || regionName(x.code), x, x.code]);
  const done = rows.filter(([, c]) => c.planned && c.acked === c.planned).length;
  fill(el, h('h2', {}, t('cov.by_town'), h('span', { class: 'muted small' }, ` ${t('cov.towns_done', { d: done, n: rows.length })}`)),
    rows.length ? covTable(rows, t('cov.town'), 'town-table') : h('p', { class: 'muted' }, t('cov.no_towns')));
}

async function renderSilent(el, e, ctx, shared) {
  const v = e.coverage?.by_tier?.village;
  const head = h('h2', {}, t('silent.title'));
  if (!v) { fill(el, head, h('p', { class: 'muted' }, t('silent.no_tier'))); return; }
  if (v.acked === v.planned) { fill(el, head, h('p', { class: 'ok-text' }, t('silent.none'))); return; }
  const r = await get(`/emergencies/${e.id}/deliveries${qs({ tier: 'village', limit: 5000 })}`, { signal: ctx.signal });
  const items = r.items.filter((d) => d.state !== 'acked' && d.state !== 'superseded');
  await ensureNames(items.map((d) => d.town).filter(Boolean));
  fill(el, h('h2', {}, t('silent.title'), h('span', { class: 'count-badge' }, String(items.length))),
    h('p', { class: 'help' }, t('silent.help')),
    h('div', { class: 'table-wrap scroll-y' }, h('table', { class: 'table compact', id: 'silent-table' },
      h('thead', {}, h('tr', {}, ['silent.village', 'cov.town', 'silent.state', 'silent.resends', 'silent.sent_at', 'silent.error']
        .map((k) => h('th', {}, t(k))))),
      h('tbody', {}, items.map((d) => h('tr', { class: `st-${d.state}` },
        h('td', {}, d.region_name), h('td', {}, d.town ? regionName(d.town) : ''),
        h('td', {}, h('span', { class: `state state-${d.state}` }, t(`state.${d.state}`, {}, d.state)),
          shared.offline.has(d.region) ? h('span', { class: 'state state-dead', title: t('silent.screen_offline_help') }, t('silent.screen_offline')) : null),
        h('td', { class: 'num' }, String(d.resends ?? 0)), h('td', {}, fmtTime(d.sent_at)),
        h('td', { class: 'muted' }, d.last_error ?? '')))))));
}

async function renderScreens(el, e, ctx, shared) {
  const answers = await Promise.all(e.area.map((code) =>
    get(`/screens${qs({ town: code, status: 'offline', limit: 500 })}`, { signal: ctx.signal })));
  const seen = new Map();
  for (const r of answers) for (const s of r.items) seen.set(`${s.region}/${s.screen_id}`, s);
  const all = [...seen.values()];
  shared.offline = new Set(all.map((s) => s.region));
  const atSend = e.coverage?.total?.offline_at_send ?? 0;
  fill(el, h('h2', {}, t('screens.title'), h('span', { class: `count-badge ${all.length ? 'bad' : ''}` }, String(all.length))),
    h('p', { class: 'help' }, t('screens.at_send', { n: atSend })),
    all.length ? h('div', { class: 'table-wrap scroll-y' }, h('table', { class: 'table compact', id: 'screens-table' },
      h('thead', {}, h('tr', {}, ['screens.region', 'screens.id', 'screens.reason', 'screens.since'].map((k) => h('th', {}, t(k))))),
      h('tbody', {}, all.map((s) => h('tr', {},
        h('td', {}, s.region_name), h('td', { class: 'mono' }, s.screen_id),
        h('td', {}, s.reason || (s.reported === 'online' ? t('screens.heartbeat_late') : s.reported ?? '')),
        h('td', {}, fmtTime(s.status_since ?? s.last_seen_at)))))))
      : h('p', { class: 'muted' }, t('screens.none')));
}

async function renderDead(el, e, ctx, refresh) {
  const head = h('h2', {}, t('dead.title'));
  const r = await get(`/deliveries${qs({ state: 'dead', emergency: e.id, limit: 500 })}`, { signal: ctx.signal });
  if (!r.items.length) { fill(el, head, h('p', { class: 'muted' }, t('dead.none'))); return; }
  const op = ctx.can('operator');
  fill(el, h('h2', {}, t('dead.title'), h('span', { class: 'count-badge bad' }, String(r.items.length))),
    h('p', { class: 'help' }, t('dead.help')),
    h('div', { class: 'table-wrap scroll-y' }, h('table', { class: 'table compact', id: 'dead-table' },
      h('thead', {}, h('tr', {}, ['silent.village', 'dead.kind', 'dead.target', 'dead.attempts', 'silent.error', ''].map((k) => h('th', {}, k ? t(k) : '')))),
      h('tbody', {}, r.items.map((d) => h('tr', {},
        h('td', {}, d.region_name ?? regionName(d.region)), h('td', {}, t(`kind.${d.kind}`, {}, d.kind)),
        h('td', { class: 'mono ellipsis', title: d.target ?? '' }, d.target ?? ''), h('td', { class: 'num' }, String(d.attempts ?? '')),
        h('td', { class: 'muted err-cell' }, d.last_error ?? ''),
        h('td', {}, op ? h('button', {
          type: 'button', class: 'btn small warn',
          onclick: async (ev) => {
            ev.target.disabled = true;
            try {
              await post(`/deliveries/${d.id}/retry`, {});
              toast(t('dead.redriven_one'), 'ok');
              ev.target.closest('tr').classList.add('retried');
            } catch (ex) {
              toast(errorText(ex), 'error', 8000);
              ev.target.disabled = false;
            }
          },
        }, t('dead.redrive')) : null)))))));
}

function renderRevisions(el, e) {
  const rows = [...(e.revisions || [])].reverse();
  fill(el, h('h2', {}, t('rev.title')),
    h('div', { class: 'table-wrap' }, h('table', { class: 'table compact', id: 'rev-table' },
      h('thead', {}, h('tr', {}, ['rev.n', 'rev.type', 'rev.severity', 'field.headline', 'emergency.area', 'emergency.expires_at', 'rev.issued', 'rev.author', 'rev.reason', 'rev.planned']
        .map((k) => h('th', {}, t(k))))),
      h('tbody', {}, rows.map((r) => h('tr', {},
        h('td', { class: 'num' }, String(r.revision)), h('td', {}, t(`msg.${r.msg_type}`, {}, r.msg_type)),
        h('td', {}, sevBadge(r.severity, 'small')), h('td', {}, r.headline),
        h('td', {}, areaNames(r.area || [], 4)), h('td', {}, fmtTime(r.expires_at)), h('td', {}, fmtTime(r.issued_at)),
        h('td', {}, r.author ?? ''), h('td', {}, r.reason ?? ''), h('td', { class: 'num' }, String(r.planned ?? ''))))))));
}
