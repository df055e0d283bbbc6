// The browser tier's console script: every page in headless Chromium
// (screenshots, axe-core, no console/page/CSP error), the dashboard's first
// load, and the whole admin's journey through the UI.
//
//   node tests/browser/console.mjs <base_url> <out_dir> <en|zh-CN> [--pages] [--journey] [--firstload]
//
// No flag: all. --pages also measures the first load (--firstload: only that). Env: VDI_ADMIN_PASSWORD (admin `admin`), VDI_QCOW2 (a
// small qcow2 for the journey's upload), JOURNEY_STEPS (comma-separated step
// names to run only those, e.g. "sign-in,dashboard,task-drawer,sign-out"),
// FIRSTLOAD_READY (the selector that means "the dashboard's data shown";
// default [data-testid="dashboard-ready"]).
// Writes <out_dir>/<lang>/<page>.png, <out_dir>/<lang>/journey/NN-<step>.png
// and <out_dir>/index.html (every page's en and zh-CN screenshots side by
// side, from whatever both folders hold). Prints `CONSOLE OK` and exits 0 on
// success; on failure prints the reason and the page's visible text, saves
// <out_dir>/<lang>/failure.png and exits 1.

import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import AxeBuilder from '@axe-core/playwright';
import { chromium } from 'playwright-core';
import { JOURNEY } from './console-journey.mjs';

const ADMIN = 'admin';
const PASSWORD = process.env.VDI_ADMIN_PASSWORD || '';
const VIEWPORT = { width: 1366, height: 768 };
const SETTLE_TIMEOUT_MS = 20_000;
const QUIET_MS = 500;
const FIRSTLOAD_RUNS = 5;
const OVERALL_TIMEOUT_MS = 20 * 60_000;
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** Every page of the console, in the order the index shows them. */
const PAGES = ['dashboard', 'servers', 'network', 'pools', 'images', 'templates', 'classrooms', 'edu', 'personal', 'users', 'terminals', 'tasks', 'oplog', 'settings'];
/** Detail pages: the first row of a listing, opened at its own address. */
const DETAILS = [
  { name: 'server-detail', list: '/api/v1.0/node/?searchtype=all&page=1&page_size=1', path: (r) => `servers/${r.uuid}` },
  { name: 'template-detail', list: '/api/v1.0/voi/education/template/?searchtype=all&page=1&page_size=1', path: (r) => `templates/${r.uuid}` },
  { name: 'edu-detail', list: '/api/v1.0/voi/education/desktop/?searchtype=all&page=1&page_size=1', path: (r) => `edu/${r.uuid}` },
  { name: 'personal-detail', list: '/api/v1.0/desktop_group/?searchtype=all&kind=personal&page=1&page_size=1', path: (r) => `personal/${r.uuid}` },
];

const args = process.argv.slice(2);
const flags = new Set(args.filter((a) => a.startsWith('--')));
const [baseArg, outArg, lang] = args.filter((a) => !a.startsWith('--'));
if (!baseArg || !outArg || !['en', 'zh-CN'].includes(lang)) {
  console.log('usage: node tests/browser/console.mjs <base_url> <out_dir> <en|zh-CN> [--pages] [--journey] [--firstload]');
  process.exit(2);
}
if (!PASSWORD) {
  console.log('VDI_ADMIN_PASSWORD is not set (the password of the admin `admin`)');
  process.exit(2);
}
const base = baseArg.endsWith('/') ? baseArg : `${baseArg}/`;
const anyFlag = ['--pages', '--journey', '--firstload'].some((f) => flags.has(f));
const doPages = flags.has('--pages') || !anyFlag;
const doFirstLoad = doPages || flags.has('--firstload');
const doJourney = flags.has('--journey') || !anyFlag;
/** What "the dashboard's data shown" is. */
const READY = process.env.FIRSTLOAD_READY || '[data-testid="dashboard-ready"]';
const out = resolve(outArg);
const langDir = join(out, lang);
mkdirSync(langDir, { recursive: true });

