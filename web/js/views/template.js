// The template editor: title, body and tts beside a live preview (the
// unsaved text rendered for a real region with a sample emergency), parse
// errors marked at their line, warnings, the history with a line diff and
// rollback, and a 409 conflict laid out side by side.
import { h, append, fill, fmtTime, debounce, modal, toast, clock } from '../dom.js';
import { get, post, put, qs } from '../api.js';
import { t, errorText } from '../i18n.js';
import { HAZARDS, SEVERITIES, hazardName, tierName, localeName, severityName } from '../data.js';
import { codeEditor, parseTemplateError } from '../editor.js';
import { lineDiff, diffStats } from '../diff.js';
import { unifiedTable, sideTable } from '../diffview.js';

const PARTS = ['title', 'body', 'tts'];
const MSG_TYPES = ['alert', 'update', 'cancel', 'expired', 'allclear'];

export async function render(root, ctx) {
  const id = ctx.params.id;
  const admin = ctx.can('admin');
  let tpl = await get(`/templates/${id}`, { signal: ctx.signal });
  let base = tpl.version;
  let saved = { title: tpl.title, body: tpl.body, tts: tpl.tts };
  const versions = new Map(); // n → promise of the version's text

  // ---- editors
  const eds = {};
  const partErr = {};
  const rows = { title: 2, body: 14, tts: 8 };
  for (const p of PARTS) {
    eds[p] = codeEditor({
      id: `ed-${p}`, rows: rows[p], value: tpl[p] ?? '', readOnly: !admin, label: t(`tpl.${p}`),
      oninput: () => { partErr[p].textContent = ''; changed(); },
    });
    partErr[p] = h('div', { class: 'field-error', 'data-part': p, role: 'alert' });
  }
  const texts = () => Object.fromEntries(PARTS.map((p) => [p, eds[p].value]));
  const dirty = () => PARTS.some((p) => eds[p].value !== (saved[p] ?? ''));
  ctx.setGuard((silent) => !dirty() || (!silent && window.confirm(t('tpl.leave_unsaved'))));

  const dirtyBadge = h('span', { class: 'dirty-badge', id: 'dirty', hidden: true }, t('tpl.unsaved'));
  const verBadge = h('span', { class: 'ver-badge', id: 'tpl-version' });
  const comment = h('input', { id: 'tpl-comment', type: 'text', maxlength: 500, placeholder: t('tpl.comment_ph'), 'aria-label': t('tpl.comment') });
  const saveBtn = h('button', { type: 'button', class: 'btn primary', id: 'save-btn', onclick: () => save() }, t('tpl.save'));
  const revertBtn = h('button', {
    type: 'button', class: 'btn ghost', id: 'revert-btn',
    onclick: () => { if (window.confirm(t('tpl.revert_confirm'))) { setTexts(saved); } },
  }, t('tpl.revert'));
  const saveMsg = h('div', { class: 'save-msg', id: 'save-msg', 'aria-live': 'polite' });

  function setTexts(x) {
    for (const p of PARTS) { eds[p].value = x[p] ?? ''; partErr[p].textContent = ''; }
    changed();
  }
  function changed() {
    dirtyBadge.hidden = !dirty();
    saveBtn.disabled = !dirty();
    revertBtn.disabled = !dirty();
    verBadge.textContent = t('tpl.version_n', { n: tpl.version });
    previewSoon();
  }

  // ---- preview
  const regionSel = h('select', { id: 'pv-region', 'aria-label': t('pv.region'), onchange: () => previewNow() });
  const sevSel = h('select', { id: 'pv-severity', 'aria-label': t('pv.severity'), onchange: () => previewNow() },
    SEVERITIES.map((s) => h('option', { value: s.code, selected: s.code === 'yellow' }, severityName(s.code))));
  const typeSel = h('select', { id: 'pv-msgtype', 'aria-label': t('pv.msg_type'), onchange: () => previewNow() },
    MSG_TYPES.map((m) => h('option', { value: m }, t(`msg.${m}`))));
  const hazSel = tpl.hazard === '*' ? h('select', { id: 'pv-hazard', 'aria-label': t('tpl.hazard'), onchange: () => previewNow() },
    HAZARDS.map((x) => h('option', { value: x.code }, hazardName(x.code)))) : null;
  const drill = h('input', { type: 'checkbox', id: 'pv-drill', onchange: () => previewNow() });
  const pvStatus = h('div', { class: 'pv-status muted', id: 'pv-status', 'aria-live': 'polite' });
  const pvOut = h('div', { class: 'pv-out', id: 'preview' });
  const pvWarn = h('div', { class: 'pv-warnings', id: 'pv-warnings' });

  const regs = await get(`/regions${qs({ level: tpl.tier, limit: 300 })}`, { signal: ctx.signal });
  fill(regionSel, regs.items.map((r) => h('option', { value: r.code }, r.name)));

  let pvCtl = null;
  let pvSeq = 0;
  ctx.signal.addEventListener('abort', () => pvCtl?.abort());
  async function previewNow() {
    previewSoon.cancel();
    if (!regionSel.value) { fill(pvOut, h('p', { class: 'muted' }, t('pv.no_region', { tier: tierName(tpl.tier) }))); return; }
    const seq = ++pvSeq;
    pvCtl?.abort();
    pvCtl = new AbortController();
    pvStatus.textContent = t('pv.rendering');
    pvOut.classList.add('stale');
    const req = {
      ...texts(), region: regionSel.value, locale: tpl.locale,
      emergency: {
        hazard: hazSel ? hazSel.value : tpl.hazard, severity: sevSel.value, msg_type: typeSel.value, exercise: drill.checked,
      },
    };
    try {
      const r = await post('/templates/preview', req, { signal: pvCtl.signal });
      if (seq !== pvSeq) return;
      showPreview(r);
      markAll(null, r.warnings || []);
      pvStatus.textContent = t('pv.updated', { at: clock() });
    } catch (e) {
      if (e.name === 'AbortError' || seq !== pvSeq) return;
      // the preview below stays, dimmed: the last text that rendered
      const pe = e.status === 422 ? parseTemplateError(e.message, e.field) : null;
      if (pe) {
        markAll(pe, []);
        pvStatus.textContent = '';
        fill(pvWarn, h('div', { class: 'pv-error', id: 'pv-error', role: 'alert' },
          h('strong', {}, t('pv.error')), ' ',
          h('button', { type: 'button', class: 'link', onclick: () => eds[pe.field]?.goto(pe.line, pe.column) },
            t('pv.at', { part: t(`tpl.${pe.field}`), line: pe.line, col: pe.column })), t('colon'), pe.reason));
      } else {
        pvStatus.textContent = '';
        fill(pvWarn, h('div', { class: 'pv-error', role: 'alert' }, errorText(e)));
      }
    }
  }
  const previewSoon = debounce(previewNow, 350);

  function markAll(error, warnings) {
    for (const p of PARTS) {
      const m = warnings.filter((w) => (w.field || 'body') === p && w.line).map((w) => ({ line: w.line, kind: 'warning', message: w.message }));
      if (error && error.field === p) m.push({ line: error.line, kind: 'error', message: error.reason });
      eds[p].setMarks(m);
      partErr[p].textContent = error && error.field === p
        ? t('pv.line_err', { line: error.line, col: error.column, reason: error.reason }) : '';
    }
    if (!error) {
      fill(pvWarn, warnings.length ? [
        h('h3', {}, t('pv.warnings', { n: warnings.length })),
        h('ul', {}, warnings.map((w) => h('li', { class: 'warn-item' },
          w.line ? h('button', { type: 'button', class: 'link', onclick: () => eds[w.field || 'body']?.goto(w.line, w.column || 1) },
            t('pv.at', { part: t(`tpl.${w.field || 'body'}`), line: w.line, col: w.column || 1 })) : h('span', {}, t(`tpl.${w.field || 'body'}`)),
          t('colon'), w.message))),
      ] : h('p', { class: 'ok-text' }, t('pv.no_warnings')));
    }
  }

  function showPreview(r) {
    pvOut.classList.remove('stale');
    const over = r.body?.limit && r.body.length > r.body.limit;
    fill(pvOut,
      h('div', { class: 'pv-block' },
        h('div', { class: 'pv-label' }, t('tpl.title'), h('span', { class: 'len' }, t('pv.len', { n: r.title?.length ?? 0 }))),
        h('div', { class: 'pv-title', id: 'pv-title' }, r.title?.text ?? '')),
      h('div', { class: 'pv-block' },
        h('div', { class: 'pv-label' }, t('tpl.body'),
          h('span', { class: `len ${over ? 'over' : ''}`, id: 'pv-body-len' },
            r.body?.limit ? t('pv.len_limit', { n: r.body.length, max: r.body.limit }) : t('pv.len', { n: r.body?.length ?? 0 }))),
        h('div', { class: 'pv-screen', id: 'pv-body' }, r.body?.text ?? '')),
      h('div', { class: 'pv-block' },
        h('div', { class: 'pv-label' }, t('tpl.tts'), h('span', { class: 'len' }, t('pv.len', { n: r.tts?.length ?? 0 }))),
        h('div', { class: 'pv-tts', id: 'pv-tts' }, r.tts?.text ?? '')));
  }

  // ---- save, conflicts
  async function save(overVersion) {
    if (!admin) return;
    if (overVersion !== undefined) base = overVersion;
    saveBtn.disabled = true;
    saveMsg.textContent = t('tpl.saving');
    try {
      const r = await put(`/templates/${id}`, { version: base, ...texts(), comment: comment.value.trim() || undefined });
      tpl = r;
      base = r.version;
      saved = { title: r.title, body: r.body, tts: r.tts };
      comment.value = '';
      const w = r.warnings || [];
      saveMsg.textContent = w.length ? t('tpl.saved_warn', { n: r.version, w: w.length }) : t('tpl.saved', { n: r.version });
      toast(t('tpl.saved', { n: r.version }), 'ok');
      changed();
      loadHistory();
    } catch (e) {
      saveMsg.textContent = '';
      if (e.status === 409 && e.details) {
        await conflict(e.details);
      } else if (e.status === 422) {
        const pe = parseTemplateError(e.message, e.field);
        if (pe) {
          markAll(pe, []);
          saveMsg.textContent = t('tpl.refused_at', { part: t(`tpl.${pe.field}`), line: pe.line, col: pe.column, reason: pe.reason });
          eds[pe.field]?.goto(pe.line, pe.column);
        } else saveMsg.textContent = errorText(e);
      } else saveMsg.textContent = errorText(e);
      changed();
    }
  }

  async function conflict(theirs) {
    const mine = texts();
    const choice = await modal(t('conflict.title'), (body, close) => {
      append(body, 
        h('p', { class: 'conflict-explain' }, t('conflict.explain', {
          author: theirs.author ?? '?', at: fmtTime(theirs.updated_at), theirs: theirs.version, mine: base,
        })),
        h('p', { class: 'help' }, t('conflict.kept')),
        PARTS.map((p) => {
          const ops = lineDiff(theirs[p] ?? '', mine[p] ?? '');
          const same = diffStats(ops).same;
          return h('section', { class: 'conflict-part' },
            h('h3', {}, t(`tpl.${p}`), same ? h('span', { class: 'muted small' }, ` ${t('conflict.same')}`) : null),
            same ? null : sideTable(ops, t('conflict.theirs', { n: theirs.version, author: theirs.author ?? '' }), t('conflict.mine', { n: base })));
        }),
        h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'btn ghost', onclick: () => close('edit') }, t('conflict.keep_editing')),
          h('button', { type: 'button', class: 'btn', id: 'take-theirs', onclick: () => close('theirs') }, t('conflict.take_theirs', { n: theirs.version })),
          h('button', { type: 'button', class: 'btn primary', id: 'keep-mine', onclick: () => close('mine') }, t('conflict.keep_mine', { n: theirs.version }))));
    }, { wide: true });
    loadHistory();
    if (choice === 'mine') await save(theirs.version);
    else if (choice === 'theirs') {
      tpl = theirs;
      base = theirs.version;
      saved = { title: theirs.title, body: theirs.body, tts: theirs.tts };
      setTexts(saved);
    }
  }

  // ---- history, diff, rollback
  const histList = h('ol', { class: 'history', id: 'history' });
  const diffFrom = h('select', { id: 'diff-from', 'aria-label': t('hist.from'), onchange: () => showDiff() });
  const diffTo = h('select', { id: 'diff-to', 'aria-label': t('hist.to'), onchange: () => showDiff() });
  const diffOut = h('div', { class: 'diff-out', id: 'diff' });
  let events = [];

  function versionText(n) {
    if (!versions.has(n)) {
      const p = get(`/templates/${id}/versions/${n}`, { signal: ctx.signal });
      p.catch(() => versions.delete(n));
      versions.set(n, p);
    }
    return versions.get(n);
  }
  async function source(v) {
    if (v === 'editor') return texts();
    if (v.startsWith('c')) return events[Number(v.slice(1))];
    return versionText(Number(v));
  }
  function label(v) {
    if (v === 'editor') return t('hist.editor');
    if (v.startsWith('c')) { const e = events[Number(v.slice(1))]; return t('hist.refused_short', { author: e.author, at: fmtTime(e.at) }); }
    return t('tpl.version_n', { n: v });
  }
  async function showDiff() {
    const a = diffFrom.value;
    const b = diffTo.value;
    if (!a || !b) { fill(diffOut); return; }
    fill(diffOut, h('p', { class: 'muted' }, t('common.loading')));
    try {
      const [x, y] = await Promise.all([source(a), source(b)]);
      fill(diffOut, PARTS.map((p) => {
        const ops = lineDiff(x[p] ?? '', y[p] ?? '');
        const s = diffStats(ops);
        return h('section', { class: 'diff-part', 'data-part': p },
          h('h3', {}, t(`tpl.${p}`), ' ', s.same ? h('span', { class: 'muted small' }, t('hist.no_change'))
            : h('span', { class: 'small' }, h('span', { class: 'add-n' }, `+${s.add}`), ' ', h('span', { class: 'del-n' }, `−${s.del}`))),
          s.same ? null : unifiedTable(ops, label(a), label(b)));
      }));
    } catch (e) {
      if (e.name !== 'AbortError') fill(diffOut, h('p', { class: 'error' }, errorText(e)));
    }
  }
  function compare(a, b) {
    diffFrom.value = a;
    diffTo.value = b;
    showDiff();
    diffOut.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
  }
  async function rollback(n) {
    if (dirty() && !window.confirm(t('tpl.rollback_dirty'))) return;
    if (!window.confirm(t('tpl.rollback_confirm', { n, cur: tpl.version }))) return;
    try {
      const r = await post(`/templates/${id}/rollback`, { to_version: n, version: tpl.version, comment: t('tpl.rollback_comment', { n }) });
      tpl = r.title !== undefined ? r : await get(`/templates/${id}`);
      if (tpl.title === undefined) tpl = await get(`/templates/${id}`);
      base = tpl.version;
      saved = { title: tpl.title, body: tpl.body, tts: tpl.tts };
      setTexts(saved);
      toast(t('tpl.rolled_back', { n, v: tpl.version }), 'ok');
      loadHistory();
    } catch (e) {
      if (e.status === 409) toast(t('tpl.rollback_conflict'), 'error', 8000);
      else toast(errorText(e), 'error', 8000);
      loadHistory();
    }
  }
  async function loadHistory() {
    // also called without await after a save: leaving the page then is no error
    const r = await get(`/templates/${id}/history`, { signal: ctx.signal }).catch((e) => {
      if (e.name === 'AbortError') return null;
      throw e;
    });
    if (!r) return;
    events = r.events || [];
    const savedVs = events.filter((e) => e.outcome === 'saved').map((e) => e.version);
    const opts = () => [
      h('option', { value: 'editor' }, t('hist.editor')),
      savedVs.map((v) => h('option', { value: String(v) }, label(String(v)))),
      events.map((e, i) => (e.outcome === 'conflict' ? h('option', { value: `c${i}` }, label(`c${i}`)) : null)),
    ];
    const keepA = diffFrom.value;
    const keepB = diffTo.value;
    fill(diffFrom, opts());
    fill(diffTo, opts());
    diffFrom.value = keepA || (savedVs[0] !== undefined ? String(savedVs[0]) : 'editor');
    diffTo.value = keepB || 'editor';
    fill(histList, events.map((e, i) => {
      if (e.outcome === 'conflict') {
        return h('li', { class: 'ev conflict' },
          h('div', { class: 'ev-head' }, h('strong', {}, t('hist.refused')), ' ',
            t('hist.refused_detail', { based: e.based_on, cur: e.current_version })),
          h('div', { class: 'muted' }, `${e.author ?? ''} · ${fmtTime(e.at)}${e.message ? ` · ${e.message}` : ''}`),
          h('div', { class: 'ev-actions' },
            h('button', { type: 'button', class: 'btn small', onclick: () => compare(String(e.current_version), `c${i}`) }, t('hist.diff_vs', { n: e.current_version })),
            admin ? h('button', { type: 'button', class: 'btn small ghost', onclick: () => { if (!dirty() || window.confirm(t('tpl.leave_unsaved'))) setTexts(e); } }, t('hist.load_attempt')) : null));
      }
      const prev = savedVs.find((v) => v < e.version);
      return h('li', { class: `ev saved ${e.version === tpl.version ? 'current' : ''}`, 'data-version': e.version },
        h('div', { class: 'ev-head' }, h('strong', {}, t('tpl.version_n', { n: e.version })), ' ',
          h('span', { class: 'pill' }, t(`action.${e.action}`, {}, e.action)),
          e.version === tpl.version ? h('span', { class: 'pill ok' }, t('hist.current')) : null),
        h('div', { class: 'muted' }, `${e.author ?? ''} · ${fmtTime(e.at)}${e.comment ? ` · ${e.comment}` : ''}`),
        h('div', { class: 'ev-actions' },
          prev !== undefined ? h('button', { type: 'button', class: 'btn small', onclick: () => compare(String(prev), String(e.version)) }, t('hist.diff_prev')) : null,
          h('button', { type: 'button', class: 'btn small ghost', onclick: () => compare(String(e.version), 'editor') }, t('hist.diff_editor')),
          admin && e.version !== tpl.version && e.action !== 'delete'
            ? h('button', { type: 'button', class: 'btn small warn', 'data-rollback': e.version, onclick: () => rollback(e.version) }, t('hist.rollback'))
            : null));
    }));
  }

  // ---- layout
  const part = (p, help) => h('div', { class: 'field' },
    h('label', { class: 'field-label', for: `ed-${p}` }, t(`tpl.${p}`), h('span', { class: 'muted small' }, ` ${help}`)),
    eds[p].el, partErr[p]);
  fill(root,
    h('div', { class: 'crumb-line' }, h('a', { href: '#/templates' }, '‹ ', t('tpl.list_title'))),
    h('div', { class: 'page-head' },
      h('h1', { id: 'tpl-name' }, `${hazardName(tpl.hazard)} · ${tierName(tpl.tier)} · ${localeName(tpl.locale)}`),
      verBadge, dirtyBadge,
      tpl.deleted ? h('span', { class: 'pill bad' }, t('tpl.deleted')) : null),
    admin ? null : h('p', { class: 'note' }, t('tpl.readonly')),
    h('div', { class: 'tpl-grid' },
      h('div', { class: 'tpl-edit' },
        part('title', t('tpl.title_help')),
        part('body', t('tpl.body_help')),
        part('tts', t('tpl.tts_help')),
        admin ? h('div', { class: 'save-bar' }, comment, saveBtn, revertBtn) : null,
        saveMsg,
        h('details', { class: 'vars' }, h('summary', {}, t('tpl.vars')), h('p', { class: 'help' }, t('tpl.vars_help')),
          h('code', { class: 'pre' }, VARS))),
      h('aside', { class: 'tpl-preview card', id: 'preview-pane' },
        h('h2', {}, t('pv.title')),
        h('div', { class: 'pv-controls' },
          h('label', {}, t('pv.region'), regionSel),
          hazSel ? h('label', {}, t('tpl.hazard'), hazSel) : null,
          h('label', {}, t('pv.severity'), sevSel),
          h('label', {}, t('pv.msg_type'), typeSel),
          h('label', { class: 'check' }, drill, ' ', t('pv.drill'))),
        pvStatus, pvWarn, pvOut)),
    h('section', { class: 'card history-card' },
      h('h2', {}, t('hist.title')),
      h('div', { class: 'hist-grid' },
        histList,
        h('div', { class: 'diff-pane' },
          h('div', { class: 'diff-controls' }, h('label', {}, t('hist.from'), diffFrom), h('span', {}, '→'), h('label', {}, t('hist.to'), diffTo)),
          diffOut))));
  changed();
  await Promise.all([previewNow(), loadHistory()]);
}

const VARS = `{{emergency.hazard.name}} {{emergency.severity.name}} {{emergency.severity.level_roman}} {{emergency.severity.level_words}} {{emergency.severity.grade}}
{{emergency.headline}} {{emergency.description}} {{emergency.instruction}} {{emergency.issued}} {{emergency.expires}} {{emergency.issuer}}
{{#emergency.is_alert}}…{{/emergency.is_alert}} is_update is_cancel is_expired is_allclear {{#emergency.exercise}}…{{/emergency.exercise}}
{{region.name}} {{region.short_name}} {{city.name}} {{town.name}} {{village.short_name}}
{{scope.names}} {{scope.town_count}} {{scope.village_count}}
{{#notice}}{{notice.summary}}{{/notice}} {{#notices}}{{title}}{{/notices}} {{contact}} {{contact_tts}}`;
