// Everyday-science campaigns (日常宣教): what the campaign pages share —
// the schedule in words, the examples offered in the form, the titles of
// library notices (campaigns carry ids only), and quiet-hours wording.
import { get } from './api.js';
import { t, lang } from './i18n.js';

// Offered under the schedule field; a click puts one in.
export const SCHEDULE_EXAMPLES = [
  ['0 10 * 5-10 mon', 'camp.ex_season'],
  ['30 9 * * *', 'camp.ex_daily'],
  ['0 16 * * 1-5', 'camp.ex_weekdays'],
  ['@every 30m', 'camp.ex_every'],
];

const UNIT = { s: 'camp.unit_s', m: 'camp.unit_m', h: 'camp.unit_h', d: 'camp.unit_d' };

// "@every 30m" → 每 30 分钟; "0 10 * * *" → 每天 10:00; anything else as written.
export function describeSchedule(s) {
  const str = String(s ?? '').trim();
  const every = /^@every\s+(\d+)([smhd])$/.exec(str);
  if (every) return t('camp.every', { n: every[1], unit: t(UNIT[every[2]]) });
  const daily = /^(\d{1,2})\s+(\d{1,2})\s+\*\s+\*\s+\*$/.exec(str);
  if (daily && Number(daily[1]) < 60 && Number(daily[2]) < 24) {
    return t('camp.daily_at', { at: `${daily[2].padStart(2, '0')}:${daily[1].padStart(2, '0')}` });
  }
  return '';
}

// The weekday of a server time ("2027-05-03T10:00:00+08:00" → 周一 / Mon),
// read from its own date, not the browser's zone.
export function weekday(iso) {
  const m = /^(\d{4})-(\d\d)-(\d\d)/.exec(iso || '');
  if (!m) return '';
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))).getUTCDay();
  return (lang() === 'en' ? ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] : ['周日', '周一', '周二', '周三', '周四', '周五', '周六'])[d];
}

// Library notices by id (title, hazard, locale…), fetched once each.
const notices = new Map();
export function noticeInfo(id) {
  if (!notices.has(id)) {
    const p = get(`/library/${encodeURIComponent(id)}`).catch(() => ({ id, title: id, missing: true }));
    notices.set(id, p);
  }
  return notices.get(id);
}
export function rememberNotice(n) {
  if (n?.id && !notices.has(n.id)) notices.set(n.id, Promise.resolve(n));
}
export async function noticeTitles(ids) {
  const all = await Promise.all([...new Set(ids)].map((id) => noticeInfo(id)));
  return new Map(all.map((n) => [n.id, n.title ?? n.id]));
}

// A region's quiet hours in words: "22:00-07:00", 不设静默, 沿用上级.
export function quietText(w) {
  if (w === null || w === undefined) return t('quiet.inherit');
  if (w === 'none') return t('quiet.none');
  return w;
}
// Where the effective window comes from: this region, an ancestor, or the
// server's default ([campaigns] quiet_hours).
export function quietEffective(r, name) {
  const eff = r.quiet_hours_effective || {};
  const w = eff.window === 'none' ? t('quiet.none') : (eff.window ?? '');
  if (!eff.from) return t('quiet.eff_default', { w });
  if (eff.from === r.code) return t('quiet.eff_own', { w });
  return t('quiet.eff_from', { w, from: name(eff.from) });
}
