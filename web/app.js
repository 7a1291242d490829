// scicast console: the shell (sign-in, header, router). Each page is a
// module in js/views/ exporting render(root, ctx); ctx carries the route's
// parameters, the signed-in user, an AbortSignal that fires when the page
// is left, and poll() for periodic refreshes.
import { h, fill, toast, learnOffset } from './js/dom.js';
import { api, get, getToken, setToken, onUnauthorized, roleAtLeast } from './js/api.js';
import { t, lang, setLang, errorText } from './js/i18n.js';
import { loadRoots } from './js/regions.js';
import * as signin from './js/views/signin.js';
import * as emergencies from './js/views/emergencies.js';
import * as emergency from './js/views/emergency.js';
import * as update from './js/views/update.js';
import * as declare from './js/views/declare.js';
import * as templates from './js/views/templates.js';
import * as template from './js/views/template.js';
import * as library from './js/views/library.js';
import * as notice from './js/views/notice.js';
import * as campaigns from './js/views/campaigns.js';
import * as campaign from './js/views/campaign.js';
import * as campaignEdit from './js/views/campaign-edit.js';

const ROUTES = [
  { re: /^\/?$/, view: emergencies, nav: 'emergencies' },
  { re: /^\/emergencies$/, view: emergencies, nav: 'emergencies' },
  { re: /^\/emergencies\/(\d+)$/, view: emergency, nav: 'emergencies', keys: ['id'] },
  { re: /^\/emergencies\/(\d+)\/update$/, view: update, nav: 'emergencies', keys: ['id'], role: 'operator' },
  { re: /^\/declare$/, view: declare, nav: 'declare', role: 'operator' },
  { re: /^\/campaigns$/, view: campaigns, nav: 'campaigns' },
  { re: /^\/campaigns\/new$/, view: campaignEdit, nav: 'campaigns', role: 'admin' },
  { re: /^\/campaigns\/(\d+)$/, view: campaign, nav: 'campaigns', keys: ['id'] },
  { re: /^\/campaigns\/(\d+)\/edit$/, view: campaignEdit, nav: 'campaigns', keys: ['id'], role: 'admin' },
  { re: /^\/templates$/, view: templates, nav: 'templates' },
  { re: /^\/templates\/(\d+)$/, view: template, nav: 'templates', keys: ['id'] },
  { re: /^\/library$/, view: library, nav: 'library' },
  { re: /^\/library\/([A-Za-z0-9_-]+)$/, view: notice, nav: 'library', keys: ['id'] },
];

const session = { user: null };
let current = null; // {ctl, guard}
let lastHash = null;
let ignoreHash = false;

const $top = document.getElementById('top');
const $view = document.getElementById('view');
const $banner = document.getElementById('banner');

