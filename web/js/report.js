// The drill report of an emergency (GET /emergencies/{id}/report): per
// town, the deliveries planned and reached, the seconds from the issue to
// the first and the last ack, and the villages still silent with what
// their screen last said. The CSV is fetched with the token and offered
// as a download (a plain link cannot send the Authorization header).
import { h, fill, pct, toast } from './dom.js';
import { get, getFile } from './api.js';
import { t, errorText } from './i18n.js';

// 0.112 → "0.11 秒"; 75.5 → "1 分 15.5 秒".
export function seconds(s) {
  if (s === null || s === undefined) return '—';
  if (s < 10) return t('report.s', { s: s.toFixed(2) });
  if (s < 60) return t('report.s', { s: s.toFixed(1) });
  const m = Math.floor(s / 60);
  return t('report.ms', { m, s: (s - 60 * m).toFixed(0) });
}

const shown = new WeakMap(); // el → the report it shows (redrawn only when it changes)

export async function renderReport(el, e, ctx) {
  const r = await get(`/emergencies/${e.id}/report`, { signal: ctx.signal });
  const key = JSON.stringify(r);
  if (shown.get(el) === key) return;
  shown.set(el, key);
  const towns = r.towns || [];
  const silentN = towns.reduce((n, x) => n + (x.silent?.length ?? 0), 0);
  const csv = h('button', {
    type: 'button', class: 'btn small', id: 'report-csv',
    onclick: async (ev) => {
      const b = ev.currentTarget;
      b.disabled = true;
      try {
        const f = await getFile(`/emergencies/${e.id}/report?format=csv`);
        const url = URL.createObjectURL(f.blob);
        const a = h('a', { href: url, download: f.filename || `emergency-${e.id}-report.csv`, hidden: true });
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10000);
      } catch (ex) {
        toast(errorText(ex), 'error', 8000);
      }
      b.disabled = false;
    },
  }, '⇩ ', t('report.csv'));
  fill(el,
    h('div', { class: 'row spread' },
      h('h2', {}, r.exercise ? t('report.title_drill') : t('report.title'),
        h('span', { class: 'muted small' }, ` ${t('cov.of_rev', { n: r.revision })}`)),
      csv),
    h('p', { class: 'help' }, t('report.help')),
    h('div', { class: 'report-sum', id: 'report-sum', 'data-planned': r.planned, 'data-reached': r.reached },
      h('span', { class: 'stat-n' }, `${pct(r.reached, r.planned)}%`),
      h('span', {}, t('report.reached_of', { r: r.reached, p: r.planned })),
      silentN ? h('span', { class: 'pill warn' }, t('report.silent_n', { n: silentN })) : h('span', { class: 'pill ok' }, t('report.all_reached'))),
    towns.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'table compact', id: 'report-table' },
      h('thead', {}, h('tr', {}, h('th', {}, t('cov.town')), h('th', { class: 'num' }, t('report.planned')),
        h('th', { class: 'num' }, t('report.reached')), h('th', { class: 'num' }, t('report.rate')),
        h('th', { class: 'num' }, t('report.first')), h('th', { class: 'num' }, t('report.last')),
        h('th', {}, t('report.silent')))),
      h('tbody', {}, towns.map((x) => h('tr', { 'data-code': x.code, class: x.planned && x.reached === x.planned ? 'done' : '' },
        h('td', {}, x.name),
        h('td', { class: 'num', 'data-k': 'planned' }, String(x.planned)),
        h('td', { class: 'num', 'data-k': 'reached' }, String(x.reached)),
        h('td', { class: 'num' }, `${pct(x.reached, x.planned)}%`),
        h('td', { class: 'num', 'data-k': 'first', 'data-s': x.first_ack_s ?? '' }, seconds(x.first_ack_s)),
        h('td', { class: 'num', 'data-k': 'last', 'data-s': x.last_ack_s ?? '' }, seconds(x.last_ack_s)),
        h('td', { 'data-k': 'silent' }, x.silent?.length
          ? h('ul', { class: 'silent-list' }, x.silent.map((s) => h('li', { 'data-code': s.code },
            s.name, ' ', h('span', { class: `state screen-${s.screen}` }, t(`report.screen_${s.screen}`, {}, s.screen)))))
          : h('span', { class: 'ok-text' }, t('report.none_silent'))))))))
      : h('p', { class: 'muted' }, t('cov.no_towns')));
}
