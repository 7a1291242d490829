// Tables for a line diff: unified (history) and side by side (conflicts).
// Long runs of unchanged lines fold into one row, keeping some context.
import { h } from './dom.js';
import { sideBySide } from './diff.js';
import { t } from './i18n.js';

const CONTEXT = 2;

// rows: [{same: bool, ...}] → the same rows with long same runs replaced
// by {fold: N}.
function fold(rows) {
  const out = [];
  let i = 0;
  while (i < rows.length) {
    if (!rows[i].same) { out.push(rows[i]); i++; continue; }
    let j = i;
    while (j < rows.length && rows[j].same) j++;
    const keepHead = i === 0 ? 0 : CONTEXT;
    const keepTail = j === rows.length ? 0 : CONTEXT;
    if (j - i > keepHead + keepTail + 1) {
      out.push(...rows.slice(i, i + keepHead), { fold: j - i - keepHead - keepTail }, ...rows.slice(j - keepTail, j));
    } else out.push(...rows.slice(i, j));
    i = j;
  }
  return out;
}

const foldRow = (nCols, k) => h('tr', { class: 'fold' }, h('td', { colspan: nCols }, t('diff.folded', { n: k })));

export function unifiedTable(ops, la, lb) {
  const rows = fold(ops.map((o) => ({ ...o, same: o.op === ' ' })));
  return h('div', { class: 'table-wrap' }, h('table', { class: 'diff' },
    h('thead', {}, h('tr', {}, h('th', {}, '−'), h('th', {}, '+'), h('th', {}, `${la} → ${lb}`))),
    h('tbody', {}, rows.map((o) => (o.fold ? foldRow(3, o.fold) : h('tr', { class: o.op === '+' ? 'add' : o.op === '-' ? 'del' : '' },
      h('td', { class: 'ln' }, o.a ?? ''), h('td', { class: 'ln' }, o.b ?? ''),
      h('td', { class: 'tx' }, h('span', { class: 'op' }, o.op), o.text)))))));
}

export function sideTable(ops, la, lb) {
  const cell = (s) => (s
    ? [h('td', { class: `ln ${s.op === '-' ? 'del' : s.op === '+' ? 'add' : ''}` }, String(s.n)),
      h('td', { class: `tx ${s.op === '-' ? 'del' : s.op === '+' ? 'add' : ''}` }, s.text)]
    : [h('td', { class: 'ln empty' }), h('td', { class: 'tx empty' })]);
  const rows = fold(sideBySide(ops).map((r) => ({ ...r, same: r.left?.op === ' ' })));
  return h('div', { class: 'table-wrap' }, h('table', { class: 'diff side' },
    h('thead', {}, h('tr', {}, h('th', { colspan: 2 }, la), h('th', { colspan: 2 }, lb))),
    h('tbody', {}, rows.map((r) => (r.fold ? foldRow(4, r.fold) : h('tr', {}, cell(r.left), cell(r.right)))))));
}