export function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function parseHash() {
  const raw = decodeURIComponent(location.hash.replace(/^#/, ''));
  const [path, query = ''] = raw.split('?');
  return { path, query: new URLSearchParams(query) };
}

function banner(msg) {
  if (msg) {
    $banner.textContent = msg;
    $banner.hidden = false;
  } else $banner.hidden = true;
}

function renderTop(active) {
  const u = session.user;
  if (!u) {
    $top.hidden = true;
    return;
  }
  $top.hidden = false;
  const link = (key, href, label, extra = '') =>
    h('a', { href, class: `nav-link ${key === active ? 'active' : ''} ${extra}`, 'data-nav': key }, label);
  fill($top,
    h('a', { class: 'brand', href: '#/' },
      h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, '▲'),
      h('span', { class: 'brand-name' }, 'scicast'),
      h('span', { class: 'brand-sub' }, t('app.title'))),
    h('nav', { class: 'nav', 'aria-label': t('nav.label') },
      link('emergencies', '#/emergencies', t('nav.emergencies')),
      roleAtLeast(u.role, 'operator') ? link('declare', '#/declare', t('nav.declare'), 'nav-declare') : null,
      link('campaigns', '#/campaigns', t('nav.campaigns')),
      link('templates', '#/templates', t('nav.templates')),
      link('library', '#/library', t('nav.library'))),
    h('div', { class: 'who' },
      h('span', { class: 'who-name', title: t('who.signed_in_as') }, u.name),
      h('span', { class: `role role-${u.role}` }, t(`role.${u.role}`)),
      h('button', {
        class: 'btn small ghost', type: 'button', id: 'lang-switch',
        onclick: () => { setLang(lang() === 'en' ? 'zh-CN' : 'en'); rerender(); },
      }, lang() === 'en' ? '中文' : 'English'),
      h('button', { class: 'btn small ghost', type: 'button', id: 'sign-out', onclick: signOut }, t('who.sign_out'))));
}

function signOut() {
  if (current?.guard && !current.guard()) return;
  setToken(null);
  session.user = null;
  leave();
  showSignin();
}

function leave() {
  if (current) current.ctl.abort();
  current = null;
}

function makeCtx(params, query, route) {
  const ctl = new AbortController();
  const ctx = {
    params, query, user: session.user, signal: ctl.signal,
    can: (role) => roleAtLeast(session.user.role, role),
    navigate,
    // Leaving the page asks guard() first (an editor with unsaved text).
    setGuard(fn) { cur.guard = fn; },
    // Runs fn now and then every ms after it finishes, until the page is left.
    poll(fn, ms) {
      let timer = null;
      const tick = async () => {
        if (ctl.signal.aborted) return;
        try {
          await fn();
          banner(null);
        } catch (e) {
          if (e.name === 'AbortError' || ctl.signal.aborted) return;
          if (e.status === 0) banner(t('err.offline'));
          else if (e.status !== 401) console.warn(e);
        }
        if (!ctl.signal.aborted) timer = setTimeout(tick, ms);
      };
      ctl.signal.addEventListener('abort', () => clearTimeout(timer));
      return tick();
    },
    route,
  };
  const cur = { ctl, guard: null };
  current = cur;
  return ctx;
}

async function route() {
  if (!session.user) return;
  const { path, query } = parseHash();
  lastHash = location.hash;
  const r = ROUTES.find((x) => x.re.test(path));
  leave();
  banner(null);
  if (!r) {
    renderTop(null);
    fill($view, h('div', { class: 'empty' }, h('h1', { text: t('err.not_found') }), h('a', { href: '#/' }, t('nav.back_home'))));
    return;
  }
  renderTop(r.nav);
  if (r.role && !roleAtLeast(session.user.role, r.role)) {
    fill($view, h('div', { class: 'empty' }, h('h1', { text: t('err.forbidden_page') }), h('a', { href: '#/' }, t('nav.back_home'))));
    return;
  }
  const m = r.re.exec(path);
  const params = {};
  (r.keys || []).forEach((k, i) => { params[k] = m[i + 1]; });
  const ctx = makeCtx(params, query, r);
  fill($view, h('div', { class: 'loading' }, t('common.loading')));
  try {
    await r.view.render($view, ctx);
  } catch (e) {
    if (e.name === 'AbortError' || ctx.signal.aborted) return;
    fill($view, h('div', { class: 'empty error' }, h('h1', { text: t('err.load_failed') }), h('p', { text: errorText(e) }),
      h('a', { href: '#/' }, t('nav.back_home'))));
  }
  $view.focus({ preventScroll: true });
}

function rerender() {
  document.documentElement.lang = lang();
  document.title = t('app.doc_title');
  if (session.user) route();
  else showSignin();
}

function showSignin(message) {
  renderTop(null);
  banner(null);
  signin.render($view, {
    message,
    async onToken(tok) {
      const who = await api('GET', '/whoami', undefined, { token: tok });
      setToken(tok);
      await start(who);
    },
    switchLang() { setLang(lang() === 'en' ? 'zh-CN' : 'en'); rerender(); },
  });
}

async function start(who) {
  session.user = who;
  try { await loadRoots(); } catch (e) { console.warn(e); }
  try {
    const r = await fetch('/healthz', { cache: 'no-store', headers: { Authorization: `Bearer ${getToken()}` } });
    learnOffset((await r.json()).started_at);
  } catch { /* the browser's own zone then */ }
  if (!location.hash || location.hash === '#' || location.hash === '#/signin') location.hash = '#/emergencies';
  else route();
}

window.addEventListener('hashchange', () => {
  if (ignoreHash) { ignoreHash = false; return; }
  if (current?.guard && !current.guard()) {
    ignoreHash = true;
    location.hash = lastHash || '#/';
    return;
  }
  route();
});
window.addEventListener('beforeunload', (ev) => {
  if (current?.guard && !current.guard(true)) { ev.preventDefault(); ev.returnValue = ''; }
});

onUnauthorized(() => {
  if (!session.user) return;
  setToken(null);
  session.user = null;
  leave();
  showSignin(t('signin.expired'));
  toast(t('signin.expired'), 'error');
});

async function boot() {
  document.documentElement.lang = lang();
  document.title = t('app.doc_title');
  const tok = getToken();
  if (!tok) return showSignin();
  try {
    const who = await get('/whoami');
    await start(who);
  } catch (e) {
    if (e.status === 401) { setToken(null); showSignin(t('signin.expired')); }
    else showSignin(errorText(e));
  }
}

boot();
