// The region tree: a name cache (emergencies carry area codes only) and
// the area picker used to declare and update.
import { h, fill, debounce } from './dom.js';
import { get, qs } from './api.js';
import { t, lang } from './i18n.js';
import { tierName } from './data.js';

const known = new Map();   // code → {code, name, level, parent, village_count?}
const details = new Map(); // code → promise of GET /regions/{code}
let roots = [];

function remember(r) {
  if (!r || !r.code) return;
  const old = known.get(r.code) || {};
  known.set(r.code, { ...old, ...r });
}

export function regionName(code) {
  return known.get(code)?.name ?? code;
}
export function regionInfo(code) {
  return known.get(code);
}
export function rootRegions() {
  return roots;
}

// GET /regions/{code}: the region, its ancestors and children (cached).
export function regionDetail(code) {
  if (!details.has(code)) {
    const p = get(`/regions/${encodeURIComponent(code)}`).then((r) => {
      remember({ code: r.code, name: r.name, level: r.level, parent: r.parent, village_count: r.village_count });
      (r.ancestors || []).forEach(remember);
      (r.children || []).forEach((c) => remember({ ...c, parent: r.code }));
      return r;
    });
    p.catch(() => details.delete(code));
    details.set(code, p);
  }
  return details.get(code);
}

// The top of the tree: the provinces if there are any, else the cities.
export async function loadRoots() {
  let r = await get('/regions?level=province&limit=100');
  if (!r.items.length) r = await get('/regions?level=city&limit=500');
  roots = r.items;
  roots.forEach(remember);
  if (roots.length === 1) await regionDetail(roots[0].code);
}

// Makes sure the names of these codes are known (one request per unknown).
export async function ensureNames(codes) {
  const missing = [...new Set(codes)].filter((c) => !known.has(c));
  await Promise.all(missing.map((c) => regionDetail(c).catch(() => null)));
}

export function areaNames(codes, max = 6) {
  const names = codes.map(regionName);
  const sep = lang() === 'en' ? ', ' : '、';
  if (names.length <= max) return names.join(sep);
  return names.slice(0, max).join(sep) + t('area.and_more', { n: names.length - max });
}

