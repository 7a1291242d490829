// Creating or changing a campaign (administrators): name, schedule (cron
// or @every), dates, regions (the declare page's area picker), tiers,
// audience, the notices in rotation (picked from the library) and whether
// it is on. A field the API refuses (422, error.field) is marked at that
// field; a 409 (someone saved in between) shows both sides.
import { h, append, fill, modal, toast } from '../dom.js';
import { get, post, patch, qs } from '../api.js';
import { t, errorText } from '../i18n.js';
import { HAZARDS, AUDIENCES, LOCALES, TIERS, hazardName, audienceName, localeName, tierName } from '../data.js';
import { areaPicker, ensureNames, areaNames } from '../regions.js';
import { SCHEDULE_EXAMPLES, describeSchedule, noticeInfo, noticeTitles, rememberNotice } from '../campaigns.js';

const FIELDS = ['name', 'schedule', 'start_date', 'end_date', 'regions', 'tiers', 'audience', 'notices', 'enabled'];

export async function render(root, ctx) {
  const id = ctx.params.id ?? null;
  let c = id ? await get(`/campaigns/${id}`, { signal: ctx.signal }) : null;
  const form = h('form', { class: 'declare-form campaign-form', id: 'campaign-form', novalidate: true });
  fill(root,
    h('div', { class: 'crumb-line' }, h('a', { href: id ? `#/campaigns/${id}` : '#/campaigns' }, '‹ ', c ? c.name : t('camp.title'))),
    h('div', { class: 'page-head' }, h('h1', {}, id ? t('camp.edit_title') : t('camp.new_title')),
      c ? h('span', { class: 'ver-badge' }, t('tpl.version_n', { n: c.version })) : null),
    form);

  // ---- the fields
  const errs = Object.fromEntries(FIELDS.map((f) => [f, h('div', { class: 'field-error', role: 'alert', 'data-field': f })]));
  const name = h('input', { type: 'text', id: 'cf-name', maxlength: 100, value: c?.name ?? '', placeholder: t('camp.name_ph') });
  const schedule = h('input', {
    type: 'text', id: 'cf-schedule', class: 'mono', maxlength: 100, value: c?.schedule ?? '', spellcheck: 'false',
    autocomplete: 'off', placeholder: '0 10 * 5-10 mon',
  });
  const schedSays = h('span', { class: 'muted', id: 'cf-schedule-says' });
  const showSched = () => { schedSays.textContent = describeSchedule(schedule.value); };
  schedule.addEventListener('input', () => { clearErr('schedule'); showSched(); });
  showSched();
  const examples = h('div', { class: 'sched-examples' }, h('span', { class: 'muted small' }, t('camp.examples')),
    SCHEDULE_EXAMPLES.map(([ex, key]) => h('button', {
      type: 'button', class: 'btn small ghost example', 'data-example': ex,
      onclick: () => { schedule.value = ex; clearErr('schedule'); showSched(); touched = true; schedule.focus(); },
    }, h('code', { class: 'mono' }, ex), ' ', h('span', { class: 'muted' }, t(key)))));
  const start = h('input', { type: 'date', id: 'cf-start', value: c?.start_date ?? '', 'aria-label': t('camp.start_date') });
  const end = h('input', { type: 'date', id: 'cf-end', value: c?.end_date ?? '', 'aria-label': t('camp.end_date') });
  const picker = areaPicker({ initial: c?.regions ?? [], id: 'cf-area', onChange: () => { clearErr('regions'); touched = true; } });
  const tiersOn = new Set(c?.tiers ?? ['village']);
  const tiers = h('div', { class: 'row tier-checks', id: 'cf-tiers' }, TIERS.map((x) => h('label', { class: 'check' },
    h('input', {
      type: 'checkbox', value: x.code, id: `cf-tier-${x.code}`, checked: tiersOn.has(x.code),
      onchange: () => clearErr('tiers'),
    }), ' ', tierName(x.code))));
  const audience = h('select', { id: 'cf-audience' },
    h('option', { value: '' }, t('camp.all_audiences')),
    AUDIENCES.map((a) => h('option', { value: a.code, selected: c?.audience === a.code }, audienceName(a.code))));
  const enabled = h('input', { type: 'checkbox', id: 'cf-enabled', checked: c ? c.enabled : true });

  // ---- notices: an ordered list (the rotation) and a library search
  const chosen = [...(c?.notices ?? [])];
  const order = h('ol', { class: 'notice-order editable', id: 'cf-notices' });
  async function renderOrder() {
    const titles = await noticeTitles(chosen);
    const infos = await Promise.all(chosen.map((nid) => noticeInfo(nid)));
    fill(order, chosen.length ? chosen.map((nid, i) => h('li', { 'data-id': nid, class: 'notice-item' },
      h('span', { class: 'notice-title' }, titles.get(nid) ?? nid),
      h('span', { class: 'muted small' }, ` ${nid}`),
      infos[i]?.missing ? h('span', { class: 'pill bad' }, t('camp.notice_missing')) : h('span', { class: 'pill' }, hazardName(infos[i].hazard)),
      h('span', { class: 'notice-moves' },
        h('button', { type: 'button', class: 'icon-btn small', 'aria-label': t('camp.move_up'), disabled: i === 0, onclick: () => move(i, -1) }, '↑'),
        h('button', { type: 'button', class: 'icon-btn small', 'aria-label': t('camp.move_down'), disabled: i === chosen.length - 1, onclick: () => move(i, 1) }, '↓'),
        h('button', { type: 'button', class: 'icon-btn small', 'aria-label': t('camp.remove_notice'), 'data-remove': nid, onclick: () => { chosen.splice(i, 1); changedNotices(); } }, '×'))))
      : h('li', { class: 'muted none' }, t('camp.no_notices')));
  }
  function move(i, d) {
    const [x] = chosen.splice(i, 1);
    chosen.splice(i + d, 0, x);
    changedNotices();
  }
  function changedNotices() {
    touched = true;
    clearErr('notices');
    renderOrder();
    markAdded();
  }
  const libQ = h('input', { type: 'search', id: 'cf-lib-q', placeholder: t('lib.search_ph'), 'aria-label': t('lib.search_ph') });
  const libHazard = h('select', { id: 'cf-lib-hazard', 'aria-label': t('lib.hazard') }, h('option', { value: '' }, t('tpl.all_hazards')),
    HAZARDS.map((x) => h('option', { value: x.code }, hazardName(x.code))));
  const libLocale = h('select', { id: 'cf-lib-locale', 'aria-label': t('lib.locale') }, h('option', { value: '' }, t('tpl.all_locales')),
    LOCALES.map((x) => h('option', { value: x.code, selected: x.code === 'zh-CN' }, localeName(x.code))));
  const libResults = h('ul', { class: 'lib-pick', id: 'cf-lib-results', 'aria-live': 'polite' });
  async function searchLib() {
    const q = libQ.value.trim();
    fill(libResults, h('li', { class: 'muted' }, t('common.loading')));
    try {
      const r = q
        ? await get(`/library/search${qs({ q, hazard: libHazard.value, locale: libLocale.value, limit: 30 })}`, { signal: ctx.signal })
        : await get(`/library${qs({ hazard: libHazard.value, locale: libLocale.value, limit: 100 })}`, { signal: ctx.signal });
      r.items.forEach(rememberNotice);
      fill(libResults, r.items.length ? r.items.map((x) => h('li', { 'data-id': x.id },
        h('button', {
          type: 'button', class: 'btn small add-notice', 'data-id': x.id,
          onclick: () => { if (!chosen.includes(x.id)) { chosen.push(x.id); changedNotices(); } },
        }, t('camp.add')),
        h('span', { class: 'notice-title' }, x.title),
        h('span', { class: 'muted small' }, ` ${x.id} · ${hazardName(x.hazard)} · ${audienceName(x.audience)} · ${localeName(x.locale)}`)))
        : h('li', { class: 'muted' }, t('lib.nothing')));
      markAdded();
    } catch (e) {
      if (e.name !== 'AbortError') fill(libResults, h('li', { class: 'error' }, errorText(e)));
    }
  }
  function markAdded() {
    for (const b of libResults.querySelectorAll('button.add-notice')) {
      const on = chosen.includes(b.dataset.id);
      b.disabled = on;
      b.textContent = on ? t('camp.added') : t('camp.add');
    }
  }
  libQ.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); searchLib(); } });
  for (const s of [libHazard, libLocale]) s.addEventListener('change', searchLib);
  const noticePicker = h('div', { class: 'notice-picker' },
    order,
    h('div', { class: 'lib-pick-box' },
      h('div', { class: 'filters' }, libQ, libHazard, libLocale,
        h('button', { type: 'button', class: 'btn', id: 'cf-lib-go', onclick: searchLib }, t('lib.search'))),
      libResults));

  const field = (label, key, control, help, opts = {}) => h('div', { class: 'field', 'data-field': key },
    h(opts.labelFor ? 'label' : 'div', { class: 'field-label', for: opts.labelFor }, label,
      opts.optional ? h('span', { class: 'muted' }, ` ${t('common.optional')}`) : null),
    control, help ? h('div', { class: 'help' }, help) : null, errs[key]);
  const formError = h('div', { class: 'form-error', role: 'alert', id: 'cf-error' });
  const saveBtn = h('button', { type: 'submit', class: 'btn primary big', id: 'cf-save' }, id ? t('camp.save') : t('camp.create'));
  append(form,
    field(t('camp.name'), 'name', name, null, { labelFor: 'cf-name' }),
    field(t('camp.schedule'), 'schedule', h('div', {}, h('div', { class: 'row' }, schedule, schedSays), examples),
      t('camp.schedule_help'), { labelFor: 'cf-schedule' }),
    h('div', { class: 'field-row' },
      field(t('camp.start_date'), 'start_date', start, null, { optional: true, labelFor: 'cf-start' }),
      field(t('camp.end_date'), 'end_date', end, t('camp.dates_help'), { optional: true, labelFor: 'cf-end' })),
    field(t('camp.regions'), 'regions', picker.el, t('camp.regions_help')),
    h('div', { class: 'field-row' },
      field(t('camp.tiers'), 'tiers', tiers, t('camp.tiers_help')),
      field(t('camp.audience'), 'audience', audience, null, { labelFor: 'cf-audience' })),
    field(t('camp.notices'), 'notices', noticePicker, t('camp.notices_help')),
    field(t('camp.state'), 'enabled', h('label', { class: 'check' }, enabled, ' ', t('camp.enabled_label'))),
    formError,
    h('div', { class: 'actions' }, saveBtn,
      h('a', { class: 'btn ghost', href: id ? `#/campaigns/${id}` : '#/campaigns' }, t('common.cancel'))));

  let touched = false;
  let saved = false;
  form.addEventListener('input', () => { touched = true; });
  form.addEventListener('change', () => { touched = true; });
  ctx.setGuard((silent) => saved || !touched || (!silent && window.confirm(t('declare.leave'))));

  function clearErr(f) {
    errs[f].textContent = '';
    form.querySelector(`.field[data-field="${f}"]`)?.classList.remove('invalid');
  }
  function setErr(f, msg) {
    const m = /^(\w+)(?:\[(\d+)\])?$/.exec(f || '');
    const key = m && errs[m[1]] ? m[1] : null;
    if (!key) return false;
    errs[key].textContent = msg;
    const fe = form.querySelector(`.field[data-field="${key}"]`);
    fe?.classList.add('invalid');
    if (m[2] !== undefined) {
      const list = key === 'notices' ? order : picker.el.querySelector('.chips');
      list?.children[Number(m[2])]?.classList.add('invalid');
    }
    fe?.scrollIntoView({ block: 'center' });
    return true;
  }

  const values = () => ({
    name: name.value.trim(),
    schedule: schedule.value.trim(),
    start_date: start.value || null,
    end_date: end.value || null,
    regions: picker.value(),
    tiers: [...tiers.querySelectorAll('input:checked')].map((i) => i.value),
    audience: audience.value || null,
    notices: [...chosen],
    enabled: enabled.checked,
  });
  // What changed against the stored campaign (only that is sent: changing
  // notices restarts the rotation).
  function changes(from) {
    const v = values();
    if (!from) {
      const b = { ...v };
      for (const k of ['start_date', 'end_date', 'audience']) if (b[k] === null) delete b[k];
      return b;
    }
    const out = {};
    for (const f of FIELDS) if (JSON.stringify(v[f]) !== JSON.stringify(from[f] ?? null)) out[f] = v[f];
    return out;
  }
  function validate(v) {
    let ok = true;
    const bad = (f, m) => { setErr(f, m); ok = false; };
    if (!v.name) bad('name', t('camp.need_name'));
    if (!v.schedule) bad('schedule', t('camp.need_schedule'));
    if (!v.regions.length) bad('regions', t('camp.need_regions'));
    if (!v.tiers.length) bad('tiers', t('camp.need_tiers'));
    if (!v.notices.length) bad('notices', t('camp.need_notices'));
    return ok;
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    await save();
  });
  async function save(overVersion) {
    formError.textContent = '';
    for (const f of FIELDS) clearErr(f);
    for (const x of form.querySelectorAll('.invalid')) x.classList.remove('invalid');
    if (!validate(values())) { formError.textContent = t('declare.fix_fields'); return; }
    const body = changes(c);
    if (c && !Object.keys(body).length) { formError.textContent = t('update.nothing'); return; }
    saveBtn.disabled = true;
    try {
      const r = c
        ? await patch(`/campaigns/${id}`, { version: overVersion ?? c.version, ...body })
        : await post('/campaigns', body);
      saved = true;
      toast(c ? t('camp.saved', { n: r.version }) : t('camp.created', { name: r.name }), 'ok');
      ctx.navigate(`#/campaigns/${r.id}`);
    } catch (ex) {
      saveBtn.disabled = false;
      if (ex.name === 'AbortError') return;
      if (ex.status === 409 && c) { await conflict(); return; }
      if (ex.status === 422 && setErr(ex.field, ex.message)) formError.textContent = t('declare.fix_fields');
      else formError.textContent = errorText(ex);
    }
  }

  // 409: someone saved this campaign since it was opened. Show theirs and
  // mine, field by field; keep mine (over their version), take theirs, or
  // go on editing.
  async function conflict() {
    let theirs;
    try {
      theirs = await get(`/campaigns/${id}`);
    } catch (e) {
      formError.textContent = errorText(e);
      return;
    }
    const mine = values();
    const diff = FIELDS.filter((f) => JSON.stringify(mine[f]) !== JSON.stringify(theirs[f] ?? null));
    await ensureNames([...(theirs.regions || []), ...mine.regions]);
    const titles = await noticeTitles([...(theirs.notices || []), ...mine.notices]);
    const show = (f, v) => {
      if (v === null || v === undefined || v === '') return '—';
      if (f === 'regions') return areaNames(v, 20);
      if (f === 'notices') return v.map((x, i) => `${i + 1}. ${titles.get(x) ?? x}`).join('\n');
      if (f === 'tiers') return v.map(tierName).join(t('camp.sep'));
      if (f === 'audience') return audienceName(v);
      if (f === 'enabled') return v ? t('camp.enabled') : t('camp.disabled');
      return String(v);
    };
    const choice = await modal(t('conflict.title'), (b, close) => {
      append(b,
        h('p', { class: 'conflict-explain' }, t('camp.conflict_explain', { theirs: theirs.version, mine: c.version })),
        h('p', {}, t('camp.conflict_kept')),
        diff.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'table compact', id: 'camp-conflict' },
          h('thead', {}, h('tr', {}, h('th', {}, ''), h('th', {}, t('camp.theirs', { n: theirs.version })),
            h('th', {}, t('conflict.mine', { n: c.version })))),
          h('tbody', {}, diff.map((f) => h('tr', {},
            h('th', {}, t(`camp.${f}`, {}, f)),
            h('td', { class: 'pre del' }, show(f, theirs[f])),
            h('td', { class: 'pre add' }, show(f, mine[f])))))))
          : h('p', { class: 'muted' }, t('conflict.same')),
        h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'btn ghost', onclick: () => close('edit') }, t('conflict.keep_editing')),
          h('button', { type: 'button', class: 'btn', id: 'take-theirs', onclick: () => close('theirs') }, t('conflict.take_theirs', { n: theirs.version })),
          h('button', { type: 'button', class: 'btn primary', id: 'keep-mine', onclick: () => close('mine') }, t('conflict.keep_mine', { n: theirs.version }))));
    }, { wide: true });
    if (choice === 'mine') {
      // what differs from their version is sent, as typed here
      c = theirs;
      await save(theirs.version);
    } else if (choice === 'theirs') {
      saved = true; // the form again, with their version
      ctx.navigate(`#/campaigns/${id}/edit`);
    }
  }

  await Promise.all([picker.ready, renderOrder()]);
  searchLib();
  name.focus();
}
