// The in-browser VM console end to end, in headless Chromium: a template's
// Console tab connects with VNC (noVNC) and then SPICE (spice-html5) through
// the service's WebSocket gateway and shows a screen that is not blank; a
// used VNC token is refused; optionally a desktop's console in the pop-out
// route (#/console/desktop/<uuid>, no shell).
//
//   node tests/browser/vm-console.mjs <base_url> <template_uuid> <out_dir> [desktop_uuid]
//
// Or from the environment: VDI_BASE_URL, VDI_TEMPLATE_UUID, VDI_OUT_DIR,
// VDI_DESKTOP_UUID (arguments win). VDI_ADMIN (default `admin`) and
// VDI_ADMIN_PASSWORD sign in. VM_CONSOLE_TIMEOUT_MS (default 60000) bounds
// each wait for "connected" and for a non-blank screen; VM_CONSOLE_STEPS
// (comma-separated: vnc,spice,reuse,desktop) runs only those. The template
// (and the desktop) must be running.
//
// VM_CONSOLE_STEPS=install (not in the default list) instead takes a template
// created from an ISO (status installing, powered off, booting the installer
// ISO) and installs it as an admin would, all in the page: Start, Console
// tab, VNC, press `i` on the canvas, wait for the installer's second line
// (more lit pixels), Disconnect, Force off, Eject, Finish installation (the
// Save dialog), then Start again, VNC, screen, Disconnect, Force off. The
// header shows no power state: "running" and "off" are the power action's
// success toast, whose request returns once the domain has started or
// stopped. Writes install-prompt.png, install-done.png, installed-page.png
// (pages) and installed.png (the screen element); adds "install":{…} below.
//
// Writes <out_dir>/vnc.png, <out_dir>/spice.png (the console's screen
// element), <out_dir>/desktop-vnc.png with a desktop, <out_dir>/failure.png
// on failure. Prints one JSON line on stdout:
//   {"ok":true,"template":"…","vnc":{"connect_ms":…,"screen_ms":…,"canvas":{"width":…,"height":…,"colours":…,"non_black":…},"screenshot":"…/vnc.png"},
//    "spice":{…},"token_reuse":{"first":"RFB 003.008","security_types":[…],"second":{"opened":false,"bytes":0,"close_code":1006},"refused":true},
//    "desktop":{…}|null,"install":{…}|null,"ms":…}
// and exits 0; on failure the line has "ok":false, "step" and "error", the
// reason and the page's text go to stderr, and it exits 1 (2: bad usage).

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const USAGE = 'usage: node tests/browser/vm-console.mjs <base_url> <template_uuid> <out_dir> [desktop_uuid]  (env: VDI_ADMIN_PASSWORD; VDI_BASE_URL, VDI_TEMPLATE_UUID, VDI_OUT_DIR, VDI_DESKTOP_UUID, VDI_ADMIN)';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const VIEWPORT = { width: 1366, height: 900 };
const TIMEOUT_MS = Number(process.env.VM_CONSOLE_TIMEOUT_MS || 60_000);
const OVERALL_TIMEOUT_MS = 10 * 60_000;

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
const [baseArg, templateArg, outArg, desktopArg] = args.filter((a) => !a.startsWith('--'));
const baseUrl = baseArg || process.env.VDI_BASE_URL || '';
const templateUuid = templateArg || process.env.VDI_TEMPLATE_UUID || '';
const outDir = outArg || process.env.VDI_OUT_DIR || '';
const desktopUuid = desktopArg || process.env.VDI_DESKTOP_UUID || '';
const ADMIN = process.env.VDI_ADMIN || 'admin';
const PASSWORD = process.env.VDI_ADMIN_PASSWORD || '';
const STEPS = new Set((process.env.VM_CONSOLE_STEPS || 'vnc,spice,reuse,desktop').split(',').map((s) => s.trim()).filter(Boolean));
if (!baseUrl || !templateUuid || !outDir) {
  console.error(USAGE);
  process.exit(2);
}
if (!PASSWORD) {
  console.error(`VDI_ADMIN_PASSWORD is not set (the password of the admin \`${ADMIN}\`)`);
  process.exit(2);
}
const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
const out = resolve(outDir);
mkdirSync(out, { recursive: true });

class Failure extends Error {}
const fail = (msg) => {
  throw new Failure(msg);
};
const log = (msg) => console.error(`[vm-console] ${msg}`);
const result = { ok: false, template: templateUuid, vnc: null, spice: null, token_reuse: null, desktop: null, install: null, ms: 0 };
let step = 'start';