class Failure extends Error {}
const fail = (msg) => {
  throw new Failure(msg);
};
const log = (tag, msg) => console.log(`[${tag}] ${msg}`);

// ---------------------------------------------------------------- the browser

/** A fresh Chromium profile (its own --user-data-dir), closed and removed by close(). */
async function freshContext() {
  const dir = mkdtempSync(join(tmpdir(), 'vdi-console-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: VIEWPORT,
    locale: lang === 'zh-CN' ? 'zh-CN' : 'en-US',
  });
  // The console's language, and CSP violations made loud.
  await context.addInitScript((l) => {
    localStorage.setItem('vdi-appliance.lang', l);
    document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile || ''}:${e.lineNumber || ''})`));
  }, lang);
  return {
    context,
    close: async () => {
      await context.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Watches a page: errors (console, page, CSP) and the requests still pending. */
function watch(page) {
  const w = { errors: [], pending: new Set(), allow: [] };
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const url = m.location()?.url || '';
    if (/\/favicon\.ico$/.test(url)) return; // the browser's own guess, not the console's
    const text = `${m.text()}${url ? ` (${url})` : ''}`;
    if (w.allow.some((re) => re.test(text))) return;
    w.errors.push(`console error: ${text}`);
  });
  page.on('pageerror', (e) => w.errors.push(`page error: ${e.message}`));
  page.on('request', (r) => w.pending.add(r));
  page.on('requestfinished', (r) => w.pending.delete(r));
  page.on('requestfailed', (r) => w.pending.delete(r));
  return w;
}

/** Waits until no PatternFly spinner shows and no request is pending for QUIET_MS. */
async function settle(page, w, what) {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  let quietSince = 0;
  for (;;) {
    const spinners = await page.locator('.pf-v6-c-spinner:visible').count();
    // Long polls the console keeps open on purpose (event streams) do not count.
    const pending = [...w.pending].filter((r) => r.resourceType() !== 'eventsource');
    if (spinners === 0 && pending.length === 0) {
      quietSince = quietSince || Date.now();
      if (Date.now() - quietSince >= QUIET_MS) return;
    } else quietSince = 0;
    if (Date.now() > deadline) fail(`${what} did not settle in ${SETTLE_TIMEOUT_MS / 1000} s: ${spinners} spinner(s), pending: ${pending.map((r) => `${r.method()} ${r.url()}`).join(', ') || 'none'}`);
    await page.waitForTimeout(100);
  }
}

async function signIn(page) {
  await page.goto(base, { waitUntil: 'load' });
  await page.locator('#pf-login-username-id').waitFor({ state: 'visible', timeout: 30_000 });
  await page.fill('#pf-login-username-id', ADMIN);
  await page.fill('#pf-login-password-id', PASSWORD);
  await page.click('button[type=submit]');
  await page.locator('[data-testid="user-menu"]').waitFor({ state: 'visible', timeout: 30_000 }).catch(() => fail('signing in did not show the console (no user menu)'));
}

/** axe-core on the page: fails on any serious or critical violation. */
async function axe(page, name) {
  const r = await new AxeBuilder({ page }).analyze();
  const bad = r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of r.violations) {
    const where = v.nodes.map((n) => n.target.join(' ')).slice(0, 8).join(' ; ');
    log('axe', `${name}: ${v.id} (${v.impact}) ${v.help} — ${where}${v.nodes.length > 8 ? ` … ${v.nodes.length} nodes` : ''}`);
  }
  return bad.map((v) => `${v.id} (${v.impact}) on ${v.nodes.map((n) => n.target.join(' ')).join(' ; ')}`);
}

async function visibleText(page) {
  return page.evaluate(() => document.body.innerText).catch((e) => `(could not read the page text: ${e.message})`);
}

// ---------------------------------------------------------------- --pages

/** Runs `fn` on a fresh profile; a failure is reported while its page is still open. */
async function withContext(fn) {
  const { context, close } = await freshContext();
  try {
    return await fn(context);
  } catch (err) {
    await reportFailure(err);
    err.reported = true;
    throw err;
  } finally {
    current = null;
    await close();
  }
}

async function pages() {
  const problems = [];
  await withContext(async (context) => {
    const page = context.pages()[0] || (await context.newPage());
    current = page;
    const w = watch(page);
    const visit = async (name, go) => {
      const t0 = Date.now();
      w.errors.length = 0;
      await go();
      await settle(page, w, name);
      await page.screenshot({ path: join(langDir, `${name}.png`), fullPage: true });
      const a11y = await axe(page, name);
      const errs = [...w.errors];
      for (const e of errs) log('pages', `${name}: ${e}`);
      for (const a of a11y) problems.push(`${name}: axe ${a}`);
      for (const e of errs) problems.push(`${name}: ${e}`);
      log('pages', `${name} ${a11y.length || errs.length ? 'FAILED' : 'ok'} (${Date.now() - t0} ms)`);
    };
    await visit('login', async () => {
      await page.goto(base, { waitUntil: 'load' });
      await page.locator('#pf-login-username-id').waitFor({ state: 'visible', timeout: 30_000 });
    });
    await signIn(page);
    for (const p of PAGES) {
      await visit(p, async () => {
        await page.goto(`${base}#/${p}`);
        await page.locator('main h1, [role="main"] h1').first().waitFor({ state: 'visible', timeout: 15_000 }).catch(() => fail(`#/${p} shows no h1`));
      });
    }
    for (const d of DETAILS) {
      const first = await page.evaluate(async (url) => {
        const s = JSON.parse(sessionStorage.getItem('vdi-appliance.session') || 'null');
        const r = await fetch(url, { headers: { Authorization: `Bearer ${s && s.access_token}` } });
        const env = await r.json();
        return env && env.data && env.data.results ? env.data.results[0] || null : null;
      }, d.list);
      if (!first) {
        log('pages', `${d.name}: no row to open, skipped`);
        continue;
      }
      await visit(d.name, () => page.goto(`${base}#/${d.path(first)}`));
    }
    if (problems.length) fail(`${problems.length} problem(s) on the pages:\n  ${problems.join('\n  ')}`);
  });
}

