// Declaring an emergency (and updating one: the same form, fewer fields).
// Two steps: the form, then the plan of a dry run (counts per tier and
// town, a rendered sample per tier) — nothing is sent before the operator
// confirms there; a red alert also needs a word typed.
import { h, append, fill, fmtTime, toast, localTime } from '../dom.js';
import { post } from '../api.js';
import { t, lang, errorText } from '../i18n.js';
import { HAZARDS, SEVERITIES, DURATIONS, LOCALES, hazard as hazardOf, severity as sevOf, hazardName,
  severityName, tierName } from '../data.js';
import { areaPicker, areaNames, ensureNames, rootRegions } from '../regions.js';

export const CONFIRM_WORD = 'RED';
const TIER_ORDER = ['province', 'city', 'county', 'town', 'village'];

export async function render(root, ctx) {
  const flow = declareFlow({
    ctx, mode: 'declare',
    onDone: (r) => ctx.navigate(`#/emergencies/${r.id}`),
    onCancel: () => ctx.navigate('#/emergencies'),
  });
  fill(root, h('div', { class: 'page-head' }, h('h1', {}, t('declare.title'))), flow.el);
  await flow.ready;
}

function durationToMs(d) {
  const m = /^(\d+)([mhd])$/.exec(d || '');
  if (!m) return null;
  return Number(m[1]) * { m: 60000, h: 3600000, d: 86400000 }[m[2]];
}

// The time of now + d, as the office reads it.
function expiryPreview(d) {
  const ms = durationToMs(d);
  return ms ? localTime(Date.now() + ms) : '';
}

function autoHeadline(hz, sev, locale) {
  const roots = rootRegions();
  const place = roots.length === 1 ? roots[0].name : '';
  const H = hazardOf(hz);
  const S = sevOf(sev);
  if (!H || !S) return '';
  return locale === 'en' ? `${place} ${H.en} ${S.en} Warning`.trim() : `${place}${H.zh}${S.zh}预警`;
}

