// One campaign: what it sends, where and when; the next sends (preview),
// the past runs; run now (operators), enable/disable, edit and delete
// (administrators). Refreshed every 10 s.
import { h, append, fill, fmtTime, modal, toast } from '../dom.js';
import { get, post, patch, del } from '../api.js';
import { t, errorText } from '../i18n.js';
import { tierName, audienceName } from '../data.js';
import { ensureNames, regionName } from '../regions.js';
import { describeSchedule, weekday, noticeTitles, quietText } from '../campaigns.js';
import { regionQuiet } from '../quiet.js';
import { enabledPill } from './campaigns.js';

const PREVIEW_N = 10;

export async function render(root, ctx) {
  const id = ctx.params.id;
  const head = h('div', { id: 'camp-head' });
  const result = h('div', { id: 'run-result', role: 'status', hidden: true, class: 'note run-result' });
  const facts = h('section', { class: 'card', id: 'camp-facts' });
  const preview = h('section', { class: 'card', id: 'camp-preview' });
  const runs = h('section', { class: 'card', id: 'camp-runs' });
  fill(root,
    h('div', { class: 'crumb-line' }, h('a', { href: '#/campaigns' }, '‹ ', t('camp.title'))),
    head, result, facts,
    h('div', { class: 'two-col' }, preview, runs));

  let c = null;
  let key = '';
  async function load() {
    c = await get(`/campaigns/${id}`, { signal: ctx.signal });
    const quiet = await Promise.all((c.regions || []).map((code) => regionQuiet(code, { signal: ctx.signal }).catch(() => null)));
    await ensureNames([...(c.regions || []), ...quiet.map((q) => q?.quiet_hours_effective?.from).filter(Boolean)]);
    const [p, r] = await Promise.all([
      get(`/campaigns/${id}/preview?n=${PREVIEW_N}`, { signal: ctx.signal }),
      get(`/campaigns/${id}/runs`, { signal: ctx.signal })]);
    const titles = await noticeTitles([...(c.notices || []), ...p.sends.map((s) => s.notice_id), ...r.items.map((x) => x.notice_id)]);
    if (ctx.signal.aborted) return;
    const k = `${c.version}/${c.enabled}`;
    if (k !== key) { key = k; renderHead(); }
    renderFacts(facts, c, quiet, titles);
    renderPreview(preview, p, titles);
    renderRuns(runs, r, titles);
  }

  function renderHead() {
    fill(head, h('div', { class: 'page-head' },
      h('h1', { id: 'camp-name' }, c.name), enabledPill(c.enabled),
      h('span', { class: 'ver-badge' }, t('tpl.version_n', { n: c.version })),
      h('div', { class: 'camp-actions' },
        ctx.can('operator') ? h('button', { type: 'button', class: 'btn primary', id: 'run-now', onclick: runNow }, t('camp.run_now')) : null,
        ctx.can('admin') ? [
          h('a', { class: 'btn', href: `#/campaigns/${id}/edit`, id: 'edit-campaign' }, t('camp.edit')),
          h('button', { type: 'button', class: 'btn', id: 'toggle-enabled', onclick: toggle }, c.enabled ? t('camp.disable') : t('camp.enable')),
          h('button', { type: 'button', class: 'btn danger-outline', id: 'delete-campaign', onclick: remove }, t('camp.delete')),
        ] : null)));
  }

  async function runNow(ev) {
    const btn = ev.currentTarget;
    btn.disabled = true;
    try {
      const r = await post(`/campaigns/${id}/run`, {});
      const title = (await noticeTitles([r.notice_id])).get(r.notice_id);
      fill(result, h('strong', {}, t('camp.ran', { run: r.run })), ' ',
        t('camp.ran_counts', { title, d: r.deliveries, s: r.suppressed, q: r.quiet }));
      result.dataset.run = r.run;
      result.dataset.deliveries = r.deliveries;
      result.dataset.suppressed = r.suppressed;
      result.dataset.quiet = r.quiet;
      result.hidden = false;
      toast(t('camp.ran', { run: r.run }), 'ok');
      await load();
    } catch (e) {
      toast(errorText(e), 'error', 8000);
    }
    btn.disabled = false;
  }

  async function toggle(ev) {
    const btn = ev.currentTarget;
    btn.disabled = true;
    try {
      c = await patch(`/campaigns/${id}`, { version: c.version, enabled: !c.enabled });
      toast(c.enabled ? t('camp.enabled_now') : t('camp.disabled_now'), 'ok');
      await load();
    } catch (e) {
      toast(e.status === 409 ? t('camp.conflict_short') : errorText(e), 'error', 8000);
      key = '';
      await load().catch(() => {});
    }
    btn.disabled = false;
  }

  async function remove() {
    const ok = await modal(t('camp.delete_title'), (body, close) => {
      append(body,
        h('p', {}, h('strong', {}, c.name)),
        h('p', {}, t('camp.delete_explain')),
        h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'btn ghost', onclick: () => close(false) }, t('common.cancel')),
          h('button', { type: 'button', class: 'btn danger', id: 'delete-confirm', onclick: () => close(true) }, t('camp.delete'))));
    });
    if (!ok) return;
    try {
      await del(`/campaigns/${id}`);
      toast(t('camp.deleted'), 'ok');
      ctx.navigate('#/campaigns');
    } catch (e) {
      toast(errorText(e), 'error', 8000);
    }
  }

  await ctx.poll(load, 10000);
}