// ---------------------------------------------------------------- first load

async function firstLoad() {
  // One sign-in through the API, handed to each fresh profile as the console keeps it.
  const r = await fetch(new URL('api/v1/login', base), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: ADMIN, password: PASSWORD }) });
  const env = await r.json();
  if (!env || env.code !== 0) fail(`signing in through the API failed: ${env && env.msg}`);
  const session = { name: ADMIN, access_token: env.data.access_token, refresh_token: env.data.refresh_token };
  const times = [];
  let sizes = null;
  for (let i = 0; i < FIRSTLOAD_RUNS; i++) {
    const { context, close } = await freshContext();
    try {
      await context.addInitScript(([s, ready]) => {
        sessionStorage.setItem('vdi-appliance.session', s);
        // When the dashboard's data shows: the first moment the marker exists.
        new MutationObserver((_m, obs) => {
          if (document.querySelector(ready)) {
            window.__vdiReady = performance.now();
            obs.disconnect();
          }
        }).observe(document, { childList: true, subtree: true, attributes: true });
      }, [JSON.stringify(session), READY]);
      const page = context.pages()[0] || (await context.newPage());
      const assets = [];
      page.on('response', (res) => {
        if (/\.(js|css)(\?|$)/.test(res.url())) assets.push(res);
      });
      await page.goto(`${base}#/dashboard`, { waitUntil: 'load' });
      const ok = await page.waitForFunction(() => window.__vdiReady !== undefined, null, { timeout: 30_000 }).then(() => true, () => false);
      if (!ok) {
        console.log(`FIRSTLOAD unavailable: the dashboard showed no ${READY} within 30 s`);
        return;
      }
      times.push(await page.evaluate(() => window.__vdiReady));
      if (!sizes) sizes = await assetSizes(page, assets);
    } finally {
      await close();
    }
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  const kb = (n) => (n / 1024).toFixed(1);
  console.log(
    `FIRSTLOAD median_ms=${Math.round(median)} p_max_ms=${Math.round(times[times.length - 1])} runs=${times.map(Math.round).join(',')} ` +
      `js_gzip_kb=${kb(sizes.js.gzip)} css_gzip_kb=${kb(sizes.css.gzip)} js_wire_kb=${kb(sizes.js.wire)} css_wire_kb=${kb(sizes.css.wire)} encoding=${sizes.encoding}`,
  );
}

