// The two-person rule: declarations (and updates) of the colours in
// [approval] required wait for another operator. The emergencies page
// lists the pending requests; an operator other than the requester sees
// the plan the requester saw (checked against a fresh dry run: both are
// shown when they differ) and approves or rejects.
import { h, fill, fmtTime, modal, toast } from './dom.js';
import { get, post } from './api.js';
import { t, errorText } from './i18n.js';
import { colourOf, severity as sevOf, tierName } from './data.js';
import { ensureNames, areaNames } from './regions.js';
import { sevBadge, remaining } from './widgets.js';
import { planSummary, CONFIRM_WORD } from './views/declare.js';

// Fills box with the pending requests; hides it when there are none or
// the daemon has no approvals (404).
export async function renderApprovals(box, ctx) {
  let r;
  try {
    r = await get('/approvals?status=pending', { signal: ctx.signal });
  } catch (e) {
    if (e.status === 404) { box.hidden = true; return; }
    throw e;
  }
  const items = r.items || [];
  box.hidden = !items.length;
  if (!items.length) return;
  await ensureNames(items.flatMap((a) => a.request?.area || []));
  fill(box, h('h2', {}, t('approval.title'), h('span', { class: 'count-badge bad' }, String(items.length))),
    h('p', { class: 'help' }, t('approval.help')),
    items.map((a) => card(a, ctx)));
}

function card(a, ctx) {
  const req = a.request || {};
  const mine = a.requested_by === ctx.user.name;
  const canDecide = ctx.can('operator') && !mine;
  return h('div', { class: 'appr-card', 'data-id': a.approval_id, style: { borderLeftColor: colourOf(a.severity) } },
    h('div', { class: 'em-title' }, sevBadge(a.severity),
      h('strong', {}, t(isUpdate(a) ? 'approval.kind_update' : 'approval.kind_declare')),
      a.emergency_id ? h('a', { href: `#/emergencies/${a.emergency_id}` }, t('approval.of_emergency', { id: a.emergency_id })) : null,
      h('span', { class: 'muted em-id' }, `#${a.approval_id}`)),
    h('div', { class: 'em-headline' }, req.headline ?? a.summary),
    h('div', { class: 'em-meta muted' },
      req.area ? h('span', {}, t('emergency.area'), t('colon'), areaNames(req.area)) : null,
      h('span', {}, t('approval.requested', { who: a.requested_by, at: fmtTime(a.requested_at) })),
      h('span', {}, t('approval.expires', { at: fmtTime(a.expires_at), left: remaining(a.expires_at) }))),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'btn small', 'data-act': 'view', onclick: () => decide(a, ctx, 'view') }, t('approval.view')),
      canDecide ? [
        h('button', { type: 'button', class: 'btn small primary', 'data-act': 'approve', onclick: () => decide(a, ctx, 'approve') }, t('approval.approve')),
        h('button', { type: 'button', class: 'btn small danger-outline', 'data-act': 'reject', onclick: () => decide(a, ctx, 'reject') }, t('approval.reject')),
      ] : null,
      mine ? h('span', { class: 'muted small' }, t('approval.yours')) : null));
}

