// The web console in a real browser (Debian's Chromium driven by
// playwright-core). Prints TAP lines; exits non-zero when a check fails.
//
//   SCICAST_URL=http://127.0.0.1:PORT SCICAST_ADMIN_TOKEN=sct_… SCICAST_VIEWER_TOKEN=sct_… \
//   TEST_OUT=build/asan/test-output node tests/browser/console.test.mjs
//
// Needs simulated screens that ack (tests/integration/99_browser.sh starts
// them, one village silent: SCICAST_SILENT_VILLAGE), the Zhongshan regions
// imported, and a fresh database (it edits the typhoon village template,
// declares and cancels emergencies, declares a drill and makes a campaign).
// Campaign runs are expected to send ([campaigns] quiet_hours = none).
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
const DRILL_TOWN = '442000003000'; // 中山港街道, where one village's screen stays silent
const SILENT = process.env.SCICAST_SILENT_VILLAGE || '';

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
page.on('pageerror', (e) => pageErrors.push(`${e.message} (${page.url().replace(URL, '')}${e.stack?.split('\n')[1] ? ` ${e.stack.split('\n')[1].trim()}` : ''})`));
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
    assert(await page.locator('#approval-note').count() === 0, 'yellow said to need approval');
    assert((await page.locator('.plan-banner').innerText()).includes('尚未发送'), 'the plan does not say nothing is sent');
    await shot('declare-confirmation.png', { fullPage: true });
  });
  let eid = null;
  await check('sending declares it and opens its page', async () => {
    const before = (await api('GET', '/emergencies?status=active')).json.total;
    const sent = page.waitForRequest((r) => r.method() === 'POST' && /\/api\/v1\/emergencies$/.test(r.url()));
    await page.click('#send-btn');
    const key = (await sent).headers()['idempotency-key'] ?? '';
    assert(/^console-[0-9a-f]{32}$/.test(key), `the declaration went without an Idempotency-Key: "${key}"`);
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
    const want = (await api('POST', '/emergencies?dry_run=true', {
      hazard: 'typhoon', severity: 'red', headline: 'x', area: [TOWN2], duration: '6h',
    })).json?.approval_required === true;
    assert(await page.locator('#approval-note').isVisible() === want, `the plan ${want ? 'does not say' : 'says'} it waits for approval`);
    if (want) assert((await page.locator('#send-btn').innerText()).includes('提交审批'), 'the button does not say it submits for approval');
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
      // a channel added since the request: the plan the requester saw
      // and the fresh one differ, and both are shown
      const extra = await api('POST', '/channels', { region: TOWN2, kind: 'mqtt', target: 'scicast/test/extra', name: '浏览器测试' });
      assert(extra.status === 201, `extra channel: ${extra.status}`);
      await page.locator('#approvals .appr-card [data-act="approve"]').first().click();
      await page.locator('dialog.modal #plan-total').waitFor();
      const a = (await api('GET', '/approvals?status=pending')).json.items[0];
      assert(a.planned?.deliveries > 0, 'no planned in the request');
      assert((await page.locator('dialog.modal #plan-total').innerText()) === String(a.planned.deliveries), 'not the plan the requester saw');
      const changed = await page.locator('#plan-changed').innerText();
      assert(changed.includes(String(a.planned.deliveries)) && changed.includes(String(a.planned.deliveries + 1)), `plan change: ${changed}`);
      assert((await api('DELETE', `/channels/${extra.json.id}`)).status === 204, 'extra channel not deleted');
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

  // ---- campaigns (日常宣教) and quiet hours
  const flood = (await api('GET', '/library?hazard=flood&locale=zh-CN')).json?.items ?? [];
  const [N1, N2] = flood.map((x) => x.id);
  let cid = null;
  await check('campaigns: a schedule that is not cron is refused at its field (422); nothing is saved', async () => {
    assert(N1 && N2, 'the library has no two zh-CN flood notices');
    await page.goto(`${URL}/#/emergencies`);
    await page.click('nav.nav [data-nav="campaigns"]');
    await page.locator('h1', { hasText: '日常宣教' }).waitFor();
    await page.click('#campaign-new');
    await page.fill('#cf-name', '汛期防汛知识进村（浏览器测试）');
    await page.fill('#cf-schedule', 'every monday');
    await page.fill('#cf-area .area-search', '石岐');
    await page.locator(`#cf-area .area-results button[data-code="${TOWN}"]`).click();
    await page.locator(`#cf-area .chips .chip[data-code="${TOWN}"]`).waitFor();
    assert(await page.locator('#cf-tier-village').isChecked() && !(await page.locator('#cf-tier-town').isChecked()), 'tiers default');
    await page.selectOption('#cf-lib-hazard', 'flood');
    await page.locator(`#cf-lib-results button.add-notice[data-id="${N2}"]`).click();
    await page.locator(`#cf-lib-results button.add-notice[data-id="${N1}"]`).click();
    // the rotation's order can be changed: N1 up to the first place
    await page.locator(`#cf-notices li[data-id="${N1}"] button[aria-label="上移"]`).click();
    const order = await page.locator('#cf-notices li').evaluateAll((ls) => ls.map((l) => l.dataset.id));
    assert(order.join() === [N1, N2].join(), `order ${order}`);
    await page.click('#cf-save');
    const err = page.locator('.field[data-field="schedule"] .field-error:not(:empty)');
    await err.waitFor();
    const want = (await api('POST', '/campaigns', { name: 'x', schedule: 'every monday', regions: [TOWN], notices: [N1] })).json?.error;
    assert(want?.field === 'schedule', `the API names ${want?.field}`);
    assert((await err.innerText()) === want.message, `shown: ${await err.innerText()}`);
    assert(await page.locator('.field.invalid[data-field="schedule"]').count() === 1, 'field not marked');
    assert((await api('GET', '/campaigns')).json.items.length === 0, 'a campaign was saved');
  });
  await check('a good schedule (@every 1h) saves it; the next 10 sends are those of the API', async () => {
    await page.fill('#cf-schedule', '@every 1h');
    assert((await page.locator('#cf-schedule-says').innerText()) === '每 1 小时', 'schedule not put in words');
    await page.click('#cf-save');
    await page.waitForURL(/#\/campaigns\/\d+$/);
    cid = /(\d+)$/.exec(page.url())[1];
    const c = (await api('GET', `/campaigns/${cid}`)).json;
    assert(c.schedule === '@every 1h' && c.regions.join() === TOWN && c.notices.join() === [N1, N2].join()
      && c.tiers.join() === 'village' && (c.audience ?? null) === null, `stored: ${JSON.stringify(c)}`);
    assert(c.enabled === true, 'not enabled');
    const rows = page.locator('#preview-table tbody tr');
    await rows.nth(9).waitFor();
    const p = (await api('GET', `/campaigns/${cid}/preview?n=10`)).json.sends;
    const shown = await rows.evaluateAll((rs) => rs.map((r) => `${r.dataset.at} ${r.dataset.notice}`));
    assert(shown.join() === p.map((x) => `${x.at} ${x.notice_id}`).join(), `preview ${shown} != ${JSON.stringify(p)}`);
    const titles = await rows.locator('td:nth-child(3)').allInnerTexts();
    const t1 = flood.find((x) => x.id === p[0].notice_id).title;
    assert(titles[0] === t1, `notice title ${titles[0]} != ${t1}`);
    if (p[0].at !== c.next_run_at) diag(`the API's preview starts at ${p[0].at}, but next_run_at is ${c.next_run_at}`);
  });
  await check('run now (202): the run\'s counts appear in the runs table, equal to the API', async () => {
    await page.click('#run-now');
    const row = page.locator('#runs-table tr[data-run="1"]');
    await row.waitFor();
    const r = (await api('GET', `/campaigns/${cid}/runs`)).json.items.find((x) => x.run === 1);
    assert(r && r.deliveries > 0, `run: ${JSON.stringify(r)}`);
    for (const k of ['deliveries', 'suppressed', 'quiet']) {
      const v = await row.locator(`td[data-k="${k}"]`).innerText();
      assert(v === String(r[k]), `${k}: ${v} != ${r[k]}`);
      assert(await page.locator('#run-result').getAttribute(`data-${k}`) === String(r[k]), `the 202's ${k} differs`);
    }
    assert((await row.innerText()).includes(flood.find((x) => x.id === r.notice_id).title), 'notice title');
    await page.locator('#camp-runcount', { hasText: '1' }).waitFor();
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot('campaign-detail.png', { fullPage: true });
  });
  await check('quiet hours: an admin sets a town\'s window on the campaigns page; the API and its villages have it', async () => {
    await page.goto(`${URL}/#/campaigns`);
    await page.locator(`#campaign-table tr[data-id="${cid}"] td[data-col="runs"]`, { hasText: '1' }).waitFor();
    await page.locator(`#quiet .quiet-quick button[data-code="${TOWN}"]`).click();
    await page.locator('#quiet-own', { hasText: '沿用上级' }).waitFor();
    await page.check('#quiet-mode-window');
    await page.fill('#quiet-from', '21:30');
    await page.fill('#quiet-to', '07:30');
    await page.click('#quiet-save');
    await page.locator('#quiet-own', { hasText: '21:30-07:30' }).waitFor();
    assert((await page.locator('#quiet-effective').innerText()).includes('本地区设置'), 'effective window not its own');
    const r = (await api('GET', `/regions/${TOWN}`)).json;
    assert(r.quiet_hours === '21:30-07:30' && r.quiet_hours_effective.window === '21:30-07:30', `API: ${r.quiet_hours}`);
    await page.fill('#quiet-search', '桂园');
    await page.locator('#quiet .area-results button.result[data-code="442000001007"]').click();
    await page.locator('#quiet-name', { hasText: '桂园' }).waitFor();
    const eff = await page.locator('#quiet-effective').innerText();
    assert(eff.includes('21:30-07:30') && eff.includes(TOWN_NAME), `village: ${eff}`);
    await page.locator(`#quiet .quiet-quick button[data-code="${TOWN}"]`).click();
    await page.locator('#quiet-name', { hasText: TOWN_NAME }).waitFor();
    await shot('campaigns.png', { fullPage: true });
    await page.goto(`${URL}/#/campaigns/${cid}`);
    await page.locator(`#camp-regions .quiet-of[data-window="21:30-07:30"]`).waitFor();
  });

  // ---- a drill and its report
  let did = null;
  await check('a yellow drill for one town: the plan and the page say 演练', async () => {
    await page.goto(`${URL}/#/declare`);
    await page.locator('label.tile:has(input[value="flood"])').click();
    await page.locator('label.tile:has(input[value="yellow"])').click();
    await page.fill('.area-search', '中山港');
    await page.locator(`.area-results button[data-code="${DRILL_TOWN}"]`).click();
    await page.check('#exercise');
    await page.click('#review-btn');
    await page.locator('#plan').waitFor();
    assert((await page.locator('.plan-kicker').innerText()).includes('演练'), 'the plan does not say drill');
    await page.click('#send-btn');
    await page.waitForURL(/#\/emergencies\/\d+$/);
    did = /(\d+)$/.exec(page.url())[1];
    assert((await api('GET', `/emergencies/${did}`)).json.exercise === true, 'not stored as a drill');
    await page.locator('#em-head .drill-badge', { hasText: '演练' }).waitFor();
    await page.locator('#report h2', { hasText: '演练报告' }).waitFor();
  });
  await check('once the screens have acked, the drill report equals the API\'s (one village silent)', async () => {
    let r = null;
    for (let i = 0; i < 100; i++) {
      r = (await api('GET', `/emergencies/${did}/report`)).json;
      if (r.planned > 0 && r.reached === r.planned - (SILENT ? 1 : 0)) break;
      await new Promise((f) => setTimeout(f, 100));
    }
    assert(r.reached === r.planned - (SILENT ? 1 : 0), `reached ${r.reached} of ${r.planned}`);
    await page.waitForFunction((want) => document.querySelector('#report-sum')?.dataset.reached === String(want), r.reached, { timeout: 10000 });
    assert(await page.locator('#report-sum').getAttribute('data-planned') === String(r.planned), 'planned in all');
    const rows = page.locator('#report-table tbody tr');
    assert(await rows.count() === r.towns.length, 'towns');
    for (const x of r.towns) {
      const row = page.locator(`#report-table tr[data-code="${x.code}"]`);
      const cell = (k) => row.locator(`td[data-k="${k}"]`);
      assert((await row.innerText()).includes(x.name), 'town name');
      assert(await cell('planned').innerText() === String(x.planned), `planned ${x.planned}`);
      assert(await cell('reached').innerText() === String(x.reached), `reached ${x.reached}`);
      assert(Number(await cell('first').getAttribute('data-s')) === x.first_ack_s, `first ack ${x.first_ack_s}`);
      assert(Number(await cell('last').getAttribute('data-s')) === x.last_ack_s, `last ack ${x.last_ack_s}`);
      assert(/秒/.test(await cell('first').innerText()), 'time to the first ack not in seconds');
      const silent = await cell('silent').locator('li').evaluateAll((ls) => ls.map((l) => l.dataset.code));
      assert(silent.join() === x.silent.map((v) => v.code).join(), `silent ${silent}`);
    }
    if (SILENT) {
      const li = page.locator(`#report-table li[data-code="${SILENT}"]`);
      const screen = r.towns.flatMap((x) => x.silent).find((v) => v.code === SILENT).screen;
      assert((await li.innerText()).includes({ online: '屏幕在线', offline: '屏幕离线', unknown: '屏幕未上报' }[screen]), 'screen state');
    }
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot('drill-report.png', { fullPage: true });
  });
  await check('the report\'s CSV downloads (fetched with the token) as the API gives it', async () => {
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#report-csv')]);
    const file = join(OUT, `drill-report-${did}.csv`);
    await dl.saveAs(file);
    const got = readFileSync(file, 'utf8');
    rmSync(file);
    const res = await fetch(`${URL}/api/v1/emergencies/${did}/report?format=csv`, { headers: { Authorization: `Bearer ${ADMIN}` } });
    const want = await res.text();
    assert(dl.suggestedFilename() === `emergency-${did}-report.csv`, `file name ${dl.suggestedFilename()}`);
    assert(got === want, `CSV differs:\n${got}\n${want}`);
    assert(got.includes(SILENT || DRILL_TOWN), 'the CSV lacks the town');
  });
  await check('the list marks the drill 演练', async () => {
    await page.goto(`${URL}/#/emergencies`);
    await page.locator(`.em-card[data-id="${did}"] .drill-badge`, { hasText: '演练' }).waitFor();
    assert((await api('POST', `/emergencies/${did}/cancel`, { reason: '演练结束' })).status === 200, 'drill not cancelled');
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
  await check('a viewer sees the campaigns but no create, run, edit or quiet-hours controls', async () => {
    assert(cid, 'no campaign');
    await page.goto(`${URL}/#/campaigns`);
    await page.locator(`#campaign-table tr[data-id="${cid}"]`).waitFor();
    assert(await page.locator('#campaign-new').count() === 0, 'create offered');
    await page.locator(`#quiet .quiet-quick button[data-code="${TOWN}"]`).click();
    await page.locator('#quiet-own').waitFor();
    assert(await page.locator('#quiet-save, #quiet-mode-window').count() === 0, 'quiet hours editable');
    await page.goto(`${URL}/#/campaigns/${cid}`);
    await page.locator('#preview-table').waitFor();
    assert(await page.locator('#run-now, #edit-campaign, #toggle-enabled, #delete-campaign').count() === 0, 'actions offered');
    await page.goto(`${URL}/#/campaigns/new`);
    await page.locator('main', { hasText: '无权' }).waitFor();
    const r = await api('POST', `/campaigns/${cid}/run`, {}, VIEWER);
    assert(r.status === 403, `run as a viewer: ${r.status}`);
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