/** JS and CSS sizes: on the wire (resource timing) and gzipped (the bodies, compressed here). */
async function assetSizes(page, responses) {
  const wire = await page.evaluate(() =>
    performance.getEntriesByType('resource').map((e) => ({ url: e.name, size: e.transferSize || e.encodedBodySize || 0 })),
  );
  const s = { js: { wire: 0, gzip: 0 }, css: { wire: 0, gzip: 0 }, encoding: new Set() };
  for (const res of responses) {
    const kind = /\.css(\?|$)/.test(res.url()) ? 'css' : 'js';
    const body = await res.body().catch(() => null);
    if (body) s[kind].gzip += gzipSync(body, { level: 9 }).length;
    s[kind].wire += wire.find((x) => x.url === res.url())?.size || 0;
    s.encoding.add((await res.allHeaders())['content-encoding'] || 'identity');
  }
  s.encoding = [...s.encoding].join('+');
  return s;
}

// ---------------------------------------------------------------- --journey

async function journey() {
  const shots = join(langDir, 'journey');
  mkdirSync(shots, { recursive: true });
  const only = (process.env.JOURNEY_STEPS || '').split(',').map((s) => s.trim()).filter(Boolean);
  const steps = only.length ? JOURNEY.filter((s) => only.includes(s.name)) : JOURNEY;
  for (const n of only) if (!JOURNEY.some((s) => s.name === n)) fail(`JOURNEY_STEPS names an unknown step: ${n}`);
  await withContext(async (context) => {
    const page = context.pages()[0] || (await context.newPage());
    current = page;
    const w = watch(page);
    // The journey provokes refusals on purpose (a bad CSV): resource errors are logged, not fatal.
    w.allow.push(/Failed to load resource: the server responded with a status of 4\d\d/);
    const j = makeJourneyContext(page);
    let i = 0;
    for (const step of steps) {
      i += 1;
      const t0 = Date.now();
      try {
        await step.action(j);
        if (step.visible) await j.see(step.visible, step.timeout, step.allowError);
      } catch (e) {
        throw new Failure(`journey step "${step.name}" failed: ${e instanceof Error ? e.message : e}`);
      }
      await page.screenshot({ path: join(shots, `${String(i).padStart(2, '0')}-${step.name}.png`), fullPage: true });
      if (w.errors.length) fail(`journey step "${step.name}": ${w.errors.join('; ')}`);
      log('journey', `${step.name} ok (${Date.now() - t0} ms)`);
    }
  });
}