async function decide(a, ctx, act) {
  const req = a.request || {};
  const title = act === 'reject' ? t('approval.reject_title', { id: a.approval_id }) : t('approval.approve_title', { id: a.approval_id });
  const result = await modal(title, (body, close) => {
    const planBox = h('div', { class: 'plan' }, h('p', { class: 'muted' }, t('common.loading')));
    const err = h('div', { class: 'form-error', role: 'alert' });
    const isRed = a.severity === 'red';
    const reason = h('textarea', { id: 'appr-reason', rows: 2, maxlength: 2000 });
    const word = act === 'approve' && isRed ? h('input', {
      id: 'appr-word', type: 'text', autocomplete: 'off', 'aria-label': t('plan.type_word', { word: CONFIRM_WORD }),
      oninput: () => { go.disabled = word.value.trim().toUpperCase() !== CONFIRM_WORD; },
    }) : null;
    const S = sevOf(a.severity);
    const go = act === 'view' ? null : h('button', {
      type: 'button', id: 'appr-go', disabled: !!word,
      class: act === 'reject' ? 'btn danger' : 'btn send',
      style: act === 'approve' && S ? { background: S.colour, color: S.ink, borderColor: S.colour } : null,
      onclick: async () => {
        if (act === 'reject' && !reason.value.trim()) { err.textContent = t('approval.need_reason'); reason.focus(); return; }
        go.disabled = true;
        try {
          const r = await post(`/approvals/${a.approval_id}/${act}`, reason.value.trim() ? { reason: reason.value.trim() } : {});
          close(r);
        } catch (e) {
          err.textContent = errorText(e);
          go.disabled = false;
        }
      },
    }, act === 'reject' ? t('approval.reject') : t('approval.approve'));
    body.append(planBox);
    if (act !== 'view') {
      body.append(h('div', { class: `confirm-box ${isRed && act === 'approve' ? 'red' : ''}` },
        h('label', { for: 'appr-reason', class: 'field-label' }, act === 'reject' ? t('approval.reject_reason') : t('approval.reason')),
        reason,
        word ? [h('label', { for: 'appr-word' }, t('plan.type_word_pre'), ' ', h('strong', { class: 'word' }, CONFIRM_WORD), ' ', t('plan.type_word_post')), word] : null,
        err,
        h('div', { class: 'actions' }, h('button', { type: 'button', class: 'btn ghost', onclick: () => close() }, t('common.cancel')), go)));
    }
    // The plan the requester saw (`planned`, kept with the request) and a
    // fresh dry run: what approving would send now. Where they differ
    // (regions or channels changed meanwhile), both are shown.
    const upd = isUpdate(a);
    const path = upd ? `/emergencies/${a.emergency_id}/revisions?dry_run=true` : '/emergencies?dry_run=true';
    (async () => {
      try {
        const [fresh, em] = await Promise.all([
          post(path, req).then((d) => d.planned, (e) => (a.planned ? { error: e } : Promise.reject(e))),
          upd ? get(`/emergencies/${a.emergency_id}`) : null]);
        const seen = a.planned || fresh;
        await ensureNames([...(req.area ?? em?.area ?? []), ...(seen.by_town || []).map((x) => x.code)]);
        const info = {
          kicker: t('approval.kicker'), hazard: req.hazard ?? em?.hazard, severity: a.severity,
          headline: req.headline ?? em?.headline ?? a.summary, area: req.area ?? em?.area ?? [],
          exercise: req.exercise ?? em?.exercise, locale: req.locale ?? em?.locale ?? 'zh-CN',
          expiry: req.duration ? t(`dur.${req.duration}`, {}, req.duration) : fmtTime(req.expires_at ?? em?.expires_at),
          changes: upd ? Object.keys(req) : null,
        };
        let compare = null;
        if (a.planned && fresh.error) {
          compare = h('p', { class: 'note', id: 'plan-fresh' }, t('approval.plan_failed', { msg: errorText(fresh.error) }));
        } else if (a.planned) {
          compare = samePlan(a.planned, fresh)
            ? h('p', { class: 'muted', id: 'plan-same' }, '✓ ', t('approval.plan_same'))
            : h('div', { class: 'note plan-changed', id: 'plan-changed', role: 'alert' },
              h('strong', {}, t('approval.plan_changed')), ' ',
              t('approval.plan_changed_text', { then: a.planned.deliveries, now: fresh.deliveries }),
              planCompare(a.planned, fresh));
        }
        fill(planBox, a.planned ? h('p', { class: 'help' }, t('approval.plan_seen', { who: a.requested_by })) : null,
          compare, planSummary(seen, info));
      } catch (e) {
        fill(planBox, h('p', { class: 'error' }, t('approval.plan_failed', { msg: errorText(e) })));
      }
    })();
  }, { wide: true });
  if (!result) return;
  if (act === 'approve') {
    toast(t('approval.approved', { id: result.emergency_id }), 'ok');
    if (result.emergency_id) ctx.navigate(`#/emergencies/${result.emergency_id}`);
  } else if (act === 'reject') {
    toast(t('approval.rejected'), 'ok');
    ctx.navigate('#/emergencies');
  }
}

// An update held for approval ("revise"; "update" in earlier daemons).
function isUpdate(a) {
  return a.kind === 'revise' || a.kind === 'update';
}

// The counts that matter to the approver: in all, per tier, per kind, cancels.
function counts(p) {
  const out = { '*': p?.deliveries ?? 0, cancels: p?.cancels ?? 0 };
  for (const [k, n] of Object.entries(p?.by_tier || {})) out[`tier:${k}`] = n;
  for (const [k, n] of Object.entries(p?.by_kind || {})) out[`kind:${k}`] = n;
  return out;
}
function samePlan(a, b) {
  const x = counts(a);
  const y = counts(b);
  const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
  return [...keys].every((k) => (x[k] ?? 0) === (y[k] ?? 0));
}
function planCompare(a, b) {
  const x = counts(a);
  const y = counts(b);
  const keys = [...new Set([...Object.keys(x), ...Object.keys(y)])].filter((k) => (x[k] ?? 0) !== (y[k] ?? 0));
  const label = (k) => {
    if (k === '*') return t('plan.deliveries');
    if (k === 'cancels') return t('plan.cancels');
    const [kind, code] = k.split(':');
    return kind === 'tier' ? tierName(code) : t(`kind.${code}`, {}, code);
  };
  return h('table', { class: 'table compact plan-compare' },
    h('thead', {}, h('tr', {}, h('th', {}, ''), h('th', { class: 'num' }, t('approval.then')), h('th', { class: 'num' }, t('approval.now')))),
    h('tbody', {}, keys.map((k) => h('tr', {}, h('td', {}, label(k)),
      h('td', { class: 'num' }, String(x[k] ?? 0)), h('td', { class: 'num' }, String(y[k] ?? 0))))));
}
