// The web console in a real browser (Debian's Chromium driven by
// playwright-core). Prints TAP lines; exits non-zero when a check fails.
//
//   SCICAST_URL=http://127.0.0.1:PORT SCICAST_ADMIN_TOKEN=sct_… SCICAST_VIEWER_TOKEN=sct_… \
//   TEST_OUT=build/asan/test-output node tests/browser/console.test.mjs
//
// Needs simulated screens that ack (tests/integration/99_browser.sh starts
// them), the Zhongshan regions imported, and a fresh database (it edits the
// typhoon village template and declares, then cancels, one emergency).
import { mkdtempSync, mkdirSync, rmSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
const TOP = join(HERE, '..', '..');
const URL = (process.env.SCICAST_URL || '').replace(/\/$/, '');
const ADMIN = process.env.SCICAST_ADMIN_TOKEN || '';
const VIEWER = process.env.SCICAST_VIEWER_TOKEN || '';
const OUT = process.env.TEST_OUT || join(TOP, 'build', 'asan', 'test-output');
const SHOTS = join(OUT, 'screenshots');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const TOWN = '442000001000'; // 石岐街道
const TOWN_NAME = '石岐街道';
const MARK = '【测试】';

let n = 0;
let failed = 0;
const ok = (d) => { n++; console.log(`ok ${n} - ${d}`); };
const notOk = (d, why) => {
  n++; failed++;
  console.log(`not ok ${n} - ${d}`);
  for (const l of String(why?.stack || why || '').split('\n').slice(0, 8)) console.log(`# ${l}`);
};
const diag = (s) => console.log(`# ${s}`);
// A check: runs fn; passes unless it throws or returns false.
async function check(desc, fn) {
  try {
    const r = await fn();
    if (r === false) notOk(desc, 'returned false');
    else ok(desc);
    return true;
  } catch (e) {
    notOk(desc, e);
    await onFail().catch(() => {});
    return false;
  }
}
// After a failed check: close a dialog left open, so later checks can run.
let onFail = async () => {};
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

async function api(method, path, body, token = ADMIN) {
  const res = await fetch(`${URL}/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: res.status, json };
}

// ---- before the browser: the dictionaries cover every key the code uses
await check('every interface string exists in zh-CN and en', async () => {
  const { DICTIONARIES } = await import(join(TOP, 'web', 'js', 'i18n.js'));
  const files = [];
  const walk = (d) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (f.endsWith('.js')) files.push(p);
    }
  };
  walk(join(TOP, 'web'));
  const keys = new Set();
  for (const f of files) {
    const s = readFileSync(f, 'utf8');
    for (const m of s.matchAll(/\bt\('([a-z_]+\.[a-z_0-9.]+|colon)'/g)) keys.add(m[1]);
  }
  const missing = [];
  for (const l of Object.keys(DICTIONARIES)) for (const k of keys) if (!(k in DICTIONARIES[l])) missing.push(`${l}:${k}`);
  const zh = Object.keys(DICTIONARIES['zh-CN']).sort().join();
  const en = Object.keys(DICTIONARIES.en).sort().join();
  assert(!missing.length, `missing: ${missing.join(' ')}`);
  assert(zh === en, 'zh-CN and en have different keys');
  assert(keys.size > 100, `only ${keys.size} keys found`);
});

if (!URL || !ADMIN || !VIEWER) {
  notOk('environment', 'SCICAST_URL, SCICAST_ADMIN_TOKEN and SCICAST_VIEWER_TOKEN must be set');
  console.log(`1..${n}`);
  process.exit(1);
}

mkdirSync(SHOTS, { recursive: true });
const profile = mkdtempSync(join(tmpdir(), 'scicast-chromium-'));
let ctx;
try {
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1366, height: 768 },
    locale: 'zh-CN',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
} catch (e) {
  notOk(`chromium starts (${CHROMIUM})`, e);
  console.log(`1..${n}`);
  process.exit(1);
}
const page = ctx.pages()[0] || await ctx.newPage();
page.setDefaultTimeout(10000);
onFail = async () => {
  if (await page.locator('dialog[open]').count()) await page.keyboard.press('Escape');
};
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(e.message));
page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
page.on('dialog', (d) => d.accept()); // window.confirm() of rollbacks
const shot = async (name, opts = {}) => {
  await page.evaluate(() => document.querySelector('.toasts')?.replaceChildren()); // notices that fade anyway
  return page.screenshot({ path: join(SHOTS, name), ...opts });
};

try {
  // ---- sign in
  await check('the console loads and asks for a token (zh-CN)', async () => {
    await page.goto(`${URL}/`);
    await page.locator('#token').waitFor();
    const txt = await page.locator('body').innerText();
    assert(txt.includes('访问令牌') && txt.includes('登录'), `no Chinese sign-in labels: ${txt.slice(0, 200)}`);
    assert(await page.evaluate(() => document.documentElement.lang) === 'zh-CN', 'html lang is not zh-CN');
  });
  await check('a bad token is refused with a message', async () => {
    await page.fill('#token', 'sct_not-a-real-token');
    await page.click('#signin-submit');
    await page.locator('#signin-error', { hasText: '令牌无效' }).waitFor();
  });
  await check('signing in as admin shows the name, the role and every menu', async () => {
    await page.fill('#token', ADMIN);
    await page.click('#signin-submit');
    await page.locator('.who-name').waitFor();
    const nav = await page.locator('nav.nav').innerText();
    for (const w of ['预警', '发布预警', '消息模板', '科普资源库']) assert(nav.includes(w), `menu lacks ${w}: ${nav}`);
    assert((await page.locator('.role').innerText()) === '管理员', 'role badge');
    assert(await page.evaluate(() => sessionStorage.getItem('scicast.token')) !== null, 'token not in sessionStorage');
    assert(await page.evaluate(() => localStorage.getItem('scicast.token')) === null, 'token in localStorage');
  });
  await check('Chinese renders with a CJK font (the platform font of the heading, and a measured width)', async () => {
    await page.locator('h1', { hasText: '预警' }).waitFor();
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('DOM.enable');
    await cdp.send('CSS.enable');
    const { root } = await cdp.send('DOM.getDocument');
    const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector: 'main h1' });
    const { fonts } = await cdp.send('CSS.getPlatformFontsForNode', { nodeId });
    diag(`fonts of the heading: ${fonts.map((f) => `${f.familyName} (${f.glyphCount})`).join(', ')}`);
    assert(fonts.some((f) => /CJK|Han|Hei|Song|Ming|WenQuanYi|Droid Sans Fallback/i.test(f.familyName)), 'no CJK font used');
    await cdp.detach();
    const w = await page.evaluate(() => {
      const s = document.createElement('span');
      s.style.cssText = 'font-size:20px;position:absolute;visibility:hidden;white-space:nowrap';
      s.textContent = '台风暴雨洪水高温';
      document.body.appendChild(s);
      const width = s.getBoundingClientRect().width;
      s.remove();
      return width;
    });
    assert(w > 100, `width of 8 Chinese characters at 20px is ${w}`);
  });

  // ---- the template editor
  let tplId = null;
  let original = null;
  await check('templates list: filter to typhoon/village/zh-CN and open it', async () => {
    await page.goto(`${URL}/#/templates?hazard=typhoon&tier=village&locale=zh-CN`);
    const row = page.locator('#tpl-table tbody tr[data-hazard="typhoon"][data-tier="village"][data-locale="zh-CN"]');
    await row.waitFor();
    tplId = await row.getAttribute('data-id');
    original = (await api('GET', `/templates/${tplId}`)).json;
    await row.click();
    await page.locator('#pv-body').waitFor();
    assert((await page.locator('#tpl-name').innerText()).includes('台风'), 'editor heading');
  });
  await check('the preview changes as the body is typed (unsaved text rendered)', async () => {
    const before = await page.locator('#pv-body').innerText();
    assert(before.length > 10, 'empty preview');
    await page.locator('#ed-body').fill(`${MARK}{{town.name}}请注意防风。\n${original.body}`);
    await page.locator('#pv-body', { hasText: `${MARK}${TOWN_NAME}请注意防风` }).waitFor();
    assert(await page.locator('#dirty').isVisible(), 'no unsaved marker');
  });
  await check('a parse error is shown at its line (gutter and message)', async () => {
    await page.locator('#ed-body').fill(`第一行\n{{#emergency.exercise}}没有闭合`);
    await page.locator('#pv-error').waitFor();
    const msg = await page.locator('#pv-error').innerText();
    assert(/第 2 行/.test(msg), `error message: ${msg}`);
    const marked = await page.locator('.code:has(#ed-body) .gutter .gl.mark-error').innerText();
    assert(marked.trim() === '2', `marked line ${marked}`);
    assert(await page.locator('.code:has(#ed-body) .backdrop .bl.mark-error[data-line="2"]').count() === 1, 'line 2 not highlighted');
  });
  await check('an unknown variable is warned at its line', async () => {
    await page.locator('#ed-body').fill(`${MARK}{{town.name}}请注意防风。{{emergency.colour}}\n${original.body}`);
    await page.locator('#pv-warnings .warn-item', { hasText: 'emergency.colour' }).waitFor();
    assert(await page.locator('.code:has(#ed-body) .gutter .gl.mark-warning').count() >= 1, 'no warning mark');
    // the warning's place is a link: it puts the caret there
    await page.locator('#pv-warnings .warn-item button').first().click();
    const caret = await page.locator('#ed-body').evaluate((el) => [document.activeElement === el, el.selectionStart, el.scrollTop]);
    const want = `${MARK}{{town.name}}请注意防风。`.length;
    assert(caret[0] && caret[1] === want && caret[2] === 0, `caret ${caret}`);
    await shot('template-editor.png');
  });
  await check('saving makes a new version', async () => {
    await page.locator('#ed-body').fill(`${MARK}{{town.name}}请注意防风。\n${original.body}`);
    await page.locator('#pv-body', { hasText: `${MARK}${TOWN_NAME}请注意防风。` }).waitFor();
    await page.fill('#tpl-comment', '浏览器测试');
    await page.click('#save-btn');
    await page.locator('#tpl-version', { hasText: `第 ${original.version + 1} 版` }).waitFor();
    assert(!(await page.locator('#dirty').isVisible()), 'still marked unsaved');
    const now = (await api('GET', `/templates/${tplId}`)).json;
    assert(now.version === original.version + 1 && now.body.startsWith(MARK), `stored: v${now.version}`);
  });
  await check('a conflicting save (409) shows both versions side by side and keeps mine on request', async () => {
    const cur = (await api('GET', `/templates/${tplId}`)).json;
    const other = await api('PUT', `/templates/${tplId}`, { version: cur.version, title: `${cur.title}`, body: `${cur.body}\n另一位管理员加的一行`, comment: 'other admin' });
    assert(other.status === 200, `other save ${other.status}`);
    await page.locator('#ed-tts').fill(`${original.tts}\n我的修改`);
    await page.click('#save-btn');
    const dlg = page.locator('dialog.modal');
    await dlg.waitFor();
    const txt = await dlg.innerText();
    assert(txt.includes('另一位管理员加的一行') && txt.includes('我的修改'), 'both sides not shown');
    assert(await dlg.locator('table.diff.side').count() >= 1, 'no side-by-side table');
    await page.click('#keep-mine');
    await page.locator('#tpl-version', { hasText: `第 ${cur.version + 2} 版` }).waitFor();
    const now = (await api('GET', `/templates/${tplId}`)).json;
    assert(now.tts.endsWith('我的修改'), 'my tts not saved');
  });
  await check('the history lists versions and the refused save, with a line diff', async () => {
    await page.locator('#history li.ev.conflict').waitFor();
    await page.locator('#history li.ev.saved').first().locator('button', { hasText: '与上一版比较' }).click();
    await page.locator('#diff .diff tr.add').first().waitFor();
  });

  // ---- declare, through the plan
  const area = [TOWN];
  const dry = (await api('POST', '/emergencies?dry_run=true', {
    hazard: 'typhoon', severity: 'yellow', headline: 'x', area, duration: '6h',
  })).json?.planned;
  await check('declare: hazard, colour, area by search, headline filled in', async () => {
    await page.goto(`${URL}/#/declare`);
    await page.locator('label.tile:has(input[value="typhoon"])').click();
    await page.locator('label.tile:has(input[value="red"])').click();
    await page.fill('.area-search', '石岐');
    await page.locator(`.area-results button[data-code="${TOWN}"]`).click();
    await page.locator(`.chips .chip[data-code="${TOWN}"]`).waitFor();
    assert(await page.locator(`.area-cell input[data-code="${TOWN}"]`).isChecked(), 'town not ticked in the grid');
    assert((await page.inputValue('#headline')) === '中山市台风红色预警', `headline ${await page.inputValue('#headline')}`);
  });
  await check('a red alert needs RED typed before the send button works; texts stay text', async () => {
    await page.fill('#headline', '<b>红色</b><img src=x onerror="window.__xss=1">');
    await page.click('#review-btn');
    await page.locator('#plan').waitFor();
    const send = page.locator('#send-btn');
    assert(await send.isDisabled(), 'send enabled before typing');
    await page.fill('#confirm-word', 'RE');
    assert(await send.isDisabled(), 'send enabled with a wrong word');
    await page.fill('#confirm-word', 'RED');
    assert(await send.isEnabled(), 'send still disabled after RED');
    const hl = page.locator('.plan-headline');
    assert((await hl.innerText()).includes('<img'), 'headline not shown as text');
    assert(await hl.locator('img, b').count() === 0, 'headline inserted as HTML');
    assert(await page.evaluate(() => window.__xss) === undefined, 'script ran');
    await page.click('#back-btn');
  });
  await check('a yellow alert for one town: the plan shows counts per tier and town and a sample per tier', async () => {
    await page.locator('label.tile:has(input[value="yellow"])').click();
    await page.fill('#headline', '中山市台风黄色预警（浏览器测试）');
    await page.fill('#instruction', '停止户外集体活动，加固搭建物。');
    await page.click('#review-btn');
    await page.locator('#plan').waitFor();
    assert((await page.locator('#plan-total').innerText()) === String(dry.deliveries), 'total deliveries differ from the API');
    for (const [tier, cnt] of Object.entries(dry.by_tier)) {
      const v = await page.locator(`#plan-counts .stat[data-tier="${tier}"] .stat-n`).innerText();
      assert(v === String(cnt), `tier ${tier}: ${v} != ${cnt}`);
    }
    assert((await page.locator('#plan-by-town').innerText()).includes(TOWN_NAME), 'town not listed');
    const village = await page.locator('#plan-samples .sample[data-tier="village"] .sample-body').innerText();
    assert(village.startsWith(`${MARK}${TOWN_NAME}`), `village sample does not use the saved template: ${village.slice(0, 60)}`);
    assert(await page.locator('#plan-samples .sample').count() === Object.keys(dry.samples).length, 'samples per tier');
    assert(await page.locator('#send-btn').isEnabled(), 'send disabled for yellow');
    assert((await page.locator('.plan-banner').innerText()).includes('尚未发送'), 'the plan does not say nothing is sent');
    await shot('declare-confirmation.png', { fullPage: true });
  });
  let eid = null;
  await check('sending declares it and opens its page', async () => {
    const before = (await api('GET', '/emergencies?status=active')).json.total;
    await page.click('#send-btn');
    await page.waitForURL(/#\/emergencies\/\d+$/);
    eid = /#\/emergencies\/(\d+)$/.exec(page.url())[1];
    const after = (await api('GET', '/emergencies?status=active')).json.total;
    assert(after === before + 1, 'not exactly one declared');
  });
  await check('coverage reaches 100% as the screens ack (the town row turns green)', async () => {
    const row = page.locator(`#town-table tr[data-code="${TOWN}"]`);
    await row.waitFor();
    await page.waitForFunction((code) => {
      const r = document.querySelector(`#town-table tr[data-code="${code}"]`);
      return r && r.classList.contains('done') && r.dataset.acked === r.dataset.planned;
    }, TOWN, { timeout: 30000 });
    await page.locator('#cov-total .coverage.complete .pct', { hasText: '100%' }).waitFor({ timeout: 10000 });
    await page.locator('#silent', { hasText: '均已确认' }).waitFor();
    const bg = await row.locator('td').first().evaluate((el) => getComputedStyle(el).backgroundColor);
    assert(/rgb\(220, 243, 228\)/.test(bg), `row background ${bg}`);
    await shot('emergency-detail.png', { fullPage: true });
  });
  await check('the active list shows it with its coverage bar', async () => {
    await page.goto(`${URL}/#/emergencies`);
    const card = page.locator(`.em-card[data-id="${eid}"]`);
    await card.waitFor();
    const t = await card.innerText();
    assert(t.includes('台风黄色预警') && t.includes(TOWN_NAME) && t.includes('100%'), `card: ${t}`);
  });
  await check('on a phone the list fits the screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.locator(`.em-card[data-id="${eid}"]`).waitFor();
    await page.waitForTimeout(300);
    const [sw, iw] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    await shot('list-phone.png');
    assert(sw <= iw + 1, `page is ${sw}px wide on a ${iw}px screen`);
    await page.setViewportSize({ width: 1366, height: 768 });
  });
  await check('update: a new colour goes through the plan and makes revision 2', async () => {
    await page.goto(`${URL}/#/emergencies/${eid}`);
    await page.click('#update-btn');
    await page.locator('label.tile:has(input[value="orange"])').click();
    await page.click('#review-btn');
    await page.locator('#plan').waitFor();
    assert((await page.locator('.plan-banner').innerText()).includes('即将更新'), 'not an update plan');
    assert((await page.locator('.plan-facts').innerText()).includes('预警级别'), 'the change is not listed');
    await page.click('#send-btn');
    await page.waitForURL(new RegExp(`#/emergencies/${eid}$`));
    await page.locator('#em-head .em-rev', { hasText: '第 2 版' }).waitFor();
    const e = (await api('GET', `/emergencies/${eid}`)).json;
    assert(e.revision === 2 && e.severity === 'orange', `revision ${e.revision} ${e.severity}`);
  });
  await check('cancel asks for a reason, then cancels', async () => {
    await page.goto(`${URL}/#/emergencies/${eid}`);
    await page.click('#cancel-btn');
    await page.locator('#cancel-reason').waitFor();
    await page.click('#cancel-confirm');
    await page.locator('dialog.modal .form-error', { hasText: '取消原因' }).waitFor();
    assert((await api('GET', `/emergencies/${eid}`)).json.status === 'active', 'cancelled without a reason');
    await page.fill('#cancel-reason', '台风转向，浏览器测试');
    await page.click('#cancel-confirm');
    await page.locator('#em-head .status-cancelled').waitFor();
    const e = (await api('GET', `/emergencies/${eid}`)).json;
    assert(e.status === 'cancelled', `status ${e.status}`);
    assert(e.revisions.some((r) => r.reason === '台风转向，浏览器测试'), 'reason not recorded');
    assert(await page.locator('#cancel-btn').count() === 0, 'cancel still offered');
  });

  // ---- red: the two-person rule ([approval] required = red by default)
  const OP2 = 'second-operator';
  const op2 = (await api('POST', '/tokens', { name: OP2, role: 'operator' })).json?.token;
  const TOWN2 = '442000002000'; // 东区街道
  let held = false;
  let rid = null;
  await check('a red declaration, confirmed with RED, is held for a second operator (or sent where no approval is set)', async () => {
    await page.goto(`${URL}/#/declare`);
    await page.locator('label.tile:has(input[value="typhoon"])').click();
    await page.locator('label.tile:has(input[value="red"])').click();
    await page.fill('.area-search', '442000002000');
    await page.locator(`.area-results button[data-code="${TOWN2}"]`).click();
    await page.click('#review-btn');
    await page.locator('#plan').waitFor();
    await page.fill('#confirm-word', 'red'); // any case
    await page.click('#send-btn');
    await Promise.race([page.locator('#held').waitFor(), page.waitForURL(/#\/emergencies\/\d+$/)]);
    held = await page.locator('#held').isVisible().catch(() => false);
    diag(held ? 'held for approval' : 'sent at once: no approval required here');
    if (!held) rid = /#\/emergencies\/(\d+)$/.exec(page.url())[1];
    else assert(!(await api('GET', '/emergencies?status=active')).json.items.some((e) => e.severity === 'red'), 'a red one is active');
  });
  if (held) {
    await check('the request is listed; its requester cannot approve it', async () => {
      await page.click('#held-list');
      const card = page.locator('#approvals .appr-card').first();
      await card.waitFor();
      assert(await card.locator('[data-act="approve"]').count() === 0, 'requester offered approve');
      assert((await card.innerText()).includes('东区街道'), 'area not shown');
    });
    await check('another operator sees the plan, types RED and approves: it is sent', async () => {
      assert(op2, 'no second operator token');
      await page.click('#sign-out');
      await page.fill('#token', op2);
      await page.click('#signin-submit');
      await page.locator('.role', { hasText: '值班员' }).waitFor();
      await page.locator('#approvals .appr-card [data-act="approve"]').first().click();
      await page.locator('dialog.modal #plan-total').waitFor();
      assert(await page.locator('#appr-go').isDisabled(), 'approve enabled before RED');
      await page.fill('#appr-word', 'RED');
      await page.fill('#appr-reason', '同意发布');
      await page.click('#appr-go');
      await page.waitForURL(/#\/emergencies\/\d+$/);
      rid = /#\/emergencies\/(\d+)$/.exec(page.url())[1];
      const e = (await api('GET', `/emergencies/${rid}`)).json;
      assert(e.status === 'active' && e.severity === 'red', `${e.status} ${e.severity}`);
    });
  }
  await check('all clear ends the red emergency', async () => {
    assert(rid, 'no red emergency');
    await page.goto(`${URL}/#/emergencies/${rid}`);
    await page.click('#allclear-btn');
    await page.click('#cancel-confirm');
    await page.locator('#em-head .status-ended').waitFor();
    assert((await api('GET', `/emergencies/${rid}`)).json.status === 'ended', 'not ended');
    if (held) { // back to the admin for what follows
      await page.click('#sign-out');
      await page.fill('#token', ADMIN);
      await page.click('#signin-submit');
      await page.locator('.role', { hasText: '管理员' }).waitFor();
    }
  });

  // ---- rollback, the library, English
  await check('rollback to the first version from the history', async () => {
    await page.goto(`${URL}/#/templates/${tplId}`);
    await page.locator(`#history li.ev.saved[data-version="${original.version}"] button[data-rollback]`).click();
    await page.locator('#history li.ev.current .pill', { hasText: '回滚' }).waitFor();
    const now = (await api('GET', `/templates/${tplId}`)).json;
    assert(now.body === original.body && now.tts === original.tts, 'text not restored');
    assert(await page.inputValue('#ed-body') === original.body, 'editor not reloaded');
  });
  await check('library: a Chinese search marks the matches; a notice opens and saves a new version', async () => {
    await page.goto(`${URL}/#/library?q=${encodeURIComponent('台风')}`);
    await page.locator('#lib-results .lib-card').first().waitFor();
    assert(await page.locator('#lib-results .snippet mark').count() > 0, 'no <mark> in the snippets');
    const id = await page.locator('#lib-results .lib-card').first().getAttribute('data-id');
    await page.locator('#lib-results .lib-card h3 a').first().click();
    await page.locator('#edit-btn').click();
    const before = (await api('GET', `/library/${id}`)).json;
    await page.fill('#nf-priority', String(before.priority === 100 ? 99 : before.priority + 1));
    await page.click('#notice-save');
    await page.locator('#edit-btn').waitFor();
    const after = (await api('GET', `/library/${id}`)).json;
    assert(after.version === before.version + 1, `version ${after.version}`);
  });
  await check('the English switch translates the interface', async () => {
    await page.goto(`${URL}/#/emergencies`);
    await page.click('#lang-switch');
    await page.locator('nav.nav', { hasText: 'Emergencies' }).waitFor();
    assert(await page.evaluate(() => document.documentElement.lang) === 'en', 'lang attribute');
    await page.click('#lang-switch');
    await page.locator('nav.nav', { hasText: '消息模板' }).waitFor();
  });

  // ---- a viewer
  await check('a viewer sees no declare, update, cancel or save', async () => {
    await page.click('#sign-out');
    await page.locator('#token').waitFor();
    await page.fill('#token', VIEWER);
    await page.click('#signin-submit');
    await page.locator('.role', { hasText: '查看员' }).waitFor();
    await page.locator('#em-list').waitFor();
    assert(await page.locator('#declare-btn, .nav-declare').count() === 0, 'declare offered');
    await page.goto(`${URL}/#/emergencies/${eid}`);
    await page.locator('#em-head .big-title').waitFor();
    assert(await page.locator('#update-btn, #cancel-btn, #redrive-all').count() === 0, 'actions offered');
    await page.goto(`${URL}/#/templates/${tplId}`);
    await page.locator('#pv-body').waitFor();
    assert(await page.locator('#save-btn').count() === 0, 'save offered');
    assert(await page.locator('#ed-body').evaluate((el) => el.readOnly), 'editor writable');
    await page.goto(`${URL}/#/declare`);
    await page.locator('main', { hasText: '无权' }).waitFor();
  });
  await check('and the API refuses a declare with the viewer token (403)', async () => {
    const r = await api('POST', '/emergencies', { hazard: 'typhoon', severity: 'yellow', headline: 'x', area, duration: '1h' }, VIEWER);
    assert(r.status === 403 && r.json?.error?.code === 'forbidden', `status ${r.status}`);
  });
  await check('no script error on any page', () => {
    const real = pageErrors.filter((e) => !/status of 40[139]|Failed to load resource/.test(e));
    assert(!real.length, real.join(' | '));
  });
} finally {
  await ctx.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}

diag(`screenshots in ${SHOTS}`);
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