/** What a journey step gets: the page, names unique to this run, helpers. */
function makeJourneyContext(page) {
  const run = Date.now().toString(36).slice(-5);
  const short = lang.startsWith('zh') ? 'zh' : 'en';
  const sel = (testid) => (testid.startsWith('[') || testid.startsWith('#') || testid.startsWith('.') ? testid : `[data-testid="${testid}"]`);
  const j = {
    page,
    base,
    lang,
    qcow2: process.env.VDI_QCOW2 || '',
    password: PASSWORD,
    admin: ADMIN,
    /** Names this run creates. */
    // Each ends with (or, for users and the terminal, starts with) the
    // language, so the Rust tier can find both journeys' objects.
    names: {
      pool: `pool-${run}-${short}`,
      image: `image-${run}-${short}`,
      template: `tpl-${run}-${short}`,
      classroom: `room-${run}-${short}`,
      edu: `edu-${run}-${short}`,
      personal: `pers-${run}-${short}`,
      terminal: `seat-${short}-${run}`,
      user: `csv-${short}-${run}-`,
    },
    tmp: mkdtempSync(join(tmpdir(), 'vdi-journey-')),
    sel,
    row: (name) => `[data-testid="row"][data-name="${name}"]`,
    click: (testid) => page.click(sel(testid)),
    /** Fills a text field, or the input inside a composite one (PatternFly's NumberInput). */
    fill: async (testid, value) => {
      const el = page.locator(sel(testid)).first();
      const own = await el.evaluate((n) => ['INPUT', 'TEXTAREA', 'SELECT'].includes(n.tagName));
      await (own ? el : el.locator('input').first()).fill(value);
    },
    /** Opens a page through the navigation. */
    nav: async (p) => {
      await page.click(`[data-testid="nav-${p}"]`);
      await page.waitForFunction((h) => location.hash.startsWith(h), `#/${p}`);
    },
    /** Picks `text` in a FormSelect (<select>) or a PatternFly Select/typeahead by its test id. */
    choose: async (testid, text) => {
      const el = page.locator(sel(testid));
      if ((await el.evaluate((n) => n.tagName)) === 'SELECT') {
        // Options may still be loading: wait for the one named.
        await el.locator('option', { hasText: text }).first().waitFor({ state: 'attached' });
        const values = await el.locator('option').evaluateAll((os, t) => os.filter((o) => o.textContent.includes(t)).map((o) => o.value), text);
        if (!values.length) throw new Error(`${testid} offers no "${text}"`);
        await el.selectOption(values[0]);
        return;
      }
      await el.click();
      await page.locator('[role="option"], .pf-v6-c-menu__item').filter({ hasText: text }).first().click();
    },
    /**
     * Goes through a wizard: on each step fills (`fill`) or picks (`choose`)
     * every listed field that is visible there, then clicks Next, until
     * `<prefix>-submit` shows; clicks it once every field was set.
     */
    wizard: async (prefix, { fill = {}, choose = {} } = {}, maxSteps = 12) => {
      const left = new Map([...Object.entries(fill).map(([k, v]) => [k, ['fill', v]]), ...Object.entries(choose).map(([k, v]) => [k, ['choose', v]])]);
      for (let k = 0; k < maxSteps; k++) {
        // A step is drawn with its footer (its fields' options may load later: choose waits for them).
        await page.locator('.pf-v6-c-wizard__footer button.pf-m-primary').first().waitFor();
        for (const [id, [how, v]] of [...left]) {
          const el = page.locator(sel(id));
          if ((await el.count()) && (await el.first().isVisible())) {
            if (how === 'fill') await j.fill(id, v);
            else await j.choose(id, v);
            left.delete(id);
          }
        }
        const submit = page.locator(sel(`${prefix}-submit`));
        if ((await submit.count()) && (await submit.first().isVisible())) {
          if (left.size) throw new Error(`${prefix}: never saw ${[...left.keys()].join(', ')}`);
          return submit.first().click();
        }
        await page.locator('.pf-v6-c-wizard__footer button.pf-m-primary').first().click();
      }
      throw new Error(`${prefix}: no ${prefix}-submit after ${maxSteps} steps`);
    },
    /** Confirms a confirm dialog when one shows. */
    confirm: async () => {
      const ok = page.locator('[data-testid="confirm-ok"]');
      await ok.waitFor({ state: 'visible', timeout: 5000 }).then(() => ok.click(), () => {});
    },
    /** Waits for a selector (or a function returning true) to be visible; an error alert fails at once. */
    see: async (what, timeout = 30_000, allowError = false) => {
      const deadline = Date.now() + timeout;
      for (;;) {
        if (typeof what === 'function') {
          if (await what(j)) return;
        } else {
          const loc = page.locator(sel(what));
          if ((await loc.count()) && (await loc.first().isVisible())) return;
        }
        const alert = page.locator('[data-testid="error-alert"]:visible');
        if (!allowError && (await alert.count())) throw new Error(`an error is shown: ${(await alert.first().innerText()).replace(/\s+/g, ' ')}`);
        if (Date.now() > deadline) throw new Error(`nothing matching ${typeof what === 'function' ? 'the step\'s check' : what} within ${timeout / 1000} s`);
        await page.waitForTimeout(250);
      }
    },
    file: (name, text) => {
      const p = join(j.tmp, name);
      writeFileSync(p, text);
      return p;
    },
  };
  return j;
}

