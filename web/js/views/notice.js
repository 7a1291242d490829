// One science notice: view, edit (PUT with the version edited; a 409
// shows the other version), history.
import { h, append, fill, fmtTime, screenLength, modal, toast } from '../dom.js';
import { get, put, qs } from '../api.js';
import { t, errorText } from '../i18n.js';
import { hazardName, audienceName, localeName } from '../data.js';
import { lineDiff, diffStats } from '../diff.js';
import { sideTable } from '../diffview.js';

const FIELDS = ['title', 'summary', 'text', 'keywords', 'authority', 'priority', 'updated'];
const SUMMARY_LIMIT = 60; // [library] summary_limit's default; the server decides

export async function render(root, ctx) {
  const id = ctx.params.id;
  const ver = ctx.query.get('version');
  const admin = ctx.can('admin');
  let n = await get(`/library/${encodeURIComponent(id)}${qs({ version: ver })}`, { signal: ctx.signal });
  const current = ver ? await get(`/library/${encodeURIComponent(id)}`, { signal: ctx.signal }) : n;
  const old = ver && Number(ver) !== current.version;
  const view = h('div', { class: 'notice-view' });
  const hist = h('section', { class: 'card', id: 'notice-history' });
  fill(root,
    h('div', { class: 'crumb-line' }, h('a', { href: '#/library' }, '‹ ', t('lib.title'))),
    view, hist);

  let editing = false;
  let dirtyFn = () => false;
  ctx.setGuard((silent) => !editing || !dirtyFn() || (!silent && window.confirm(t('tpl.leave_unsaved'))));

  function show() {
    editing = false;
    fill(view,
      h('div', { class: 'page-head' }, h('h1', { id: 'notice-title' }, n.title),
        h('span', { class: 'ver-badge' }, t('tpl.version_n', { n: n.version })),
        old ? h('span', { class: 'pill warn' }, t('lib.old_version', { cur: current.version })) : null,
        admin && !old ? h('button', { type: 'button', class: 'btn primary', id: 'edit-btn', onclick: edit }, t('lib.edit')) : null),
      old ? h('p', { class: 'note' }, h('a', { href: `#/library/${id}` }, t('lib.see_current'))) : null,
      h('div', { class: 'badges' },
        h('span', { class: 'pill' }, hazardName(n.hazard)), h('span', { class: 'pill' }, audienceName(n.audience)),
        h('span', { class: 'pill' }, localeName(n.locale)), h('span', { class: 'muted small' }, n.id)),
      h('div', { class: 'card' },
        h('h2', {}, t('lib.summary'), h('span', { class: 'muted small' }, ` ${t('lib.summary_len', { n: screenLength(n.summary), max: SUMMARY_LIMIT })}`)),
        h('p', { class: 'pv-screen', id: 'notice-summary' }, n.summary),
        h('h2', {}, t('lib.text')),
        h('div', { class: 'pre notice-text', id: 'notice-text' }, n.text ?? ''),
        h('dl', { class: 'facts' },
          h('dt', {}, t('lib.keywords')), h('dd', {}, (n.keywords || []).map((k) => h('span', { class: 'chip' }, k))),
          h('dt', {}, t('lib.authority')), h('dd', {}, n.authority ?? ''),
          h('dt', {}, t('lib.priority')), h('dd', {}, String(n.priority ?? '')),
          h('dt', {}, t('lib.updated')), h('dd', {}, n.updated ?? ''),
          h('dt', {}, t('lib.public')), h('dd', {}, h('a', { href: `/library/${encodeURIComponent(n.id)}`, target: '_blank', rel: 'noopener' }, `/library/${n.id}`)))));
  }

  function edit() {
    editing = true;
    const inputs = {
      title: h('input', { type: 'text', id: 'nf-title', maxlength: 100, value: n.title }),
      summary: h('textarea', { id: 'nf-summary', rows: 2 }),
      text: h('textarea', { id: 'nf-text', rows: 16 }),
      keywords: h('input', { type: 'text', id: 'nf-keywords', value: (n.keywords || []).join('、') }),
      authority: h('input', { type: 'text', id: 'nf-authority', value: n.authority ?? '' }),
      priority: h('input', { type: 'number', id: 'nf-priority', min: 1, max: 100, value: n.priority ?? 50 }),
      updated: h('input', { type: 'date', id: 'nf-updated', value: n.updated ?? '' }),
    };
    inputs.summary.value = n.summary ?? '';
    inputs.text.value = n.text ?? '';
    const sumLen = h('span', { class: 'counter' });
    const upd = () => {
      const l = screenLength(inputs.summary.value);
      sumLen.textContent = t('lib.summary_len', { n: l, max: SUMMARY_LIMIT });
      sumLen.classList.toggle('over', l > SUMMARY_LIMIT);
    };
    inputs.summary.addEventListener('input', upd);
    upd();
    const comment = h('input', { type: 'text', id: 'nf-comment', placeholder: t('tpl.comment_ph') });
    const errs = Object.fromEntries(FIELDS.map((f) => [f, h('div', { class: 'field-error', role: 'alert' })]));
    const formErr = h('div', { class: 'form-error', role: 'alert' });
    let base = n.version;
    const values = () => ({
      title: inputs.title.value.trim(),
      summary: inputs.summary.value.trim(),
      text: inputs.text.value,
      keywords: inputs.keywords.value.split(/[,，、;；\n]+/).map((s) => s.trim()).filter(Boolean),
      authority: inputs.authority.value.trim(),
      priority: Number(inputs.priority.value),
      updated: inputs.updated.value,
    });
    const changes = (from) => {
      const v = values();
      const out = {};
      for (const f of FIELDS) if (JSON.stringify(v[f]) !== JSON.stringify(from[f] ?? (f === 'keywords' ? [] : ''))) out[f] = v[f];
      return out;
    };
    dirtyFn = () => Object.keys(changes(n)).length > 0;
    const saveBtn = h('button', { type: 'submit', class: 'btn primary', id: 'notice-save' }, t('tpl.save'));
    const form = h('form', {
      class: 'notice-form', novalidate: true,
      onsubmit: async (e) => {
        e.preventDefault();
        await save();
      },
    },
    FIELDS.map((f) => h('div', { class: 'field', 'data-field': f },
      h('label', { class: 'field-label', for: `nf-${f}` }, t(`lib.${f}`), f === 'summary' ? sumLen : null,
        f === 'keywords' ? h('span', { class: 'muted small' }, ` ${t('lib.keywords_help')}`) : null),
      inputs[f], errs[f])),
    h('div', { class: 'save-bar' }, comment, saveBtn,
      h('button', { type: 'button', class: 'btn ghost', onclick: () => { if (!dirtyFn() || window.confirm(t('tpl.leave_unsaved'))) show(); } }, t('common.cancel'))),
    formErr);

    async function save(over) {
      if (over !== undefined) base = over;
      for (const f of FIELDS) errs[f].textContent = '';
      formErr.textContent = '';
      const body = changes(n);
      if (!Object.keys(body).length) { formErr.textContent = t('lib.no_changes'); return; }
      saveBtn.disabled = true;
      try {
        const r = await put(`/library/${encodeURIComponent(id)}`, { version: base, ...body, comment: comment.value.trim() || undefined });
        n = r.text !== undefined ? r : await get(`/library/${encodeURIComponent(id)}`);
        toast(t('tpl.saved', { n: n.version }), 'ok');
        show();
        loadHistory();
      } catch (e) {
        saveBtn.disabled = false;
        if (e.status === 409 && e.details) {
          const theirs = e.details;
          const mine = values();
          const choice = await modal(t('conflict.title'), (b, close) => {
            append(b, h('p', {}, t('lib.conflict_explain', { theirs: theirs.version, mine: base })),
              ['title', 'summary', 'text'].map((f) => {
                const ops = lineDiff(theirs[f] ?? '', mine[f] ?? '');
                return diffStats(ops).same ? null : h('section', { class: 'conflict-part' }, h('h3', {}, t(`lib.${f}`)),
                  sideTable(ops, t('conflict.theirs', { n: theirs.version, author: '' }), t('conflict.mine', { n: base })));
              }),
              h('div', { class: 'actions' },
                h('button', { type: 'button', class: 'btn ghost', onclick: () => close('edit') }, t('conflict.keep_editing')),
                h('button', { type: 'button', class: 'btn', onclick: () => close('theirs') }, t('conflict.take_theirs', { n: theirs.version })),
                h('button', { type: 'button', class: 'btn primary', onclick: () => close('mine') }, t('conflict.keep_mine', { n: theirs.version }))));
          }, { wide: true });
          if (choice === 'mine') { n = { ...n, ...theirs }; await save(theirs.version); } else if (choice === 'theirs') { n = theirs; show(); edit(); }
        } else if (e.status === 422 && e.field && errs[e.field.replace(/\[.*$/, '')]) {
          errs[e.field.replace(/\[.*$/, '')].textContent = e.message;
          inputs[e.field.replace(/\[.*$/, '')]?.focus();
        } else formErr.textContent = errorText(e);
      }
    }
    fill(view, h('div', { class: 'page-head' }, h('h1', {}, t('lib.editing', { title: n.title })),
      h('span', { class: 'ver-badge' }, t('tpl.version_n', { n: n.version }))), form);
    inputs.title.focus();
  }

  async function loadHistory() {
    // also called without await after a save: leaving the page then is no error
    const r = await get(`/library/${encodeURIComponent(id)}/history`, { signal: ctx.signal }).catch((e) => {
      if (e.name === 'AbortError') return null;
      throw e;
    });
    if (!r) return;
    const diffOut = h('div', { class: 'diff-out' });
    fill(hist, h('h2', {}, t('hist.title')),
      h('ol', { class: 'history' }, (r.events || []).map((e) => h('li', { class: `ev ${e.version === current.version ? 'current' : ''}` },
        h('div', { class: 'ev-head' }, h('a', { href: `#/library/${id}?version=${e.version}` }, t('tpl.version_n', { n: e.version })), ' ',
          h('span', { class: 'pill' }, t(`action.${e.action}`, {}, e.action))),
        h('div', { class: 'muted' }, `${e.author ?? ''} · ${fmtTime(e.at)}${e.comment ? ` · ${e.comment}` : ''}`),
        e.version > 1 ? h('div', { class: 'ev-actions' }, h('button', {
          type: 'button', class: 'btn small',
          onclick: async () => {
            const [a, b] = await Promise.all([
              get(`/library/${encodeURIComponent(id)}?version=${e.version - 1}`), get(`/library/${encodeURIComponent(id)}?version=${e.version}`)]);
            fill(diffOut, ['title', 'summary', 'text'].map((f) => {
              const ops = lineDiff(a[f] ?? '', b[f] ?? '');
              return h('section', { class: 'diff-part' }, h('h3', {}, t(`lib.${f}`)),
                diffStats(ops).same ? h('p', { class: 'muted small' }, t('hist.no_change'))
                  : sideTable(ops, t('tpl.version_n', { n: e.version - 1 }), t('tpl.version_n', { n: e.version })));
            }));
          },
        }, t('hist.diff_prev'))) : null))),
      diffOut);
  }

  show();
  await loadHistory();
}
