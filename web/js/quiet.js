// Quiet hours per region: when campaigns keep quiet there (emergencies
// ignore them). GET /regions/{code} says the region's own setting and the
// window in force; an administrator sets a window, "none", or inherit
// (PATCH /regions/{code} {"quiet_hours": "22:00-07:00" | "none" | null}).
import { h, fill, debounce, toast } from './dom.js';
import { get, patch, qs } from './api.js';
import { t, errorText } from './i18n.js';
import { tierName } from './data.js';
import { ensureNames, regionName } from './regions.js';
import { quietText, quietEffective } from './campaigns.js';

// A fresh GET: the region cache of regions.js keeps names, not settings.
export function regionQuiet(code, opts) {
  return get(`/regions/${encodeURIComponent(code)}`, opts);
}

// The panel: pick a region (search, or one of `quick`), see its setting,
// and (admins) change it.
export function quietPanel(ctx, { quick = [] } = {}) {
  const el = h('section', { class: 'card quiet', id: 'quiet' });
  const search = h('input', {
    type: 'search', id: 'quiet-search', class: 'area-search', autocomplete: 'off',
    placeholder: t('area.search_ph'), 'aria-label': t('quiet.pick'),
  });
  const results = h('ul', { class: 'area-results', hidden: true });
  const quickRow = h('div', { class: 'row quiet-quick' });
  const detail = h('div', { class: 'quiet-detail', id: 'quiet-detail', 'aria-live': 'polite' });
  const admin = ctx.can('admin');
  fill(el,
    h('h2', {}, t('quiet.title')),
    h('p', { class: 'help' }, t('quiet.help')),
    h('div', { class: 'area-top' }, search, results),
    quickRow, detail);

  function setQuick(codes) {
    fill(quickRow, codes.length ? [h('span', { class: 'muted small' }, t('quiet.quick')),
      codes.map((c) => h('button', { type: 'button', class: 'btn small ghost', 'data-code': c, onclick: () => show(c) }, regionName(c)))] : null);
  }

  const runSearch = debounce(async () => {
    const q = search.value.trim();
    if (!q) { results.hidden = true; return; }
    try {
      const r = await get(`/regions${qs({ q, limit: 20 })}`, { signal: ctx.signal });
      fill(results, r.items.length ? r.items.map((it) => h('li', {},
        h('button', {
          type: 'button', class: 'result', 'data-code': it.code,
          onclick: () => { search.value = ''; results.hidden = true; show(it.code); },
        }, h('span', { class: 'chip-level' }, tierName(it.level)), h('span', {}, it.name),
        h('span', { class: 'muted' }, ` ${it.code}`))))
        : [h('li', { class: 'muted' }, t('area.no_match'))]);
      results.hidden = false;
    } catch (e) {
      if (e.name === 'AbortError') return;
      fill(results, h('li', { class: 'error' }, errorText(e)));
      results.hidden = false;
    }
  }, 250);
  search.addEventListener('input', runSearch);
  search.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      const first = results.querySelector('button.result');
      if (first && !results.hidden) first.click();
    } else if (e.key === 'Escape') results.hidden = true;
  });

  async function show(code) {
    let r;
    try {
      r = await regionQuiet(code, { signal: ctx.signal });
    } catch (e) {
      if (e.name === 'AbortError') return;
      fill(detail, h('p', { class: 'error' }, errorText(e)));
      return;
    }
    await ensureNames([r.code, r.quiet_hours_effective?.from].filter(Boolean));
    const facts = h('dl', { class: 'facts quiet-facts' },
      h('dt', {}, t('quiet.region')),
      h('dd', {}, h('span', { class: 'chip-level' }, tierName(r.level)), ' ', h('strong', { id: 'quiet-name' }, r.name),
        h('span', { class: 'muted' }, ` ${r.code}`)),
      h('dt', {}, t('quiet.own')), h('dd', { id: 'quiet-own', 'data-value': r.quiet_hours ?? '' }, quietText(r.quiet_hours)),
      h('dt', {}, t('quiet.effective')),
      h('dd', { id: 'quiet-effective', 'data-window': r.quiet_hours_effective?.window ?? '' }, quietEffective(r, regionName)));
    fill(detail, facts, admin ? form(r) : null);
  }

  function form(r) {
    const own = r.quiet_hours;
    const mode = own === null || own === undefined ? 'inherit' : own === 'none' ? 'none' : 'window';
    const [a, b] = mode === 'window' ? own.split('-') : ['22:00', '07:00'];
    // 24-hour text (HH:MM) rather than type=time, whose AM/PM follows the browser
    const hhmm = (idv, v, label) => h('input', {
      type: 'text', id: idv, value: v, 'aria-label': label, placeholder: '22:00', maxlength: 5, size: 5,
      inputmode: 'numeric', autocomplete: 'off', class: 'mono hhmm',
    });
    const from = hhmm('quiet-from', a, t('quiet.from'));
    const to = hhmm('quiet-to', b, t('quiet.to'));
    const err = h('div', { class: 'field-error', role: 'alert', 'data-field': 'quiet_hours' });
    const radio = (v, label, extra) => h('label', { class: 'check' },
      h('input', { type: 'radio', name: 'quiet-mode', value: v, checked: mode === v, id: `quiet-mode-${v}` }), ' ', label, extra || null);
    const save = h('button', { type: 'submit', class: 'btn primary', id: 'quiet-save' }, t('quiet.save'));
    const f = h('form', {
      class: 'quiet-form', novalidate: true,
      onsubmit: async (e) => {
        e.preventDefault();
        err.textContent = '';
        const m = f.querySelector('input[name="quiet-mode"]:checked')?.value;
        let v = null;
        if (m === 'none') v = 'none';
        else if (m === 'window') {
          const ok = (x) => /^([01]\d|2[0-3]):[0-5]\d$/.test(x);
          const a1 = from.value.trim();
          const b1 = to.value.trim();
          if (!ok(a1) || !ok(b1)) { err.textContent = t('quiet.need_times'); (ok(a1) ? to : from).focus(); return; }
          v = `${a1}-${b1}`;
        }
        save.disabled = true;
        try {
          await patch(`/regions/${encodeURIComponent(r.code)}`, { quiet_hours: v }, { signal: ctx.signal });
          toast(t('quiet.saved', { name: r.name }), 'ok');
          await show(r.code);
        } catch (ex) {
          if (ex.name === 'AbortError') return;
          err.textContent = errorText(ex);
          save.disabled = false;
        }
      },
    },
    h('div', { class: 'quiet-modes' },
      radio('window', t('quiet.mode_window'), h('span', { class: 'quiet-times' }, from, ' – ', to)),
      radio('none', t('quiet.mode_none')),
      radio('inherit', t('quiet.mode_inherit'))),
    err,
    h('div', { class: 'actions' }, save));
    for (const i of [from, to]) i.addEventListener('input', () => { f.querySelector('#quiet-mode-window').checked = true; });
    return f;
  }

  return { el, show, setQuick };
}
