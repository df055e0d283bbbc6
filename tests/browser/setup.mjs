// Drives the first-boot setup page end to end in headless Chromium, then
// signs in to the console and waits for the controller node to be listed.
//
//   node tests/browser/setup.mjs <base_url> <setup_token> <mount_point> <screenshot_dir>
//
// Prints `BROWSER OK` and exits 0 on success. On failure prints the reason
// and the page's visible text, saves failure.png and exits 1.

import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const ADMIN = 'admin';
const PASSWORD = 'first-boot-pass1';
const TASK_TIMEOUT_MS = 120_000;
const PROBE_TIMEOUT_MS = 90_000;
const STEP_TIMEOUT_MS = 30_000;
const OVERALL_TIMEOUT_MS = 6 * 60_000;

const [baseUrl, setupToken, mountArg, shotDirArg] = process.argv.slice(2);
if (!baseUrl || !setupToken || !mountArg || !shotDirArg) {
  console.log('usage: node tests/browser/setup.mjs <base_url> <setup_token> <mount_point> <screenshot_dir>');
  process.exit(2);
}
// The page lists mount points without a trailing slash.
const mountPoint = mountArg.length > 1 ? mountArg.replace(/\/+$/, '') : mountArg;
const shotDir = resolve(shotDirArg);
mkdirSync(shotDir, { recursive: true });

class Failure extends Error {}
const fail = (msg) => {
  throw new Failure(msg);
};

let browser;
let page;

const log = (msg) => console.log(`[browser] ${msg}`);

async function shot(name) {
  const path = join(shotDir, name);
  await page.screenshot({ path, fullPage: true });
  log(`screenshot ${path}`);
}

// Visible text of an element, or '' when absent or hidden.
async function visibleText(selector) {
  const loc = page.locator(selector);
  if ((await loc.count()) === 0 || !(await loc.first().isVisible())) return '';
  return (await loc.first().innerText()).trim();
}

// Waits until one of several named conditions holds; returns its name.
async function waitForAny(conds, timeout, what) {
  const deadline = Date.now() + timeout;
  for (;;) {
    for (const [name, check] of Object.entries(conds)) {
      if (await check()) return name;
    }
    if (Date.now() > deadline) fail(`timed out after ${timeout / 1000} s waiting for ${what}`);
    await page.waitForTimeout(250);
  }
}

const visible = (sel) => async () => {
  const loc = page.locator(sel);
  return (await loc.count()) > 0 && (await loc.first().isVisible());
};

async function signIn() {
  log('step 1: sign in');
  const which = await waitForAny(
    {
      form: visible('#signin-form'),
      loadError: visible('#load-error'),
      already: visible('#already'),
      console: visible('#login-form'),
    },
    STEP_TIMEOUT_MS,
    'the sign-in form',
  );
  if (which === 'loadError') fail(`the page could not load the setup state: ${await visibleText('#load-error-text')}`);
  if (which === 'already' || which === 'console') fail('the service is already initialised: the setup page is not shown');

  if (await page.locator('#setup_token').isVisible()) {
    log('no admin yet: creating it with the setup token');
    await page.fill('#setup_token', setupToken);
    await page.fill('#admin_name', ADMIN);
    await page.fill('#admin_password', PASSWORD);
    await page.fill('#admin_password2', PASSWORD);
  } else {
    log('an admin exists: signing in');
    await page.fill('#admin_name', ADMIN);
    await page.fill('#admin_password', PASSWORD);
  }
  await page.click('#signin-submit');
  const r = await waitForAny(
    { done: visible('#signin-done'), error: visible('#signin-error') },
    STEP_TIMEOUT_MS,
    'the sign-in to finish',
  );
  if (r === 'error') fail(`sign-in failed: ${await visibleText('#signin-error')}`);
}

async function configure() {
  log('step 2: waiting for the hardware probe');
  const r = await waitForAny(
    { form: visible('#config-form'), error: visible('#probe-error') },
    PROBE_TIMEOUT_MS,
    'the hardware probe (node/check)',
  );
  if (r === 'error') fail(`the hardware probe failed: ${await visibleText('#probe-error-text')}`);
  const preset = await visibleText('#config-error');
  if (preset) fail(`the form reports a problem before anything was entered: ${preset}`);

  await page.selectOption('#switch_type', 'flat');

  // Roles 1-4 on the mount point, nothing anywhere else.
  const boxes = await page.locator('#storage-table input[data-path][data-role]').all();
  let onMount = 0;
  for (const box of boxes) {
    const path = await box.getAttribute('data-path');
    const want = path === mountPoint;
    if (want) onMount += 1;
    await box.setChecked(want);
  }
  if (onMount !== 4) {
    const rows = await page.locator('#storage-table tbody').innerText();
    fail(`the storage table does not offer roles 1-4 on ${mountPoint} (found ${onMount} boxes). Storage table:\n${rows}`);
  }

  const summary = await page.evaluate(() => ({
    ip: document.getElementById('ip').value,
    manage: document.getElementById('manage_interface').value,
    image: document.getElementById('image_interface').value,
    data: document.getElementById('data_interface').value,
    compute: document.getElementById('is_compute').checked,
  }));
  log(`form: ip ${summary.ip}, interfaces ${summary.manage}/${summary.image}/${summary.data}, is_compute ${summary.compute}`);
  await shot('setup-form.png');
}

