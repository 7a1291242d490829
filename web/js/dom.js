// Small DOM helpers. Everything that comes from the server or the user
// goes in as text (textContent / text nodes), never as HTML.

// h('div', {class: 'x', onclick: fn, dataset: {id: 1}}, 'text', child, [more])
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k === 'style' && typeof v === 'object') {
        for (const [p, x] of Object.entries(v)) {
          if (p.startsWith('--')) el.style.setProperty(p, x);
          else el.style[p] = x;
        }
      }
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'value') el.value = v;
      else if (k === 'checked' || k === 'disabled' || k === 'readOnly' || k === 'selected' || k === 'required')
        el[k] = !!v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(el, ...children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, ...c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

// Replaces the children of el with the given ones.
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

// Library snippets are HTML-escaped by the server with <mark> around the
// matches. Insert them as HTML only if nothing but <mark>/</mark> is markup;
// otherwise as text.
export function snippetNode(snippet) {
  const span = document.createElement('span');
  span.className = 'snippet';
  const s = String(snippet ?? '');
  if (!s.replace(/<\/?mark>/g, '').includes('<')) span.innerHTML = s;
  else span.textContent = s.replace(/<\/?mark>/g, '');
  return span;
}

export function debounce(fn, ms) {
  let t = null;
  const d = (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
  d.cancel = () => clearTimeout(t);
  d.flush = (...args) => { clearTimeout(t); fn(...args); };
  return d;
}

// "2026-11-29T14:32:59+08:00" → "11-29 14:32" (the server's own offset:
// the office's local time, whatever the browser's zone is).
export function fmtTime(iso, withYear = false) {
  if (!iso) return '—';
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d))?/.exec(iso);
  if (!m) return iso;
  return withYear ? `${m[1]}-${m[2]}-${m[3]} ${m[4]}:${m[5]}` : `${m[2]}-${m[3]} ${m[4]}:${m[5]}`;
}

// Screen characters as the daemon counts them: ASCII is ½, anything else 1.
export function screenLength(s) {
  let n = 0;
  for (const ch of String(s ?? '')) n += ch.codePointAt(0) < 0x80 ? 0.5 : 1;
  return n;
}

export function pct(a, b) {
  if (!b) return 0;
  return Math.floor((100 * a) / b);
}

// A modal dialog built from content; resolves with the value passed to
// close(v) (undefined when dismissed with Esc or the × button).
export function modal(title, build, { wide = false } = {}) {
  return new Promise((resolve) => {
    const dlg = h('dialog', { class: wide ? 'modal wide' : 'modal' });
    let result;
    const close = (v) => { result = v; dlg.close(); };
    const body = h('div', { class: 'modal-body' });
    dlg.append(
      h('div', { class: 'modal-head' },
        h('h2', { text: title }),
        h('button', { class: 'icon-btn', type: 'button', 'aria-label': '×', onclick: () => close(undefined) }, '×')),
      body);
    build(body, close);
    dlg.addEventListener('close', () => { dlg.remove(); resolve(result); });
    document.body.appendChild(dlg);
    dlg.showModal();
    const first = dlg.querySelector('[autofocus]');
    if (first) first.focus();
  });
}

let toastBox = null;
export function toast(message, kind = 'info', ms = 4000) {
  if (!toastBox) {
    toastBox = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.appendChild(toastBox);
  }
  const el = h('div', { class: `toast ${kind}` }, message);
  toastBox.appendChild(el);
  setTimeout(() => el.remove(), ms);
}

// The server's UTC offset in minutes (from any ISO time it sent), so that
// times the console computes read like the ones the server writes.
let offsetMin = null;
export function learnOffset(iso) {
  const m = /([+-])(\d\d):?(\d\d)$/.exec(iso || '');
  if (m) offsetMin = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
  else if (/Z$/.test(iso || '')) offsetMin = 0;
}
function parts(ms) {
  if (offsetMin === null) {
    const d = new Date(ms);
    return [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()];
  }
  const d = new Date(ms + offsetMin * 60000);
  return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()];
}
const p2 = (n) => String(n).padStart(2, '0');
// "11-29 20:32" for a moment (ms since the epoch), in the server's offset.
export function localTime(ms) {
  const [, mo, d, hh, mi] = parts(ms);
  return `${p2(mo)}-${p2(d)} ${p2(hh)}:${p2(mi)}`;
}
// HH:MM:SS now (when a page was last refreshed).
export function clock() {
  const [, , , hh, mi, ss] = parts(Date.now());
  return `${p2(hh)}:${p2(mi)}:${p2(ss)}`;
}