// mode: 'declare' | 'update'; emergency: the current one for an update.
export function declareFlow({ ctx, mode, emergency = null, onDone, onCancel }) {
  const upd = mode === 'update';
  const st = {
    hazard: emergency?.hazard ?? '',
    severity: emergency?.severity ?? '',
    headline: emergency?.headline ?? '',
    headlineAuto: !upd,
    description: emergency?.description ?? '',
    instruction: emergency?.instruction ?? '',
    duration: upd ? '' : '6h',
    locale: emergency?.locale ?? 'zh-CN',
    exercise: emergency?.exercise ?? false,
  };
  const errs = {};
  const errEl = (f) => (errs[f] = h('div', { class: 'field-error', 'data-field': f, role: 'alert' }));
  const el = h('div', { class: `declare ${mode}` });
  const formPanel = h('form', { class: 'declare-form', id: 'declare-form', novalidate: true });
  const planPanel = h('div', { class: 'plan', id: 'plan', hidden: true });
  const steps = h('ol', { class: 'steps' },
    h('li', { class: 'on', 'data-step': 1 }, t('declare.step_form')),
    h('li', { 'data-step': 2 }, t('declare.step_plan')),
    h('li', { 'data-step': 3 }, upd ? t('declare.step_update') : t('declare.step_send')));
  el.append(steps, formPanel, planPanel);
  // Leaving a form with something typed in it asks first (not after sending).
  let touched = false;
  let sent = false;
  formPanel.addEventListener('input', () => { touched = true; });
  formPanel.addEventListener('change', () => { touched = true; });
  ctx.setGuard((silent) => sent || !touched || (!silent && window.confirm(t('declare.leave'))));

  // ---- hazard
  const hazardTiles = h('div', { class: 'tiles hazards', role: 'radiogroup', 'aria-label': t('declare.hazard') },
    HAZARDS.map((x) => h('label', { class: `tile ${x.core ? '' : 'minor'}` },
      h('input', {
        type: 'radio', name: 'hazard', value: x.code, checked: st.hazard === x.code, disabled: upd,
        onchange: () => { st.hazard = x.code; refreshHeadline(); clearErr('hazard'); },
      }),
      h('span', { class: 'tile-name' }, lang() === 'en' ? x.en : x.zh),
      h('span', { class: 'tile-sub' }, lang() === 'en' ? x.zh : x.en))));
  // ---- severity
  const sevTiles = h('div', { class: 'tiles severities', role: 'radiogroup', 'aria-label': t('declare.severity') },
    SEVERITIES.map((s) => h('label', { class: `tile sev-tile sev-${s.code}`, style: { '--sev': s.colour, '--ink': s.ink } },
      h('input', {
        type: 'radio', name: 'severity', value: s.code, checked: st.severity === s.code,
        onchange: () => { st.severity = s.code; refreshHeadline(); clearErr('severity'); },
      }),
      h('span', { class: 'tile-name' }, lang() === 'en' ? s.en : s.zh),
      h('span', { class: 'tile-sub' }, t('declare.level', { roman: s.roman, grade: lang() === 'en' ? s.grade_en : s.grade_zh })))));
  // ---- area
  const picker = areaPicker({ initial: emergency?.area ?? [], onChange: () => clearErr('area') });
  // ---- texts
  const counter = (max) => h('span', { class: 'counter' });
  const headlineCount = counter();
  const headline = h('input', {
    id: 'headline', name: 'headline', type: 'text', maxlength: 200, value: st.headline, autocomplete: 'off',
    oninput: () => { st.headline = headline.value; st.headlineAuto = false; count(headline, headlineCount, 200); clearErr('headline'); },
  });
  const descCount = counter();
  const description = h('textarea', {
    id: 'description', name: 'description', rows: 3, maxlength: 4000,
    oninput: () => { st.description = description.value; count(description, descCount, 4000); },
  });
  description.value = st.description;
  const instrCount = counter();
  const instruction = h('textarea', {
    id: 'instruction', name: 'instruction', rows: 3, maxlength: 2000,
    oninput: () => { st.instruction = instruction.value; count(instruction, instrCount, 2000); },
  });
  instruction.value = st.instruction;
  function count(input, out, max) {
    const n = [...input.value].length;
    out.textContent = `${n} / ${max}`;
    out.classList.toggle('over', n > max);
  }
  function refreshHeadline() {
    if (!st.headlineAuto) return;
    st.headline = autoHeadline(st.hazard, st.severity, st.locale);
    headline.value = st.headline;
    count(headline, headlineCount, 200);
  }
  // ---- expiry
  const expiryOut = h('span', { class: 'muted', id: 'expiry-preview' });
  const custom = h('input', {
    type: 'text', class: 'custom-duration', placeholder: t('declare.duration_custom_ph'), size: 8,
    'aria-label': t('declare.duration_custom'),
    oninput: () => { st.duration = custom.value.trim(); markDur(); },
  });
  const durOptions = [...(upd ? [''] : []), ...DURATIONS];
  const durTiles = h('div', { class: 'chips-select', role: 'radiogroup', 'aria-label': t('declare.expiry') },
    durOptions.map((d) => h('label', { class: 'chip-opt' },
      h('input', {
        type: 'radio', name: 'duration', value: d, checked: st.duration === d,
        onchange: () => { st.duration = d; custom.value = ''; markDur(); },
      }),
      h('span', {}, d ? t(`dur.${d}`) : t('declare.keep_expiry')))));
  function markDur() {
    for (const i of durTiles.querySelectorAll('input')) i.checked = i.value === st.duration;
    clearErr('expires_at');
    if (!st.duration) {
      expiryOut.textContent = emergency ? t('declare.expiry_keeps', { at: fmtTime(emergency.expires_at) }) : '';
    } else if (durationToMs(st.duration)) expiryOut.textContent = t('declare.expiry_until', { at: expiryPreview(st.duration) });
    else expiryOut.textContent = t('declare.duration_bad');
  }
  // ---- locale, drill
  const locale = h('select', {
    id: 'locale', onchange: () => { st.locale = locale.value; refreshHeadline(); },
  }, LOCALES.map((l) => h('option', { value: l.code, selected: st.locale === l.code }, lang() === 'en' ? l.en : l.zh)));
  const drill = h('input', {
    type: 'checkbox', id: 'exercise', checked: st.exercise, disabled: upd,
    onchange: () => { st.exercise = drill.checked; },
  });

  const field = (label, key, control, help, opts = {}) => h('div', { class: `field ${opts.cls || ''}`, 'data-field': key },
    h('div', { class: 'field-label' }, label, opts.optional ? h('span', { class: 'muted' }, ` ${t('common.optional')}`) : null, opts.extra || null),
    control, help ? h('div', { class: 'help' }, help) : null, errEl(key));

  const formError = h('div', { class: 'form-error', role: 'alert' });
  const nextBtn = h('button', { type: 'submit', class: 'btn primary big', id: 'review-btn' }, t('declare.review'));
  append(formPanel, 
    upd ? null : field(t('declare.hazard'), 'hazard', hazardTiles),
    field(t('declare.severity'), 'severity', sevTiles, upd ? t('declare.severity_update_help') : null),
    field(t('declare.area'), 'area', picker.el, t('declare.area_help')),
    field(t('declare.headline'), 'headline', headline, upd ? null : t('declare.headline_help'), { extra: headlineCount }),
    field(t('declare.description'), 'description', description, null, { optional: true, extra: descCount }),
    field(t('declare.instruction'), 'instruction', instruction, t('declare.instruction_help'), { optional: true, extra: instrCount }),
    field(t('declare.expiry'), 'expires_at', h('div', {}, durTiles, h('div', { class: 'row' }, custom, expiryOut))),
    h('div', { class: 'field-row' },
      field(t('declare.locale'), 'locale', locale),
      upd ? null : field(t('declare.drill'), 'exercise', h('label', { class: 'check' }, drill, ' ', t('declare.drill_label')))),
    formError,
    h('div', { class: 'actions' },
      nextBtn,
      h('button', { type: 'button', class: 'btn ghost', onclick: () => onCancel?.() }, t('common.cancel'))));
  count(headline, headlineCount, 200);
  count(description, descCount, 4000);
  count(instruction, instrCount, 2000);
  markDur();

  function clearErr(f) {
    if (errs[f]) errs[f].textContent = '';
    formPanel.querySelector(`.field[data-field="${f}"]`)?.classList.remove('invalid');
  }
  function setErr(f, msg) {
    const key = /^area/.test(f) ? 'area' : f === 'duration' ? 'expires_at' : f;
    if (errs[key]) {
      errs[key].textContent = msg;
      const fe = formPanel.querySelector(`.field[data-field="${key}"]`);
      fe?.classList.add('invalid');
      fe?.scrollIntoView({ block: 'center', behavior: 'smooth' });
      return true;
    }
    return false;
  }

  function body() {
    if (!upd) {
      const b = {
        hazard: st.hazard, severity: st.severity, headline: st.headline.trim(), area: picker.value(),
        duration: st.duration, locale: st.locale, exercise: st.exercise,
      };
      if (st.description.trim()) b.description = st.description.trim();
      if (st.instruction.trim()) b.instruction = st.instruction.trim();
      return b;
    }
    const b = {};
    if (st.severity !== emergency.severity) b.severity = st.severity;
    if (st.headline.trim() !== emergency.headline) b.headline = st.headline.trim();
    if (st.description.trim() && st.description.trim() !== (emergency.description ?? '')) b.description = st.description.trim();
    if (st.instruction.trim() && st.instruction.trim() !== (emergency.instruction ?? '')) b.instruction = st.instruction.trim();
    const a = picker.value();
    if ([...a].sort().join() !== [...emergency.area].sort().join()) b.area = a;
    if (st.duration) b.duration = st.duration;
    if (st.locale !== emergency.locale) b.locale = st.locale;
    return b;
  }

  function validate() {
    let ok = true;
    const bad = (f, m) => { setErr(f, m); ok = false; };
    if (!upd && !st.hazard) bad('hazard', t('declare.need_hazard'));
    if (!st.severity) bad('severity', t('declare.need_severity'));
    if (!picker.value().length) bad('area', t('declare.need_area'));
    if (!st.headline.trim()) bad('headline', t('declare.need_headline'));
    if ((!upd || st.duration) && !durationToMs(st.duration)) bad('expires_at', t('declare.duration_bad'));
    if (!ok) formError.textContent = t('declare.fix_fields');
    return ok;
  }

  let planBody = null;
  // One key per reviewed plan: sent again after a lost answer (a broken
  // connection during a province-wide plan), it is declared once.
  let idemKey = null;
  const newKey = () => 'console-' + Array.from(crypto.getRandomValues(new Uint8Array(16)),
    (x) => x.toString(16).padStart(2, '0')).join('');
  formPanel.addEventListener('submit', async (e) => {
    e.preventDefault();
    formError.textContent = '';
    if (!validate()) return;
    const b = body();
    if (upd && !Object.keys(b).length) { formError.textContent = t('update.nothing'); return; }
    nextBtn.disabled = true;
    nextBtn.textContent = t('declare.planning');
    try {
      const path = upd ? `/emergencies/${emergency.id}/revisions?dry_run=true` : '/emergencies?dry_run=true';
      const r = await post(path, b, { signal: ctx.signal });
      planBody = b;
      idemKey = newKey();
      await showPlan(r.planned, b, r.approval_required === true);
    } catch (ex) {
      if (ex.name === 'AbortError') return;
      if (!(ex.field && setErr(ex.field, ex.message))) formError.textContent = errorText(ex);
      else formError.textContent = t('declare.fix_fields');
    } finally {
      nextBtn.disabled = false;
      nextBtn.textContent = t('declare.review');
    }
  });

  function setStep(n) {
    for (const li of steps.children) li.classList.toggle('on', Number(li.dataset.step) <= n);
  }

  // needsApproval: the dry run said the real request would be held for a
  // second operator (the two-person rule).
  async function showPlan(p, b, needsApproval = false) {
    await ensureNames([...(b.area ?? emergency.area), ...(p.by_town || []).map((x) => x.code)]);
    const sevCode = b.severity ?? st.severity;
    const S = sevOf(sevCode);
    const isRed = sevCode === 'red';
    const confirmInput = isRed ? h('input', {
      id: 'confirm-word', type: 'text', autocomplete: 'off', spellcheck: 'false',
      'aria-label': t('plan.type_word', { word: CONFIRM_WORD }),
      oninput: () => { sendBtn.disabled = confirmInput.value.trim().toUpperCase() !== CONFIRM_WORD; },
    }) : null;
    const sendErr = h('div', { class: 'form-error', role: 'alert' });
    const sendLabel = needsApproval ? t('plan.submit_approval') : upd ? t('plan.update_now') : t('plan.send_now');
    const sendBtn = h('button', {
      type: 'button', class: 'btn big send', id: 'send-btn', disabled: isRed,
      style: { background: S.colour, color: S.ink, borderColor: S.colour },
      onclick: async () => {
        sendBtn.disabled = true;
        backBtn.disabled = true;
        sendBtn.textContent = t('plan.sending');
        try {
          const path = upd ? `/emergencies/${emergency.id}/revisions` : '/emergencies';
          const headers = { 'Idempotency-Key': idemKey };
          const r = await post(path, planBody, { signal: ctx.signal, headers });
          sent = true;
          if (r.approval_id) { held(r); return; }
          setStep(3);
          toast(upd ? t('plan.updated', { n: r.revision }) : t('plan.sent', { id: r.id }), 'ok');
          onDone?.(r);
        } catch (ex) {
          if (ex.name === 'AbortError') return;
          sendErr.textContent = errorText(ex);
          sendBtn.textContent = sendLabel;
          sendBtn.disabled = isRed && confirmInput.value.trim().toUpperCase() !== CONFIRM_WORD;
          backBtn.disabled = false;
        }
      },
    }, sendLabel);
    const backBtn = h('button', {
      type: 'button', class: 'btn ghost big', id: 'back-btn',
      onclick: () => { planPanel.hidden = true; formPanel.hidden = false; setStep(1); window.scrollTo(0, 0); },
    }, t('plan.back'));

    const hz = upd ? emergency.hazard : st.hazard;
    const confirmBox = h('div', { class: `confirm-box ${isRed ? 'red' : ''}`, id: 'confirm-box' },
      isRed ? [
        h('p', { class: 'red-warning' }, needsApproval ? t('plan.red_warning_held') : t('plan.red_warning')),
        h('label', { for: 'confirm-word' }, t('plan.type_word_pre'), ' ', h('strong', { class: 'word' }, CONFIRM_WORD), ' ', t('plan.type_word_post')),
        confirmInput,
      ] : h('p', {}, upd ? t('plan.check_update') : t('plan.check')),
      needsApproval ? h('p', { class: 'note approval-note', id: 'approval-note', role: 'note' },
        h('strong', {}, t('plan.needs_approval')), ' ', t('plan.needs_approval_text')) : null,
      sendErr,
      h('div', { class: 'actions' }, backBtn, sendBtn));
    fill(planPanel,
      planSummary(p, {
        kicker: upd ? t('plan.kicker_update') : t('plan.kicker_declare'),
        hazard: hz, severity: sevCode, headline: b.headline ?? emergency.headline,
        area: b.area ?? emergency.area, exercise: upd ? emergency.exercise : st.exercise, locale: st.locale,
        expiry: b.duration ? `${t('declare.expiry_until', { at: expiryPreview(b.duration) })} (${t(`dur.${b.duration}`, {}, b.duration)})`
          : t('declare.expiry_keeps', { at: fmtTime(emergency.expires_at) }),
        changes: upd ? Object.keys(b) : null,
      }),
      confirmBox);
    formPanel.hidden = true;
    planPanel.hidden = false;
    setStep(2);
    window.scrollTo(0, 0);
    (confirmInput || sendBtn).focus({ preventScroll: true });

    // A colour that needs a second operator (the two-person rule) is held:
    // 202 with the approval request; nothing is sent yet.
    function held(r) {
      fill(confirmBox, h('div', { class: 'held', id: 'held', role: 'status' },
        h('h2', {}, t('approval.held_title', { id: r.approval_id })),
        h('p', {}, t('approval.held_text', { at: fmtTime(r.expires_at) })),
        h('div', { class: 'actions' },
          h('a', { class: 'btn primary', href: '#/emergencies', id: 'held-list' }, t('approval.see_list')))));
      confirmBox.classList.remove('red');
      toast(t('approval.held_title', { id: r.approval_id }), 'info', 6000);
    }
  }

  return { el, ready: picker.ready };
}