// The area picker. value() is the list of codes; a region covers
// everything below it, so choosing a town drops its villages already
// chosen and shows them as covered.
export function areaPicker({ initial = [], onChange = () => {}, id = 'area' } = {}) {
  const chosen = new Map(); // code → {code, name, level, ancestors: [codes], villages}
  const el = h('div', { class: 'area-picker', id });
  const chips = h('div', { class: 'chips', 'aria-live': 'polite' });
  const summary = h('div', { class: 'area-summary' });
  const search = h('input', {
    type: 'search', class: 'area-search', placeholder: t('area.search_ph'),
    'aria-label': t('area.search_ph'), autocomplete: 'off',
  });
  const results = h('ul', { class: 'area-results', hidden: true });
  const crumbs = h('div', { class: 'crumbs' });
  const grid = h('div', { class: 'area-grid' });
  let node = null; // the region whose children are shown

  const covered = (anc) => anc.some((a) => chosen.has(a));
  function changed() {
    renderChips();
    renderGrid();
    onChange(value());
  }
  function add(item) {
    if (chosen.has(item.code) || covered(item.ancestors)) return;
    for (const [c, it] of chosen) if (it.ancestors.includes(item.code)) chosen.delete(c);
    chosen.set(item.code, item);
    changed();
  }
  function remove(code) {
    chosen.delete(code);
    changed();
  }
  function value() {
    return [...chosen.keys()];
  }
  function villages() {
    let n = 0;
    for (const it of chosen.values()) n += it.level === 'village' ? 1 : (it.villages ?? 0);
    return n;
  }
  function renderChips() {
    fill(chips, [...chosen.values()].map((it) =>
      h('span', { class: 'chip', 'data-code': it.code },
        h('span', { class: 'chip-level' }, tierName(it.level)),
        it.name,
        h('button', {
          type: 'button', class: 'chip-x', 'aria-label': t('area.remove', { name: it.name }),
          onclick: () => remove(it.code),
        }, '×'))));
    if (!chosen.size) chips.append(h('span', { class: 'muted' }, t('area.none')));
    fill(summary, chosen.size ? t('area.summary', { n: chosen.size, v: villages() }) : '');
  }
  async function show(code) {
    const r = await regionDetail(code);
    node = r;
    fill(crumbs, [...(r.ancestors || []), r].map((a, i, arr) => [
      i ? h('span', { class: 'sep' }, '›') : null,
      i === arr.length - 1
        ? h('strong', {}, a.name)
        : h('button', { type: 'button', class: 'link', onclick: () => show(a.code) }, a.name),
    ]));
    renderGrid();
  }
  function itemOf(r, anc) {
    return { code: r.code, name: r.name, level: r.level, ancestors: anc, villages: r.level === 'village' ? 1 : r.village_count };
  }
  function renderGrid() {
    if (!node) return;
    const anc = (node.ancestors || []).map((a) => a.code);
    const selfItem = itemOf(node, anc);
    const selfCovered = covered(anc);
    const head = node.level === 'root' ? null : h('label', { class: `area-cell whole ${chosen.has(node.code) || selfCovered ? 'on' : ''}` },
      h('input', {
        type: 'checkbox', checked: chosen.has(node.code) || selfCovered, disabled: selfCovered,
        'data-code': node.code,
        onchange: (e) => (e.target.checked ? add(selfItem) : remove(node.code)),
      }),
      h('span', { class: 'area-name' }, t('area.whole', { name: node.name })),
      node.level !== 'village' ? h('span', { class: 'count' }, t('area.villages', { n: node.village_count ?? 0 })) : null);
    const childAnc = [...anc, node.code];
    const cells = (node.children || []).map((c) => {
      const isCovered = covered(childAnc);
      const on = chosen.has(c.code) || isCovered;
      return h('div', { class: `area-cell ${on ? 'on' : ''}` },
        h('label', {},
          h('input', {
            type: 'checkbox', checked: on, disabled: isCovered, 'data-code': c.code,
            onchange: (e) => (e.target.checked ? add(itemOf(c, childAnc)) : remove(c.code)),
          }),
          h('span', { class: 'area-name' }, c.name)),
        c.level !== 'village'
          ? h('button', {
            type: 'button', class: 'drill', title: t('area.open', { name: c.name }),
            onclick: () => show(c.code),
          }, t('area.villages', { n: c.village_count ?? 0 }), ' ›')
          : null);
    });
    fill(grid, head, h('div', { class: 'area-children' }, cells));
  }

  const runSearch = debounce(async () => {
    const q = search.value.trim();
    if (!q) { results.hidden = true; return; }
    try {
      const r = await get(`/regions${qs({ q, limit: 20 })}`);
      r.items.forEach(remember);
      fill(results, r.items.length ? r.items.map((it) => h('li', {},
        h('button', {
          type: 'button', class: 'result', 'data-code': it.code,
          onclick: async () => {
            const d = await regionDetail(it.code);
            add(itemOf(d, (d.ancestors || []).map((a) => a.code)));
            search.value = '';
            results.hidden = true;
            search.focus();
          },
        },
        h('span', { class: 'chip-level' }, tierName(it.level)),
        h('span', {}, it.name),
        h('span', { class: 'muted' }, ` ${it.parent ? regionName(it.parent) : ''} · ${it.code}`))))
        : [h('li', { class: 'muted' }, t('area.no_match'))]);
      results.hidden = false;
    } catch (e) {
      fill(results, h('li', { class: 'error' }, e.message));
      results.hidden = false;
    }
  }, 250);
  search.addEventListener('input', runSearch);
  search.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      const first = results.querySelector('button.result');
      if (first && !results.hidden) first.click();
    } else if (e.key === 'Escape') results.hidden = true;
  });

  el.append(h('div', { class: 'area-top' }, search, results), chips, summary, crumbs, grid);

  async function set(codes) {
    chosen.clear();
    for (const c of codes) {
      try {
        const d = await regionDetail(c);
        chosen.set(c, itemOf(d, (d.ancestors || []).map((a) => a.code)));
      } catch {
        chosen.set(c, { code: c, name: c, level: '', ancestors: [], villages: 0 });
      }
    }
    renderChips();
    renderGrid();
  }
  const ready = (async () => {
    await set(initial);
    if (roots.length === 1) await show(roots[0].code);
    else {
      node = { code: '', name: '', children: roots, ancestors: [], level: 'root' };
      renderGrid();
    }
  })();
  renderChips();
  return { el, value, set, ready, villages, focus: () => search.focus() };
}