function renderFacts(el, c, quiet, titles) {
  const sep = t('camp.sep');
  const dates = c.start_date || c.end_date
    ? t('camp.dates', { from: c.start_date || '…', to: c.end_date || '…' }) : t('camp.no_dates');
  const n = (c.notices || []).length;
  fill(el, h('h2', {}, t('camp.about')),
    h('dl', { class: 'facts' },
      h('dt', {}, t('camp.schedule')),
      h('dd', {}, h('code', { class: 'mono', id: 'camp-schedule' }, c.schedule), ' ', h('span', { class: 'muted' }, describeSchedule(c.schedule))),
      h('dt', {}, t('camp.period')), h('dd', {}, dates),
      h('dt', {}, t('camp.regions')),
      h('dd', { id: 'camp-regions' }, (c.regions || []).map((code, i) => h('div', { class: 'camp-region', 'data-code': code },
        h('strong', {}, regionName(code)), ' ',
        quiet[i] ? h('span', { class: 'muted small quiet-of', 'data-window': quiet[i].quiet_hours_effective?.window ?? '' },
          t('camp.quiet_of', { w: quietText(quiet[i].quiet_hours_effective?.window) })) : null))),
      h('dt', {}, t('camp.tiers')), h('dd', {}, (c.tiers || []).map(tierName).join(sep)),
      h('dt', {}, t('camp.audience')), h('dd', {}, c.audience ? audienceName(c.audience) : t('camp.all_audiences')),
      h('dt', {}, t('camp.notices')),
      h('dd', {}, h('ol', { class: 'notice-order', id: 'camp-notices' }, (c.notices || []).map((nid, i) => h('li', { 'data-id': nid },
        h('a', { href: `#/library/${encodeURIComponent(nid)}` }, titles.get(nid) ?? nid), ' ',
        h('span', { class: 'muted small' }, nid),
        n > 1 && i === (c.next_index ?? 0) % n ? h('span', { class: 'pill ok' }, t('camp.next_one')) : null)))),
      h('dt', {}, t('camp.next_run')), h('dd', { id: 'camp-next' }, c.next_run_at ? fmtTime(c.next_run_at, true) : t(c.enabled ? 'camp.no_next' : 'camp.disabled')),
      h('dt', {}, t('camp.last_run')), h('dd', {}, c.last_run_at ? fmtTime(c.last_run_at, true) : t('camp.never')),
      h('dt', {}, t('camp.runs')), h('dd', { id: 'camp-runcount' }, String(c.runs ?? 0))));
}
function renderPreview(el, p, titles) {
  const sends = p.sends || [];
  fill(el, h('h2', {}, t('camp.preview', { n: PREVIEW_N })),
    sends.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'table compact', id: 'preview-table' },
      h('thead', {}, h('tr', {}, h('th', { class: 'num' }, '#'), h('th', {}, t('camp.at')), h('th', {}, t('camp.notice')))),
      h('tbody', {}, sends.map((s, i) => h('tr', { 'data-at': s.at, 'data-notice': s.notice_id },
        h('td', { class: 'num' }, String(i + 1)),
        h('td', { class: 'nowrap' }, `${fmtTime(s.at, true)} ${weekday(s.at)}`),
        h('td', {}, titles.get(s.notice_id) ?? s.notice_id))))))
      : h('p', { class: 'muted', id: 'preview-none' }, t('camp.preview_none')));
}

function renderRuns(el, r, titles) {
  const items = r.items || [];
  fill(el, h('h2', {}, t('camp.runs_title')),
    h('p', { class: 'help' }, t('camp.runs_help')),
    items.length ? h('div', { class: 'table-wrap scroll-y' }, h('table', { class: 'table compact', id: 'runs-table' },
      h('thead', {}, h('tr', {}, ['camp.run', 'camp.at', 'camp.notice', 'camp.deliveries', 'camp.suppressed', 'camp.quiet']
        .map((k, i) => h('th', { class: i === 0 || i > 2 ? 'num' : '' }, t(k))))),
      h('tbody', {}, items.map((x) => h('tr', { 'data-run': x.run },
        h('td', { class: 'num' }, String(x.run)),
        h('td', { class: 'nowrap' }, fmtTime(x.at, true)),
        h('td', {}, titles.get(x.notice_id) ?? x.notice_id),
        h('td', { class: 'num', 'data-k': 'deliveries' }, String(x.deliveries)),
        h('td', { class: `num ${x.suppressed ? 'warn-text' : ''}`, 'data-k': 'suppressed' }, String(x.suppressed)),
        h('td', { class: `num ${x.quiet ? 'warn-text' : ''}`, 'data-k': 'quiet' }, String(x.quiet)))))))
      : h('p', { class: 'muted', id: 'runs-none' }, t('camp.runs_none')));
}