// ---------------------------------------------------------------- the page

const SEL = {
  root: '[data-testid="vm-console"]',
  screen: '[data-testid="vm-console-screen"]',
  status: '[data-testid="vm-console-status"]',
  connect: '[data-testid="vm-console-connect"]',
  disconnect: '[data-testid="vm-console-disconnect"]',
  proto: (p) => `[data-testid="vm-console-proto-${p}"] button`,
};

async function signIn(page) {
  await page.goto(base, { waitUntil: 'load' });
  await page.locator('#pf-login-username-id').waitFor({ state: 'visible', timeout: 30_000 }).catch(() => fail('the sign-in page did not show'));
  await page.fill('#pf-login-username-id', ADMIN);
  await page.fill('#pf-login-password-id', PASSWORD);
  await page.click('button[type=submit]');
  await page.locator('[data-testid="user-menu"]').waitFor({ state: 'visible', timeout: 30_000 }).catch(() => fail('signing in did not show the console (no user menu)'));
}

/** Records every data-state the status element takes (a MutationObserver), from now on. */
async function watchStates(page) {
  await page.locator(SEL.status).waitFor({ state: 'attached', timeout: 15_000 });
  await page.evaluate((sel) => {
    const el = document.querySelector(sel);
    window.__vmStates = [el.getAttribute('data-state')];
    window.__vmObs?.disconnect();
    window.__vmObs = new MutationObserver(() => window.__vmStates.push(el.getAttribute('data-state')));
    window.__vmObs.observe(el, { attributes: true, attributeFilter: ['data-state'] });
  }, SEL.status);
}

async function statusText(page) {
  return (await page.locator(SEL.status).innerText({ timeout: 5_000 }).catch(() => '')).replace(/\s+/g, ' ').trim();
}

/** Waits for `connected`; fails at once when a connect ends in `disconnected`. */
async function waitConnected(page, what) {
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const states = await page.evaluate(() => window.__vmStates || []);
    const now = await page.locator(SEL.status).getAttribute('data-state');
    if (now === 'connected') return;
    const i = states.lastIndexOf('connecting');
    if (i >= 0 && states.slice(i + 1).includes('disconnected')) {
      const alerts = page.locator(`${SEL.root} [data-testid="error-alert"]`);
      const alert = (await alerts.count()) ? await alerts.first().innerText({ timeout: 2_000 }).catch(() => '') : '';
      fail(`${what}: the console did not connect: ${await statusText(page)}${alert ? ` — ${alert.replace(/\s+/g, ' ')}` : ''}`);
    }
    if (Date.now() > deadline) fail(`${what}: not connected after ${TIMEOUT_MS / 1000} s (state ${now}: ${await statusText(page)})`);
    await page.waitForTimeout(200);
  }
}

/**
 * The biggest canvas under the screen element, sampled: size, distinct colours, non-black pixels.
 * With `full`, every pixel is counted, and `lit` counts the bright ones (a channel at 64 or more).
 */
async function sampleCanvas(page, { full = false } = {}) {
  return page.evaluate(([sel, full]) => {
    const canvases = [...document.querySelectorAll(`${sel} canvas`)].filter((c) => c.width > 0 && c.height > 0);
    if (!canvases.length) return { found: false };
    const c = canvases.sort((a, b) => b.width * b.height - a.width * a.height)[0];
    const ctx = c.getContext('2d');
    if (!ctx) return { found: true, readable: false, width: c.width, height: c.height };
    const { width, height } = c;
    const data = ctx.getImageData(0, 0, width, height).data;
    const pixels = width * height;
    const stride = full ? 1 : Math.max(1, Math.floor(pixels / 40000));
    const colours = new Set();
    let nonBlack = 0;
    let lit = 0;
    for (let p = 0; p < pixels; p += stride) {
      const i = p * 4;
      if (data[i + 3] === 0) continue; // not drawn yet
      const rgb = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
      colours.add(rgb);
      if (rgb !== 0) nonBlack++;
      if (full && Math.max(data[i], data[i + 1], data[i + 2]) >= 64) lit++;
    }
    const r = { found: true, readable: true, width, height, colours: colours.size, non_black: nonBlack };
    if (full) r.lit = lit;
    return r;
  }, [SEL.screen, full]);
}