// ---------------------------------------------------------------- index.html

function writeIndex() {
  const langs = ['en', 'zh-CN'];
  const pngs = (l, sub = '') => (existsSync(join(out, l, sub)) ? readdirSync(join(out, l, sub)).filter((f) => f.endsWith('.png') && f !== 'failure.png') : []);
  const order = ['login', ...PAGES, ...DETAILS.map((d) => d.name)];
  const names = [...new Set([...order, ...langs.flatMap((l) => pngs(l).map((f) => f.replace(/\.png$/, '')))])].filter((n) => langs.some((l) => existsSync(join(out, l, `${n}.png`))));
  const journeyNames = [...new Set(langs.flatMap((l) => pngs(l, 'journey')))].sort();
  const esc = (s) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
  const cell = (rel) => (existsSync(join(out, rel)) ? `<td><a href="${esc(rel)}"><img src="${esc(rel)}" alt="${esc(rel)}" loading="lazy"></a></td>` : '<td class="none">—</td>');
  const rows = (list, sub) => list.map((n) => `<tr><th>${esc(n.replace(/\.png$/, ''))}</th>${langs.map((l) => cell(`${l}/${sub}${n.endsWith('.png') ? n : `${n}.png`}`)).join('')}</tr>`).join('\n');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>vdi-appliance console: every page in English and Chinese</title>
<style>body{font-family:system-ui,sans-serif;margin:16px}table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:6px;vertical-align:top}
th{text-align:left;white-space:nowrap}td img{width:100%;max-width:683px;display:block}td.none{color:#888;text-align:center}</style></head><body>
<h1>vdi-appliance console</h1><p>Generated ${new Date().toISOString()} by tests/browser/console.mjs.</p>
<h2>Pages</h2><table><thead><tr><th>Page</th><th>en</th><th>zh-CN</th></tr></thead><tbody>
${rows(names, '')}
</tbody></table>
${journeyNames.length ? `<h2>Journey</h2><table><thead><tr><th>Step</th><th>en</th><th>zh-CN</th></tr></thead><tbody>\n${rows(journeyNames, 'journey/')}\n</tbody></table>` : ''}
</body></html>
`;
  writeFileSync(join(out, 'index.html'), html);
  log('index', `${join(out, 'index.html')}: ${names.length} page(s), ${journeyNames.length} journey step(s)`);
}

// ---------------------------------------------------------------- main

let current = null;

async function reportFailure(err) {
  console.log(`CONSOLE FAIL: ${err instanceof Failure ? err.message : err && err.stack ? err.stack : err}`);
  if (!current) return;
  console.log('--- visible page text ---');
  console.log(await visibleText(current));
  console.log('--- end of page text ---');
  await current.screenshot({ path: join(langDir, 'failure.png'), fullPage: true }).then(
    () => log('console', `screenshot ${join(langDir, 'failure.png')}`),
    (e) => console.log(`(could not take failure.png: ${e.message})`),
  );
}

const watchdog = setTimeout(async () => {
  await reportFailure(new Failure(`the whole run took longer than ${OVERALL_TIMEOUT_MS / 1000} s`));
  process.exit(1);
}, OVERALL_TIMEOUT_MS);

let code = 0;
try {
  // The journey first: the page scan then also opens what it made (detail pages).
  if (doJourney) await journey();
  if (doPages) await pages();
  if (doFirstLoad) await firstLoad();
  console.log('CONSOLE OK');
} catch (err) {
  if (!err.reported) await reportFailure(err);
  code = 1;
} finally {
  clearTimeout(watchdog);
  writeIndex();
}
process.exit(code);
