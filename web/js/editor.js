// A textarea with line numbers and marked lines (a parse error, a
// warning) drawn on a layer behind the text. Lines do not wrap, so a
// logical line is one row and the layer lines up by line height alone.
import { h, fill } from './dom.js';

export function codeEditor({ value = '', rows = 8, readOnly = false, id, label, oninput } = {}) {
  const ta = h('textarea', {
    id, wrap: 'off', spellcheck: 'false', rows, readOnly, 'aria-label': label,
    autocapitalize: 'off', autocomplete: 'off',
  });
  ta.value = value;
  const gutter = h('div', { class: 'gutter', 'aria-hidden': 'true' });
  const gutterInner = h('div', { class: 'gutter-inner' });
  gutter.append(gutterInner);
  const backdrop = h('div', { class: 'backdrop', 'aria-hidden': 'true' });
  const backInner = h('div', { class: 'backdrop-inner' });
  backdrop.append(backInner);
  const el = h('div', { class: `code ${readOnly ? 'readonly' : ''}`, style: { '--rows': rows } },
    gutter, h('div', { class: 'code-area' }, backdrop, ta));
  let marks = []; // {line, kind, message}

  function paint() {
    const n = ta.value.split('\n').length;
    const byLine = new Map();
    for (const m of marks) {
      const prev = byLine.get(m.line);
      if (!prev || (prev.kind !== 'error' && m.kind === 'error')) byLine.set(m.line, m);
    }
    fill(gutterInner, Array.from({ length: n }, (_, i) => {
      const m = byLine.get(i + 1);
      return h('div', { class: `gl ${m ? `mark-${m.kind}` : ''}`, title: m ? m.message : null }, String(i + 1));
    }));
    fill(backInner, Array.from({ length: Math.max(n, ...[...byLine.keys()]) }, (_, i) => {
      const m = byLine.get(i + 1);
      return h('div', { class: `bl ${m ? `mark-${m.kind}` : ''}`, 'data-line': i + 1 });
    }));
    sync();
  }
  function sync() {
    gutterInner.style.transform = `translateY(${-ta.scrollTop}px)`;
    backInner.style.transform = `translateY(${-ta.scrollTop}px)`;
  }
  ta.addEventListener('scroll', sync);
  ta.addEventListener('input', () => {
    if (marks.length) { marks = []; }
    paint();
    oninput?.(ta.value);
  });
  paint();

  return {
    el,
    textarea: ta,
    get value() { return ta.value; },
    set value(v) { ta.value = v; marks = []; paint(); },
    setMarks(m) { marks = m || []; paint(); },
    marks: () => marks,
    // Puts the caret at line/column (1-based, in characters) and shows it.
    goto(line, column = 1) {
      const lines = ta.value.split('\n');
      let off = 0;
      for (let i = 0; i < Math.min(line - 1, lines.length); i++) off += lines[i].length + 1;
      const cur = Array.from(lines[line - 1] ?? '');
      off += cur.slice(0, Math.max(0, column - 1)).join('').length;
      ta.focus();
      ta.setSelectionRange(off, off);
      const lh = parseFloat(getComputedStyle(ta).lineHeight) || 20;
      ta.scrollTop = Math.max(0, (line - 3) * lh);
      sync();
    },
  };
}

// "body: line 2, column 1: unclosed section "a"" → {field, line, column, reason}
export function parseTemplateError(message, field) {
  const m = /^(?:(title|body|tts): )?line (\d+), column (\d+): (.*)$/s.exec(message || '');
  if (!m) return null;
  return { field: m[1] || field, line: Number(m[2]), column: Number(m[3]), reason: m[4] };
}