async function initialise() {
  log('step 3: initialising');
  await page.click('#submit');
  const r = await waitForAny(
    {
      done: visible('#done'),
      failed: visible('#failed'),
      rejected: async () => (await visibleText('#config-error')) !== '' && !(await page.locator('#task').isVisible()),
    },
    TASK_TIMEOUT_MS,
    'the initialisation task to finish',
  );
  if (r === 'rejected') fail(`the service rejected the form: ${await visibleText('#config-error')}`);
  if (r === 'failed') {
    const logText = await page.locator('#task-log').innerText().catch(() => '');
    fail(`initialisation failed: ${await visibleText('#error')}\ntask log:\n${logText}`);
  }
  log(`initialised: ${(await visibleText('#result')).replace(/\s*\n\s*/g, ' ')}`);
  await shot('setup-done.png');
}

async function consoleCheck() {
  log('console: signing in');
  await page.click('#to-console');
  await page.locator('#login-form').waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS }).catch(() =>
    fail('the console did not show its sign-in form after initialisation'),
  );
  const title = await page.title();
  if (title !== 'vdi-appliance console') fail(`unexpected console title: ${title}`);
  await page.fill('#login_name', ADMIN);
  await page.fill('#login_password', PASSWORD);
  await page.click('#login-submit');
  const r = await waitForAny(
    { ok: visible('#whoami'), error: visible('#login-error') },
    STEP_TIMEOUT_MS,
    'the console sign-in',
  );
  if (r === 'error') fail(`console sign-in failed: ${await visibleText('#login-error')}`);
  const who = await visibleText('#whoami');
  if (!who.includes(ADMIN)) fail(`#whoami says "${who}"`);

  log('console: waiting for the controller node');
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  for (;;) {
    const found = await page.evaluate(() =>
      [...document.querySelectorAll('#nodes tbody tr')].some((tr) => {
        const c = tr.querySelector('td[data-col="role"]') || tr.cells[2];
        return !!c && c.textContent.includes('controller');
      }),
    );
    if (found) break;
    if (Date.now() > deadline) {
      const err = await visibleText('#nodes-error');
      fail(`no node with role "controller" was listed${err ? `: ${err}` : ''}`);
    }
    await page.waitForTimeout(1500);
    await page.click('#reload');
  }
  log(`console nodes: ${(await page.locator('#nodes tbody').innerText()).replace(/\t/g, ' | ').trim()}`);
  await shot('console.png');
}

async function main() {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error') console.log(`[page console error] ${msg.text()}`);
  });
  page.on('pageerror', (err) => console.log(`[page error] ${err.message}`));
  page.on('requestfailed', (req) => {
    const why = req.failure() ? req.failure().errorText : 'failed';
    if (why !== 'net::ERR_ABORTED') console.log(`[request failed] ${req.method()} ${req.url()}: ${why}`);
  });
  page.on('response', (res) => {
    if (res.status() >= 500) console.log(`[http ${res.status()}] ${res.request().method()} ${res.url()}`);
  });

  log(`opening ${baseUrl}`);
  const res = await page.goto(baseUrl, { waitUntil: 'load', timeout: STEP_TIMEOUT_MS });
  if (!res || !res.ok()) fail(`GET ${baseUrl} answered ${res ? res.status() : 'nothing'}`);

  await signIn();
  await configure();
  await initialise();
  await consoleCheck();
}

async function reportFailure(err) {
  console.log(`BROWSER FAIL: ${err instanceof Failure ? err.message : err && err.stack ? err.stack : err}`);
  if (page) {
    try {
      const text = await page.evaluate(() => document.body.innerText);
      console.log('--- visible page text ---');
      console.log(text);
      console.log('--- end of page text ---');
    } catch (e) {
      console.log(`(could not read the page text: ${e.message})`);
    }
    try {
      await shot('failure.png');
    } catch (e) {
      console.log(`(could not take failure.png: ${e.message})`);
    }
  }
}

const watchdog = setTimeout(async () => {
  await reportFailure(new Failure(`the whole run took longer than ${OVERALL_TIMEOUT_MS / 1000} s`));
  process.exit(1);
}, OVERALL_TIMEOUT_MS);

let code = 0;
try {
  await main();
  console.log('BROWSER OK');
} catch (err) {
  await reportFailure(err);
  code = 1;
} finally {
  clearTimeout(watchdog);
  if (browser) await browser.close().catch(() => {});
}
process.exit(code);
