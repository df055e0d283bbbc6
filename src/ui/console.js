// vdi-appliance console (minimal): sign in, list the servers.
// Plain ES2020, no dependencies. The access token lives in sessionStorage.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const KEY = 'vdi-appliance.session';

  function load() {
    try {
      return JSON.parse(sessionStorage.getItem(KEY)) || null;
    } catch (e) {
      return null;
    }
  }
  function save(s) {
    if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
    else sessionStorage.removeItem(KEY);
  }

  let session = load();

  class ApiError extends Error {
    constructor(message, code, status) {
      super(message);
      this.code = code;
      this.status = status;
    }
  }

  async function call(method, path, body, opts = {}) {
    const auth = opts.auth !== false;
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (auth && session && session.access_token) headers.Authorization = 'Bearer ' + session.access_token;
    let res;
    try {
      res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
    } catch (e) {
      throw new ApiError('Cannot reach the service. Check that it is running, then try again.', -1, 0);
    }
    let env = null;
    try {
      env = JSON.parse(await res.text());
    } catch (e) {
      env = null;
    }
    if (!env || typeof env !== 'object' || !('code' in env)) {
      throw new ApiError(`The service answered HTTP ${res.status} without a readable reply.`, -1, res.status);
    }
    if (env.code !== 0) {
      if (res.status === 401 && auth && session && session.refresh_token && !opts.retried) {
        try {
          const t = await call('POST', '/api/v1/refresh', { refresh_token: session.refresh_token }, { auth: false });
          session = { ...session, ...t };
          save(session);
          return call(method, path, body, { ...opts, retried: true });
        } catch (e) {
          /* fall through to the original error */
        }
      }
      throw new ApiError(env.msg || `The request failed (code ${env.code}).`, env.code, res.status);
    }
    return env.data;
  }

  function showError(id, msg) {
    $(id).textContent = msg || '';
    $(id).hidden = !msg;
  }

  function cell(text, col, cls) {
    const td = document.createElement('td');
    td.textContent = text === null || text === undefined || text === '' ? '—' : String(text);
    td.dataset.col = col;
    if (cls) td.className = cls;
    return td;
  }

  async function loadNodes() {
    showError('nodes-error', '');
    const tb = $('nodes').tBodies[0];
    let data;
    try {
      data = await call('GET', '/api/v1.0/node/?searchtype=all');
    } catch (e) {
      if (e.status === 401) return signedOut('Your session has ended: ' + e.message);
      showError('nodes-error', 'Could not list the servers: ' + e.message);
      return;
    }
    const rows = Array.isArray(data) ? data : data && Array.isArray(data.results) ? data.results : [];
    tb.replaceChildren();
    for (const n of rows) {
      const tr = document.createElement('tr');
      tr.append(
        cell(n.name, 'name'),
        cell(n.ip, 'ip'),
        cell(n.role, 'role'),
        cell(n.cpu_model, 'cpu_model'),
        cell(typeof n.memory_gb === 'number' ? `${n.memory_gb} GB` : n.memory_gb, 'memory_gb', 'num-col'),
      );
      tb.append(tr);
    }
    if (!rows.length) {
      const tr = document.createElement('tr');
      const td = cell('No servers yet.', 'empty', 'empty');
      td.colSpan = 5;
      tr.append(td);
      tb.append(tr);
    }
  }

  function signedIn() {
    $('login').hidden = true;
    $('session').hidden = false;
    $('whoami').textContent = `Logged in as ${session.name}`;
    loadNodes();
  }

  function signedOut(msg) {
    save(null);
    session = null;
    $('session').hidden = true;
    $('login').hidden = false;
    showError('login-error', msg || '');
    $('login_password').value = '';
    $('login_name').focus();
  }

  async function onLogin(ev) {
    ev.preventDefault();
    showError('login-error', '');
    const name = $('login_name').value.trim();
    const password = $('login_password').value;
    if (!name || !password) {
      showError('login-error', 'Enter your name and password.');
      (name ? $('login_password') : $('login_name')).focus();
      return;
    }
    $('login-submit').disabled = true;
    $('login-busy').hidden = false;
    try {
      const t = await call('POST', '/api/v1/login', { name, password }, { auth: false });
      session = { ...t, name: t.name || name };
      save(session);
      $('login_password').value = '';
      signedIn();
    } catch (e) {
      showError('login-error', e.message);
    } finally {
      $('login-submit').disabled = false;
      $('login-busy').hidden = true;
    }
  }

  async function onLogout() {
    try {
      await call('POST', '/api/v1/logout', {});
    } catch (e) {
      /* signing out locally is what matters */
    }
    signedOut('');
  }

  async function version() {
    try {
      const st = await call('GET', '/api/v1/setup/status', undefined, { auth: false });
      if (st && st.version) $('version').textContent = 'version ' + st.version;
    } catch (e) {
      /* cosmetic only */
    }
  }

  function init() {
    $('login-form').addEventListener('submit', onLogin);
    $('logout').addEventListener('click', onLogout);
    $('reload').addEventListener('click', loadNodes);
    version();
    if (session && session.access_token) signedIn();
    else signedOut('');
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