/** Waits until the screen shows something: more than one colour, or any non-black pixel. */
async function waitScreen(page, what) {
  const deadline = Date.now() + TIMEOUT_MS;
  let last = null;
  for (;;) {
    last = await sampleCanvas(page);
    if (last.found && last.readable && (last.colours > 1 || last.non_black > 0)) return { width: last.width, height: last.height, colours: last.colours, non_black: last.non_black };
    if ((await page.locator(SEL.status).getAttribute('data-state')) === 'disconnected') fail(`${what}: disconnected before the screen showed anything: ${await statusText(page)}`);
    if (Date.now() > deadline) fail(`${what}: the screen stayed blank for ${TIMEOUT_MS / 1000} s (${JSON.stringify(last)})`);
    await page.waitForTimeout(250);
  }
}

/** Picks the protocol, connects, waits for a screen, saves <name>.png, disconnects. */
async function session(page, protocol, name) {
  step = name;
  await page.locator(SEL.proto(protocol)).click();
  if ((await page.locator(SEL.proto(protocol)).getAttribute('aria-pressed')) !== 'true') fail(`${name}: the ${protocol} toggle did not select`);
  await watchStates(page);
  const t0 = Date.now();
  await page.locator(SEL.connect).click();
  await waitConnected(page, name);
  const connectMs = Date.now() - t0;
  const canvas = await waitScreen(page, name);
  const screenMs = Date.now() - t0;
  const shot = join(out, `${name}.png`);
  await page.locator(SEL.screen).screenshot({ path: shot });
  // The whole page too (the README shows it).
  await page.screenshot({ path: join(out, `${name}-page.png`) });
  log(`${name}: connected in ${connectMs} ms, screen ${canvas.width}x${canvas.height} after ${screenMs} ms (${canvas.colours} colours) -> ${shot}`);
  await page.locator(SEL.disconnect).click();
  await page.locator(`${SEL.status}[data-state="disconnected"]`).waitFor({ state: 'attached', timeout: 15_000 }).catch(() => fail(`${name}: Disconnect did not end the session`));
  return { connect_ms: connectMs, screen_ms: screenMs, canvas, screenshot: shot };
}

// ---------------------------------------------------------------- a used token

/**
 * console/open for VNC, then two WebSockets to its path: the first must
 * complete the RFB version handshake (the server's first 12 bytes are
 * "RFB 003.008\n"; we answer the same and read the security types), the
 * second, while the first is still open, must fail or close without a byte.
 */
