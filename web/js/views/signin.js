// Sign-in: paste a token; GET /whoami says who it is. The token is kept in
// sessionStorage (this tab only, gone when it closes).
import { h, fill } from '../dom.js';
import { t, lang, errorText } from '../i18n.js';

export function render(root, { message, onToken, switchLang }) {
  const input = h('input', {
    id: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false',
    placeholder: 'sct_…', required: true, 'aria-describedby': 'token-help',
  });
  const err = h('p', { class: 'form-error', id: 'signin-error', role: 'alert' }, message || '');
  const btn = h('button', { class: 'btn primary big', type: 'submit', id: 'signin-submit' }, t('signin.submit'));
  const show = h('button', {
    type: 'button', class: 'btn small ghost', onclick: () => {
      input.type = input.type === 'password' ? 'text' : 'password';
      show.textContent = input.type === 'password' ? t('signin.show') : t('signin.hide');
    },
  }, t('signin.show'));
  const form = h('form', {
    class: 'signin-card', autocomplete: 'off',
    onsubmit: async (e) => {
      e.preventDefault();
      const tok = input.value.trim();
      if (!tok) { err.textContent = t('signin.empty'); return; }
      btn.disabled = true;
      err.textContent = '';
      try {
        await onToken(tok);
      } catch (ex) {
        err.textContent = ex.status === 401 ? t('signin.bad_token') : errorText(ex);
        btn.disabled = false;
        input.select();
      }
    },
  },
  h('div', { class: 'signin-head' },
    h('span', { class: 'brand-mark big', 'aria-hidden': 'true' }, '▲'),
    h('div', {}, h('h1', {}, 'scicast'), h('p', { class: 'muted' }, t('app.title')))),
  h('label', { for: 'token', class: 'field-label' }, t('signin.token')),
  h('div', { class: 'row' }, input, show),
  h('p', { class: 'help', id: 'token-help' }, t('signin.help')),
  err,
  h('div', { class: 'row spread' }, btn,
    h('button', { type: 'button', class: 'btn ghost', id: 'lang-switch', onclick: switchLang }, lang() === 'en' ? '中文' : 'English')));
  fill(root, h('div', { class: 'signin' }, form));
  input.focus();
}