// The plan of a dry run: what would be sent, where, and how it reads.
// info: {kicker, hazard, severity, headline, area, exercise, locale, expiry, changes}
export function planSummary(p, info) {
  const S = sevOf(info.severity);
  const tiers = Object.keys(p.by_tier || {}).sort((a, c) => TIER_ORDER.indexOf(a) - TIER_ORDER.indexOf(c));
  const samples = p.samples || {};
  return [
      h('div', { class: 'plan-banner', style: { background: S.colour, color: S.ink } },
        h('div', { class: 'plan-kicker' }, info.kicker, info.exercise ? ` · ${t('emergency.drill')}` : ''),
        h('div', { class: 'plan-title' }, t('emergency.title', { hazard: hazardName(info.hazard), colour: severityName(info.severity) }),
          ` [${t('declare.level', { roman: S.roman, grade: lang() === 'en' ? S.grade_en : S.grade_zh })}]`),
        h('div', { class: 'plan-headline' }, info.headline)),
      h('dl', { class: 'plan-facts' },
        h('dt', {}, t('emergency.area')), h('dd', { id: 'plan-area' }, areaNames(info.area, 30)),
        h('dt', {}, t('declare.expiry')),
        h('dd', {}, info.expiry),
        h('dt', {}, t('declare.locale')), h('dd', {}, LOCALES.find((l) => l.code === info.locale)?.[lang() === 'en' ? 'en' : 'zh'] ?? info.locale ?? ''),
        info.changes ? [h('dt', {}, t('plan.changes')), h('dd', {}, info.changes.map((k) => t(`field.${k}`, {}, k)).join(lang() === 'en' ? ', ' : '、'))] : null),
      h('h2', {}, t('plan.what')),
      h('div', { class: 'plan-counts', id: 'plan-counts' },
        h('div', { class: 'stat big' }, h('span', { class: 'stat-n', id: 'plan-total' }, String(p.deliveries)), h('span', { class: 'stat-l' }, t('plan.deliveries'))),
        tiers.map((tr) => h('div', { class: 'stat', 'data-tier': tr },
          h('span', { class: 'stat-n' }, String(p.by_tier[tr])), h('span', { class: 'stat-l' }, tierName(tr)))),
        p.by_kind ? Object.entries(p.by_kind).map(([k, n]) => h('div', { class: 'stat kind' },
          h('span', { class: 'stat-n' }, String(n)), h('span', { class: 'stat-l' }, t(`kind.${k}`, {}, k)))) : null,
        p.cancels ? h('div', { class: 'stat warn' }, h('span', { class: 'stat-n' }, String(p.cancels)), h('span', { class: 'stat-l' }, t('plan.cancels'))) : null),
      p.by_town?.length ? h('details', { class: 'plan-towns', open: p.by_town.length <= 8 },
        h('summary', {}, t('plan.by_town', { n: p.by_town.length })),
        h('div', { class: 'table-wrap' }, h('table', { class: 'table compact', id: 'plan-by-town' },
          h('thead', {}, h('tr', {}, h('th', {}, t('cov.town')), h('th', { class: 'num' }, t('plan.deliveries')))),
          h('tbody', {}, p.by_town.map((x) => h('tr', {}, h('td', {}, x.name), h('td', { class: 'num' }, String(x.deliveries)))))))) : null,
      h('h2', {}, t('plan.samples')),
      h('div', { class: 'samples', id: 'plan-samples' },
        Object.keys(samples).sort((a, c) => TIER_ORDER.indexOf(a) - TIER_ORDER.indexOf(c)).map((tr) => {
          const s = samples[tr];
          return h('article', { class: 'sample', 'data-tier': tr },
            h('header', {}, h('span', { class: 'chip-level' }, tierName(tr)), h('span', {}, s.region?.name ?? '')),
            h('div', { class: 'sample-title' }, s.title),
            h('div', { class: 'sample-body' }, s.body),
            s.tts ? h('details', {}, h('summary', {}, t('tpl.tts')), h('div', { class: 'sample-tts' }, s.tts)) : null);
        }))
  ];
}
