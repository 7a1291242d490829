// Pieces shared by the pages: severity badges, coverage bars, countdowns.
import { h, pct } from './dom.js';
import { t } from './i18n.js';
import { colourOf, inkOf, severity, severityName, hazardName } from './data.js';

export function sevBadge(code, extra = '') {
  const s = severity(code);
  return h('span', {
    class: `sev sev-${code} ${extra}`,
    style: { background: colourOf(code), color: inkOf(code) },
  }, t('sev.warning', { colour: severityName(code), level: s ? s.roman : '' }));
}

export function hazardTitle(e) {
  return t('emergency.title', { hazard: hazardName(e.hazard), colour: severityName(e.severity) });
}

export function statusBadge(status) {
  return h('span', { class: `status status-${status}` }, t(`status.${status}`));
}

export function drillBadge(exercise) {
  return exercise ? h('span', { class: 'drill-badge' }, t('emergency.drill')) : null;
}

// A big plan is written in stages and sent as it goes: until it is whole
// the counts are what is written so far.
export function planningBadge(planning) {
  return planning ? h('span', { class: 'status status-planning', title: t('emergency.planning_hint') },
    t('emergency.planning')) : null;
}

// The coverage API's `failed` counts the deliveries waiting to retry and
// the dead ones; the console shows the two apart.
export const retrying = (c) => Math.max(0, (c?.failed ?? 0) - (c?.dead ?? 0));

// A stacked bar: acked (green), sent but not acked, waiting, retrying, dead.
export function coverageBar(c, { big = false, label = true } = {}) {
  const planned = c?.planned ?? 0;
  const seg = (n, cls, title) => (n > 0
    ? h('span', { class: `seg ${cls}`, style: { width: `${(100 * n) / planned}%` }, title: `${title}: ${n}` })
    : null);
  const acked = c?.acked ?? 0;
  const waiting = (c?.pending ?? 0) + (c?.inflight ?? 0);
  const p = pct(acked, planned);
  return h('div', { class: `coverage ${big ? 'big' : ''} ${planned && acked === planned ? 'complete' : ''}` },
    h('div', {
      class: 'bar', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': planned, 'aria-valuenow': acked,
      'aria-label': t('cov.acked_of', { a: acked, p: planned }),
    },
    planned ? [
      seg(acked, 'acked', t('state.acked')),
      seg(c.sent ?? 0, 'sent', t('state.sent')),
      seg(waiting, 'waiting', t('state.pending')),
      seg(retrying(c), 'failed', t('state.failed')),
      seg(c.dead ?? 0, 'dead', t('state.dead')),
    ] : null),
    label ? h('div', { class: 'bar-label' },
      h('strong', { class: 'pct' }, `${p}%`),
      h('span', {}, t('cov.acked_of', { a: acked, p: planned }))) : null);
}

// "5 h 28 min left" / "expired".
export function remaining(iso) {
  if (!iso) return '';
  const ms = Date.parse(iso) - Date.now();
  if (Number.isNaN(ms)) return '';
  if (ms <= 0) return t('time.past');
  const m = Math.round(ms / 60000);
  if (m < 60) return t('time.left_m', { m });
  const hrs = Math.floor(m / 60);
  if (hrs < 48) return t('time.left_hm', { h: hrs, m: m % 60 });
  return t('time.left_d', { d: Math.floor(hrs / 24), h: hrs % 24 });
}

export function errorBox(e) {
  return h('div', { class: 'error-box', role: 'alert' }, e);
}