async function tokenReuse(page) {
  step = 'reuse';
  const r = await page.evaluate(async (uuid) => {
    const ascii = (b) => String.fromCharCode(...b);
    const s = JSON.parse(sessionStorage.getItem('vdi-appliance.session') || 'null');
    if (!s) return { error: 'no session in sessionStorage' };
    const res = await fetch('/api/v1/console/open', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: `Bearer ${s.access_token}` },
      body: JSON.stringify({ kind: 'template', uuid, protocol: 'vnc' }),
    });
    const env = await res.json().catch(() => null);
    if (!env || env.code !== 0) return { error: `console/open answered HTTP ${res.status}: ${env ? env.msg : 'no envelope'}` };
    const path = env.data && env.data.path;
    if (!path) return { error: 'console/open gave no path' };
    const url = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${path}`;

    const firstWs = new WebSocket(url, ['binary']);
    firstWs.binaryType = 'arraybuffer';
    const first = await new Promise((done) => {
      let buf = new Uint8Array(0);
      let answered = false;
      const timer = setTimeout(() => done({ ok: false, why: 'no RFB handshake within 15 s', got: ascii(buf.slice(0, 12)) }), 15_000);
      const finish = (v) => {
        clearTimeout(timer);
        done(v);
      };
      firstWs.onmessage = (e) => {
        const add = new Uint8Array(e.data);
        const next = new Uint8Array(buf.length + add.length);
        next.set(buf);
        next.set(add, buf.length);
        buf = next;
        if (!answered && buf.length >= 12) {
          const version = ascii(buf.slice(0, 12));
          if (version !== 'RFB 003.008\n') return finish({ ok: false, why: 'not an RFB 3.8 server', got: version });
          firstWs.send(new TextEncoder().encode('RFB 003.008\n'));
          answered = true;
        }
        // Security types: a count, then that many bytes (a count of 0 is a refusal with a reason).
        if (answered && buf.length > 12 && buf.length >= 13 + buf[12]) finish({ ok: true, version: ascii(buf.slice(0, 12)), types: [...buf.slice(13, 13 + buf[12])] });
      };
      firstWs.onclose = (e) => finish({ ok: false, why: `closed (code ${e.code}) after ${buf.length} byte(s)`, got: ascii(buf.slice(0, 12)) });
    });
    if (!first.ok) {
      firstWs.close();
      return { url: path, first };
    }

    const second = await new Promise((done) => {
      const ws = new WebSocket(url, ['binary']);
      ws.binaryType = 'arraybuffer';
      let opened = false;
      let bytes = 0;
      const timer = setTimeout(() => {
        ws.close();
        done({ opened, bytes, timed_out: true });
      }, 8_000);
      ws.onopen = () => {
        opened = true;
      };
      ws.onmessage = (e) => {
        bytes += e.data.byteLength;
      };
      ws.onclose = (e) => {
        clearTimeout(timer);
        done({ opened, bytes, close_code: e.code });
      };
    });
    firstWs.close();
    return { url: path, first, second };
  }, templateUuid);
  if (r.error) fail(`token reuse: ${r.error}`);
  if (!r.first.ok) fail(`token reuse: the first WebSocket did not complete the RFB version handshake: ${r.first.why} (got ${JSON.stringify(r.first.got)})`);
  if (r.first.types.length === 0) fail('token reuse: the first WebSocket got a security-type list of 0 (the VNC server refused the connection)');
  const refused = !r.second.timed_out && r.second.bytes === 0;
  const summary = { first: r.first.version.trim(), security_types: r.first.types, second: r.second, refused };
  if (r.second.bytes > 0) fail(`token reuse: a used VNC token was admitted again (the second WebSocket got ${r.second.bytes} byte(s)): ${JSON.stringify(summary)}`);
  if (r.second.timed_out) fail(`token reuse: the second WebSocket on a used token neither failed nor closed in 8 s: ${JSON.stringify(summary)}`);
  log(`token reuse: first ${summary.first} (security types ${summary.security_types.join(',')}), second ${r.second.opened ? 'opened and ' : ''}closed with code ${r.second.close_code} and no data`);
  return summary;
}

// ---------------------------------------------------------------- install from an ISO

const TPL = {
  status: '[data-testid="template-status"]',
  version: '[data-testid="template-version"]',
  button: (verb) => `[data-testid="template-${verb}"]`,
  tab: '[data-testid="template-tab-console"]',
  console: '[data-testid="template-console"]',
  // The Console tab's drive (the Overview tab keeps another, hidden).
  isoCurrent: '[data-testid="template-console"] [data-testid="template-iso-current"]',
  isoEject: '[data-testid="template-console"] [data-testid="template-iso-eject"]',
  isoCard: '[data-testid="template-console"] [data-testid="template-iso"]',
  saveModal: '[data-testid="template-save-modal"]',
  saveRemark: '[data-testid="template-save-modal"] [data-testid="template-save-remark"]',
  saveSubmit: '[data-testid="template-save-modal"] [data-testid="template-save-submit"]',
  toast: '.pf-v6-c-alert-group.pf-m-toast .pf-v6-c-alert',
};
/** The status label's words (locales/{en,zh-CN}/templates.json `status`); it shows the record's status, never the power state. */
const STATUS_WORDS = {
  active: ['Ready', '就绪'],
  inactive: ['Inactive', '未启用'],
  error: ['Error', '错误'],
  updating: ['Saving', '保存中'],
  installing: ['Installing', '安装中'],
};
/** The installer's second line adds ~1,000 lit pixels at 720x400; a blinking text cursor is under 150. */
const KEY_MARGIN = 300;
const STEADY_NOISE = 150;
const STEADY_MS = 3_000;
const REMARK = 'installed from the ISO in the browser';

const squash = (s) => (s || '').replace(/\s+/g, ' ').trim();

async function textOf(page, sel) {
  return squash(await page.locator(sel).first().innerText({ timeout: 5_000 }).catch(() => ''));
}

/** The status label: its text and the status it names (null when the words are unknown). */
async function templateStatus(page) {
  const text = await textOf(page, TPL.status);
  const status = Object.keys(STATUS_WORDS).find((k) => STATUS_WORDS[k].includes(text)) || null;
  return { text, status };
}

async function versionLabel(page) {
  const text = await textOf(page, TPL.version);
  const m = text.match(/\d+/);
  return { text, n: m ? Number(m[0]) : null };
}

/** Marks the toasts shown now, so that the next one is told apart. */
async function markToasts(page) {
  await page.evaluate((sel) => document.querySelectorAll(sel).forEach((a) => a.setAttribute('data-vmc-seen', '1')), TPL.toast);
}

/** The first toast (success or danger) since markToasts: variant, title, body. */
async function waitToast(page, what) {
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const t = await page.evaluate((sel) => {
      for (const a of document.querySelectorAll(`${sel}:not([data-vmc-seen])`)) {
        const variant = ['success', 'danger', 'warning', 'info'].find((v) => a.classList.contains(`pf-m-${v}`)) || 'custom';
        if (variant !== 'success' && variant !== 'danger') continue;
        const title = a.querySelector('.pf-v6-c-alert__title')?.cloneNode(true);
        title?.querySelectorAll('.pf-v6-screen-reader').forEach((x) => x.remove());
        const body = a.querySelector('.pf-v6-c-alert__description');
        return { variant, title: title ? title.textContent : '', body: body ? body.textContent : '' };
      }
      return null;
    }, TPL.toast);
    if (t) return { variant: t.variant, title: squash(t.title), body: squash(t.body) };
    if (Date.now() > deadline) fail(`${what}: no notification within ${TIMEOUT_MS / 1000} s`);
    await page.waitForTimeout(200);
  }
}

async function waitEnabled(locator, what) {
  const deadline = Date.now() + TIMEOUT_MS;
  await locator.waitFor({ state: 'visible', timeout: TIMEOUT_MS }).catch(() => fail(`${what}: the button does not show`));
  while (!(await locator.isEnabled())) {
    if (Date.now() > deadline) fail(`${what}: the button stayed disabled for ${TIMEOUT_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * A power button in the template's header (start, hard_stop). The page
 * shows no power state, so "running" / "off" is the action's success
 * toast: the web dialect's batch answers once the task is done (the domain
 * started, or destroyed), and the page says "<name> is starting" / "<name>
 * was powered off"; a failure is a danger toast with the server's words.
 */
async function powerAction(page, verb, what) {
  const button = page.locator(TPL.button(verb));
  await waitEnabled(button, `${what} (${verb})`);
  await markToasts(page);
  const t0 = Date.now();
  await button.click();
  const toast = await waitToast(page, `${what} (${verb})`);
  if (toast.variant !== 'success') fail(`${what}: ${verb} failed: ${toast.title}${toast.body ? ` — ${toast.body}` : ''}`);
  // The page reloads the template after the action; its buttons come back.
  await waitEnabled(button, `${what} (${verb})`);
  const status = await templateStatus(page);
  log(`${what}: ${verb} done in ${Date.now() - t0} ms ("${toast.title}"; status label ${status.text})`);
  return { ms: Date.now() - t0, toast: toast.title, status_label: status.text };
}

async function openConsoleTab(page, what) {
  const tab = page.locator(TPL.tab);
  await tab.waitFor({ state: 'visible', timeout: 30_000 }).catch(() => fail(`${what}: no Console tab`));
  await tab.click();
  await page.locator(`${TPL.console} ${SEL.root}`).waitFor({ state: 'visible', timeout: 15_000 }).catch(() => fail(`${what}: the Console tab shows no VM console`));
}

/** VNC, Connect, a screen that is not blank; stays connected. */
async function connectVnc(page, what) {
  await page.locator(SEL.proto('vnc')).click();
  if ((await page.locator(SEL.proto('vnc')).getAttribute('aria-pressed')) !== 'true') fail(`${what}: the VNC toggle did not select`);
  await watchStates(page);
  const t0 = Date.now();
  await page.locator(SEL.connect).click();
  await waitConnected(page, what);
  const connectMs = Date.now() - t0;
  const canvas = await waitScreen(page, what);
  return { connect_ms: connectMs, screen_ms: Date.now() - t0, canvas };
}

async function disconnectConsole(page, what) {
  await page.locator(SEL.disconnect).click();
  await page.locator(`${SEL.status}[data-state="disconnected"]`).waitFor({ state: 'attached', timeout: 15_000 }).catch(() => fail(`${what}: Disconnect did not end the session`));
}

/** Waits until the screen stops changing (lit pixels within STEADY_NOISE for STEADY_MS): the guest has printed what it prints. */
async function waitSteady(page, what) {
  const deadline = Date.now() + TIMEOUT_MS;
  let ref = null;
  let since = Date.now();
  for (;;) {
    const s = await sampleCanvas(page, { full: true });
    if (!s.found || !s.readable) fail(`${what}: the console's canvas is gone or unreadable (${JSON.stringify(s)})`);
    if (ref === null || Math.abs(s.lit - ref) > STEADY_NOISE) {
      ref = s.lit;
      since = Date.now();
    } else if (Date.now() - since >= STEADY_MS) {
      return { width: s.width, height: s.height, colours: s.colours, non_black: s.non_black, lit: s.lit };
    }
    if ((await page.locator(SEL.status).getAttribute('data-state')) === 'disconnected') fail(`${what}: disconnected: ${await statusText(page)}`);
    if (Date.now() > deadline) fail(`${what}: the screen kept changing for ${TIMEOUT_MS / 1000} s (lit ${s.lit})`);
    await page.waitForTimeout(250);
  }
}

async function install(page) {
  const t0 = Date.now();
  const r = { template: templateUuid };

  step = 'install:open';
  if (!page.url().includes(`#/templates/${encodeURIComponent(templateUuid)}`)) await page.goto(`${base}#/templates/${encodeURIComponent(templateUuid)}`);
  await page.locator(TPL.status).waitFor({ state: 'visible', timeout: 30_000 }).catch(() => fail(`#/templates/${templateUuid} shows no status (does the template exist?)`));
  const before = await templateStatus(page);
  r.status_before = before.text;
  if (before.status && before.status !== 'installing') fail(`the template is not installing from an ISO: its status label says "${before.text}" (${before.status})`);
  if (!before.status) log(`install: the status label says "${before.text}" (words this script does not know; going on)`);
  const versionBefore = await versionLabel(page);
  r.save_button = await textOf(page, TPL.button('save'));

  // 1. Start: the installer ISO boots.
  step = 'install:start';
  r.start = await powerAction(page, 'start', 'install: start');

  // 2. Console tab, VNC, the installer's prompt.
  step = 'install:prompt';
  await openConsoleTab(page, 'install: prompt');
  r.prompt = await connectVnc(page, 'install: prompt');
  const prompt = await waitSteady(page, 'install: prompt');
  r.prompt.steady = prompt;
  r.prompt.screenshot = join(out, 'install-prompt.png');
  await page.screenshot({ path: r.prompt.screenshot });
  log(`install: prompt on screen (${prompt.width}x${prompt.height}, ${prompt.lit} lit) after ${r.prompt.screen_ms} ms`);

  // 3. `i` on the console: a click focuses noVNC's canvas (focusOnClick;
  // its keyboard listens on the canvas), then a real key press. If the
  // screen does not change, the same key is dispatched to the canvas's
  // listeners (noVNC's Keyboard, which sends it as a key event).
  step = 'install:key';
  const canvasEl = page.locator(`${SEL.screen} canvas`).first();
  await canvasEl.click();
  const focused = () => page.evaluate((sel) => !!document.activeElement && document.activeElement.tagName === 'CANVAS' && !!document.activeElement.closest(sel), SEL.screen);
  let hadFocus = await focused();
  if (!hadFocus) {
    await canvasEl.focus();
    hadFocus = await focused();
    log(`install: the click did not focus the canvas; focus() ${hadFocus ? 'did' : 'did not either'}`);
  }
  const tk = Date.now();
  await page.keyboard.press('i');
  let via = 'keyboard';
  const fallbackAt = tk + Math.min(15_000, TIMEOUT_MS / 2);
  const keyDeadline = tk + TIMEOUT_MS;
  let after = null;
  for (;;) {
    const s = await sampleCanvas(page, { full: true });
    if (s.found && s.readable && s.lit > prompt.lit + KEY_MARGIN) {
      after = s;
      break;
    }
    if ((await page.locator(SEL.status).getAttribute('data-state')) === 'disconnected') fail(`install: disconnected after the key: ${await statusText(page)}`);
    if (via === 'keyboard' && Date.now() > fallbackAt) {
      via = 'dispatched';
      log(`install: no new text ${Math.round((Date.now() - tk) / 1000)} s after page.keyboard.press('i') (lit ${s.lit}, before ${prompt.lit}; canvas focused: ${await focused()}); dispatching the key to the canvas`);
      await page.evaluate((sel) => {
        const c = document.querySelector(`${sel} canvas`);
        c.focus();
        for (const type of ['keydown', 'keyup']) c.dispatchEvent(new KeyboardEvent(type, { key: 'i', code: 'KeyI', keyCode: 73, which: 73, bubbles: true, cancelable: true }));
      }, SEL.screen);
    }
    if (Date.now() > keyDeadline) fail(`install: the screen did not change after pressing i (lit ${s.lit}, before ${prompt.lit}, wanted > ${prompt.lit + KEY_MARGIN}; sent by ${via}; canvas focused: ${await focused()})`);
    await page.waitForTimeout(250);
  }
  const keyMs = Date.now() - tk;
  const done = await waitSteady(page, 'install: after the key');
  r.key = {
    via,
    canvas_focused: hadFocus,
    ms: keyMs,
    before: { non_black: prompt.non_black, lit: prompt.lit },
    after: { non_black: done.non_black, lit: done.lit },
    first_change: { non_black: after.non_black, lit: after.lit },
    screenshot: join(out, 'install-done.png'),
  };
  await page.screenshot({ path: r.key.screenshot });
  log(`install: i (${via}) -> lit ${prompt.lit} -> ${done.lit} in ${keyMs} ms`);

  // 4. Disconnect, force off, eject.
  step = 'install:stop';
  await disconnectConsole(page, 'install: stop');
  r.stop = await powerAction(page, 'hard_stop', 'install: stop');

  step = 'install:eject';
  const isoBefore = await textOf(page, TPL.isoCurrent);
  const eject = page.locator(TPL.isoEject);
  await eject.waitFor({ state: 'visible', timeout: 15_000 }).catch(() => fail('install: the Console tab shows no Eject'));
  if (!(await eject.isEnabled())) fail(`install: Eject is disabled: no ISO in the drive? (${isoBefore})`);
  const te = Date.now();
  await eject.click();
  for (;;) {
    const now = await textOf(page, TPL.isoCurrent);
    if (now && now !== isoBefore && !(await eject.isEnabled())) {
      r.eject = { ms: Date.now() - te, before: isoBefore, after: now };
      break;
    }
    const alert = page.locator(`${TPL.isoCard} [data-testid="error-alert"]`);
    if (await alert.count()) fail(`install: eject failed: ${squash(await alert.first().innerText({ timeout: 2_000 }).catch(() => ''))}`);
    if (Date.now() > te + TIMEOUT_MS) fail(`install: the drive still says "${now}" ${TIMEOUT_MS / 1000} s after Eject`);
    await page.waitForTimeout(250);
  }
  log(`install: ejected ("${r.eject.before}" -> "${r.eject.after}") in ${r.eject.ms} ms`);

  // 5. Save (Finish installation).
  step = 'install:save';
  const saveButton = page.locator(TPL.button('save'));
  await waitEnabled(saveButton, 'install: save');
  await saveButton.click();
  await page.locator(TPL.saveModal).waitFor({ state: 'visible', timeout: 15_000 }).catch(() => fail('install: the save dialog did not open'));
  // Finishing an installation (iso_save) takes no remark; the dialog shows the field only for a plain save.
  const remark = page.locator(TPL.saveRemark);
  const hasRemark = (await remark.count()) > 0;
  if (hasRemark) await remark.fill(REMARK);
  else log('install: the Finish installation dialog has no remark field (iso_save records its own)');
  const ts = Date.now();
  await page.locator(TPL.saveSubmit).click();
  for (;;) {
    if (!(await page.locator(TPL.saveModal).count())) break;
    const alert = page.locator(`${TPL.saveModal} [data-testid="error-alert"]`);
    if (await alert.count()) fail(`install: saving failed: ${squash(await alert.first().innerText({ timeout: 2_000 }).catch(() => ''))}`);
    if (Date.now() > ts + TIMEOUT_MS) fail(`install: the save dialog is still open ${TIMEOUT_MS / 1000} s after submitting`);
    await page.waitForTimeout(250);
  }
  let statusAfter;
  let versionAfter;
  for (;;) {
    statusAfter = await templateStatus(page);
    versionAfter = await versionLabel(page);
    if (statusAfter.status === 'error') fail(`install: after saving the status label says "${statusAfter.text}"`);
    const settled = statusAfter.text && statusAfter.text !== before.text && statusAfter.status !== 'updating';
    if (settled && versionAfter.text && versionAfter.text !== versionBefore.text) break;
    if (Date.now() > ts + TIMEOUT_MS) fail(`install: ${TIMEOUT_MS / 1000} s after saving the status label says "${statusAfter.text}" (was "${before.text}") and the version "${versionAfter.text}" (was "${versionBefore.text}")`);
    await page.waitForTimeout(250);
  }
  r.save = { ms: Date.now() - ts, remark: hasRemark ? REMARK : null, status_after: statusAfter.text, version_before: versionBefore.text, version_after: versionAfter.text };
  r.version_before = versionBefore.n;
  r.version_after = versionAfter.n;
  log(`install: saved in ${r.save.ms} ms: ${versionBefore.text} -> ${versionAfter.text}, status "${statusAfter.text}"`);

  // 6. The installed system boots from its disk.
  step = 'install:boot';
  r.boot_start = await powerAction(page, 'start', 'install: boot');
  await openConsoleTab(page, 'install: boot');
  r.boot = await connectVnc(page, 'install: boot');
  r.boot.steady = await waitSteady(page, 'install: boot');
  r.boot.screenshot = join(out, 'installed.png');
  r.boot.page_screenshot = join(out, 'installed-page.png');
  await page.locator(SEL.screen).screenshot({ path: r.boot.screenshot });
  await page.screenshot({ path: r.boot.page_screenshot });
  log(`install: the installed system's screen (${r.boot.steady.lit} lit) -> ${r.boot.screenshot}`);
  await disconnectConsole(page, 'install: boot');

  step = 'install:stop-again';
  r.boot_stop = await powerAction(page, 'hard_stop', 'install: stop again');

  r.ms = Date.now() - t0;
  return r;
}

// ---------------------------------------------------------------- the run

async function run(page) {
  step = 'sign-in';
  await signIn(page);

  step = 'template';
  await page.goto(`${base}#/templates/${encodeURIComponent(templateUuid)}`);
  const tab = page.locator('[data-testid="template-tab-console"]');
  await tab.waitFor({ state: 'visible', timeout: 30_000 }).catch(() => fail(`#/templates/${templateUuid} shows no Console tab (does the template exist?)`));
  await tab.click();
  await page.locator(`[data-testid="template-console"] ${SEL.root}`).waitFor({ state: 'visible', timeout: 15_000 }).catch(() => fail('the Console tab shows no VM console'));

  if (STEPS.has('vnc')) result.vnc = await session(page, 'vnc', 'vnc');
  if (STEPS.has('spice')) result.spice = await session(page, 'spice', 'spice');
  if (STEPS.has('reuse')) result.token_reuse = await tokenReuse(page);

  if (desktopUuid && STEPS.has('desktop')) {
    step = 'desktop';
    await page.goto(`${base}#/console/desktop/${encodeURIComponent(desktopUuid)}?protocol=vnc`);
    await page.locator(`[data-testid="vm-console-page"] ${SEL.root}`).waitFor({ state: 'visible', timeout: 15_000 }).catch(() => fail('#/console/desktop/<uuid> shows no console'));
    if (await page.locator('[data-testid="user-menu"]').count()) fail('the pop-out route shows the shell (a user menu)');
    result.desktop = { uuid: desktopUuid, ...(await session(page, 'vnc', 'desktop-vnc')) };
  }

  if (STEPS.has('install')) result.install = await install(page);
}

const t0 = Date.now();
const dir = mkdtempSync(join(tmpdir(), 'vdi-vm-console-'));
let context = null;
let page = null;
const overall = setTimeout(() => {
  console.log(JSON.stringify({ ...result, ok: false, step, error: `the run took over ${OVERALL_TIMEOUT_MS / 60000} min` }));
  process.exit(1);
}, OVERALL_TIMEOUT_MS);
let code = 0;
try {
  context = await chromium.launchPersistentContext(dir, { executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS, viewport: VIEWPORT, ignoreHTTPSErrors: true });
  page = context.pages()[0] || (await context.newPage());
  // An uncaught error in the page fails the run (after the steps, so the
  // step that failed is still named when one does).
  const pageErrors = [];
  page.on('pageerror', (e) => {
    log(`page error: ${e.message}`);
    pageErrors.push(e.message);
  });
  await run(page);
  step = 'page errors';
  if (pageErrors.length) fail(`${pageErrors.length} uncaught error(s) in the page: ${pageErrors.slice(0, 3).join(' | ')}`);
  result.ok = true;
} catch (err) {
  code = 1;
  result.step = step;
  result.error = err instanceof Failure ? err.message : `${err && err.stack ? err.stack : err}`;
  console.error(`VM-CONSOLE FAILED at ${step}: ${result.error}`);
  if (page) {
    await page.screenshot({ path: join(out, 'failure.png'), fullPage: true }).catch(() => {});
    const text = await page.evaluate(() => document.body.innerText).catch(() => '');
    if (text) console.error(`--- the page's text ---\n${text}\n---`);
  }
} finally {
  clearTimeout(overall);
  result.ms = Date.now() - t0;
  if (context) await context.close().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(result));
process.exit(code);
